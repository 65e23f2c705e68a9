"""Optimisation per the ``[train]`` table: AdamW, the LR schedule and AMP's gradient scaler."""

from __future__ import annotations

import math
from typing import Any

import torch


def make_optimizer(model: torch.nn.Module, cfg: dict[str, Any]) -> torch.optim.Optimizer:
    """AdamW at ``train.lr`` with ``train.weight_decay``."""
    return torch.optim.AdamW(
        model.parameters(), lr=cfg["train"]["lr"], weight_decay=cfg["train"]["weight_decay"]
    )


def lr_lambda(cfg: dict[str, Any], total_steps: int):
    """Step -> LR factor: linear warmup, then cosine to ``min_lr_ratio`` (or constant)."""
    train = cfg["train"]
    warmup, floor = train["warmup_steps"], train["min_lr_ratio"]

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        if train["schedule"] == "constant":
            return 1.0
        progress = min(1.0, (step - warmup) / max(1, total_steps - warmup))
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))

    return factor


def make_scheduler(optimizer: torch.optim.Optimizer, cfg: dict[str, Any], total_steps: int):
    """``onecycle`` (torch's OneCycleLR) or ``cosine``/``constant`` with linear warmup."""
    if cfg["train"]["schedule"] == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=cfg["train"]["lr"], total_steps=total_steps
        )
    if cfg["train"]["schedule"] not in ("cosine", "constant"):
        raise SystemExit(f"unknown train.schedule {cfg['train']['schedule']!r}")
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(cfg, total_steps))


def make_scaler(cfg: dict[str, Any], device: torch.device) -> torch.amp.GradScaler | None:
    """AMP's gradient scaler when ``train.amp`` is on and the run is on CUDA, else None."""
    use_amp = cfg["train"]["amp"] and device.type == "cuda"
    return torch.amp.GradScaler("cuda") if use_amp else None
