"""The generic training loop: ``python -m training.run --config CONFIG.toml [key=value ...]``.

The config's ``model.arch`` names a task module in :mod:`training.tasks` that supplies the
model, datasets, collate, loss and validation; this loop owns everything else: config
overrides, seeds, AdamW, LR schedule, AMP (CUDA only), gradient clipping, per-epoch
validation, a CSV log (and TensorBoard when installed), stipplr checkpoints every epoch
plus ``best.pt`` and ``last.pt``, ``--resume``, and DDP under torchrun (rank 0 logs and
saves). A config with a ``[data.make]`` table has its data made first when missing.

The pieces: :mod:`training.config` (config and overrides), :mod:`training.ddp` (torchrun
environment, seeds, samplers), :mod:`training.optim` (optimizer, schedule, scaler),
:mod:`training.loop` (one epoch), :mod:`training.rundir` (the run folder: log,
checkpoints, resume state).
"""

from __future__ import annotations

import argparse
import importlib
import time
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import torch
from torch.utils.data import DataLoader, Sampler

from stipplr.errors import StipplrError
from training import ddp
from training.config import load_config
from training.data import ensure_dataset
from training.loop import is_better, train_epoch, val_loss
from training.optim import make_optimizer, make_scaler, make_scheduler
from training.rundir import Run, Standing, tensorboard


@dataclass
class Session:
    """What one process trains with; ``model`` is ``core`` itself, or in DDP under torchrun."""

    cfg: dict[str, Any]
    env: ddp.Env
    task: ModuleType
    run: Run
    console: Any
    core: torch.nn.Module
    model: torch.nn.Module
    sampler: Sampler
    loader: DataLoader
    val_loader: DataLoader
    optimizer: torch.optim.Optimizer
    scheduler: Any
    scaler: Any
    writer: Any = None


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m training.run", description=__doc__)
    parser.add_argument("--config", required=True, help="TOML config")
    parser.add_argument("--resume", action="store_true", help="continue the run in run.dir")
    parser.add_argument("overrides", nargs="*", help="key=value, e.g. train.epochs=3")
    args = parser.parse_args(argv)
    cfg = load_config(args.config, args.overrides)  # a bad config or override: one line
    try:
        return train(cfg, resume=args.resume)
    except StipplrError as exc:  # e.g. a run folder that cannot be written
        raise SystemExit(f"{parser.prog}: error: {exc}") from None


def train(cfg: dict[str, Any], resume: bool = False) -> dict[str, Any]:
    """Train per ``cfg``; returns the last epoch's log row."""
    from rich.console import Console

    env = ddp.start(cfg["train"])
    task: ModuleType = importlib.import_module(f"training.tasks.{cfg['model']['arch']}")
    run = Run(cfg)
    if env.main:
        ensure_dataset(cfg)
        run.start(resume)
        Console().print(
            f"run folder {run.dir}: checkpoints go to {run.ckpt_dir}, log to {run.log_path}"
        )
    env.barrier()
    session = build(cfg, env, task, run, Console())
    standing = load_standing(session, resume)
    session.model = ddp.wrap(session.core, env)
    session.writer = tensorboard(run.dir) if env.main else None
    row = fit(session, standing)
    if session.writer is not None:
        session.writer.close()
    if env.main:
        session.console.print(
            f"best model: {run.ckpt_dir / 'best.pt'}; make it a stipplr model with "
            f"python -m training.export {run.dir} --name NAME"
        )
    ddp.stop(env)
    return row


