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

With ``selection = "guided"`` the dots come from dithering the image's darkness rescaled
to the network's column shares (:func:`stipplr.models.li2021.guided_points`), so only the
column shares are trained: the density term is :func:`training.losses.share_loss` between
the column masses and the image's own column darkness (:func:`column_darkness`), the exact
shares that make the dither reproduce the image. The teacher's dots are not used (their
counts per column are the same target plus noise), and training batches are flipped and
transposed at random (:func:`dihedral`; the target is computed after, so it follows). On
the same data the KL term learnt more slowly: held-out KL 0.048 vs 0.043 after 300 steps
(the KL's log lets the few images whose ink sits in a few columns dominate a batch).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F

from stipplr.metrics import evaluate
from stipplr.models import build_model as build_architecture
from stipplr.models import make_config
from stipplr.models.li2021 import (
    GUIDED_FLOOR,
    Config,
    init_encoder,
    select_points,
    slot_histogram,
)
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


def column_darkness(source: Tensor, grid: int) -> Tensor:
    """Mean darkness plus GUIDED_FLOOR (B, G, G) of each (x, y) column of source images
    (B, 3, S, S), index [b, i, j] with i along x: the ``guided`` density target, the column
    shares that make :func:`~stipplr.models.li2021.guided_darkness` the image's own."""
    rgb = source.permute(0, 2, 3, 1).cpu().numpy()
    dark = torch.from_numpy(np.stack([darkness(image, Tone()) for image in rgb])).to(source)
    return F.adaptive_avg_pool2d(dark[:, None] + GUIDED_FLOOR, grid)[:, 0].transpose(1, 2)


def dihedral(images: Tensor, which: Tensor) -> Tensor:
    """Images (B, C, S, S) each mapped by one of the square's 8 symmetries, ``which`` (B,)
    in 0-7: bit 0 flips x, bit 1 flips y, bit 2 transposes (then flips)."""
    out = []
    for image, k in zip(images, which.tolist(), strict=True):
        image = image.transpose(-1, -2) if k & 4 else image
        dims = [d for d, bit in ((-1, 1), (-2, 2)) if k & bit]
        out.append(image.flip(dims) if dims else image)
    return torch.stack(out)


def density_target(dots: Tensor, grid: int, config: Config) -> Tensor:
    """Target counts (B, G, G, G) from the teacher's dots (B, N, 5) for the density term over
    the ``paper`` or ``subcell`` cells."""
    if config.selection == "subcell":  # per column, spread evenly over its slots
        return slot_histogram(dots[..., :2], grid).mean(-1, keepdim=True).expand(-1, -1, -1, grid)
    return losses.histogram(torch.cat([dots[..., :2], grey(dots[..., 2:5])], -1), grid)


def point_terms(
    grids: dict[str, Tensor], dots: Tensor, config: Config, spectrum_size: int
) -> dict[str, Tensor]:
    """The paper's per-dot losses (B,) of the selected cells against the teacher's dots."""
    points, select = select_points(grids, dots.shape[1], config)
    xy, target_xy = points[..., :2], dots[..., :2]
    return {
        "chamfer": losses.chamfer(xy, target_xy, select),
        "spectrum": losses.spectrum_loss(xy, target_xy, spectrum_size, select),
        "colour": losses.colour_loss(xy, points[..., 2:3], target_xy, grey(dots[..., 2:5]), select),
    }


def loss_terms(
    grids: dict[str, Tensor], batch: dict[str, Tensor], config: Config, spectrum_size: int
) -> dict[str, Tensor]:
    """The loss terms (B,) of a batch: with ``guided`` the density of the columns alone
    (its dots come from the dither, not the offsets), otherwise the point terms and the
    density over all cells."""
    density = grids["density"]
    if config.selection == "guided":
        target = column_darkness(batch["source"], density.shape[-1])
        return {"density": losses.share_loss(density.logsumexp(-1), target)}
    target = density_target(batch["dots"], density.shape[-1], config)
    return point_terms(grids, batch["dots"], config, spectrum_size) | {
        "density": losses.density_loss(density, target)
    }


def compute_loss(model: nn.Module, batch: dict[str, Tensor], cfg: dict[str, Any]) -> dict:
    """The weighted loss ("total") and its terms (batch means) for one batch. With
    ``guided``, training batches are randomly flipped and transposed (the target is computed
    from the image, so it follows; the teacher's dots are not used)."""
    if model.config.selection == "guided" and model.training:
        which = torch.randint(8, (len(batch["source"]),))
        batch = {**batch, "source": dihedral(batch["source"], which)}
    section = dict(cfg.get("loss", {}))
    spectrum_size = int(section.pop("spectrum_size", 128))
    weights = losses.LossWeights(**section)
    terms = loss_terms(model(batch["source"]), batch, model.config, spectrum_size)
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
