"""Blue-noise ordered dithering: the millisecond baseline engine and the relaxers' start.

The image is cut into a grid of cells sized so that a fully black image gets one dot per
cell: with mean darkness m over an area A, the cell area is A * m / N (about N / m cells).
Each cell's average darkness is compared with a void-and-cluster threshold texture, and
the N cells with the lowest threshold / darkness ratio become dots at the cell centres;
that equals thresholding ``darkness * gain > threshold`` with the gain chosen so the count
is exactly N.

Cell layouts: ``dither_grid`` cuts square cells (the layout the relaxers start from and the
neural engine was trained on); the ``dither`` engine itself uses hexagonally packed cells
(rows sqrt(3)/2 cells apart, every other row shifted by half a cell), so that dark tones,
where nearly every cell holds a dot, come out as a hexagonal packing (no 4-fold order,
every dot a full cell from its six neighbours) instead of an axis-aligned square lattice.

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
INKED = 1e-9
"""A cell counts as inked above this mean darkness (the running sums behind the cell
averages leave ~1e-14 in blank cells next to ink)."""
HEX_ROW = float(np.sqrt(3.0) / 2.0)
"""Row pitch of hexagonally packed cells, in cell widths."""


@dataclass(frozen=True)
class DitherGrid:
    """One dithering: cell size (px), grid shape, cell darkness, threshold, chosen cells.

    Hexagonal grids (see :func:`hex_average`) have ``cols`` slots per row for cols - 1
    cells across; ``cell_px`` is then the cell width.
    """

    cell_px: float
    rows: int
    cols: int
    darkness: np.ndarray
    threshold: np.ndarray
    selected: np.ndarray
    hexagonal: bool = False

    def centres(self) -> np.ndarray:
        """Relative (x, y) centres of the selected cells, shape (N, 2), row-major order (a
        border half cell's dot on the border: the packing's next place, a cell from all
        its neighbours)."""
        ys, xs = np.nonzero(self.selected)
        if not self.hexagonal:
            return np.column_stack([(xs + 0.5) / self.cols, (ys + 0.5) / self.rows])
        x = (xs + 0.5 * (1 - ys % 2)) / (self.cols - 1)
        return np.column_stack([x, (ys + 0.5) / self.rows])


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


def hex_shape(height: int, width: int, cell_px: float) -> tuple[int, int]:
    """Rows and cells across of hexagonally packed cells of area ``cell_px``^2."""
    across = cell_px / np.sqrt(HEX_ROW)
    return max(1, round(height / (across * HEX_ROW))), max(1, round(width / across))


def hex_average(darkness: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Ink of hexagonally packed cells, shape (rows, cols + 1), as mean darkness x the
    cell's share of a full cell's area.

    Even rows hold ``cols`` cells (slot cols empty: 0); odd rows are shifted half a cell
    and hold cols - 1 full cells between two half cells at the borders.
    """
    halves = cell_average(darkness, rows, 2 * cols)
    out = np.zeros((rows, cols + 1))
    out[0::2, :cols] = 0.5 * (halves[0::2, 0::2] + halves[0::2, 1::2])
    odd = halves[1::2]
    out[1::2, 0], out[1::2, cols] = 0.5 * odd[:, 0], 0.5 * odd[:, -1]
    out[1::2, 1:cols] = 0.5 * (odd[:, 1:-1:2] + odd[:, 2::2])
    return out


def hex_shear(wide: np.ndarray, cols: int) -> np.ndarray:
    """``cols`` columns of a wider threshold map, row r shifted left by ceil(r / 2) cells.

    On hexagonally packed cells the map's 4-neighbours then stay neighbours and the two
    extra neighbours are always the same diagonal pair of the map (unsheared, the pair
    alternates from row to row: measured 1.2 dB less tone PSNR on 30-50 % grey).
    """
    rows = len(wide)
    start = (rows + 1) // 2 - (np.arange(rows)[:, None] + 1) // 2
    return np.take_along_axis(wide, start + np.arange(cols)[None, :], axis=1)


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
    hexagonal: bool = False,
) -> DitherGrid:
    """Dither ``darkness`` (H, W) in [0, 1] into exactly ``n`` selected cells.

    ``seed`` lays the threshold map out without repetition (``bluenoise.scrambled_tile``);
    without one the map is tiled periodically from ``offset`` (y, x), the layout the
    neural engine was trained on. ``size`` picks the shipped map size. The grid has about
    n / mean darkness cells, at most max(MAX_CELLS_PER_DOT n, MAX_GRID_CELLS); darkness too
    sparse to fill ``n`` cells of that gets one dot per inked cell (fewer than ``n``). An
    image with no darkness at all is treated as uniform grey. ``hexagonal``: hexagonally
    packed cells of the same area (:func:`hex_average`) instead of square ones.
    """
    dark = np.clip(np.nan_to_num(np.asarray(darkness, dtype=np.float64)), 0.0, 1.0)
    height, width = dark.shape
    if dark.max() <= 0.0:
        dark = np.full_like(dark, 0.5)
    threshold_map = bluenoise.threshold_map(size or bluenoise.DEFAULT_SIZE)
    limit = max(MAX_CELLS_PER_DOT * n, MAX_GRID_CELLS)
    cell_px = float(np.sqrt(height * width * max(dark.mean() / n, 1.0 / limit)))
    while True:
        if hexagonal:
            rows, across = hex_shape(height, width, cell_px)
            cells = hex_average(dark, rows, across)
        else:
            cells = cell_average(dark, *grid_shape(height, width, cell_px))
        rows, cols = cells.shape
        inked = int(np.count_nonzero(cells > INKED))
        if inked >= n or rows * cols >= limit * SHRINK**2:
            break
        cell_px *= SHRINK
    extra = (rows + 1) // 2 if hexagonal else 0  # room for hex_shear
    if seed is None:
        threshold = bluenoise.tile(threshold_map, rows, cols + extra, offset)
    else:
        threshold = bluenoise.scrambled_tile(threshold_map, rows, cols + extra, seed)
    if hexagonal:
        threshold = hex_shear(threshold, cols)
    # Inked cells by threshold / darkness; never a blank one (fewer dots instead).
    ratio = np.divide(threshold, cells, out=threshold + 2.0**30, where=cells > INKED)
    order = np.argsort(ratio, axis=None, kind="stable")[: min(n, inked)]
    selected = np.zeros(rows * cols, dtype=bool)
    selected[order] = True
    return DitherGrid(
        cell_px=width / (cols - 1) if hexagonal else cell_px,
        rows=rows,
        cols=cols,
        darkness=cells.astype(np.float32),
        threshold=threshold,
        selected=selected.reshape(rows, cols),
        hexagonal=hexagonal,
    )


def dither(darkness: np.ndarray, n: int, *, seed: int | None = None) -> np.ndarray:
    """Exactly ``n`` blue-noise dithered dots (x, y in [0, 1]) at the centres of
    hexagonally packed cells (dark tones: a hexagonal packing, not a square lattice).

    ``seed`` picks the threshold texture's layout (None: DEFAULT_SEED's, reproducible).
    """
    return dither_grid(darkness, n, seed=realisation(seed), hexagonal=True).centres()


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