def build(cfg: dict[str, Any], env: ddp.Env, task: ModuleType, run: Run, console) -> Session:
    """The model (same initial weights on every rank), loaders, optimizer, schedule, scaler."""
    seed = int(cfg["run"]["seed"])
    ddp.seed_everything(seed)
    core = task.build_model(cfg).to(env.device)
    ddp.seed_everything(seed + env.rank)  # same initial weights everywhere, own augmentation
    train_set = task.make_dataset(cfg, "train")
    val_set = task.make_dataset(cfg, "val")
    sampler, loader, val_loader = ddp.loaders(train_set, val_set, cfg, task.collate, env)
    optimizer = make_optimizer(core, cfg)
    scheduler = make_scheduler(optimizer, cfg, max(1, cfg["train"]["epochs"] * len(loader)))
    scaler = make_scaler(cfg, env.device)
    return Session(
        cfg=cfg,
        env=env,
        task=task,
        run=run,
        console=console,
        core=core,
        model=core,
        sampler=sampler,
        loader=loader,
        val_loader=val_loader,
        optimizer=optimizer,
        scheduler=scheduler,
        scaler=scaler,
    )


def load_standing(s: Session, resume: bool) -> Standing:
    """With ``resume``, the run's saved weights and state loaded into ``s``; else a fresh start."""
    standing = s.run.resume(s.core, s.optimizer, s.scheduler, s.scaler) if resume else None
    if standing is None:
        return Standing()
    if s.env.main:
        s.console.print(f"resuming {s.run.dir} after epoch {standing.epoch}")
    return standing


def fit(s: Session, standing: Standing) -> dict[str, Any]:
    """Epochs from ``standing.epoch`` to ``train.epochs`` (or the time budget); the last row."""
    train = s.cfg["train"]
    row: dict[str, Any] = {}
    budget = train["max_minutes"] * 60
    for epoch in range(standing.epoch, train["epochs"]):
        if budget and standing.elapsed >= budget:
            if s.env.main:
                s.console.print(f"time budget of {train['max_minutes']} min reached")
            break
        tick = time.perf_counter()
        train_terms, val_terms = run_epoch(s, epoch)
        standing.elapsed += time.perf_counter() - tick
        row = {"epoch": epoch + 1, "lr": s.scheduler.get_last_lr()[0]}
        row |= {f"train_{k}": v for k, v in train_terms.items()}
        row |= {f"val_{k}": v for k, v in val_terms.items()}
        if s.env.main:
            record(s, row, standing, epoch + 1)
        s.env.barrier()
    return row


def run_epoch(s: Session, epoch: int) -> tuple[dict[str, float], dict[str, float]]:
    """Train one epoch (a progress bar on rank 0), then validate; means over all ranks."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    if s.env.world > 1:
        s.sampler.set_epoch(epoch)
    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=s.console, disable=not s.env.main, transient=True) as bar:
        sums, count = train_epoch(
            s.model, s.loader, s.optimizer, s.scheduler, s.scaler, s.cfg, s.env.device, bar, s.task
        )
    train_terms = ddp.mean_terms(sums, count, s.env.world)
    val_sums, val_count = val_loss(s.model, s.val_loader, s.cfg, s.env.device, s.task)
    return train_terms, ddp.mean_terms(val_sums, val_count, s.env.world)


def record(s: Session, row: dict[str, Any], standing: Standing, epoch: int) -> None:
    """Rank 0 after epoch ``epoch``: task metrics, checkpoints, resume state, log, console."""
    train = s.cfg["train"]
    row |= {f"val_{k}": v for k, v in s.task.validate(s.core, s.cfg).items()}
    row["minutes"] = standing.elapsed / 60
    metric = row[train["best_metric"]]
    meta = {"epoch": epoch, "metrics": row, "run": str(s.run.dir)}
    s.run.save_model(f"epoch_{epoch:03d}", s.core, meta)
    standing.epoch = epoch
    if is_better(metric, standing.best, train["best_mode"]):
        standing.best = metric
        s.run.save_model("best", s.core, meta)
    s.run.save_model("last", s.core, meta)
    s.run.save_standing(standing, s.optimizer, s.scheduler, s.scaler)
    s.run.log(row)
    if s.writer is not None:
        for key, value in row.items():
            s.writer.add_scalar(key, value, epoch)
    shown = " ".join(f"{k} {v:.4g}" for k, v in row.items() if k != "epoch")
    s.console.print(f"epoch {epoch}/{train['epochs']} {shown}")


if __name__ == "__main__":
    main()
