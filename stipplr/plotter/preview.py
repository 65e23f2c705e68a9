"""An anti-aliased raster preview of a plot at true pen width, optionally with pen-up moves.

Each pen's ink is the union of round nib stamps along its paths, rasterised on a grid
supersampled so the nib is at least :data:`NIB_SUBPIXELS` wide, then box-filtered: a
pixel's grey is the fraction of it the ink covers, so the preview's mean darkness is the
plot's ink coverage at any size. The pens' coverages are mixed by the ink model
(:func:`stipplr.inks.model.composite`: where inks overlap their colours multiply), so a
plot with several pens previews as the colour picture it will draw. The page is drawn in
strips, so memory is the picture plus one strip; a preview whose pixels would exceed the
memory budget is refused before any file is written.

``--preview-scale`` is a resolution (``8``, ``8px/mm``, ``300dpi``; the default is 8
px/mm, a 0.3 mm nib 2.4 px wide) or a viewing size (``1600px``: the long side).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from stipplr.atomic import atomic_path
from stipplr.errors import OptionError
from stipplr.inks.model import composite
from stipplr.plotter.document import Paths, Pen, PlotDocument, check_budget
from stipplr.validate import Kind, invalid, is_number

TRAVEL_COLOUR = (255, 170, 170)  # pen-up moves: light red, drawn under the ink
DEFAULT_SCALE = 8.0  # px per mm
NIB_SUBPIXELS = 10  # the nib is at least this many supersampled pixels across
SUPERSAMPLE = (4, 16)  # supersampling factor range per axis
STRIP_SUBPIXELS = 2**23  # supersampled pixels rasterised at a time
SCALE_RULE = "be a resolution such as 8px/mm or 300dpi, or a long side such as 1600px"
_SCALE = re.compile(r"^\s*(\d+\.?\d*|\.\d+)\s*(px/mm|dpi|px)?\s*$", re.I)


@dataclass(frozen=True)
class PreviewScale(Kind):
    """``--preview-scale``: (value, unit) with unit ``px/mm`` or ``px`` (the long side)."""

    metavar = "SCALE"

    def __call__(self, value: Any, name: str) -> tuple[float, str]:
        if isinstance(value, tuple):
            return value
        match = _SCALE.match(str(value)) if is_number(value) or isinstance(value, str) else None
        number = float(match.group(1)) if match else 0.0
        if not match or number <= 0:
            raise invalid(name, SCALE_RULE, value)
        unit = (match.group(2) or "px/mm").lower()
        return (number / 25.4, "px/mm") if unit == "dpi" else (number, unit)


def pixels_per_mm(scale: Any, page: tuple[float, float]) -> float:
    """Preview pixels per mm for a :class:`PreviewScale` value on a ``page`` (mm)."""
    value, unit = PreviewScale()(DEFAULT_SCALE if scale is None else scale, "preview scale")
    return value if unit == "px/mm" else value / max(page)


def _stamp(radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Row and column offsets of the subpixels a nib of ``radius`` subpixels covers."""
    reach = int(np.ceil(radius))
    dy, dx = np.mgrid[-reach : reach + 1, -reach : reach + 1]
    inside = dx * dx + dy * dy <= radius * radius
    return dy[inside], dx[inside]


def stamp_centres(paths: Paths, spacing: float) -> np.ndarray:
    """Nib positions (complex) along every path, at most ``spacing`` apart."""
    points, ends = paths.points, paths.offsets[1:] - 1
    if not len(points):
        return points
    step = np.diff(points)
    inner = np.ones(len(step), bool)
    inner[ends[:-1]] = False  # no step from one path's end to the next path's start
    step, first = step[inner], points[:-1][inner]
    counts = np.maximum(1, np.ceil(np.abs(step) / spacing)).astype(np.int64)
    fraction = (np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)) / (
        np.repeat(counts, counts)
    )
    along = np.repeat(first, counts) + np.repeat(step, counts) * fraction
    return np.concatenate([along, points[ends]])


