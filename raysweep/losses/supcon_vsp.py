"""The retrofitting objective: SupCon(τ) on L2-normalised projections + λ · VSP.

* SupCon is pytorch-metric-learning's ``SupConLoss``; under DDP it is wrapped in PML's
  ``DistributedLossWrapper`` so every rank's anchors see the negatives (and positives) of the whole
  global batch. That wrapper multiplies by the world size so DDP's gradient averaging yields the
  gradient of the global loss; the value reported here is divided back to the global loss.
* VSP (vector-space preservation) is the mean squared error between the encoder's pooled embedding
  and the frozen original encoder's embedding of the same text.

Both terms are computed in fp32 whatever the autocast precision of the forward pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from pytorch_metric_learning.losses import SupConLoss
from pytorch_metric_learning.utils.distributed import DistributedLossWrapper
from torch import nn


@dataclass
class LossTerms:
    """One step's loss, as every objective returns it (the worker's only view of the loss).

    * ``total``: the 0-d tensor to call ``backward`` on, attached to the graph, on the model's
      device. Under DDP it may be scaled (``SupConVSPLoss`` multiplies SupCon by the world size) so
      that DDP's gradient averaging yields the gradient of the global loss; its value is then not
      the loss to report.
    * ``parts``: the named values to log, the true (unscaled) loss of this step. ``"loss"`` is
      required (the worker's divergence check and ``train_loss`` read it); the others are the
      objective's terms (``supcon``, ``vsp``; ``ce``; ``ce_emotion``, ``ce_task``), reported as
      ``train_<name>``. Each is a detached 0-d float tensor left on the device: converting one with
      ``float()`` or ``.item()`` in the step is a host sync that stalls a GPU; the worker sums them
      on the device and reads them only when it logs or reports (means over the steps since).
    """

    total: torch.Tensor
    """What to backpropagate (its value may be scaled for DDP; ``parts`` hold the true values)."""
    parts: dict[str, torch.Tensor]
    """Named loss values for logging, e.g. ``{"loss": ..., "supcon": ..., "vsp": ...}``: detached
    scalars, left on the device so a GPU step never waits for the host (read them with ``float``)."""


class SupConVSPLoss(nn.Module):
    """SupCon(τ) on L2-normalised projections + λ · MSE(embedding, frozen embedding), as ``LossTerms``.

    ``forward(embeddings, projections, labels, frozen_embeddings)`` takes this rank's batch:
    ``embeddings`` ``(b, hidden)`` the encoder's pooled embeddings (what VSP keeps close to the
    original), ``projections`` ``(b, d)`` the head's output (what SupCon sees; normalised here),
    ``labels`` ``(b,)`` int64 classes, and ``frozen_embeddings`` ``(b, hidden)`` the frozen
    original encoder's embeddings of the same texts, or None (then VSP is 0, as with λ = 0). All on
    one device; any dtype (both terms are computed in fp32).

    Reductions: ``supcon`` is PML's mean over the anchors whose loss is non-zero (those with a
    positive in the batch), over the global batch when ``distributed`` (every rank's anchors against
    every rank's samples, gathered with gradients); ``vsp``
    is the mean over all ``b × hidden`` elements of this rank's batch. ``parts`` = ``{"loss":
    supcon + λ·vsp, "supcon", "vsp"}``, detached on the device, with ``supcon`` divided back to the
    global value; ``total`` carries the world-size factor of the distributed wrapper (see module
    docstring) and is what to backpropagate.
    """

    def __init__(self, tau: float, lam: float, distributed: bool = False, normalize: bool = False) -> None:
        super().__init__()
        self.lam = float(lam)
        self.normalize = bool(normalize)
        supcon = SupConLoss(temperature=tau)
        self.distributed = distributed
        self.supcon: nn.Module = DistributedLossWrapper(supcon) if distributed else supcon

    def forward(
        self,
        embeddings: torch.Tensor,
        projections: torch.Tensor,
        labels: torch.Tensor,
        frozen_embeddings: torch.Tensor | None,
    ) -> LossTerms:
        proj = F.normalize(projections.float(), dim=-1)
        supcon = self.supcon(proj, labels)
        scale = torch.distributed.get_world_size() if self._world() else 1
        total = supcon
        vsp = torch.zeros((), device=embeddings.device)
        if frozen_embeddings is not None and self.lam > 0:
            target = frozen_embeddings.float()
            vsp = F.mse_loss(embeddings.float(), target)
            if self.normalize:  # relative to the targets' mean square: one λ scale for every model size
                vsp = vsp / target.pow(2).mean().clamp_min(1e-12)
            total = total + self.lam * vsp
        supcon_value, vsp_value = supcon.detach() / scale, vsp.detach()
        return LossTerms(
            total=total,
            parts={"loss": supcon_value + self.lam * vsp_value, "supcon": supcon_value, "vsp": vsp_value},
        )

    def _world(self) -> bool:
        return (
            self.distributed
            and torch.distributed.is_available()
            and torch.distributed.is_initialized()
            and torch.distributed.get_world_size() > 1
        )
