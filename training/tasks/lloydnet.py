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


def crop(arrays: dict[str, np.ndarray], size: int, margin: int) -> dict:
    """A random ``size`` x ``size`` window of the grid (all maps alike) plus a ``weight`` map.

    The weight is 0 within ``margin`` cells of a window edge that cuts the image (the net
    lacks context there) and 1 elsewhere; a grid smaller than the window is kept whole.
    """
    rows, cols = arrays["coarse"].shape[-2:]
    i0 = int(torch.randint(max(1, rows - size + 1), (1,)))
    j0 = int(torch.randint(max(1, cols - size + 1), (1,)))
    i1, j1 = min(rows, i0 + size), min(cols, j0 + size)
    out = {}
    for key, a in arrays.items():
        s = a.shape[-1] // cols
        out[key] = a[..., s * i0 : s * i1, s * j0 : s * j1]
    weight = np.ones((1, i1 - i0, j1 - j0), np.float32)
    weight[:, :margin] *= i0 == 0
    weight[:, weight.shape[1] - margin :] *= i1 == rows
    weight[:, :, :margin] *= j0 == 0
    weight[:, :, weight.shape[2] - margin :] *= j1 == cols
    return out | {"weight": weight}


class LloydDataset(Dataset):
    """All items of one split, rebuilt once and kept in memory (they are small).

    Training items are cropped to ``crop`` cells (0: whole) and randomly flipped and
    transposed when ``augment`` is on.
    """

    def __init__(
        self,
        root: str | Path,
        split: str,
        subcells: int,
        augment: bool,
        crop: int = 0,
        margin: int = 4,
    ) -> None:
        self.root = Path(root)
        manifest = json.loads((self.root / "manifest.json").read_text())
        names = [item["name"] for item in manifest["items"] if item["split"] == split]
        self.examples = [load_example(self.root, name, subcells) for name in names]
        self.augment = augment
        self.crop = crop
        self.margin = margin

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, index: int) -> dict[str, np.ndarray]:
        ex = self.examples[index]
        arrays = {"fine": ex.fine, "coarse": ex.coarse, "target": ex.target, "spacing": ex.spacing}
        if self.crop:
            arrays = crop(arrays, self.crop, self.margin)
        else:
            arrays["weight"] = np.ones_like(ex.spacing)
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


def spacing_penalty(
    offsets: Tensor,
    selected: Tensor,
    spacing: Tensor,
    margin: float,
    radius: int,
    weight: Tensor | None = None,
) -> Tensor:
    """Mean over dots of sum_j (1 - d_ij / (margin d_hex))_+^2 over dots j within ``radius``.

    offsets (B, 2, R, C) in cells; selected, spacing (local hexagonal spacing d_hex, the
    pair's mean is used) and the optional per-cell ``weight`` of the centre dot
    (B, 1, R, C). Neighbours are gathered with one unfold, so the graph stays small.
    """
    b, _, rows, cols = offsets.shape
    ys = torch.arange(rows, dtype=offsets.dtype, device=offsets.device)
    xs = torch.arange(cols, dtype=offsets.dtype, device=offsets.device)
    grid = torch.stack(torch.meshgrid(xs, ys, indexing="xy"))
    maps = torch.cat([offsets + grid, selected, spacing], dim=1)
    k = 2 * radius + 1
    near = F.unfold(maps, k, padding=radius).view(b, 4, k * k, rows * cols)
    centre = maps.view(b, 4, 1, rows * cols)
    d = torch.sqrt(((near[:, :2] - centre[:, :2]) ** 2).sum(dim=1) + 1e-8)
    threshold = (margin * 0.5 * (near[:, 3] + centre[:, 3])).clamp(min=1e-3)
    hinge = F.relu(1 - d / threshold) ** 2
    not_self = torch.ones(k * k, 1, dtype=offsets.dtype, device=offsets.device)
    not_self[k * k // 2] = 0
    centre_weight = selected if weight is None else selected * weight
    centre_weight = centre_weight.view(b, 1, rows * cols)
    total = (hinge * near[:, 2] * not_self * centre_weight).sum()
    return total / centre_weight.sum().clamp(min=1)


# ----------------------------------------------------------------------- task interface


def _model_config(cfg: dict[str, Any]) -> dict[str, Any]:
    return dict(cfg["model"].get("config", {}))


def build_model(cfg: dict[str, Any]) -> torch.nn.Module:
    """The lloydnet of ``[model.config]``."""
    return build_arch(ARCH, _model_config(cfg))


def make_dataset(cfg: dict[str, Any], split: str) -> LloydDataset:
    """The split's items; training items are randomly flipped/transposed when augmenting."""
    subcells = make_config(ARCH, _model_config(cfg)).subcells
    train = split == "train"
    augment = train and cfg["data"].get("augment", True)
    crop_cells = cfg["data"].get("crop", 0) if train else 0
    margin = cfg["data"].get("crop_margin", 4)
    return LloydDataset(cfg["data"]["dir"], split, subcells, augment, crop_cells, margin)


def compute_loss(model: torch.nn.Module, batch: dict[str, Tensor], cfg: dict) -> dict[str, Tensor]:
    """Huber offset loss on selected cells + weighted spacing hinge; ``total`` is optimised."""
    loss_cfg = cfg["loss"]
    pred = model(batch["fine"], batch["coarse"])
    selected = batch["coarse"][:, :1]
    weighted = selected * batch["weight"]
    count = weighted.sum().clamp(min=1)
    huber = F.smooth_l1_loss(pred, batch["target"], reduction="none", beta=loss_cfg["huber_beta"])
    offset = (huber * weighted).sum() / count
    spacing = spacing_penalty(
        pred,
        selected,
        batch["spacing"],
        loss_cfg["spacing_margin"],
        loss_cfg["spacing_radius"],
        batch["weight"],
    )
    with torch.no_grad():
        err = torch.linalg.vector_norm(pred - batch["target"], dim=1, keepdim=True)
        mae = (err * weighted).sum() / count
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
