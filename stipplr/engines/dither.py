"""Blue-noise ordered dithering: the millisecond baseline engine and the relaxers' start.

The image is cut into a grid of cells sized so that a fully black image gets one dot per
cell: with mean darkness m over an area A, the cell area is A * m / N (about N / m cells).
Each cell's average darkness is compared with a void-and-cluster threshold texture, and
the N cells with the lowest threshold / darkness ratio become dots at the cell centres;
that equals thresholding ``darkness * gain > threshold`` with the gain chosen so the count
is exactly N.

Seeds: the texture is laid out without repetition (:func:`stipplr.bluenoise.scrambled_tile`)
from the seed, so ``dither``, ``scattered_dither`` and the relaxers that start from them
give a different realisation per seed and the same one for the same seed. ``seed=None``
stands for DEFAULT_SEED: a fixed realisation, as reproducible as before. ``dither_grid``
without a seed keeps the plain periodic tiling, the layout the neural engine was trained
on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from stipplr import bluenoise

SHRINK = 0.8  # cell-size step when too few cells carry darkness
MAX_CELLS_PER_DOT = 4  # the cell grid holds at most max(MAX_CELLS_PER_DOT * n, MAX_GRID_CELLS)
MAX_GRID_CELLS = 1 << 19
"""Memory bound for near-white images (about 1 KB a cell in the neural engine): their grid
stops growing here, and darkness too sparse to fill n cells of it gives fewer dots."""
DEFAULT_SEED = 0
"""The realisation ``seed=None`` gives (results without a seed stay reproducible)."""
SCATTER = 0.8
"""RMS displacement, in cells, of ``scattered_dither``'s dots."""
SCATTER_SCALE = 1.0
"""Gaussian smoothing, in cells, of the random stream function behind the displacements."""
SCATTER_STREAM = 1
"""Random stream of the displacements (stream 0 lays out the threshold texture)."""


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


def realisation(seed: int | None) -> int:
    """The seed a ``seed`` argument stands for: DEFAULT_SEED when None."""
    return DEFAULT_SEED if seed is None else int(seed)


def dither_grid(
    darkness: np.ndarray,
    n: int,
    *,
    offset: tuple[int, int] = (0, 0),
    size: int | None = None,
    seed: int | None = None,
) -> DitherGrid:
    """Dither ``darkness`` (H, W) in [0, 1] into exactly ``n`` selected cells.

    ``seed`` lays the threshold map out without repetition (``bluenoise.scrambled_tile``);
    without one the map is tiled periodically from ``offset`` (y, x), the layout the
    neural engine was trained on. ``size`` picks the shipped map size. The grid has about
    n / mean darkness cells, at most max(MAX_CELLS_PER_DOT n, MAX_GRID_CELLS); darkness too
    sparse to fill ``n`` cells of that gets one dot per inked cell (fewer than ``n``). An
    image with no darkness at all is treated as uniform grey.
    """
    dark = np.clip(np.nan_to_num(np.asarray(darkness, dtype=np.float64)), 0.0, 1.0)
    height, width = dark.shape
    if dark.max() <= 0.0:
        dark = np.full_like(dark, 0.5)
    threshold_map = bluenoise.threshold_map(size or bluenoise.DEFAULT_SIZE)
    limit = max(MAX_CELLS_PER_DOT * n, MAX_GRID_CELLS)
    cell_px = float(np.sqrt(height * width * max(dark.mean() / n, 1.0 / limit)))
    while True:
        rows, cols = grid_shape(height, width, cell_px)
        cells = cell_average(dark, rows, cols)
        inked = int(np.count_nonzero(cells > 0))
        if inked >= n or rows * cols >= limit * SHRINK**2:
            break
        cell_px *= SHRINK
    if seed is None:
        threshold = bluenoise.tile(threshold_map, rows, cols, offset)
    else:
        threshold = bluenoise.scrambled_tile(threshold_map, rows, cols, seed)
    # Inked cells by threshold / darkness; never a blank one (fewer dots instead).
    ratio = np.divide(threshold, cells, out=threshold + 2.0**30, where=cells > 0)
    order = np.argsort(ratio, axis=None, kind="stable")[: min(n, inked)]
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

    ``seed`` picks the threshold texture's layout (None: DEFAULT_SEED's, reproducible).
    """
    return dither_grid(darkness, n, seed=realisation(seed)).centres()


def scatter_field(rows: int, cols: int, rng: np.random.Generator) -> np.ndarray:
    """A random divergence-free displacement field (2, rows, cols) in cells, RMS SCATTER.

    It is the curl (d/dy, -d/dx) of Gaussian-smoothed white noise: dots moved by it swirl
    without bunching, so local dot counts (the tone) stay as the dither made them.
    """
    noise = rng.standard_normal((rows + 2, cols + 2))  # padded: gradients need 2+ samples
    stream = ndimage.gaussian_filter(noise, SCATTER_SCALE, mode="wrap")
    d_rows, d_cols = np.gradient(stream)
    field = np.stack([d_rows, -d_cols])[:, 1:-1, 1:-1]
    rms = float(np.sqrt(np.mean(np.sum(field**2, axis=0))))
    return field * (SCATTER / max(rms, 1e-12))


def scattered_dither(darkness: np.ndarray, n: int, *, seed: int | None = None) -> np.ndarray:
    """The dither's dots moved off their cell centres: the start of the relaxing engines.

    From the cell lattice itself, solid tones would stay a square grid (an equilibrium
    of Lloyd's method) and every tone would keep spectral spikes at the cell pitch.
    The dots move by a smooth random swirl (:func:`scatter_field`): it breaks the lattice
    but not the local dot counts, which relaxation keeps (independent uniform jitter of
    one to two cells cost 1.2-1.9 dB of tone PSNR in solid ink after Lloyd). ``seed`` as
    for :func:`dither`.
    """
    grid = dither_grid(darkness, n, seed=realisation(seed))
    rng = np.random.default_rng([realisation(seed), SCATTER_STREAM])
    rows, cols = np.nonzero(grid.selected)
    moves = scatter_field(grid.rows, grid.cols, rng)[:, rows, cols].T
    moved = grid.centres() + moves / np.array([grid.cols, grid.rows])
    return 1.0 - np.abs(1.0 - np.abs(moved))  # reflected back in at the borders