@dataclass(frozen=True)
class Nib:
    """One pen's stamps, ready to rasterise: subpixel centres sorted by row, the nib's
    subpixel offsets and the supersampling factor."""

    rows: np.ndarray
    cols: np.ndarray
    dy: np.ndarray
    dx: np.ndarray
    ss: int
    reach: int

    @classmethod
    def of(cls, paths: Paths, width_mm: float, ppm: float) -> Nib:
        """The stamps of ``paths`` drawn by a nib ``width_mm`` wide at ``ppm`` px/mm."""
        nib = width_mm * ppm
        ss = int(np.clip(np.ceil(NIB_SUBPIXELS / max(nib, 1e-9)), *SUPERSAMPLE))
        dy, dx = _stamp(nib * ss / 2)
        centres = stamp_centres(paths, spacing=width_mm / 8)
        rows = np.floor(centres.imag * ppm * ss).astype(np.int64)
        order = np.argsort(rows, kind="stable")
        cols = np.floor(centres.real * ppm * ss).astype(np.int64)[order]
        return cls(rows[order], cols, dy, dx, ss, int(np.ceil(nib * ss / 2)))

    def alpha(self, width: int, rows: slice) -> np.ndarray:
        """Ink coverage in [0, 1] of output ``rows`` of a ``width`` px preview (float32)."""
        ss, reach = self.ss, self.reach
        top, height = rows.start * ss, (rows.stop - rows.start) * ss
        lo, hi = np.searchsorted(self.rows, [top - reach, top + height + reach])
        sy, sx = self.rows[lo:hi] - top + reach, self.cols[lo:hi] + reach
        mask = np.zeros((height + 2 * reach, width * ss + 2 * reach), bool)
        chunk = max(1, 4_000_000 // len(self.dy))
        for i in range(0, len(sx), chunk):
            r = (sy[i : i + chunk, None] + self.dy[None]).ravel()
            c = (sx[i : i + chunk, None] + self.dx[None]).ravel()
            keep = (c >= 0) & (c < mask.shape[1]) & (r >= 0) & (r < mask.shape[0])
            mask[r[keep], c[keep]] = True
        mask = mask[reach : reach + height, reach : reach + width * ss]
        return mask.reshape(height // ss, ss, width, ss).mean(axis=(1, 3), dtype=np.float32)


def preview_size(page: tuple[float, float], ppm: float, stamps: int = 0) -> tuple[int, int]:
    """(width, height) in pixels of a preview of a ``page`` (mm) at ``ppm`` px/mm; refuses
    (one line) one whose pixels (7 bytes each) and nib stamps (40 bytes each) would
    exceed the memory budget."""
    w, h = max(1, round(page[0] * ppm)), max(1, round(page[1] * ppm))
    check_budget(
        f"a {w} x {h} px preview", 7.0 * w * h + 40.0 * stamps, "a smaller --preview-scale"
    )
    return w, h


def check_preview(path: str | os.PathLike[str], page: tuple[float, float], scale: Any) -> float:
    """Before any work: refuse a preview file PIL cannot write or a preview too large for
    the memory budget; the preview's px/mm."""
    check_preview_path(path)
    ppm = pixels_per_mm(scale, page)
    preview_size(page, ppm)
    return ppm


def pen_colour(pen: Pen) -> tuple[int, int, int]:
    """A plot pen's colour as the ink model takes it (0-255 sRGB)."""
    return tuple(round(c * 255) for c in pen.rgb)


def preview_image(
    document: PlotDocument, pixels_per_mm: float = DEFAULT_SCALE, travel: bool = False
) -> Image.Image:
    """The page as an RGB image: every pen's ink anti-aliased at its true width, the pens
    mixed by the ink model (over the pen-up moves when ``travel``)."""
    ppm = float(pixels_per_mm)
    stamps = sum(len(layer.paths.points) for layer in document.layers) * 3
    w, h = preview_size((document.width, document.height), ppm, stamps)
    canvas = Image.new("RGB", (w, h), "white")
    if travel:
        draw = ImageDraw.Draw(canvas)
        for layer in document.layers:
            if len(layer.paths):
                stops = np.column_stack([layer.starts(), layer.ends()]).ravel() * ppm
                route = np.concatenate([[0j], stops, [0j]])
                draw.line(list(zip(route.real, route.imag, strict=True)), TRAVEL_COLOUR, 1)
    rgb = np.asarray(canvas, dtype=np.float32) / 255
    inked = [layer for layer in document.layers if len(layer.paths)]
    nibs = [Nib.of(layer.paths, layer.pen.width, ppm) for layer in inked]
    colours = [pen_colour(layer.pen) for layer in inked]
    ss = max((nib.ss for nib in nibs), default=1)
    strip = max(1, STRIP_SUBPIXELS // (w * ss * ss))
    for top in range(0, h if nibs else 0, strip):
        rows = slice(top, min(h, top + strip))
        rgb[rows] *= composite(np.stack([nib.alpha(w, rows) for nib in nibs]), colours)
    return Image.fromarray(np.rint(rgb * 255).astype(np.uint8))


def measured_coverage(image: Image.Image, box: tuple[float, float, float, float], ppm: float):
    """Mean darkness (0-1) of ``image`` inside ``box`` = (x0, y0, x1, y1) in page mm."""
    x0, y0, x1, y1 = (round(v * ppm) for v in box)
    grey = np.asarray(image.convert("L"), dtype=np.float64)[y0:y1, x0:x1]
    return float(1 - grey.mean() / 255) if grey.size else 0.0


def check_preview_path(path: str | os.PathLike[str]) -> None:
    """Refuse a preview file whose extension PIL cannot write, before any plotting work."""
    fmt = Image.registered_extensions().get(Path(path).suffix.lower())
    if fmt not in Image.SAVE:
        raise OptionError(f"{path}: cannot write a preview in this format (use .png)")


def save_preview(image: Image.Image, path: str | os.PathLike[str]) -> None:
    """Save a preview image atomically (format from the extension, PNG advised)."""
    check_preview_path(path)
    with atomic_path(path) as tmp:
        try:
            image.save(tmp, format=Image.registered_extensions()[Path(path).suffix.lower()])
        except (ValueError, OSError) as exc:
            raise OptionError(f"{path}: cannot write preview ({exc})") from None


def write_preview(
    document: PlotDocument,
    path: str | os.PathLike[str],
    pixels_per_mm: float = DEFAULT_SCALE,
    travel: bool = False,
) -> Image.Image:
    """Draw :func:`preview_image` and save it atomically; returns the image."""
    if not is_number(pixels_per_mm) or not pixels_per_mm > 0:
        raise invalid("preview pixels_per_mm", "be > 0", pixels_per_mm)
    check_preview_path(path)
    image = preview_image(document, pixels_per_mm, travel)
    save_preview(image, path)
    return image
