"""Separation files users inspect: one greyscale PNG per pen (black = full ink, like a
printing plate) and the colour preview of the pens mixed by the ink model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from stipplr.atomic import atomic_path
from stipplr.errors import OptionError
from stipplr.inks.separation import Separation


def plate_name(index: int, name: str) -> str:
    """``01-cyan.png``: the drawing index and a file-safe pen name."""
    safe = "".join(c if c.isalnum() or c in "-_+" else "_" for c in name) or "pen"
    return f"{index + 1:02d}-{safe}.png"


def save_png(pixels: np.ndarray, path: Path) -> None:
    """Write a [0, 1] array as an 8-bit PNG, atomically."""
    image = Image.fromarray(np.round(np.clip(pixels, 0, 1) * 255).astype(np.uint8))
    with atomic_path(path) as tmp:
        image.save(tmp, format="PNG")


def write_separation(separation: Separation, folder: Path) -> list[Path]:
    """The plates and ``preview.png`` in ``folder`` (created); returns the files written."""
    if folder.exists() and not folder.is_dir():
        raise OptionError(f"{folder}: not a folder (the separation writes one PNG per pen)")
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for index, (ink, coverage) in enumerate(zip(separation.pens, separation.coverage, strict=True)):
        path = folder / plate_name(index, ink.name)
        save_png(1.0 - coverage, path)
        written.append(path)
    preview = folder / "preview.png"
    save_png(separation.preview(), preview)
    return [*written, preview]
