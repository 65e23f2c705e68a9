"""A run folder: resolved config, CSV log, TensorBoard, model checkpoints and resume state.

``RUN_DIR/config.toml`` (the resolved config), ``log.csv`` (one row per epoch), ``tb/``
(when tensorboard is installed), ``checkpoints/epoch_NNN.pt``, ``best.pt`` and ``last.pt``
(stipplr checkpoints), and ``state.pt``: optimizer, scheduler, scaler and RNG after the
last finished epoch, which ``--resume`` continues from.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from stipplr.atomic import atomic_path, write_text
from stipplr.checkpoints import read_checkpoint, save_checkpoint
from stipplr.models import make_config
from stipplr.tomlfile import dump_toml


@dataclass
class Standing:
    """Where a run stands: finished epochs, best metric so far and training seconds."""

    epoch: int = 0
    best: float | None = None
    elapsed: float = 0.0


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

    def save_standing(self, standing: Standing, optimizer, scheduler, scaler) -> None:
        """Save the resume state after an epoch (the model itself is in ``last.pt``)."""
        self.save_state(
            {
                "epoch": standing.epoch,
                "best": standing.best,
                "elapsed": standing.elapsed,
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "scaler": scaler.state_dict() if scaler is not None else {},
                "rng": torch.get_rng_state(),
            }
        )

    def resume(self, model, optimizer, scheduler, scaler) -> Standing | None:
        """Load ``last.pt`` and the resume state into the given objects; None if there is none."""
        state = self.load_state()
        if state is None:
            return None
        model.load_state_dict(self.load_weights("last"))
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        if scaler is not None and state.get("scaler"):
            scaler.load_state_dict(state["scaler"])
        torch.set_rng_state(state["rng"])
        return Standing(state["epoch"], state["best"], state["elapsed"])

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
