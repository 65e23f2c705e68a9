"""One epoch of training and of validation, with the task module's ``compute_loss``."""

from __future__ import annotations

import math
from types import ModuleType
from typing import Any

import torch


def optimizer_step(terms, model, optimizer, scheduler, scaler, clip: float) -> None:
    """Backward on ``terms["total"]`` (scaled under AMP), clip, step optimizer and schedule."""
    optimizer.zero_grad(set_to_none=True)
    if scaler is not None:
        scaler.scale(terms["total"]).backward()
        scaler.unscale_(optimizer)
    else:
        terms["total"].backward()
    if clip > 0:
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
    if scaler is not None:
        scaler.step(optimizer)
        scaler.update()
    else:
        optimizer.step()
    scheduler.step()


def show_step(progress, bar, step: int, total: int, sums: dict[str, float]) -> None:
    """Running means on the progress bar (and as a line when not on a terminal)."""
    text = " ".join(f"{k} {v / (step + 1):.4f}" for k, v in sums.items())
    progress.update(bar, completed=step + 1, description=f"train {text}")
    if not progress.console.is_terminal:
        progress.console.print(f"step {step + 1}/{total} {text}")


def train_epoch(model, loader, optimizer, scheduler, scaler, cfg, device, progress, task_mod):
    """One pass over ``loader``; returns the summed loss terms and the batch count."""
    train = cfg["train"]
    model.train()
    sums: dict[str, float] = {}
    bar = progress.add_task("train", total=len(loader)) if progress else None
    for step, batch in enumerate(loader):
        batch = {k: v.to(device, non_blocking=True) for k, v in batch.items()}
        with torch.autocast(device.type, enabled=scaler is not None):
            terms = task_mod.compute_loss(model, batch, cfg)
        optimizer_step(terms, model, optimizer, scheduler, scaler, train["clip"])
        for key, value in terms.items():
            sums[key] = sums.get(key, 0.0) + float(value.detach())
        if bar is not None and (step % train["log_every"] == 0 or step == len(loader) - 1):
            show_step(progress, bar, step, len(loader), sums)
    if bar is not None:
        progress.remove_task(bar)
    return sums, len(loader)


@torch.no_grad()
def val_loss(
    model, loader, cfg: dict[str, Any], device, task_mod: ModuleType
) -> tuple[dict[str, float], int]:
    """Summed loss terms over the validation loader (this rank's share)."""
    model.eval()
    sums: dict[str, float] = {}
    for batch in loader:
        batch = {k: v.to(device) for k, v in batch.items()}
        for key, value in task_mod.compute_loss(model, batch, cfg).items():
            sums[key] = sums.get(key, 0.0) + float(value)
    return sums, len(loader)


def is_better(value: float, best: float | None, mode: str) -> bool:
    if best is None or math.isnan(best):
        return not math.isnan(value)
    return value < best if mode == "min" else value > best
