"""Training task for lloydnet: dither grid in, the Lloyd teacher's per-dot offsets out.

Items are read from a folder-format dataset made by :mod:`training.data` (``points/*.npz``
hold the teacher's ``xy``, the dither ``init`` and its threshold ``offset``); the net's
inputs are rebuilt from the source image exactly as at inference. Training items get a
random symmetry of the square grid (flips, transpose) with the offsets transformed alike.
Loss: Huber on the offsets of selected cells plus a hinge on pairs of predicted dots
closer than ``spacing_margin`` of the local hexagonal spacing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.nn import functional as F
from torch.utils.data import Dataset

from stipplr import metrics
from stipplr.images import load_image
from stipplr.models import build_model as build_arch
from stipplr.models import make_config
from stipplr.models.lloydnet import dot_positions, grid_inputs, hex_spacing
from stipplr.tone import Tone, darkness
from training.targets import offset_map

ARCH = "lloydnet"
VAL_METRICS = ("psnr_db", "spacing_mean", "spacing_p1", "clumped", "capacity_cv")


@dataclass
class Example:
    """One training item as arrays: net inputs, teacher offsets, local spacing, darkness."""

    fine: np.ndarray
    coarse: np.ndarray
    target: np.ndarray
    spacing: np.ndarray
    darkness: np.ndarray
    n: int


def load_example(root: Path, name: str, subcells: int) -> Example:
    """Rebuild an item's dither inputs from its source image and pair them with its targets."""
    rgb = load_image(root / "source" / f"{name}.png")
    dark = darkness(rgb, Tone())
    with np.load(root / "points" / f"{name}.npz") as saved:
        xy, init, offset = saved["xy"], saved["init"], saved["offset"]
    inputs = grid_inputs(dark, len(xy), subcells, (int(offset[0]), int(offset[1])))
    if not np.allclose(inputs.grid.centres(), init, atol=1e-5):
        raise ValueError(
            f"{root / 'points' / name}.npz: stored dither differs from the rebuilt one"
        )
    return Example(
        fine=inputs.fine[None],
        coarse=inputs.coarse,
        target=offset_map(inputs.grid, xy),
        spacing=hex_spacing(inputs.coarse[2], len(xy))[None],
        darkness=dark,
        n=len(xy),
    )


def symmetry(arrays: dict[str, np.ndarray], flip_x: bool, flip_y: bool, swap: bool) -> dict:
    """Apply a symmetry of the square to every map (last two axes) and to the offsets."""
    out = {}
    for key, a in arrays.items():
        a = a[..., ::-1] if flip_x else a
        a = a[..., ::-1, :] if flip_y else a
        out[key] = np.swapaxes(a, -1, -2) if swap else a
    target = out["target"].copy()
    target[0] *= -1 if flip_x else 1
    target[1] *= -1 if flip_y else 1
    out["target"] = target[::-1] if swap else target
    return {k: np.ascontiguousarray(v) for k, v in out.items()}


class LloydDataset(Dataset):
    """All items of one split, rebuilt once and kept in memory (they are small)."""

    def __init__(self, root: str | Path, split: str, subcells: int, augment: bool) -> None:
        self.root = Path(root)
        manifest = json.loads((self.root / "manifest.json").read_text())
        names = [item["name"] for item in manifest["items"] if item["split"] == split]
        self.examples = [load_example(self.root, name, subcells) for name in names]
        self.augment = augment

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, index: int) -> dict[str, np.ndarray]:
        ex = self.examples[index]
        arrays = {"fine": ex.fine, "coarse": ex.coarse, "target": ex.target, "spacing": ex.spacing}
        if not self.augment:
            return arrays
        flips = torch.randint(2, (3,)).bool().tolist()
        return symmetry(arrays, *flips)


def collate(items: list[dict[str, np.ndarray]]) -> dict[str, Tensor]:
    """Zero-pad every map to the batch's largest grid (padding is outside: no dots)."""
    rows = max(item["coarse"].shape[-2] for item in items)
    cols = max(item["coarse"].shape[-1] for item in items)
    batch = {}
    for key in items[0]:
        scale = items[0][key].shape[-1] // items[0]["coarse"].shape[-1]
        padded = [
            np.pad(
                item[key],
                [
                    (0, 0),
                    (0, rows * scale - item[key].shape[-2]),
                    (0, cols * scale - item[key].shape[-1]),
                ],
            )
            for item in items
        ]
        batch[key] = torch.from_numpy(np.stack(padded))
    return batch


def shifted_pairs(x: Tensor, di: int, dj: int) -> tuple[Tensor, Tensor]:
    """Views (a, b) of ``x`` (..., R, C) with b[i, j] = x[i + di, j + dj] (di >= 0)."""
    rows, cols = x.shape[-2:]
    j0, j1 = max(0, -dj), cols - max(0, dj)
    return x[..., : rows - di, j0:j1], x[..., di:, j0 + dj : j1 + dj]


