"""The logged loss parts are global: averaged across ranks at log time (issue: rank 0 logged 6.817
where the global value was 6.923), with one all-reduce per log line, none per step."""

from __future__ import annotations

import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from raysweep.train.worker import _Window


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rank(rank: int, port: int, out: dict) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=2)
    try:
        window = _Window()
        for step in range(3):  # rank 0 sees losses 1, 2, 3; rank 1 sees 11, 12, 13
            window.add({"loss": torch.tensor(1.0 + step + 10 * rank)}, samples=4)
        out[rank] = window.means(world=2)
    finally:
        dist.destroy_process_group()


def test_parts_are_averaged_over_ranks() -> None:
    port = _free_port()
    with mp.Manager() as manager:
        out = manager.dict()
        mp.spawn(_rank, args=(port, out), nprocs=2, join=True)
        means = dict(out)
    assert means[0] == means[1] == {"train_loss": 7.0}  # (2 + 12) / 2, the same on every rank
    local = _Window()
    local.add({"loss": torch.tensor(2.0)}, samples=4)
    assert local.means() == {"train_loss": 2.0}
