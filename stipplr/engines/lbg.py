"""Linde-Buzo-Gray stippling (Deussen, Spicker, Zheng 2017): Lloyd with capacity control.

Every dot should hold the same darkness mass C = total / N. Each step, a dot whose cell
holds less than C / (1 + t/2) is removed, one holding more than C (1 + t/2) is split in
two along its cell's long axis, and the others move to their centroids; the tolerance
t widens each step so the process settles. Equal capacities keep the tone that plain
Lloyd compresses. The band is symmetric in log-mass (the paper's linear band overshot
N by 1-3 % in our runs), and splits or removals that would take the count more than
0.5 % from N are held back, so the settled count stays within 0.5 % of N. ``lbg`` then
removes the lightest cells or splits the heaviest to return exactly N dots and takes
a few Lloyd steps to heal those spots.
"""

from __future__ import annotations

import numpy as np

from stipplr.engines.lloyd import (
    FAR_MOVE,
    FROZEN_MOVE,
    Labelling,
    cell_moments,
    check_options,
    density_grid,
    relax,
    start_positions,
)

SPLIT_OFFSET = 0.85  # children sit this many std devs along the long axis (halves of a disc)
COUNT_SLACK = 0.005  # settle keeps the count within 0.5 % of N (or closer to N)
MIN_OFFSET = 0.05  # in grid pixels, so children never coincide


def _long_axes(labelling: Labelling, dots: np.ndarray) -> np.ndarray:
    """Per dot in ``dots`` (sorted): SPLIT_OFFSET std devs along its cell's long axis."""
    grid = labelling.grid
    member = np.isin(labelling.labels, dots)
    where = np.searchsorted(dots, labelling.labels[member])
    w = grid.weights[member]
    p = grid.centres[member]
    k = len(dots)
    mass = np.maximum(np.bincount(where, w, k), 1e-300)
    mean = np.column_stack([np.bincount(where, w * p[:, i], k) for i in (0, 1)]) / mass[:, None]
    dx, dy = (p - mean[where]).T
    cxx, cyy, cxy = (
        np.bincount(where, w * a * b, k) / mass for a, b in ((dx, dx), (dy, dy), (dx, dy))
    )
    # Largest eigenvalue of [[cxx, cxy], [cxy, cyy]] and the angle of its eigenvector.
    lam = 0.5 * (cxx + cyy) + np.sqrt(0.25 * (cxx - cyy) ** 2 + cxy**2)
    angle = 0.5 * np.arctan2(2 * cxy, cxx - cyy)
    length = np.maximum(SPLIT_OFFSET * np.sqrt(lam), MIN_OFFSET * grid.pixel)
    return np.column_stack([np.cos(angle), np.sin(angle)]) * length[:, None]


def _apply(
    labelling: Labelling, centroid: np.ndarray, remove: np.ndarray, split: np.ndarray
) -> None:
    """Move kept dots to ``centroid``, drop ``remove``, split ``split`` into two."""
    pts = labelling.pts
    gap = np.linalg.norm(centroid - pts, axis=1) / labelling.grid.spacing
    moved = gap > FROZEN_MOVE
    target = np.where(moved[:, None], centroid, pts)
    split_idx = np.flatnonzero(split)
    offset = _long_axes(labelling, split_idx) if len(split_idx) else np.zeros((0, 2))
    target[split_idx] = centroid[split_idx] + offset
    keep = ~remove
    old_to_new = np.full(len(pts), -1)
    old_to_new[keep] = np.arange(keep.sum())
    new_pts = np.concatenate([target[keep], centroid[split_idx] - offset])
    changed = np.concatenate([(moved | split)[keep], np.ones(len(split_idx), dtype=bool)])
    far = bool(gap.max(initial=0.0) > FAR_MOVE)
    labelling.reindex(np.clip(new_pts, 0.0, labelling.grid.size), old_to_new, changed, full=far)


