"""Losses: the SupCon + vector-space-preservation objective of the method."""

from raysweep.losses.supcon_vsp import LossTerms, SupConVSPLoss

__all__ = ["LossTerms", "SupConVSPLoss"]
