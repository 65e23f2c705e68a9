"""Weighted Lloyd relaxation on a density grid, shared by the voronoi and lbg engines.

The darkness map is area-resampled to a grid with ``PX_PER_DOT`` grid pixels per dot (so
cost scales with N, not with the photo size), and each dot's Voronoi cell is the set of
grid pixels nearest to it, with boundary pixels shared by area between the two cells so
centroids are accurate well below the grid resolution. Labelling is incremental: after
the first pass only pixels owned by dots that moved, or by their Voronoi neighbours,
are looked up again (a full pass whenever some dot jumps far).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from stipplr.engines.dither import cell_average, grid_shape, scattered_dither
from stipplr.errors import OptionError

PX_PER_DOT = 12.0
MAX_GRID_PIXELS = 8_000_000  # memory cap: huge dot counts get fewer pixels per dot
FROZEN_MOVE = 1e-3  # a dot whose centroid moved less than this (in h) stays put
FAR_MOVE = 0.5  # a move this large (in h) triggers a full relabel
MAX_ITERATIONS = 10_000
"""Cap on every step count of the iterative engines (voronoi iterations, lbg iterations and
polish): with tol = 0 a run takes every step, so this bounds its time."""


@dataclass(frozen=True)
class DensityGrid:
    """Resampled darkness: ``rows`` x ``cols`` pixels, weights and centres in source px."""

    rows: int
    cols: int
    weights: np.ndarray
    centres: np.ndarray
    size: np.ndarray
    spacing: float

    @property
    def pixel(self) -> float:
        """Mean grid pixel size in source pixels."""
        return float(0.5 * (self.size[0] / self.cols + self.size[1] / self.rows))

    def to_px(self, xy: np.ndarray) -> np.ndarray:
        """Relative (x, y) -> source-pixel coordinates."""
        return np.asarray(xy, dtype=np.float64) * self.size

    def to_rel(self, pts: np.ndarray) -> np.ndarray:
        """Source-pixel coordinates -> relative (x, y) clipped to [0, 1]."""
        return np.clip(pts / self.size, 0.0, 1.0)


def density_grid(darkness: np.ndarray, n: int) -> DensityGrid:
    """Area-resample ``darkness`` to a grid with about ``PX_PER_DOT`` pixels per dot."""
    height, width = darkness.shape
    per_dot = min(PX_PER_DOT, MAX_GRID_PIXELS / n)
    rows, cols = grid_shape(height, width, float(np.sqrt(height * width / (per_dot * n))))
    weights = cell_average(np.clip(np.nan_to_num(darkness), 0.0, 1.0), rows, cols).ravel()
    ys, xs = np.mgrid[0:rows, 0:cols]
    centres = np.column_stack(
        [(xs.ravel() + 0.5) * (width / cols), (ys.ravel() + 0.5) * (height / rows)]
    )
    return DensityGrid(
        rows=rows,
        cols=cols,
        weights=weights,
        centres=centres,
        size=np.array([width, height], dtype=np.float64),
        spacing=float(np.sqrt(height * width / n)),
    )


def nearest(pts: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Index of the nearest of ``pts`` for every query point (all cores)."""
    return cKDTree(pts).query(queries, workers=-1)[1]


