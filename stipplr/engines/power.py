"""Power diagrams on a pixel grid: cell labels, sub-pixel cell masses and centroids, and
the Hessian of the semi-discrete transport problem (the machinery of the ``ccvt`` engine).

A dot i at x_i with weight w_i owns the points p where |p - x_i|^2 - w_i is smallest (its
power cell). Pixels are labelled exactly with the lifting trick: the dots become 3-D
points (x_i, sqrt(W - w_i)) with W = max w, so the Euclidean nearest neighbour of (p, 0)
is the power-nearest dot (one k-d tree query per pixel, all cores). Between two exact
passes, :func:`relabel` updates the labels locally: each pixel picks the best of its own
and its 4-neighbours' labels, repeated until nothing changes (a cell grows one pixel per
pass), which is ~10x cheaper and exact while dots and weights move a little.

A pixel cut by a boundary gives every neighbouring cell the part of its area past that
cell's boundary line (exact for a straight line: the pixel's area projected on the line's
normal is a trapezoid), so masses and centroids move smoothly, far below the grid
resolution, and d mass / d weight is exact for that model: the graph Laplacian of the cut
pixels' mass times the share's slope / (2 |x_i - x_j|) (de Goes et al. 2012: density x
boundary length / twice the dot distance).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sparse
from scipy.spatial import cKDTree

from stipplr.engines.dither import cell_average
from stipplr.metrics import resample

RELABEL_PASSES = 8  # local relabelling passes before falling back to an exact one
NUMPY = "numpy"
"""The backend name of the numpy path (any other backend is a torch device name)."""


@dataclass(frozen=True, eq=False)
class PowerGrid:
    """A density grid: ``rows`` x ``cols`` pixels, each pixel's mass, sizes in source px.

    ``backend`` says where :func:`cells` labels pixels: NUMPY, or a torch device name
    ("cpu", "cuda", "cuda:1") for :mod:`stipplr.engines.power_torch`. Compared by identity
    (the torch backend caches the grid's tensors per grid).
    """

    rows: int
    cols: int
    mass: np.ndarray  # (P,) darkness x pixel area, row-major
    centres: np.ndarray  # (P, 2) pixel centres (x, y) in source px
    step: np.ndarray  # (2,) pixel width and height in source px
    size: np.ndarray  # (2,) image width and height in source px
    backend: str = NUMPY

    def pixel_of(self, pts: np.ndarray) -> np.ndarray:
        """Row-major index of the pixel under each point (clamped to the grid)."""
        col = np.clip((pts[:, 0] / self.step[0]).astype(np.int64), 0, self.cols - 1)
        row = np.clip((pts[:, 1] / self.step[1]).astype(np.int64), 0, self.rows - 1)
        return row * self.cols + col


def power_grid(darkness: np.ndarray, rows: int, cols: int, backend: str = NUMPY) -> PowerGrid:
    """``darkness`` resampled to ``rows`` x ``cols``: area means when shrinking, bilinear
    when enlarging (the interpolation ``stipplr.metrics`` measures against); ``backend``
    as in :class:`PowerGrid`."""
    height, width = darkness.shape
    if rows <= height and cols <= width:
        values = cell_average(darkness, rows, cols)
    else:
        values = resample(darkness, (rows, cols))
    step = np.array([width / cols, height / rows])
    ys, xs = np.mgrid[0:rows, 0:cols]
    centres = np.column_stack([(xs.ravel() + 0.5) * step[0], (ys.ravel() + 0.5) * step[1]])
    mass = np.clip(values, 0.0, None).ravel() * (step[0] * step[1])
    size = np.array([width, height], float)
    return PowerGrid(rows, cols, mass, centres, step, size, backend)


def power_labels(grid: PowerGrid, pts: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Exact index of the power-nearest dot of every pixel centre (the lifting trick)."""
    lift = np.sqrt(np.maximum(weights.max() - weights, 0.0))
    tree = cKDTree(np.column_stack([pts, lift]))
    queries = np.column_stack([grid.centres, np.zeros(len(grid.centres))])
    return tree.query(queries, workers=-1)[1]


def _neighbour_labels(grid: PowerGrid, labels: np.ndarray) -> np.ndarray:
    """(5, P): each pixel's label and its right, left, lower and upper neighbours' labels
    (its own label where the neighbour is off the grid)."""
    image = labels.reshape(grid.rows, grid.cols)
    out = np.empty((5, grid.rows, grid.cols), dtype=labels.dtype)
    out[:] = image
    out[1, :, :-1] = image[:, 1:]
    out[2, :, 1:] = image[:, :-1]
    out[3, :-1, :] = image[1:, :]
    out[4, 1:, :] = image[:-1, :]
    return out.reshape(5, -1)


def _powers(grid: PowerGrid, pts: np.ndarray, weights: np.ndarray, cand: np.ndarray, pix):
    """|p - x_k|^2 - w_k for the pixels ``pix`` and candidate labels ``cand`` (5, len(pix)).

    Row 0 holds the pixels' own labels; a neighbour with the same label reuses that power.
    """
    cx, cy = grid.centres[pix, 0], grid.centres[pix, 1]
    out = np.empty(cand.shape)
    own = cand[0]
    dx, dy = cx - pts[own, 0], cy - pts[own, 1]
    out[0] = dx * dx + dy * dy - weights[own]
    for k in range(1, len(cand)):
        out[k] = out[0]
        other = np.flatnonzero(cand[k] != own)
        label = cand[k, other]
        dx, dy = cx[other] - pts[label, 0], cy[other] - pts[label, 1]
        out[k, other] = dx * dx + dy * dy - weights[label]
    return out


def _grow(grid: PowerGrid, changed: np.ndarray) -> np.ndarray:
    """Pixels in ``changed`` (bool, P) or 4-adjacent to one."""
    image = changed.reshape(grid.rows, grid.cols)
    out = image.copy()
    out[:, :-1] |= image[:, 1:]
    out[:, 1:] |= image[:, :-1]
    out[:-1, :] |= image[1:, :]
    out[1:, :] |= image[:-1, :]
    return out.ravel()


def relabel(
    grid: PowerGrid, pts: np.ndarray, weights: np.ndarray, labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels updated locally; returns (labels, candidates (5, P), their powers (5, P)).

    Every pixel takes the power-nearest of its own and its neighbours' labels, and a dot
    may claim the pixel under it; passes repeat on the pixels next to a change until
    nothing changes. Falls back to the exact labelling after RELABEL_PASSES passes.
    """
    under = grid.pixel_of(pts)
    cand = _neighbour_labels(grid, labels)
    power = _powers(grid, pts, weights, cand, slice(None))
    new = np.take_along_axis(cand, np.argmin(power, axis=0)[None], 0)[0]
    for _ in range(RELABEL_PASSES):
        own = np.sum((grid.centres[under] - pts) ** 2, axis=1) - weights
        there = np.sum((grid.centres[under] - pts[new[under]]) ** 2, axis=1) - weights[new[under]]
        claim = np.flatnonzero(own < there)
        claim = claim[np.argsort(-own[claim], kind="stable")]  # the nearest claim wins
        new[under[claim]] = claim
        changed = new != labels
        if not changed.any():
            return labels, cand, power
        labels = new
        pix = np.flatnonzero(_grow(grid, changed))
        cand[:, pix] = _neighbour_labels(grid, labels)[:, pix]
        power[:, pix] = _powers(grid, pts, weights, cand[:, pix], pix)
        new = labels.copy()
        new[pix] = np.take_along_axis(cand[:, pix], np.argmin(power[:, pix], axis=0)[None], 0)[0]
    return exact_labels(grid, pts, weights)


def exact_labels(
    grid: PowerGrid, pts: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Like :func:`relabel` but from the exact labelling."""
    labels = power_labels(grid, pts, weights)
    cand = _neighbour_labels(grid, labels)
    return labels, cand, _powers(grid, pts, weights, cand, slice(None))


@dataclass(frozen=True)
class Boundary:
    """Parts of cut pixels that lie in a neighbouring cell, one row per (pixel, neighbour).

    share: the neighbour's fraction of the pixel's area; slope: d(owner's share) / d(owner's
    weight); normal: unit vector neighbour -> owner; depth: distance from the pixel centre,
    along -normal, to the middle of the neighbour's part.
    """

    pixel: np.ndarray
    owner: np.ndarray
    other: np.ndarray
    share: np.ndarray
    slope: np.ndarray
    normal: np.ndarray
    depth: np.ndarray


def boundary(grid: PowerGrid, pts: np.ndarray, cand: np.ndarray, power: np.ndarray) -> Boundary:
    """The area of each cut pixel past each distinct neighbouring cell's boundary line.

    The pixel's area projected on the line's normal is a trapezoid of width |n_x| dx +
    |n_y| dy; the part past the line at distance t from the centre has a closed form.
    """
    labels = cand[0]
    fresh = cand[1:] != labels
    for k in range(1, 4):
        for earlier in range(k):
            fresh[k] &= cand[k + 1] != cand[earlier + 1]
    k, pix = np.nonzero(fresh)
    nb = cand[k + 1, pix]
    own = labels[pix]
    diff = pts[own] - pts[nb]
    dist = np.maximum(np.hypot(diff[:, 0], diff[:, 1]), 1e-12)
    t = np.maximum(power[k + 1, pix] - power[0, pix], 0.0) / (2 * dist)
    normal = diff / dist[:, None]
    a, b = np.abs(normal[:, 0]) * grid.step[0], np.abs(normal[:, 1]) * grid.step[1]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    v = np.maximum(0.5 * (lo + hi) - t, 0.0)  # how far the pixel reaches past the line
    wide = v >= lo
    lohi = np.maximum(lo * hi, 1e-300)
    share = np.where(wide, (v - 0.5 * lo) / hi, v * v / (2 * lohi))
    slope = np.where(wide, 1.0 / hi, v / lohi) / (2 * dist)
    keep = share > 0
    return Boundary(
        pixel=pix[keep],
        owner=own[keep],
        other=nb[keep],
        share=share[keep],
        slope=slope[keep],
        normal=normal[keep],
        depth=(0.5 * (t + 0.5 * (lo + hi)))[keep],
    )


@dataclass(frozen=True)
class Cells:
    """One power diagram's labels, boundary split, cell masses and centroids."""

    labels: np.ndarray
    edge: Boundary
    mass: np.ndarray
    centroid: np.ndarray


def cells(
    grid: PowerGrid,
    pts: np.ndarray,
    weights: np.ndarray,
    labels: np.ndarray | None = None,
) -> Cells:
    """Label the grid (locally from ``labels`` when given, else exactly) and sum each
    cell's mass and centroid, cut pixels shared by area.

    A grid whose backend is not NUMPY is labelled and split by torch
    (:mod:`stipplr.engines.power_torch`); the sums are numpy's on every backend.
    """
    if grid.backend != NUMPY:
        from stipplr.engines import power_torch  # imports torch: only for that backend

        labels, edge = power_torch.label_and_split(grid, pts, weights, labels)
    else:
        if labels is None:
            labels, cand, power = exact_labels(grid, pts, weights)
        else:
            labels, cand, power = relabel(grid, pts, weights, labels)
        edge = boundary(grid, pts, cand, power)
    return Cells(labels, edge, *cell_sums(grid, pts, labels, edge))


def cell_sums(
    grid: PowerGrid, pts: np.ndarray, labels: np.ndarray, edge: Boundary
) -> tuple[np.ndarray, np.ndarray]:
    """(mass, centroid) of every cell, cut pixels shared by area.

    The neighbour's part of a cut pixel sits ``depth`` beyond the centre; the owner's part
    balances it, so the pixel's moment is unchanged. A pixel never gives away more than
    its area. A cell without mass keeps its dot as its centroid. Sequential sums, so the
    same labels give bit-identical results (GPU atomics would not: the seed must
    reproduce a stipple exactly).
    """
    n = len(pts)
    given = np.bincount(edge.pixel, edge.share, len(labels))
    scale = 1.0 / np.maximum(given, 1.0)
    moved = edge.share * scale[edge.pixel] * grid.mass[edge.pixel]
    mass = np.bincount(labels, grid.mass, n)
    mass += np.bincount(edge.other, moved, n) - np.bincount(edge.owner, moved, n)
    away = grid.centres[edge.pixel] - edge.normal * edge.depth[:, None]
    moment = np.empty((n, 2))
    for axis in (0, 1):
        moment[:, axis] = (
            np.bincount(labels, grid.mass * grid.centres[:, axis], n)
            + np.bincount(edge.other, moved * away[:, axis], n)
            - np.bincount(edge.owner, moved * away[:, axis], n)
        )
    centroid = pts.copy()
    has = mass > 1e-12 * max(float(mass.max()), 1e-300)
    centroid[has] = moment[has] / mass[has, None]
    return mass, centroid


def coupling(grid: PowerGrid, edge: Boundary, n: int, floor: float = 0.0) -> sparse.csr_matrix:
    """-d(mass_i) / d(weight_j) for i != j (symmetric, >= 0): the cut pixels' mass times
    their share's slope, summed per pair of cells. The Hessian is diag(row sums) - this.

    ``floor`` adds that much density (in units of the mean) to every cut pixel: a
    Levenberg-Marquardt-like damping that keeps steps across nearly empty boundaries
    (where the true derivative is ~0 and a Newton step would explode) finite.
    """
    mean = grid.mass.sum() / len(grid.mass)
    c = (grid.mass[edge.pixel] + floor * mean) * edge.slope
    rows = np.concatenate([edge.owner, edge.other])
    cols = np.concatenate([edge.other, edge.owner])
    return sparse.csr_matrix((np.concatenate([c, c]), (rows, cols)), shape=(n, n))


def hessian(grid: PowerGrid, edge: Boundary, n: int, floor: float = 0.0) -> sparse.csr_matrix:
    """d(mass_i) / d(weight_j): the weighted graph Laplacian of the cut pixels."""
    adjacency = coupling(grid, edge, n, floor)
    return laplacian(adjacency)


def laplacian(adjacency: sparse.csr_matrix) -> sparse.csr_matrix:
    """diag(row sums) - adjacency."""
    degree = np.asarray(adjacency.sum(axis=1)).ravel()
    return (sparse.diags(degree) - adjacency).tocsr()


def moved_mass(grid: PowerGrid, edge: Boundary, pts: np.ndarray, move: np.ndarray) -> np.ndarray:
    """First-order change of every cell's mass when the dots move by ``move`` (N, 2).

    The power difference across a boundary changes by 2 (p - x_i) . dx_i - 2 (p - x_j) . dx_j
    at a cut pixel p, which shifts its share exactly like a weight change.
    """
    n = len(pts)
    p = grid.centres[edge.pixel]
    i, j = edge.owner, edge.other
    change = 2 * (
        np.einsum("ij,ij->i", p - pts[i], move[i]) - np.einsum("ij,ij->i", p - pts[j], move[j])
    )
    c = grid.mass[edge.pixel] * edge.slope * change
    return np.bincount(i, c, n) - np.bincount(j, c, n)
