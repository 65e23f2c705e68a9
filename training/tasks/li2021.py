"""Training task for li2021 (the paper's network): folder-format data, point-set losses.

Config sections used: ``[model]`` (``arch = "li2021"``; ``[model.config]`` holds
:class:`stipplr.models.li2021.Config` fields), ``[data]`` (``dir`` folder, ``points`` N,
``size`` input px, ``[data.make]`` :class:`training.data.Settings` to make the folder when
missing), ``[loss]`` (:class:`training.losses.LossWeights` fields plus ``spectrum_size``)
and ``[val] max_items`` (images scored by :func:`validate`).

A batch is the source images (B, 3, S, S) and exactly N teacher dots per image (B, N, 5:
x, y, r, g, b). The network's N densest (x, y, grey) cells are its dots; they are compared
with the teacher's by Chamfer distance, radial power spectrum and grey level (the paper's
three losses, each per dot weighted by the straight-through selection weights), plus a
density term on every cell (the histogram of the teacher's dots; see training.losses).

With the stacked-dots fix (``[model.config] selection = "subcell"``) the dots come from
:func:`stipplr.models.li2021.subcell_points` and the density target is the teacher's dot
count per (x, y) column (:func:`stipplr.models.li2021.slot_histogram` summed over the
slots) spread evenly over the column's slots. The selection uses column masses only
(slots are filled in a fixed order), and the slot a teacher dot happens to fall in is noise
on top of the column signal: a run with the per-slot target, otherwise the same, fitted the
tone worse (held-out tone PSNR 24.9 vs 25.7 dB on the 8 val images, 22.2 vs 22.4 dB on 24
fresh ones, N = 2 048). The grey offset channel is still trained by the colour term.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from stipplr.metrics import evaluate
from stipplr.models import build_model as build_architecture
from stipplr.models import make_config
from stipplr.models.li2021 import init_encoder, select_points, slot_histogram
from stipplr.tone import LUMA, Tone, darkness
from training import losses
from training.folder import FolderDataset

ARCH = "li2021"
VALIDATION_METRICS = ("psnr_db", "ssim", "spacing_mean", "clumped")


def model_config(cfg: dict[str, Any]) -> dict[str, Any]:
    """The architecture's config fields, ``[model.config]``."""
    return dict(cfg["model"].get("config", {}))


def build_model(cfg: dict[str, Any]) -> nn.Module:
    """An li2021 network with the ImageNet encoder weights when they are on this machine."""
    values = model_config(cfg)
    model = build_architecture(ARCH, values)
    init_encoder(model, make_config(ARCH, values))
    return model


def split_names(root: Path, split: str) -> list[str] | None:
    """Item names of ``split`` from the folder's manifest (None: no manifest, use every item)."""
    manifest = root / "manifest.json"
    if not manifest.is_file():
        return None
    items = json.loads(manifest.read_text())["items"]
    return sorted(item["name"] for item in items if item.get("split", "train") == split)


def make_dataset(cfg: dict[str, Any], split: str) -> FolderDataset:
    """The ``split`` items of the folder ``data.dir`` (every item if it has no manifest)."""
    data = cfg["data"]
    root = Path(data["dir"])
    return FolderDataset(root, data["points"], data["size"], split_names(root, split))


def collate(items: list[tuple[Tensor, Tensor]]) -> dict[str, Tensor]:
    """Stack (source, dots) items: ``source`` (B, 3, S, S) and ``dots`` (B, N, 5)."""
    sources, dots = zip(*items, strict=True)
    return {"source": torch.stack(sources), "dots": torch.stack(dots)}


def grey(rgb: Tensor) -> Tensor:
    """Rec. 709 grey level (..., 1) of (..., 3) colours, the grid's third axis."""
    return rgb @ torch.as_tensor(LUMA, dtype=rgb.dtype, device=rgb.device)[:, None]


def compute_loss(model: nn.Module, batch: dict[str, Tensor], cfg: dict[str, Any]) -> dict:
    """The weighted loss ("total") and its terms (batch means) for one batch."""
    source, dots = batch["source"], batch["dots"]
    section = dict(cfg.get("loss", {}))
    spectrum_size = int(section.pop("spectrum_size", 128))
    weights = losses.LossWeights(**section)
    grids = model(source)
    points, select = select_points(grids, dots.shape[1], model.config)
    xy, target_xy = points[..., :2], dots[..., :2]
    target_grey = grey(dots[..., 2:5])
    grid = grids["density"].shape[-1]
    if model.config.selection == "subcell":  # per column, spread evenly over its slots
        target_cells = (
            slot_histogram(target_xy, grid).mean(-1, keepdim=True).expand(-1, -1, -1, grid)
        )
    else:
        target_cells = losses.histogram(torch.cat([target_xy, target_grey], -1), grid)
    terms = {
        "chamfer": losses.chamfer(xy, target_xy, select),
        "spectrum": losses.spectrum_loss(xy, target_xy, spectrum_size, select),
        "colour": losses.colour_loss(xy, points[..., 2:3], target_xy, target_grey, select),
        "density": losses.density_loss(grids["density"], target_cells),
    }
    total = losses.weighted_total(terms, weights)
    return {"total": total, **{name: value.mean().detach() for name, value in terms.items()}}


@torch.inference_mode()
def validate(model: nn.Module, cfg: dict[str, Any]) -> dict[str, float]:
    """Mean tone and spacing metrics of the model's N dots on the first val images.

    Each image is scored against its own darkness at full size (stipplr.metrics), next to
    the teacher's dots for the same image (keys prefixed ``teacher_``).
    """
    data = make_dataset(cfg, "val")
    count = min(len(data), int(cfg.get("val", {}).get("max_items", 4)))
    was_training = model.training
    model.eval()
    scores: dict[str, list[float]] = {}
    for index in range(count):
        rgb, teacher = data.full_item(index)
        dark = darkness(rgb, Tone())
        image = torch.from_numpy(rgb).permute(2, 0, 1)[None]
        xy, _ = model.predict(image, torch.from_numpy(dark)[None, None], data.n_points)
        for prefix, points in (("", xy[0].numpy()), ("teacher_", teacher[:, :2])):
            metrics = evaluate(dark, points)
            for key in VALIDATION_METRICS:
                scores.setdefault(prefix + key, []).append(metrics[key])
    model.train(was_training)
    return {key: float(np.mean(values)) for key, values in scores.items()}
