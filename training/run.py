"""The generic training loop: ``python -m training.run --config CONFIG.toml [key=value ...]``.

The config's ``model.arch`` names a task module in :mod:`training.tasks` that supplies the
model, datasets, collate, loss and validation; this loop owns everything else: config
overrides, seeds, AdamW, LR schedule, AMP (CUDA only), gradient clipping, per-epoch
validation, a CSV log (and TensorBoard when installed), stipplr checkpoints every epoch
plus ``best.pt`` and ``last.pt``, ``--resume``, and DDP under torchrun (rank 0 logs and
saves). A config with a ``[data.make]`` table has its data made first when missing.
"""

from __future__ import annotations

import argparse
import copy
import csv
import importlib
import math
import os
import random
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, RandomSampler

from stipplr.atomic import atomic_path, write_text
from stipplr.checkpoints import read_checkpoint, save_checkpoint
from stipplr.models import make_config
from stipplr.tomlfile import dump_toml, read_toml
from training.data import ensure_dataset

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

DEFAULTS: dict[str, Any] = {
    "run": {"dir": "", "seed": 0},
    "train": {
        "epochs": 10,
        "batch_size": 8,
        "lr": 2e-3,
        "weight_decay": 1e-4,
        "schedule": "cosine",
        "warmup_steps": 100,
        "min_lr_ratio": 0.02,
        "clip": 1.0,
        "amp": True,
        "device": "auto",
        "threads": 2,
        "workers": 0,
        "best_metric": "val_total",
        "best_mode": "min",
        "max_minutes": 0,
        "log_every": 10,
    },
}


# ------------------------------------------------------------------------------- config


def parse_value(text: str) -> Any:
    """A command-line value read as TOML (numbers, booleans, lists, quoted strings), else text."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_override(cfg: dict[str, Any], assignment: str) -> None:
    """Set ``a.b.c=value`` in the nested ``cfg`` (creating tables as needed)."""
    key, sep, value = assignment.partition("=")
    if not sep or not key:
        raise SystemExit(f"override {assignment!r} is not key=value")
    *tables, leaf = key.strip().split(".")
    node = cfg
    for table in tables:
        node = node.setdefault(table, {})
        if not isinstance(node, dict):
            raise SystemExit(f"override {assignment!r}: {table!r} is not a table")
    node[leaf] = parse_value(value.strip())


def merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Deep merge: tables merged key by key, values of ``extra`` win."""
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_config(path: str | os.PathLike, overrides: list[str] = ()) -> dict[str, Any]:
    """The config at ``path`` over the loop defaults, with ``key=value`` overrides applied."""
    cfg = merge(DEFAULTS, read_toml(path))
    for assignment in overrides:
        apply_override(cfg, assignment)
    if not cfg["run"]["dir"]:
        cfg["run"]["dir"] = f"runs/{cfg['run'].get('name', Path(path).stem)}"
    return cfg


# -------------------------------------------------------------------------- environment


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


# --------------------------------------------------------------------------- checkpoints


