"""Voronoi-cell helpers shared by engines, colouring and metrics.

A dot's (discrete) Voronoi cell is the set of pixels whose nearest dot it is; cell sums
over that labelling give Lloyd centroids, dot colours and capacities.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from scipy.spatial import cKDTree


def pixel_centres(height: int, width: int) -> np.ndarray:
    """Centres of all pixels in relative coordinates, shape (H*W, 2), row-major."""
    ys, xs = np.mgrid[0:height, 0:width]
    return np.column_stack([(xs.ravel() + 0.5) / width, (ys.ravel() + 0.5) / height])


def nearest_dot_labels(xy: np.ndarray, height: int, width: int, workers: int = -1) -> np.ndarray:
    """For each pixel (row-major) the index of the nearest dot, measured in pixel units."""
    scale = np.array([width, height], dtype=np.float64)
    tree = cKDTree(np.asarray(xy, dtype=np.float64) * scale)
    _, labels = tree.query(pixel_centres(height, width) * scale, workers=workers)
    return labels.astype(np.int64)


def cell_sums(labels: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Sum ``values`` (H*W,) or (H*W, C) over each of the ``n`` cells."""
    if values.ndim == 1:
        return np.bincount(labels, weights=values, minlength=n)
    return np.stack([np.bincount(labels, weights=v, minlength=n) for v in values.T], axis=1)


def pixel_voronoi_labels(xy: np.ndarray, height: int, width: int) -> np.ndarray:
    """For each pixel (row-major) a dot nearest to it once every dot is moved to the centre
    of its pixel, or -1 without dots: one Euclidean distance transform, several times faster
    than a k-d tree query per pixel. The cells differ from the exact ones only along their
    borders. Of dots sharing a pixel, one (the last) gets the cell."""
    if len(xy) == 0:
        return np.full(height * width, -1, np.int64)
    cols = np.clip((xy[:, 0] * width).astype(np.int64), 0, width - 1)
    rows = np.clip((xy[:, 1] * height).astype(np.int64), 0, height - 1)
    owner = np.full((height, width), -1, np.int64)
    owner[rows, cols] = np.arange(len(xy))
    nearest = ndimage.distance_transform_edt(owner < 0, return_distances=False, return_indices=True)
    return owner[nearest[0], nearest[1]].ravel()


def cell_colours(xy: np.ndarray, rgb: np.ndarray) -> np.ndarray:
    """Mean source colour over each dot's Voronoi cell, shape (N, 3) in [0, 1].

    Cells of the dots moved to their pixel centres (:func:`pixel_voronoi_labels`): on the
    sample photos at 5 000 and 20 000 dots within 0.002 CIEDE2000 (mean; 0.03 at most) of
    exact cell means, in a fifth of the time. A dot without a cell (it shares its pixel
    with another) takes the colour of the pixel under it.
    """
    height, width = rgb.shape[:2]
    n = len(xy)
    if n == 0:
        return np.zeros((0, 3), dtype=np.float32)
    labels = pixel_voronoi_labels(xy, height, width)
    flat = rgb.reshape(-1, 3).astype(np.float64)
    counts = np.bincount(labels, minlength=n)
    sums = cell_sums(labels, flat, n)
    px = np.clip((xy[:, 0] * width).astype(int), 0, width - 1)
    py = np.clip((xy[:, 1] * height).astype(int), 0, height - 1)
    under = rgb[py, px].astype(np.float64)
    mean = np.where(counts[:, None] > 0, sums / np.maximum(counts, 1)[:, None], under)
    return np.clip(mean, 0, 1).astype(np.float32)


def window_colours(xy: np.ndarray, rgb: np.ndarray, window_px: float) -> np.ndarray:
    """Mean source colour in a square window about each dot, shape (N, 3) in [0, 1].

    A fast stand-in for :func:`cell_colours` (one box filter instead of labelling every
    pixel): a window one mean spacing wide averages about one cell's area.
    """
    height, width = rgb.shape[:2]
    size = max(1, int(round(window_px)))
    mean = ndimage.uniform_filter(np.asarray(rgb, np.float32), size=(size, size, 1), mode="nearest")
    px = np.clip((xy[:, 0] * width).astype(int), 0, width - 1)
    py = np.clip((xy[:, 1] * height).astype(int), 0, height - 1)
    return np.clip(mean[py, px], 0, 1).astype(np.float32)


def tone_radii(
    xy: np.ndarray, darkness: np.ndarray, r_min: float, r_max: float, sigma: float = 2.0
) -> np.ndarray:
    """Dot radius from local darkness: r_min in light areas up to r_max in black ones."""
    height, width = darkness.shape
    smooth = ndimage.gaussian_filter(darkness.astype(np.float32), sigma)
    px = np.clip((xy[:, 0] * width).astype(int), 0, width - 1)
    py = np.clip((xy[:, 1] * height).astype(int), 0, height - 1)
    return (r_min + (r_max - r_min) * smooth[py, px]).astype(np.float32)
