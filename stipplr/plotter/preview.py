"""A raster preview of a plot at true pen width (PIL), optionally with pen-up moves."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from stipplr.atomic import atomic_path
from stipplr.errors import OptionError
from stipplr.plotter.document import PlotDocument
from stipplr.validate import Number

TRAVEL_COLOUR = (255, 170, 170)  # pen-up moves: light red, drawn under the ink


def _pixels(path: np.ndarray, scale: float) -> list[tuple[float, float]]:
    """Path points (complex mm) as (x, y) pixel tuples for PIL's drawing calls."""
    return list(zip((path.real * scale).tolist(), (path.imag * scale).tolist(), strict=True))


def preview_image(
    document: PlotDocument, pixels_per_mm: float = 8.0, travel: bool = False
) -> Image.Image:
    """The page as an RGB image: each path stroked at its pen's width with round ends."""
    size = (
        max(1, round(document.width * pixels_per_mm)),
        max(1, round(document.height * pixels_per_mm)),
    )
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    if travel:
        for layer in document.layers:
            if layer.paths:
                stops = np.column_stack([layer.starts(), layer.ends()]).ravel()
                route = np.concatenate([[0j], stops, [0j]])
                draw.line(_pixels(route, pixels_per_mm), fill=TRAVEL_COLOUR, width=1)
    for layer in document.layers:
        colour = tuple(round(c * 255) for c in layer.pen.rgb)
        width = max(1.0, layer.pen.width * pixels_per_mm)
        r = width / 2
        for path in layer.paths:
            points = _pixels(path, pixels_per_mm)
            draw.line(points, fill=colour, width=round(width), joint="curve")
            for x, y in (points[0], points[-1]):
                draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
    return image


def check_preview_path(path: str | os.PathLike[str]) -> None:
    """Refuse a preview file whose extension PIL cannot write, before any plotting work."""
    fmt = Image.registered_extensions().get(Path(path).suffix.lower())
    if fmt not in Image.SAVE:
        raise OptionError(f"{path}: cannot write a preview in this format (use .png)")


def write_preview(
    document: PlotDocument,
    path: str | os.PathLike[str],
    pixels_per_mm: float = 8.0,
    travel: bool = False,
) -> None:
    """Save :func:`preview_image` atomically (format from the extension, PNG advised)."""
    Number(0, above=True)(pixels_per_mm, "preview pixels_per_mm")
    check_preview_path(path)
    image = preview_image(document, pixels_per_mm, travel)
    with atomic_path(path) as tmp:
        try:
            image.save(tmp)
        except (ValueError, OSError) as exc:
            raise OptionError(f"{path}: cannot write preview ({exc})") from None
