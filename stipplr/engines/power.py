"""Power diagrams on a pixel grid: exact cell labels, sub-pixel cell masses and the
Hessian of the semi-discrete transport problem (the machinery of the ``ccvt`` engine).

A dot i at x_i with weight w_i owns the points p where |p - x_i|^2 - w_i is smallest
(its power cell). Pixels are labelled exactly with the lifting trick: the dots become
3-D points (x_i, sqrt(W - w_i)) with W = max w, so the Euclidean nearest neighbour of
(p, 0) is the power-nearest dot (one k-d tree query per pixel, all cores).

A pixel cut by a cell boundary is shared between the two cells by the area on each
side of the boundary line (exact for a straight boundary: the pixel's area projected on
the boundary normal is a trapezoid), so masses and centroids move smoothly, well below
the grid resolution, and the mass derivative d m_i / d w_j is exact for that model: it
is the graph Laplacian of the cut pixels' mass times the share's slope / (2 |x_i - x_j|)
(de Goes et al. 2012: boundary length times density over twice the dot distance).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sparse
from scipy.spatial import cKDTree

from stipplr.engines.dither import cell_average
from stipplr.metrics import resample


@dataclass(frozen=True)
class PowerGrid:
    """A density grid: ``rows`` x ``cols`` pixels, each pixel's mass, sizes in source px."""

    rows: int
    cols: int
    mass: np.ndarray  # (P,) darkness x pixel area, row-major
    centres: np.ndarray  # (P, 2) pixel centres (x, y) in source px
    step: np.ndarray  # (2,) pixel width and height in source px
    size: np.ndarray  # (2,) image width and height in source px

    @property
    def pixel(self) -> float:
        """Mean pixel side in source px."""
        return float(np.sqrt(self.step[0] * self.step[1]))


def power_grid(darkness: np.ndarray, rows: int, cols: int) -> PowerGrid:
    """``darkness`` resampled to ``rows`` x ``cols``: area means when shrinking, bilinear
    when enlarging (the same interpolation ``stipplr.metrics`` measures against)."""
    height, width = darkness.shape
    if rows <= height and cols <= width:
        values = cell_average(darkness, rows, cols)
    else:
        values = resample(darkness, (rows, cols))
    step = np.array([width / cols, height / rows])
    ys, xs = np.mgrid[0:rows, 0:cols]
    centres = np.column_stack([(xs.ravel() + 0.5) * step[0], (ys.ravel() + 0.5) * step[1]])
    mass = np.clip(values, 0.0, None).ravel() * (step[0] * step[1])
    return PowerGrid(rows, cols, mass, centres, step, np.array([width, height], float))


def power_labels(grid: PowerGrid, pts: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Index of the power-nearest dot of every pixel centre (the lifting trick)."""
    lift = np.sqrt(np.maximum(weights.max() - weights, 0.0))
    tree = cKDTree(np.column_stack([pts, lift]))
    queries = np.column_stack([grid.centres, np.zeros(len(grid.centres))])
    return tree.query(queries, workers=-1)[1]


@dataclass(frozen=True)
class Boundary:
    """Parts of cut pixels that lie in a neighbouring cell, one row per (pixel, neighbour).

    share: the neighbour's fraction of the pixel's area; slope: d(share) / d(owner's
    weight); normal: unit vector neighbour -> owner; depth: distance from the pixel
    centre, along -normal, of the middle of the neighbour's part.
    """

    pixel: np.ndarray
    owner: np.ndarray
    other: np.ndarray
    share: np.ndarray
    slope: np.ndarray
    normal: np.ndarray
    depth: np.ndarray


def _pairs(grid: PowerGrid, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(pixel, neighbour label) for every distinct other label among a pixel's 4-neighbours."""
    image = labels.reshape(grid.rows, grid.cols)
    index = np.arange(len(labels)).reshape(grid.rows, grid.cols)
    seen: list[np.ndarray] = []
    pixels, others = [], []
    for axis, shift in ((1, 1), (1, -1), (0, 1), (0, -1)):
        there = np.full_like(image, -1)
        src = [slice(None)] * 2
        dst = [slice(None)] * 2
        src[axis] = slice(shift, None) if shift > 0 else slice(None, shift)
        dst[axis] = slice(None, -shift) if shift > 0 else slice(-shift, None)
        there[tuple(dst)] = image[tuple(src)]
        new = (there >= 0) & (there != image)
        for earlier in seen:
            new &= there != earlier
        seen.append(there)
        pixels.append(index[new])
        others.append(there[new])
    return np.concatenate(pixels), np.concatenate(others)


def boundary(grid: PowerGrid, pts: np.ndarray, weights: np.ndarray, labels: np.ndarray) -> Boundary:
    """The area of each cut pixel on the far side of each neighbouring cell's boundary line.

    The pixel's area projected on the boundary normal is a trapezoid of width |n_x| dx +
    |n_y| dy; the part past the line at distance t from the centre has a closed form.
    """
    pix, nb = _pairs(grid, labels)
    own = labels[pix]
    diff = pts[own] - pts[nb]
    dist = np.maximum(np.hypot(diff[:, 0], diff[:, 1]), 1e-12)
    centre = grid.centres[pix]
    gap = (
        np.einsum("ij,ij->i", centre - pts[nb], centre - pts[nb])
        - weights[nb]
        - np.einsum("ij,ij->i", centre - pts[own], centre - pts[own])
        + weights[own]
    )
    t = np.maximum(gap, 0.0) / (2 * dist)  # pixel centre's distance to the boundary line
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


def cells(grid: PowerGrid, pts: np.ndarray, weights: np.ndarray) -> Cells:
    """Label the grid and sum each cell's mass and centroid (cut pixels shared by area).

    The neighbour's part of a cut pixel sits ``depth`` beyond the centre (the middle of
    the part past the boundary); the owner's part balances it, so the pixel's total
    moment is unchanged. A cell without mass keeps its dot as its centroid.
    """
    n = len(pts)
    labels = power_labels(grid, pts, weights)
    edge = boundary(grid, pts, weights, labels)
    given = np.bincount(edge.pixel, edge.share, len(labels))
    scale = 1.0 / np.maximum(given, 1.0)  # a pixel never gives away more than itself
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
    has = mass > 1e-12 * max(mass.max(), 1e-300)
    centroid[has] = moment[has] / mass[has, None]
    return Cells(labels, edge, mass, centroid)


def hessian(grid: PowerGrid, edge: Boundary, n: int, floor: float = 0.0) -> sparse.csr_matrix:
    """d(mass_i)/d(weight_j): the weighted graph Laplacian of the cut pixels.

    ``floor`` adds that much density (in units of the mean) to every cut pixel: a
    Levenberg-Marquardt-like damping that keeps steps across nearly empty boundaries
    (where the true derivative is ~0 and a Newton step would explode) finite.
    """
    mean = grid.mass.sum() / len(grid.mass)
    c = (grid.mass[edge.pixel] + floor * mean) * edge.slope
    i, j = edge.owner, edge.other
    rows = np.concatenate([i, j, i, j])
    cols = np.concatenate([j, i, i, j])
    vals = np.concatenate([-c, -c, c, c])
    return sparse.csr_matrix((vals, (rows, cols)), shape=(n, n))