def settle(labelling: Labelling, n: int, iterations: int, t0: float, dt: float) -> int:
    """Split/merge/move steps until none splits or merges; returns the steps taken."""
    for step in range(1, iterations + 1):
        mass, centroid = cell_moments(labelling)
        band = 1 + (t0 + (step - 1) * dt) / 2
        remove, split = _hold_count(mass, mass.sum() / n / band, mass.sum() / n * band, n)
        if not remove.any() and not split.any():
            return step
        _apply(labelling, centroid, remove, split)
    return iterations


def _hold_count(mass: np.ndarray, low: float, high: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Cells to remove (mass < low) and split (mass > high), keeping the count near n.

    Splits or removals that would take the count beyond ``COUNT_SLACK`` of ``n`` (and
    further from it) are dropped, least urgent first, so the count never drifts.
    """
    k = len(mass)
    remove, split = mass < low, mass > high
    slack = COUNT_SLACK * n
    excess = k + split.sum() - remove.sum() - max(n + slack, k)
    if excess > 0:  # too many dots: skip the splits with the least excess mass
        idx = np.flatnonzero(split)
        split[idx[np.argsort(mass[idx], kind="stable")[: int(np.ceil(excess))]]] = False
    deficit = min(n - slack, k) - (k + split.sum() - remove.sum())
    if deficit > 0:  # too few: skip the removals with the most mass
        idx = np.flatnonzero(remove)
        remove[idx[np.argsort(-mass[idx], kind="stable")[: int(np.ceil(deficit))]]] = False
    if remove.all():  # keep the heaviest cell so there is something to split
        remove[np.argmax(mass)] = False
    return remove, split


def fix_count(labelling: Labelling, n: int) -> None:
    """Remove the lightest cells or split the heaviest until exactly ``n`` dots remain."""
    while len(labelling.pts) != n:
        mass, centroid = cell_moments(labelling)
        k = len(mass)
        order = np.argsort(mass, kind="stable")
        remove = np.zeros(k, dtype=bool)
        split = np.zeros(k, dtype=bool)
        if k > n:
            remove[order[: k - n]] = True
        else:  # split the heaviest inked cells (any cell if none holds ink)
            split[order[::-1][: min(n - k, max(1, np.count_nonzero(mass > 0)))]] = True
        _apply(labelling, labelling.pts if k > n else centroid, remove, split)


def lbg_settled(
    darkness: np.ndarray,
    n: int,
    *,
    seed: int | None = None,
    iterations: int = 40,
    tolerance: float = 0.5,
    widen: float = 0.05,
    init: np.ndarray | None = None,
) -> Labelling:
    """Run LBG to a settled state (count near ``n``, not yet exact)."""
    xy = start_positions(darkness, n, init, seed)
    grid = density_grid(darkness, n)
    labelling = Labelling(grid, grid.to_px(xy))
    if grid.weights.sum() > 0:
        settle(labelling, n, int(iterations), tolerance, widen)
    return labelling


def lbg(
    darkness: np.ndarray,
    n: int,
    *,
    seed: int | None = None,
    iterations: int = 40,
    tolerance: float = 0.5,
    widen: float = 0.05,
    polish: int = 3,
    tol: float = 5e-3,
    init: np.ndarray | None = None,
) -> np.ndarray:
    """Exactly ``n`` dots with near-equal darkness per Voronoi cell.

    seed: realisation of the start (None: the default one; the same seed gives the same
    dots); iterations: cap on split/merge steps; tolerance: starting capacity band (t
    above); widen: added to the band each step; polish / tol: the final Lloyd steps after
    the count is made exact (stop when the RMS move is below ``tol`` h); init: start
    positions of any count (default: the scattered dither with ``n`` dots, see
    :func:`stipplr.engines.dither.scattered_dither`).
    """
    check_options(
        "lbg",
        {"iterations": iterations, "polish": polish},
        {"tolerance": tolerance, "widen": widen, "tol": tol},
    )
    if init is None:  # the dither's dots: fewer than n on a near-empty image
        init = start_positions(darkness, n, None, seed)
        n = len(init)
    labelling = lbg_settled(
        darkness,
        n,
        seed=seed,
        iterations=iterations,
        tolerance=tolerance,
        widen=widen,
        init=init,
    )
    fix_count(labelling, n)
    relax(labelling, int(polish), tol)
    return labelling.grid.to_rel(labelling.pts)