class Run:
    """A run folder: resolved config, CSV log, model checkpoints and the resume state."""

    def __init__(self, cfg: dict[str, Any]) -> None:
        self.cfg = cfg
        self.dir = Path(cfg["run"]["dir"])
        self.ckpt_dir = self.dir / "checkpoints"
        self.state_path = self.dir / "state.pt"
        self.log_path = self.dir / "log.csv"

    def start(self, resume: bool) -> None:
        """Create the folder and save the resolved config; a fresh run drops an old log/state."""
        self.ckpt_dir.mkdir(parents=True, exist_ok=True)
        if not (resume and self.state_path.exists()):
            self.log_path.unlink(missing_ok=True)
            self.state_path.unlink(missing_ok=True)
        write_text(self.dir / "config.toml", dump_toml(self.cfg))

    def save_model(self, name: str, model: torch.nn.Module, meta: dict[str, Any]) -> Path:
        arch = self.cfg["model"]["arch"]
        config = make_config(arch, self.cfg["model"].get("config", {}))
        return save_checkpoint(self.ckpt_dir / f"{name}.pt", model, arch, config, meta)

    def save_state(self, state: dict[str, Any]) -> None:
        with atomic_path(self.state_path) as tmp:
            torch.save(state, tmp)

    def load_state(self) -> dict[str, Any] | None:
        if not self.state_path.exists():
            return None
        return torch.load(self.state_path, map_location="cpu", weights_only=True)

    def load_weights(self, name: str = "last") -> dict[str, torch.Tensor]:
        return read_checkpoint(self.ckpt_dir / f"{name}.pt")["state_dict"]

    def log(self, row: dict[str, Any]) -> None:
        fresh = not self.log_path.exists()
        if not fresh:
            with open(self.log_path, newline="") as f:
                header = next(csv.reader(f), [])
            fresh = header != list(row)
        with open(self.log_path, "a" if not fresh else "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(row))
            if fresh:
                writer.writeheader()
            writer.writerow(row)


def tensorboard(run_dir: Path):
    """A TensorBoard writer when tensorboard is installed, else None."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        return None
    return SummaryWriter(str(run_dir / "tb"))


# --------------------------------------------------------------------------------- loop


def mean_terms(sums: dict[str, float], count: int, world: int) -> dict[str, float]:
    """Per-term means over all ranks."""
    keys = sorted(sums)
    values = torch.tensor([sums[k] for k in keys] + [count], dtype=torch.float64)
    if world > 1:
        dist.all_reduce(values)
    return {k: float(v / values[-1]) for k, v in zip(keys, values[:-1], strict=True)}


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
        optimizer.zero_grad(set_to_none=True)
        if scaler is not None:
            scaler.scale(terms["total"]).backward()
            scaler.unscale_(optimizer)
        else:
            terms["total"].backward()
        if train["clip"] > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), train["clip"])
        if scaler is not None:
            scaler.step(optimizer)
            scaler.update()
        else:
            optimizer.step()
        scheduler.step()
        for key, value in terms.items():
            sums[key] = sums.get(key, 0.0) + float(value.detach())
        if bar is not None and (step % train["log_every"] == 0 or step == len(loader) - 1):
            text = " ".join(f"{k} {v / (step + 1):.4f}" for k, v in sums.items())
            progress.update(bar, completed=step + 1, description=f"train {text}")
            if not progress.console.is_terminal:
                progress.console.print(f"step {step + 1}/{len(loader)} {text}")
    if bar is not None:
        progress.remove_task(bar)
    return sums, len(loader)


@torch.no_grad()
def val_loss(model, loader, cfg, device, task_mod) -> tuple[dict[str, float], int]:
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


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m training.run", description=__doc__)
    parser.add_argument("--config", required=True, help="TOML config")
    parser.add_argument("--resume", action="store_true", help="continue the run in run.dir")
    parser.add_argument("overrides", nargs="*", help="key=value, e.g. train.epochs=3")
    args = parser.parse_args(argv)
    cfg = load_config(args.config, args.overrides)
    return train(cfg, resume=args.resume)


def train(cfg: dict[str, Any], resume: bool = False) -> dict[str, Any]:
    """Train per ``cfg``; returns the last epoch's log row."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    rank, world, local_rank = distributed()
    device = pick_device(cfg["train"]["device"], local_rank)
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    if device.type == "cpu":
        torch.set_num_threads(cfg["train"]["threads"])
    task_mod: ModuleType = importlib.import_module(f"training.tasks.{cfg['model']['arch']}")
    run = Run(cfg)
    console = Console()
    if rank == 0:
        ensure_dataset(cfg)
        run.start(resume)
    if world > 1:
        dist.barrier()

    seed = int(cfg["run"]["seed"])
    seed_everything(seed)
    model = task_mod.build_model(cfg).to(device)
    seed_everything(seed + rank)  # same initial weights everywhere, own augmentation per rank
    train_set = task_mod.make_dataset(cfg, "train")
    val_set = task_mod.make_dataset(cfg, "val")
    batch_size = cfg["train"]["batch_size"]
    generator = torch.Generator().manual_seed(seed)
    if world > 1:
        sampler = DistributedSampler(train_set, world, rank, shuffle=True, seed=seed)
    else:
        sampler = RandomSampler(train_set, generator=generator)
    loader_kw = {
        "collate_fn": task_mod.collate,
        "num_workers": cfg["train"]["workers"],
        "pin_memory": device.type == "cuda",
    }
    loader = DataLoader(train_set, batch_size, sampler=sampler, drop_last=True, **loader_kw)
    val_sampler = DistributedSampler(val_set, world, rank, shuffle=False) if world > 1 else None
    val_loader = DataLoader(val_set, batch_size, sampler=val_sampler, **loader_kw)

    optimizer = torch.optim.AdamW(
        model.parameters(), lr=cfg["train"]["lr"], weight_decay=cfg["train"]["weight_decay"]
    )
    epochs = cfg["train"]["epochs"]
    scheduler = make_scheduler(optimizer, cfg, max(1, epochs * len(loader)))
    use_amp = cfg["train"]["amp"] and device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda") if use_amp else None

    start_epoch, best, elapsed = 0, None, 0.0
    state = run.load_state() if resume else None
    if state is not None:
        model.load_state_dict(run.load_weights("last"))
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        if scaler is not None and state.get("scaler"):
            scaler.load_state_dict(state["scaler"])
        start_epoch, best, elapsed = state["epoch"], state["best"], state["elapsed"]
        torch.set_rng_state(state["rng"])
        if rank == 0:
            console.print(f"resuming {run.dir} after epoch {start_epoch}")
    core = model
    if world > 1:
        ids = [local_rank] if device.type == "cuda" else None
        model = DistributedDataParallel(model, device_ids=ids)
    writer = tensorboard(run.dir) if rank == 0 else None

    row: dict[str, Any] = {}
    budget = cfg["train"]["max_minutes"] * 60
    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    for epoch in range(start_epoch, epochs):
        if budget and elapsed >= budget:
            if rank == 0:
                console.print(f"time budget of {cfg['train']['max_minutes']} min reached")
            break
        tick = time.perf_counter()
        if world > 1:
            sampler.set_epoch(epoch)
        with Progress(*columns, console=console, disable=rank != 0, transient=True) as progress:
            sums, count = train_epoch(
                model, loader, optimizer, scheduler, scaler, cfg, device, progress, task_mod
            )
        train_terms = mean_terms(sums, count, world)
        val_terms = mean_terms(*val_loss(model, val_loader, cfg, device, task_mod), world)
        elapsed += time.perf_counter() - tick
        row = {"epoch": epoch + 1, "lr": scheduler.get_last_lr()[0]}
        row |= {f"train_{k}": v for k, v in train_terms.items()}
        row |= {f"val_{k}": v for k, v in val_terms.items()}
        if rank == 0:
            row |= {f"val_{k}": v for k, v in task_mod.validate(core, cfg).items()}
            row["minutes"] = elapsed / 60
            metric = row[cfg["train"]["best_metric"]]
            meta = {"epoch": epoch + 1, "metrics": row, "run": str(run.dir)}
            run.save_model(f"epoch_{epoch + 1:03d}", core, meta)
            if is_better(metric, best, cfg["train"]["best_mode"]):
                best = metric
                run.save_model("best", core, meta)
            run.save_model("last", core, meta)
            run.save_state(
                {
                    "epoch": epoch + 1,
                    "best": best,
                    "elapsed": elapsed,
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(),
                    "scaler": scaler.state_dict() if scaler is not None else {},
                    "rng": torch.get_rng_state(),
                }
            )
            run.log(row)
            if writer is not None:
                for key, value in row.items():
                    writer.add_scalar(key, value, epoch + 1)
            shown = " ".join(f"{k} {v:.4g}" for k, v in row.items() if k != "epoch")
            console.print(f"epoch {epoch + 1}/{epochs} {shown}")
        if world > 1:
            dist.barrier()
    if writer is not None:
        writer.close()
    if world > 1:
        dist.destroy_process_group()
    return row


if __name__ == "__main__":
    main()
