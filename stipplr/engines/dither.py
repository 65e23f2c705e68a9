"""Blue-noise ordered dithering: the millisecond baseline engine and the relaxers' start.

The image is cut into a grid of cells sized so that a fully black image gets one dot per
cell: with mean darkness m over an area A, the cell area is A * m / N (about N / m cells).
Each cell's average darkness is compared with a tiled void-and-cluster threshold, and the
N cells with the lowest threshold / darkness ratio become dots at the cell centres; that
equals thresholding ``darkness * gain > threshold`` with the gain chosen so the count is
exactly N.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stipplr import bluenoise

SHRINK = 0.8  # cell-size step when too few cells carry darkness
MAX_CELLS_PER_DOT = 4  # grid-size cap for images with almost no darkness


@dataclass(frozen=True)
class DitherGrid:
    """One dithering: cell size (px), grid shape, cell darkness, threshold, chosen cells."""

    cell_px: float
    rows: int
    cols: int
    darkness: np.ndarray
    threshold: np.ndarray
    selected: np.ndarray

    def centres(self) -> np.ndarray:
        """Relative (x, y) centres of the selected cells, shape (N, 2), row-major order."""
        ys, xs = np.nonzero(self.selected)
        return np.column_stack([(xs + 0.5) / self.cols, (ys + 0.5) / self.rows])


def bin_average(values: np.ndarray, n_out: int, axis: int) -> np.ndarray:
    """Average unit pixels along ``axis`` into ``n_out`` equal (fractional) bins.

    Exact for piecewise-constant pixels: the running integral is linear inside a pixel,
    so each bin is a difference of two interpolated integrals.
    """
    values = np.moveaxis(values, axis, 0)
    n_in = values.shape[0]
    integral = np.concatenate([np.zeros_like(values[:1]), np.cumsum(values, axis=0)])
    edges = np.linspace(0.0, n_in, n_out + 1)
    left = np.minimum(edges.astype(int), n_in - 1)
    frac = (edges - left).reshape(-1, *([1] * (values.ndim - 1)))
    at_edges = integral[left] + frac * (integral[left + 1] - integral[left])
    return np.moveaxis(np.diff(at_edges, axis=0) * (n_out / n_in), 0, axis)


def cell_average(darkness: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Area-weighted average of ``darkness`` over a (rows, cols) grid of equal cells."""
    dark = np.asarray(darkness, dtype=np.float64)
    return bin_average(bin_average(dark, rows, 0), cols, 1)


def grid_shape(height: int, width: int, cell_px: float) -> tuple[int, int]:
    """Rows and columns of cells about ``cell_px`` pixels wide covering the image."""
    return max(1, round(height / cell_px)), max(1, round(width / cell_px))


def dither_grid(
    darkness: np.ndarray,
    n: int,
    *,
    offset: tuple[int, int] = (0, 0),
    size: int | None = None,
    seed: int | None = None,
    cells_per_dot: float = 1.0,
) -> DitherGrid:
    """Dither ``darkness`` (H, W) in [0, 1] into exactly ``n`` selected cells.

    ``offset`` (y, x) shifts the threshold tiling; ``size`` picks the shipped map size.
    Cells shrink until at least ``n`` carry darkness (capped at 4 n cells); an image with
    no darkness at all is treated as uniform grey.
    """
    dark = np.clip(np.nan_to_num(np.asarray(darkness, dtype=np.float64)), 0.0, 1.0)
    height, width = dark.shape
    if dark.max() <= 0.0:
        dark = np.full_like(dark, 0.5)
    threshold_map = bluenoise.threshold_map(size or bluenoise.DEFAULT_SIZE)
    cell_px = float(np.sqrt(height * width * dark.mean() / (n * cells_per_dot)))
    while True:
        rows, cols = grid_shape(height, width, cell_px)
        cells = cell_average(dark, rows, cols)
        enough = np.count_nonzero(cells > 0) >= n
        if enough or rows * cols >= MAX_CELLS_PER_DOT * cells_per_dot * n:
            break
        cell_px *= SHRINK
    if seed is None:
        threshold = bluenoise.tile(threshold_map, rows, cols, offset)
    else:
        threshold = bluenoise.scrambled_tile(threshold_map, rows, cols, seed)
    # Inked cells by threshold / darkness; blank ones (only if unavoidable) after, by threshold.
    ratio = np.divide(threshold, cells, out=threshold + 2.0**30, where=cells > 0)
    order = np.argsort(ratio, axis=None, kind="stable")[:n]
    selected = np.zeros(rows * cols, dtype=bool)
    selected[order] = True
    return DitherGrid(
        cell_px=cell_px,
        rows=rows,
        cols=cols,
        darkness=cells.astype(np.float32),
        threshold=threshold,
        selected=selected.reshape(rows, cols),
    )


def dither(darkness: np.ndarray, n: int, *, seed: int | None = None) -> np.ndarray:
    """Exactly ``n`` blue-noise dithered dots (x, y in [0, 1]) at cell centres.

    ``seed`` shifts the threshold texture's tiling (None: no shift, fully deterministic).
    """
    return dither_grid(darkness, n, seed=0 if seed is None else seed, cells_per_dot=CPD).centres()


CPD = 1.0


def jittered(darkness, n, seed, cpd, jitter):
    grid = dither_grid(darkness, n, seed=0 if seed is None else seed, cells_per_dot=cpd)
    xy = grid.centres()
    rng = np.random.default_rng([0 if seed is None else seed, 1])
    xy += (rng.random(xy.shape) - 0.5) * jitter / np.array([grid.cols, grid.rows])
    return np.clip(xy, 0, 1)