class Labelling:
    """Nearest-dot label of every grid pixel, kept up to date as dots move."""

    def __init__(self, grid: DensityGrid, pts: np.ndarray) -> None:
        self.grid = grid
        self.pts = np.array(pts, dtype=np.float64)
        self.labels = nearest(self.pts, grid.centres)

    def neighbours(self, dots: np.ndarray) -> np.ndarray:
        """``dots`` (bool mask) grown by every dot whose cell touches one of theirs."""
        image = self.labels.reshape(self.grid.rows, self.grid.cols)
        grown = dots.copy()
        for a, b in ((image[:, :-1], image[:, 1:]), (image[:-1, :], image[1:, :])):
            edge = a != b
            a, b = a[edge], b[edge]
            grown[b[dots[a]]] = True
            grown[a[dots[b]]] = True
        return grown

    def update(self, pts: np.ndarray, changed: np.ndarray, full: bool = False) -> None:
        """Move to ``pts`` (same indexing) where ``changed`` dots moved; relabel locally."""
        self.pts = np.array(pts, dtype=np.float64)
        if full:
            self.labels = nearest(self.pts, self.grid.centres)
            return
        stale = self.neighbours(changed)[self.labels]
        self.labels[stale] = nearest(self.pts, self.grid.centres[stale])

    def reindex(
        self, pts: np.ndarray, old_to_new: np.ndarray, changed: np.ndarray, full: bool = False
    ) -> None:
        """Switch to a new dot set: ``old_to_new`` maps old indices (-1: removed).

        ``changed`` flags new dots that are new or moved; pixels of removed dots and of
        changed dots and their neighbours are relabelled (all pixels when ``full``).
        """
        if full:
            self.pts = np.array(pts, dtype=np.float64)
            self.labels = nearest(self.pts, self.grid.centres)
            return
        removed = old_to_new < 0
        touched = self.neighbours(removed | _pullback(changed, old_to_new))
        stale = touched[self.labels]
        self.labels = old_to_new[self.labels]
        self.pts = np.array(pts, dtype=np.float64)
        self.labels[stale] = nearest(self.pts, self.grid.centres[stale])


def _pullback(new_mask: np.ndarray, old_to_new: np.ndarray) -> np.ndarray:
    """Old dots whose new index is flagged in ``new_mask``."""
    out = np.zeros(len(old_to_new), dtype=bool)
    kept = old_to_new >= 0
    out[kept] = new_mask[old_to_new[kept]]
    return out


