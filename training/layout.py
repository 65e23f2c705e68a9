"""The dataset folder layout and its writer: ``source/``, ``target/``, ``points/``, manifest.

An item NAME is ``source/NAME.png`` (the image), ``target/NAME.png`` (the teacher's dots
drawn black on white) and ``points/NAME.npz`` (the dots as arrays plus the item's manifest
entry as JSON in ``meta``). The points file is written last, so its presence marks a
finished item. :mod:`training.folder` reads this layout; :mod:`training.data` makes it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from stipplr.atomic import atomic_path, write_text

PARTS = ("source", "target", "points")
MANIFEST = "manifest.json"


def item_paths(root: Path, name: str) -> dict[str, Path]:
    """The files of item ``name`` in the dataset folder ``root``, by part."""
    return {
        "source": root / "source" / f"{name}.png",
        "target": root / "target" / f"{name}.png",
        "points": root / "points" / f"{name}.npz",
    }


def make_folders(root: Path) -> None:
    """Create ``root`` and its part folders."""
    for part in PARTS:
        (root / part).mkdir(parents=True, exist_ok=True)


def render_dots(xy: np.ndarray, h: int, w: int) -> Image.Image:
    """Black dots (radius 0.35 mean spacing) on white, the folder format's target image."""
    image = Image.new("L", (w, h), 255)
    draw = ImageDraw.Draw(image)
    r = max(0.6, 0.35 * np.sqrt(h * w / max(len(xy), 1)))
    for x, y in xy * [w, h]:
        draw.ellipse([x - r, y - r, x + r, y + r], fill=0)
    return image.convert("RGB")


def write_images(paths: dict[str, Path], pixels: np.ndarray, xy: np.ndarray) -> None:
    """The item's source (uint8 (H, W, 3)) and target drawing of dots ``xy``, as PNGs."""
    h, w = pixels.shape[:2]
    for key in ("source", "target"):
        with atomic_path(paths[key]) as tmp:
            image = Image.fromarray(pixels) if key == "source" else render_dots(xy, h, w)
            image.save(tmp, format="PNG")


def write_points(path: Path, arrays: dict[str, np.ndarray], meta: dict) -> None:
    """The item's points file: ``arrays`` plus ``meta`` (its manifest entry) as JSON."""
    with atomic_path(path) as tmp:
        np.savez(tmp, **arrays, meta=np.array(json.dumps(meta)))


def read_meta(path: Path) -> dict:
    """The manifest entry stored in a finished item's points file."""
    with np.load(path) as saved:
        return json.loads(str(saved["meta"]))


def write_manifest(root: Path, manifest: dict) -> None:
    write_text(root / MANIFEST, json.dumps(manifest, indent=1))
