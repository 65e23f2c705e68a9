"""Metrics of how dots share the darkness: cell capacities, adaptive spacing, highlights."""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from scipy.spatial import cKDTree

from stipplr.cells import cell_sums, nearest_dot_labels
from stipplr.metrics.tone import TONE_PX_PER_H, resample, working_shape

CAPACITY_PX_PER_H = 16.0
"""Pixels per mean dot spacing when labelling Voronoi cells for capacities (the pixel grid
adds about 0.04 to the CV of a perfect set at 16 px, 0.1 at 4 px)."""
CAPACITY_MAX_PIXELS = 4_000_000
"""Cap on the capacity grid's size (bounds time and memory for very many dots)."""
SPACING_SMOOTHING = 0.5
"""Gaussian sigma, in mean spacings, of the darkness that sets the target spacing."""
HIGHLIGHT_DARKNESS = 0.05
"""Pixels with darkness below this count as near-white for the highlight-leakage measure."""


def capacities(darkness: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Darkness mass in each dot's Voronoi cell divided by the mean mass, shape (N,).

    Cells are labelled on a grid of CAPACITY_PX_PER_H pixels per mean spacing (fewer when
    that grid would exceed CAPACITY_MAX_PIXELS).
    """
    n = len(xy)
    px_per_h = min(CAPACITY_PX_PER_H, np.sqrt(CAPACITY_MAX_PIXELS / n))
    height, width = working_shape(np.shape(darkness), n, px_per_h)
    fine = resample(darkness, (height, width))
    mass = cell_sums(nearest_dot_labels(xy, height, width), fine.ravel(), n)
    return mass / mass.mean()


def capacity_cv(darkness: np.ndarray, xy: np.ndarray) -> float:
    """Coefficient of variation (std / mean) of the cell capacities; 0 is perfect."""
    return float(np.std(capacities(darkness, xy)))


def spacing_ratios(darkness: np.ndarray, xy: np.ndarray, floor: float = 1e-3) -> np.ndarray:
    """Each dot's nearest-neighbour distance over the hexagonal spacing d_hex at its spot.

    d_hex(x) = sqrt(2 / (sqrt(3) n(x))) with n(x) = N rho(x) / integral(rho) dots per pixel
    and rho the darkness smoothed by SPACING_SMOOTHING h; rho is floored at ``floor`` times
    its mean so a dot on white paper gets a tiny ratio instead of a division by zero.
    """
    height, width = np.shape(darkness)
    xy = np.asarray(xy, dtype=np.float64)
    n = len(xy)
    px = xy * np.array([width, height])
    distance, _ = cKDTree(px).query(px, k=2)
    shape = working_shape((height, width), n, TONE_PX_PER_H)
    rho = ndimage.gaussian_filter(
        resample(darkness, shape), SPACING_SMOOTHING * TONE_PX_PER_H, mode="reflect"
    )
    rows_cols = [xy[:, 1] * shape[0] - 0.5, xy[:, 0] * shape[1] - 0.5]
    at_dots = np.maximum(
        ndimage.map_coordinates(rho, rows_cols, order=1, mode="nearest"), floor * rho.mean()
    )
    density = n * at_dots / (rho.mean() * height * width)
    d_hex = np.sqrt(2.0 / (np.sqrt(3.0) * density))
    return distance[:, 1] / d_hex


def highlight_leakage(
    darkness: np.ndarray, xy: np.ndarray, threshold: float = HIGHLIGHT_DARKNESS
) -> float:
    """Dots on near-white pixels relative to the share of dots those pixels deserve.

    Near-white pixels have darkness below ``threshold``; a dot is on the source pixel that
    contains its centre. The measure is (fraction of dots on near-white pixels) divided by
    (summed darkness of the near-white pixels / total darkness), the share a perfect tone
    reproduction gives them: 1 is fair, 10 means ten times too many dots on highlights,
    0 means none. NaN without near-white pixels, dots or darkness; inf when dots sit on
    near-white pixels that hold no darkness at all.
    """
    dark = np.asarray(darkness, dtype=np.float64)
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    white = dark < threshold
    total = float(dark.sum())
    if not white.any() or len(xy) == 0 or total <= 0:
        return float("nan")
    height, width = dark.shape
    cols = np.clip((xy[:, 0] * width).astype(np.int64), 0, width - 1)
    rows = np.clip((xy[:, 1] * height).astype(np.int64), 0, height - 1)
    share = float(np.mean(white[rows, cols]))
    deserved = float(dark[white].sum()) / total
    if share == 0:
        return 0.0
    return share / deserved if deserved > 0 else float("inf")