def spacing_penalty(
    offsets: Tensor, selected: Tensor, spacing: Tensor, margin: float, radius: int
) -> Tensor:
    """Mean over dots of the squared hinge (1 - d / (margin d_hex))_+ over nearby dot pairs.

    offsets (B, 2, R, C); selected and spacing (B, 1, R, C). Pairs are selected cells at
    most ``radius`` cells apart (each pair once); d_hex is the pair's mean local hexagonal
    spacing, all in cell units.
    """
    selected, spacing = selected[:, 0], spacing[:, 0]
    total = offsets.new_zeros(())
    for di in range(radius + 1):
        for dj in range(-radius, radius + 1):
            if di == 0 and dj <= 0:
                continue
            oa, ob = shifted_pairs(offsets, di, dj)
            sa, sb = shifted_pairs(selected, di, dj)
            ha, hb = shifted_pairs(spacing, di, dj)
            d = torch.sqrt((dj + ob[:, 0] - oa[:, 0]) ** 2 + (di + ob[:, 1] - oa[:, 1]) ** 2 + 1e-8)
            hinge = F.relu(1 - d / (margin * 0.5 * (ha + hb)).clamp(min=1e-3))
            total = total + (hinge**2 * sa * sb).sum()
    return total / selected.sum().clamp(min=1)


# ----------------------------------------------------------------------- task interface


def _model_config(cfg: dict[str, Any]) -> dict[str, Any]:
    return dict(cfg["model"].get("config", {}))


def build_model(cfg: dict[str, Any]) -> torch.nn.Module:
    """The lloydnet of ``[model.config]``."""
    return build_arch(ARCH, _model_config(cfg))


def prepare(cfg: dict[str, Any]) -> None:
    """Make the dataset first when ``data.dir`` has no manifest yet (or finish it)."""
    from training.data import Settings, make_dataset

    root = Path(cfg["data"]["dir"])
    if not (root / "manifest.json").exists():
        make = {k: tuple(v) if isinstance(v, list) else v for k, v in cfg["data"]["make"].items()}
        make_dataset(root, Settings(**make), workers=cfg["data"].get("workers", 2))


def make_dataset(cfg: dict[str, Any], split: str) -> LloydDataset:
    """The split's items; training items are randomly flipped/transposed when augmenting."""
    subcells = make_config(ARCH, _model_config(cfg)).subcells
    augment = split == "train" and cfg["data"].get("augment", True)
    return LloydDataset(cfg["data"]["dir"], split, subcells, augment)


def compute_loss(model: torch.nn.Module, batch: dict[str, Tensor], cfg: dict) -> dict[str, Tensor]:
    """Huber offset loss on selected cells + weighted spacing hinge; ``total`` is optimised."""
    loss_cfg = cfg["loss"]
    pred = model(batch["fine"], batch["coarse"])
    selected = batch["coarse"][:, :1]
    count = selected.sum().clamp(min=1)
    huber = F.smooth_l1_loss(pred, batch["target"], reduction="none", beta=loss_cfg["huber_beta"])
    offset = (huber * selected).sum() / count
    spacing = spacing_penalty(
        pred, selected, batch["spacing"], loss_cfg["spacing_margin"], loss_cfg["spacing_radius"]
    )
    with torch.no_grad():
        err = torch.linalg.vector_norm(pred - batch["target"], dim=1, keepdim=True)
        mae = (err * selected).sum() / count
    return {
        "total": offset + loss_cfg["spacing"] * spacing,
        "offset": offset,
        "spacing": spacing,
        "error_cells": mae,
    }


def predict_example(model: torch.nn.Module, ex: Example) -> np.ndarray:
    """The model's dots (N, 2) for one in-memory example."""
    inputs = grid_inputs(ex.darkness, ex.n, model.config.subcells)
    with torch.inference_mode():
        return dot_positions(inputs.grid, model.offsets(inputs))


@torch.no_grad()
def validate(model: torch.nn.Module, cfg: dict[str, Any]) -> dict[str, float]:
    """Project metrics (tone PSNR, spacing, clumping, capacity CV) on the val split, averaged."""
    dataset = _val_dataset(cfg, model.config.subcells)
    limit = cfg.get("val", {}).get("max_items", len(dataset))
    scores = [
        metrics.evaluate(ex.darkness, predict_example(model, ex)) for ex in dataset.examples[:limit]
    ]
    return {key: float(np.nanmean([s[key] for s in scores])) for key in VAL_METRICS}


_VAL_CACHE: dict[tuple[str, int], LloydDataset] = {}


def _val_dataset(cfg: dict[str, Any], subcells: int) -> LloydDataset:
    key = (str(cfg["data"]["dir"]), subcells)
    if key not in _VAL_CACHE:
        _VAL_CACHE[key] = LloydDataset(key[0], "val", subcells, augment=False)
    return _VAL_CACHE[key]