def boundary_split(labelling: Labelling) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pixels cut by a cell boundary: (pixel, other dot, owner's area share, unit normal).

    Every pixel whose 4-neighbour belongs to another dot is split along the bisector of
    the two dots (the nearest such bisector), so centroids move smoothly below the grid
    resolution instead of jumping a pixel at a time.
    """
    grid, pts, labels = labelling.grid, labelling.pts, labelling.labels
    index = np.arange(grid.rows * grid.cols).reshape(grid.rows, grid.cols)
    best = np.full(len(labels), np.inf)
    other = np.full(len(labels), -1)
    for first, second in ((index[:, :-1], index[:, 1:]), (index[:-1, :], index[1:, :])):
        p, q = first.ravel(), second.ravel()
        cut = labels[p] != labels[q]
        p, q = p[cut], q[cut]
        a, b = pts[labels[p]], pts[labels[q]]
        normal = a - b
        normal /= np.maximum(np.linalg.norm(normal, axis=1), 1e-12)[:, None]
        mid = 0.5 * (a + b)
        # Signed distances to the a|b bisector: p lies on a's side, q on b's.
        for pix, dist, nb in (
            (p, np.einsum("ij,ij->i", grid.centres[p] - mid, normal), labels[q]),
            (q, -np.einsum("ij,ij->i", grid.centres[q] - mid, normal), labels[p]),
        ):
            closer = dist < best[pix]
            best[pix[closer]], other[pix[closer]] = dist[closer], nb[closer]
    pix = np.flatnonzero(best < 0.5 * grid.pixel)
    a, b = pts[labels[pix]], pts[other[pix]]
    normal = (a - b) / np.maximum(np.linalg.norm(a - b, axis=1), 1e-12)[:, None]
    share = 0.5 + best[pix] / grid.pixel
    return pix, other[pix], share, normal


def cell_moments(labelling: Labelling) -> tuple[np.ndarray, np.ndarray]:
    """Darkness mass (N,) and weighted centroid (N, 2, source px) of every dot's cell.

    Boundary pixels are shared between the two dots by area (see ``boundary_split``),
    each part placed at its own centroid. A cell without mass keeps its dot where it is.
    """
    grid, n = labelling.grid, len(labelling.pts)
    pix, other, share, normal = boundary_split(labelling)
    half = 0.5 * grid.pixel
    offset = 0.5 * (half - (share - 0.5) * grid.pixel)  # owner part's centroid along normal
    weight = grid.weights.copy()
    where = grid.centres.copy()
    weight[pix] *= share
    where[pix] += normal * offset[:, None]
    labels = np.concatenate([labelling.labels, other])
    weight = np.concatenate([weight, grid.weights[pix] * (1.0 - share)])
    where = np.concatenate(
        [where, grid.centres[pix] - normal * (0.5 * share * grid.pixel)[:, None]]
    )
    mass = np.bincount(labels, weights=weight, minlength=n)
    sx = np.bincount(labels, weights=weight * where[:, 0], minlength=n)
    sy = np.bincount(labels, weights=weight * where[:, 1], minlength=n)
    has = mass > 0
    centroid = labelling.pts.copy()
    centroid[has] = np.column_stack([sx[has], sy[has]]) / mass[has, None]
    return mass, centroid


def lloyd_step(labelling: Labelling, over: float = 1.0) -> float:
    """Move dots ``over`` times the way to their cells' centroids.

    Returns the RMS dot-to-centroid distance in units of h (the convergence measure).
    """
    _, centroid = cell_moments(labelling)
    gap = np.linalg.norm(centroid - labelling.pts, axis=1) / labelling.grid.spacing
    changed = gap > FROZEN_MOVE
    target = np.clip(labelling.pts + over * (centroid - labelling.pts), 0.0, labelling.grid.size)
    pts = np.where(changed[:, None], target, labelling.pts)
    labelling.update(pts, changed, full=bool(over * gap.max(initial=0.0) > FAR_MOVE))
    return float(np.sqrt(np.mean(np.where(changed, gap, 0.0) ** 2)))


def relax(labelling: Labelling, iterations: int, tol: float, over: float = 1.0) -> int:
    """Lloyd steps until the RMS centroid distance drops below ``tol`` (in h).

    ``over`` > 1 over-relaxes (1.5 cuts the steps by about a third at equal quality);
    returns the steps taken.
    """
    for step in range(1, iterations + 1):
        if lloyd_step(labelling, over) < tol:
            return step
    return iterations


def check_options(engine: str, counts: dict[str, object], amounts: dict[str, object]) -> None:
    """One-line error unless ``counts`` (step counts) are whole numbers from 0 to
    MAX_ITERATIONS and ``amounts`` finite numbers >= 0."""
    for name, value in (counts | amounts).items():
        number = isinstance(value, (int, float, np.number)) and not isinstance(value, bool)
        ok = number and 0 <= value < np.inf
        ok = ok and (name not in counts or (float(value).is_integer() and value <= MAX_ITERATIONS))
        if not ok:
            whole = f"a whole number from 0 to {MAX_ITERATIONS}"
            kind = whole if name in counts else "a number >= 0"
            raise OptionError(f"{engine} option {name} must be {kind}, got {value!r}")


def start_positions(
    darkness: np.ndarray, n: int, init: np.ndarray | None, seed: int | None
) -> np.ndarray:
    """``init`` checked to be a finite (K, 2) array (clipped to [0, 1]), or the dither's
    dots scattered off the cell lattice (``scattered_dither``; ``seed`` picks the
    realisation, None the default one)."""
    if init is None:
        return scattered_dither(darkness, n, seed=seed)
    try:
        xy = np.asarray(init, dtype=np.float64)
    except (TypeError, ValueError):
        raise OptionError(f"init must be a finite (N, 2) array of numbers, got {init!r}") from None
    if xy.ndim != 2 or xy.shape[1] != 2 or len(xy) == 0 or not np.isfinite(xy).all():
        raise OptionError(f"init must be a finite (N, 2) array of positions, got {xy.shape}")
    return np.clip(xy, 0.0, 1.0)
