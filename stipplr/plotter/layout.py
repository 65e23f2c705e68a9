"""Page layout: fit the stipple's image inside the page margins, centred, in mm."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stipplr.dots import Stipple
from stipplr.errors import OptionError


@dataclass(frozen=True)
class Layout:
    """Source pixels -> page mm: ``page_xy = offset + scale * pixel_xy``."""

    page: tuple[float, float]
    margin: float
    scale: float
    offset: tuple[float, float]


def fit(
    size_px: tuple[int, int],
    page: tuple[float, float],
    margin: float,
    reach_px: float = 0.0,
    reach_mm: float = 0.0,
) -> Layout:
    """Largest centred scale whose ink stays inside the margins.

    Ink reaches ``max(reach_px * scale, reach_mm)`` beyond a dot centre (dots sized in
    source pixels, or by the pen and the tick), so both bounds must fit.
    """
    width_px, height_px = size_px
    area = np.array(page, dtype=float) - 2 * margin
    if np.any(area - 2 * reach_mm <= 0):
        raise OptionError(
            f"margin {margin:g} mm leaves no room on a {page[0]:g} x {page[1]:g} mm page"
        )
    size = np.array([width_px, height_px], dtype=float)
    scale = float(min(np.min(area / (size + 2 * reach_px)), np.min((area - 2 * reach_mm) / size)))
    offset = (np.array(page) - scale * size) / 2
    return Layout(page, margin, scale, (float(offset[0]), float(offset[1])))


def place(stipple: Stipple, layout: Layout) -> np.ndarray:
    """Dot centres on the page as complex mm (y down)."""
    xy = stipple.pixels().astype(float) * layout.scale + np.array(layout.offset)
    return xy[:, 0] + 1j * xy[:, 1]
