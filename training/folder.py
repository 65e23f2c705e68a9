"""Reader of the paper's dataset layout: ``source/NAME.png``, ``target/NAME.png``, ``points/``.

Each item is the source image resized to size x size, as a (3, size, size) float tensor in
[0, 1], and exactly N target dots as an (N, 5) tensor (x, y in [0, 1], y down; r, g, b in
[0, 1]). Dots come from ``points/NAME.npz`` (``xy``, optional ``rgb``) when it exists;
otherwise they are recovered from the target drawing (black dots on white) as the
darkness-weighted centroids of its connected dark components, so a drawn disc is one dot.
Colours not stored are sampled (bilinear) from the full-size source at each dot. A set
with more than N dots is subsampled, one with fewer is padded with duplicates of random
dots; both are seeded by the item index, so an item is the same every epoch.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from scipy import ndimage
from torch.utils.data import Dataset

from stipplr.errors import StipplrError
from stipplr.images import load_image
from stipplr.tone import luminance
from training.layout import item_paths

DARK_THRESHOLD = 0.5
"""A target pixel whose luminance is below this belongs to a dot."""


def recover_dots(target: np.ndarray) -> np.ndarray:
    """Dot centres (K, 2) in [0, 1] of a dots-on-white drawing (H, W, 3) in [0, 1].

    One dot per connected (8-neighbour) component of pixels darker than DARK_THRESHOLD,
    at the darkness-weighted centroid of the component and its inked one-pixel rim (the
    antialiased edge), which places it to a small fraction of a pixel.
    """
    height, width = target.shape[:2]
    darkness = 1.0 - luminance(target)
    eight = np.ones((3, 3))
    labels, count = ndimage.label(darkness > 1 - DARK_THRESHOLD, structure=eight)
    if count == 0:
        return np.zeros((0, 2), dtype=np.float32)
    rim = (labels == 0) & (darkness > 0)
    labels[rim] = ndimage.grey_dilation(labels, footprint=eight)[rim]
    rows_cols = np.array(ndimage.center_of_mass(darkness, labels, np.arange(1, count + 1)))
    return np.column_stack(
        [(rows_cols[:, 1] + 0.5) / width, (rows_cols[:, 0] + 0.5) / height]
    ).astype(np.float32)


def sample_colours(image: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Bilinear colours (K, 3) of ``image`` (H, W, 3) at relative positions ``xy`` (K, 2)."""
    height, width = image.shape[:2]
    coords = [xy[:, 1] * height - 0.5, xy[:, 0] * width - 0.5]
    channels = [
        ndimage.map_coordinates(image[..., c], coords, order=1, mode="nearest") for c in range(3)
    ]
    return np.clip(np.stack(channels, axis=1), 0, 1).astype(np.float32)


def exactly_n(points: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` rows of ``points``: a random subset if there are more, padded with copies if fewer."""
    if len(points) >= n:
        return points[np.sort(rng.choice(len(points), n, replace=False))]
    extra = rng.choice(len(points), n - len(points), replace=True)
    return np.concatenate([points, points[extra]])


def resize(image: np.ndarray, size: int) -> torch.Tensor:
    """(3, size, size) float tensor of an (H, W, 3) image in [0, 1] (bilinear, antialiased)."""
    pil = Image.fromarray(np.round(image * 255).astype(np.uint8))
    small = np.asarray(pil.resize((size, size), Image.BILINEAR), dtype=np.float32) / 255
    return torch.from_numpy(small).permute(2, 0, 1).contiguous()


class FolderDataset(Dataset):
    """Items (source (3, size, size), dots (n_points, 5)) of a dataset folder (see module doc)."""

    def __init__(
        self, root: str | Path, n_points: int, size: int, names: Sequence[str] | None = None
    ) -> None:
        """Items ``names`` (default: every ``source/*.png``) of the folder ``root``."""
        self.root = Path(root)
        self.n_points = n_points
        self.size = size
        source = self.root / "source"
        if not source.is_dir():
            raise StipplrError(f"{self.root}: not a dataset folder (no source/ directory)")
        self.names = sorted(p.stem for p in source.glob("*.png")) if names is None else list(names)
        if not self.names:
            raise StipplrError(f"{source}: no items")
        for name in self.names:
            if not (source / f"{name}.png").is_file():
                raise StipplrError(f"{self.root}: {name} has no source/ image")
        for name in self.names:
            if not (self.points_path(name).is_file() or self.target_path(name).is_file()):
                raise StipplrError(f"{self.root}: {name} has neither points/ nor target/ file")

    def points_path(self, name: str) -> Path:
        return item_paths(self.root, name)["points"]

    def target_path(self, name: str) -> Path:
        return item_paths(self.root, name)["target"]

    def __len__(self) -> int:
        return len(self.names)

    def dots(self, name: str, source: np.ndarray) -> np.ndarray:
        """All dots (K, 5) of item ``name``: stored points if present, else recovered ones."""
        path = self.points_path(name)
        if path.is_file():
            try:
                with np.load(path) as data:
                    xy = np.asarray(data["xy"], dtype=np.float32).reshape(-1, 2)
                    rgb = np.asarray(data["rgb"], np.float32) if "rgb" in data else None
            except (OSError, ValueError, KeyError) as exc:
                raise StipplrError(f"{path}: not a points file ({exc})") from None
        else:
            path = self.target_path(name)
            target = load_image(path)
            if target.shape != source.shape:
                raise StipplrError(f"{path}: size {target.shape[:2]} differs from its source")
            xy, rgb = recover_dots(target), None
        if len(xy) == 0:
            raise StipplrError(f"{path}: no dots")
        if rgb is None or rgb.shape != (len(xy), 3):
            rgb = sample_colours(source, xy)
        return np.concatenate([xy, rgb], axis=1)

    def full_item(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Item ``index`` unresized: the source (H, W, 3) and all its dots (K, 5)."""
        name = self.names[index]
        source = load_image(item_paths(self.root, name)["source"])
        return source, self.dots(name, source)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        source, dots = self.full_item(index)
        dots = exactly_n(dots, self.n_points, np.random.default_rng(index))
        return resize(source, self.size), torch.from_numpy(dots)
