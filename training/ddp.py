"""The process environment of a run: torchrun's rank and world, device, seeds, DDP helpers.

Alone, a run is rank 0 of a world of 1 and every helper here is a no-op or a plain
pass-through; under ``torchrun`` each process joins the group (NCCL on CUDA, else gloo),
gets its own device and sampler share, and rank 0 alone logs and saves.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset, DistributedSampler, RandomSampler, Sampler


@dataclass(frozen=True)
class Env:
    """This process's place in the run: rank, world size, local rank and device."""

    rank: int
    world: int
    local_rank: int
    device: torch.device

    @property
    def main(self) -> bool:
        """Whether this is rank 0, the process that logs and saves."""
        return self.rank == 0

    def barrier(self) -> None:
        """Wait for every rank (nothing to wait for when alone)."""
        if self.world > 1:
            dist.barrier()


def distributed() -> tuple[int, int, int]:
    """(rank, world size, local rank) from torchrun's environment; (0, 1, 0) when alone."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    return int(os.environ.get("RANK", "0")), world, int(os.environ.get("LOCAL_RANK", "0"))


def pick_device(name: str, local_rank: int) -> torch.device:
    """``auto``: this rank's CUDA device when there is one, else the CPU."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        torch.cuda.set_device(local_rank)
        return torch.device("cuda", local_rank)
    return torch.device(name)


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch (each rank passes its own seed)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def start(train: dict[str, Any]) -> Env:
    """This process's Env per the ``[train]`` table; joins the process group under torchrun."""
    rank, world, local_rank = distributed()
    device = pick_device(train["device"], local_rank)
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    if device.type == "cpu":
        torch.set_num_threads(train["threads"])
    return Env(rank, world, local_rank, device)


def stop(env: Env) -> None:
    """Leave the process group (when there is one)."""
    if env.world > 1:
        dist.destroy_process_group()


def wrap(model: torch.nn.Module, env: Env) -> torch.nn.Module:
    """``model`` in DistributedDataParallel under torchrun, else ``model`` itself."""
    if env.world == 1:
        return model
    ids = [env.local_rank] if env.device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=ids)


def train_sampler(dataset: Dataset, env: Env, seed: int) -> Sampler:
    """A seeded shuffle: this rank's share of ``dataset`` under torchrun, all of it alone."""
    generator = torch.Generator().manual_seed(seed)
    if env.world > 1:
        return DistributedSampler(dataset, env.world, env.rank, shuffle=True, seed=seed)
    return RandomSampler(dataset, generator=generator)


def loaders(
    train_set: Dataset, val_set: Dataset, cfg: dict[str, Any], collate, env: Env
) -> tuple[Sampler, DataLoader, DataLoader]:
    """(train sampler, train loader, val loader); the val loader splits across ranks unshuffled."""
    batch_size = cfg["train"]["batch_size"]
    sampler = train_sampler(train_set, env, int(cfg["run"]["seed"]))
    loader_kw = {
        "collate_fn": collate,
        "num_workers": cfg["train"]["workers"],
        "pin_memory": env.device.type == "cuda",
    }
    loader = DataLoader(train_set, batch_size, sampler=sampler, drop_last=True, **loader_kw)
    val_sampler = None
    if env.world > 1:
        val_sampler = DistributedSampler(val_set, env.world, env.rank, shuffle=False)
    val_loader = DataLoader(val_set, batch_size, sampler=val_sampler, **loader_kw)
    return sampler, loader, val_loader


def mean_terms(sums: dict[str, float], count: int, world: int) -> dict[str, float]:
    """Per-term means over all ranks."""
    keys = sorted(sums)
    values = torch.tensor([sums[k] for k in keys] + [count], dtype=torch.float64)
    if world > 1:
        dist.all_reduce(values)
    return {k: float(v / values[-1]) for k, v in zip(keys, values[:-1], strict=True)}
