"""Capacity-constrained stippling (``ccvt``): every dot's cell holds the same ink and every
dot sits at its cell's centroid (Balzer et al. 2009; solved as in de Goes et al. 2012).

Design:

- **Power diagram, one weight per dot.** With weights, cells can be given any areas, so
  "equal ink per cell" is a set of N equations in N weights (the semi-discrete optimal
  transport dual) instead of a combinatorial assignment. Cells are labelled on a pixel
  grid (:mod:`stipplr.engines.power`: exact lifting-trick k-d tree passes, cheap local
  relabelling in between) and cut pixels are shared by area, so masses, centroids and
  the Hessian are smooth far below the grid resolution.
- **One Newton step and one centroid move per iteration, from one labelling.** The step
  solves H dw = C - m - dm, where H is the power diagram's weighted graph Laplacian
  (conjugate gradients, Jacobi preconditioner, per connected component) and dm is the
  first-order mass change of the centroid move made in the same iteration, so the two
  updates do not fight. Weights are warm-started across iterations and levels. Steps are
  damped where the transport problem is nearly singular (a density floor in H, a cap on
  each weight's change relative to its neighbours) and backtracked if they blow up.
- **Multiresolution grid.** Most iterations run on a coarse grid (few pixels per dot,
  ~1-3 % capacity noise), the last ones on a fine grid that removes that noise; the
  grid scales with N, not with the photo (supersampled bilinearly when the photo has few
  pixels per dot, area-averaged otherwise, capped in size for huge N).
- **Seeded start without a lattice.** Stratified sampling along a Hilbert curve: the
  pixels are ordered along the curve (seeded random orientation) and dot k goes where the
  running ink sum reaches (k + u_k) C, u_k uniform. Each dot gets exactly its share of
  ink along the curve, so the start is density-exact at large scales, has no clumps of a
  random start, and no square grid in dark areas.
- **Exact N.** A dot whose cell loses all its ink is moved next to the heaviest cell's
  centroid (seeded random direction) with a weight that gives it part of that cell, so
  the count never changes and no dot stays on white. The output is the final cells'
  centroids: every dot lies inside its own cell's ink.
- **Robust.** The step limit scales with the dots' distance (long thin cells need large
  weight steps), and a step that still blows up the capacity error after four halvings
  is not taken (the level's centroid moves are damped instead), so it cannot diverge.
- **Spacing.** Capacity-constrained centroidal diagrams are many; on the coarse grids a
  short-range push apart of neighbours nearer than their mean neighbour distance
  (:func:`repulsion`) steers the iterations to a better-spaced one, and the finest grid's
  plain iterations converge there (spacing mean on the sample photos +0.01-0.02, capacity
  CV and tone no worse). Few dots get more iterations (:func:`default_iterations`).
- **Devices.** The pixel work (labelling and the split of cut pixels) runs in numpy or, with
  ``device="cuda"`` (or "torch-cpu" to test the same code on the CPU), in torch
  (:mod:`stipplr.engines.power_torch`); torch is imported only then.

Measured (benchmarks/ccvt.py, seed 1): on the sample photos at N = 1000-20000, capacity
CV 0.034-0.055, tone PSNR 51-58 dB (voronoi 31-36, lbg 30-35), spacing mean 0.880-0.933,
1st percentile >= 0.738. Cost about 2.3 s CPU for N = 5000 and 10 s for N = 20000,
growing slightly faster than N (conjugate gradients need more steps on larger diagrams);
the torch path on the CPU takes 1.2-1.8x the numpy path's time.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

import numpy as np
import scipy.sparse as sparse
from scipy.sparse.csgraph import connected_components

from stipplr.engines.dither import grid_shape
from stipplr.engines.lloyd import check_options
from stipplr.engines.power import (
    NUMPY,
    PowerGrid,
    cells,
    coupling,
    laplacian,
    moved_mass,
    power_grid,
)
from stipplr.errors import OptionError

LEVELS = ((8.0, 0.15), (12.0, 0.65), (24.0, 0.2))
"""(grid pixels per dot, share of the iterations) from coarse to fine."""
MAX_GRID_PIXELS = 12_000_000  # memory cap on the working grid
MAX_BOOST = 64.0  # at most this many times the pixels per dot where the ink is sparse
MIN_FINE_PIXELS = 100_000  # the finest grid has at least this many pixels (small N)
OVER_RELAX = 1.5  # centroid moves overshoot by this factor (fewer iterations, same result)
MIN_OVER = 0.5  # refused steps damp the overshoot down to this; refused there, a level stops
FLOOR = 0.1  # density floor (x mean) added to the Hessian's boundaries
STEP_CAP = 0.3  # a weight moves at most this x d^2 from its neighbours' mean (d: their
# mean distance), so a boundary moves at most ~0.15 d per step relative to its surroundings
EXACT_EVERY = 10  # exact relabelling at least this often (iterations)
CG_RTOL = 1e-2
CG_MAXITER = 400
SPLIT = 0.2  # a revived dot starts this many h from the heavy cell's centroid
BACKTRACK = 4  # step halvings at most per iteration
REPEL = 1.0
"""On all grids but the finest, a dot nearer to a diagram neighbour than their mean
neighbour distance also moves away from it by REPEL x half the shortfall (at most
PUSH_CAP x its mean neighbour distance per iteration). It steers the coarse iterations
into a better-spaced solution; the finest grid's iterations are plain capacity-constrained
centroid moves, so the result is still a capacity-constrained centroidal diagram."""
PUSH_CAP = 0.2
ITERATIONS = 60  # default iteration cap from SMALL_N dots up
SMALL_N = 5000
MAX_ITERATIONS = 180  # default cap for few dots (their iterations are cheap)
DEVICES = ("auto", "cpu", "torch-cpu", "cuda")
"""``device`` choices (also "cuda:N"): numpy ("cpu"), torch on the CPU (the same code as
on CUDA, to test it), CUDA, or "auto" (CUDA when there is one, else numpy)."""


def ccvt(
    darkness: np.ndarray,
    n: int,
    *,
    seed: int | None = None,
    iterations: int | None = None,
    tol: float = 2e-3,
    device: str = "auto",
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Exactly ``n`` dots (x, y in [0, 1], y down) whose power cells hold equal ink.

    iterations: cap on the outer iterations (one Newton step on the weights plus one
    centroid move each), spread over the coarse-to-fine grids (None:
    :func:`default_iterations`); tol: a grid level ends once the RMS dot-to-centroid
    distance is below this fraction of the mean spacing h; device: where the pixel work
    runs (DEVICES); progress: called as ``progress(done, total)`` after every iteration
    (``done`` reaches ``total`` on the last one, also when ``tol`` ends the run early).
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise OptionError(f"ccvt needs a whole number of dots >= 1, got {n!r}")
    iterations = default_iterations(int(n)) if iterations is None else iterations
    check_options("ccvt", {"iterations": iterations}, {"tol": tol})
    backend = grid_backend(device)
    dark = np.clip(np.nan_to_num(np.asarray(darkness, dtype=np.float64)), 0.0, 1.0)
    if dark.ndim != 2 or dark.size == 0:
        raise OptionError(f"ccvt needs a 2-D darkness map, got shape {dark.shape}")
    if dark.max() <= 0.0:  # no ink at all: spread the dots as on uniform grey
        dark = np.full_like(dark, 0.5)
    rng = np.random.default_rng(0 if seed is None else seed)
    plan = schedule(dark.shape, int(n), int(iterations), ink_fraction(dark))
    total = sum(steps for _, steps in plan)
    done = 0
    grid = power_grid(dark, *plan[0][0], backend)
    pts, weights = start(grid, int(n), rng), np.zeros(int(n))
    for index, (shape, steps) in enumerate(plan):
        grid = grid if index == 0 else power_grid(dark, *shape, backend)
        final = index == len(plan) - 1
        report = None
        if progress is not None:
            report = _reporter(progress, done, total, final)
        repel = 0.0 if final else REPEL
        pts, weights, used = relax(grid, pts, weights, steps, tol, rng, report, repel=repel)
        done += used
    if total > 0:  # the final centroids: every dot inside its cell's ink
        pts = finish(grid, pts, weights, rng)
    return np.clip(pts / grid.size, 0.0, 1.0)


def default_iterations(n: int) -> int:
    """ITERATIONS, or up to MAX_ITERATIONS for fewer than SMALL_N dots (about the time of
    SMALL_N dots' ITERATIONS): measured on the sample photos, more iterations keep making
    the spacing more even there (astronaut, N = 1000, seeds 1-3: spacing mean 0.873-0.874
    at 60, 0.876-0.878 at 120, 0.878-0.880 at 180) and few dots' iterations cost little."""
    return int(np.clip(ITERATIONS * SMALL_N // max(n, 1), ITERATIONS, MAX_ITERATIONS))


def cuda_present() -> bool:
    """Whether a CUDA GPU can be used, without importing torch where there is no NVIDIA
    driver (importing torch takes seconds, longer than most ccvt runs)."""
    if "torch" not in sys.modules and not os.path.exists("/proc/driver/nvidia/version"):
        import ctypes.util

        if ctypes.util.find_library("cuda") is None and ctypes.util.find_library("nvcuda") is None:
            return False
    import torch

    return bool(torch.cuda.is_available())


def grid_backend(device: str) -> str:
    """The power-grid backend (numpy or a torch device) a ``device`` option stands for."""
    name = device.lower() if isinstance(device, str) else device
    if name not in DEVICES and not (isinstance(name, str) and name.startswith("cuda:")):
        choices = " | ".join(DEVICES)
        raise OptionError(f"ccvt option device must be {choices} or cuda:N, got {device!r}")
    if name == "auto":
        return "cuda" if cuda_present() else NUMPY
    if name == "cpu":
        return NUMPY
    if name == "torch-cpu":
        return "cpu"
    if not cuda_present():
        raise OptionError(f"ccvt option device={device!r}: no CUDA GPU is available")
    return name


def finish(grid: PowerGrid, pts: np.ndarray, weights: np.ndarray, rng) -> np.ndarray:
    """The cells' centroids, after moving any dot whose cell lost all ink into ink."""
    state = cells(grid, pts, weights)
    h = float(np.sqrt(grid.size[0] * grid.size[1] / len(pts)))
    pts, weights, revived = revive(pts, weights, state, grid.mass.sum() / len(pts), h, rng)
    return cells(grid, pts, weights).centroid if revived else state.centroid


def _reporter(progress: Callable[[int, int], None], offset: int, total: int, final: bool):
    """``report(step, last)`` -> ``progress(offset + step, total)``; the last iteration of
    the final level reports ``total`` (also when ``tol`` ends it early)."""

    def report(step: int, last: bool) -> None:
        progress(total if (final and last) else offset + step, total)

    return report


def ink_fraction(dark: np.ndarray) -> float:
    """The share of the image the ink effectively covers: (sum d)^2 / (sum d^2) / area
    (1 for a flat field, tiny for a speck)."""
    return float(dark.sum() ** 2 / max(float(np.sum(dark * dark)), 1e-300) / dark.size)


def schedule(
    shape: tuple[int, int], n: int, iterations: int, ink: float = 1.0
) -> list[tuple[tuple[int, int], int]]:
    """[(grid rows and cols, iterations)] from coarse to fine (coarse levels that would be
    as fine as the next are merged into it). When the ink covers less than half of the
    image (``ink`` from :func:`ink_fraction`), the grid is refined so that the inked part
    still has the planned pixels per dot; for small N the finest grid still has
    MIN_FINE_PIXELS pixels, or the photo's pixel count if smaller (less pixel noise in the
    masses, at little cost)."""
    height, width = shape
    plan: list[tuple[tuple[int, int], int]] = []
    left = iterations
    boost = min(max(1.0, 0.5 / max(ink, 1e-12)), MAX_BOOST)
    fine = min(MIN_FINE_PIXELS, height * width)  # small N: finer is cheap (up to the photo's)
    boost = max(boost, fine / (LEVELS[-1][0] * n))
    for index, (per_dot, share) in enumerate(LEVELS):
        per_dot = min(per_dot * boost, MAX_GRID_PIXELS / n)
        cell = float(np.sqrt(height * width / (per_dot * n)))
        grid = grid_shape(height, width, cell)
        steps = left if index == len(LEVELS) - 1 else min(left, int(round(share * iterations)))
        left -= steps
        if plan and plan[-1][0] == grid:
            plan[-1] = (grid, plan[-1][1] + steps)
        else:
            plan.append((grid, steps))
    return plan


def hilbert_index(x: np.ndarray, y: np.ndarray, order: int) -> np.ndarray:
    """Position of integer cells (x, y) in [0, 2**order) along the Hilbert curve."""
    x, y = x.astype(np.int64).copy(), y.astype(np.int64).copy()
    d = np.zeros_like(x)
    s = 1 << (order - 1)
    while s > 0:
        rx, ry = (x & s) > 0, (y & s) > 0
        d += s * s * ((3 * rx.astype(np.int64)) ^ ry.astype(np.int64))
        flip = ~ry & rx
        x = np.where(flip, s - 1 - x, x)
        y = np.where(flip, s - 1 - y, y)
        x, y = np.where(~ry, y, x), np.where(~ry, x, y)
        s >>= 1
    return d


def start(grid: PowerGrid, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` dots stratified along a (seeded) Hilbert curve, in source px.

    Dot k lands in the pixel where the running ink sum along the curve passes (k + u) C
    (u uniform in [0, 1), C = ink / n), uniformly inside that pixel.
    """
    rows, cols = np.divmod(np.arange(grid.rows * grid.cols), grid.cols)
    order = max(1, int(np.ceil(np.log2(max(grid.rows, grid.cols)))))
    side = 1 << order
    if rng.random() < 0.5:
        rows, cols = cols, rows
    if rng.random() < 0.5:
        cols = side - 1 - cols
    curve = np.argsort(hilbert_index(cols, rows, order), kind="stable")
    ink = np.cumsum(grid.mass[curve])
    target = (np.arange(n) + rng.random(n)) * (ink[-1] / n)
    pick = curve[np.minimum(np.searchsorted(ink, target, side="right"), len(ink) - 1)]
    return grid.centres[pick] + (rng.random((n, 2)) - 0.5) * grid.step


def newton_direction(H: sparse.csr_matrix, g: np.ndarray) -> np.ndarray:
    """Solve H dw = g for the weight step, per connected component of the diagram.

    H is a graph Laplacian: constant shifts of a component change nothing, so g is made
    to sum to zero on each component (its mean can't be fixed there) and a tiny ridge
    keeps CG well posed. Cells without any cut pixel keep their weights.
    """
    diag = H.diagonal()
    live = diag > 1e-9 * max(float(diag.max(initial=0.0)), 1e-300)
    out = np.zeros(len(g))
    if live.sum() < 2:
        return out
    sub = H[live][:, live]
    rhs = g[live]
    _, comp = connected_components(sub, directed=False)
    rhs = rhs - (np.bincount(comp, rhs) / np.bincount(comp))[comp]
    d = diag[live] * (1 + 1e-6)
    out[live] = conjugate_gradient(sub + sparse.diags(1e-6 * diag[live]), rhs, 1.0 / d)
    return out


def conjugate_gradient(A: sparse.csr_matrix, b: np.ndarray, inv_diag: np.ndarray) -> np.ndarray:
    """Jacobi-preconditioned CG to CG_RTOL relative residual (at most CG_MAXITER steps).

    Hand-written so that no step goes through a multi-threaded BLAS call: for vectors
    this short, BLAS threads only wait on each other (25x slower on a busy machine).
    """
    x = np.zeros_like(b)
    r = b.copy()
    z = inv_diag * r
    p = z.copy()
    rz = float(np.sum(r * z))
    stop = CG_RTOL**2 * float(np.sum(b * b))
    for _ in range(CG_MAXITER):
        if float(np.sum(r * r)) <= stop:
            break
        q = A @ p
        alpha = rz / float(np.sum(p * q))
        x += alpha * p
        r -= alpha * q
        z = inv_diag * r
        rz, previous = float(np.sum(r * z)), rz
        p = z + (rz / previous) * p
    return x


def neighbour_distance(adjacency: sparse.csr_matrix, pts: np.ndarray) -> np.ndarray:
    """Each dot's mean distance to its diagram neighbours (weighted by their coupling)."""
    pairs = adjacency.tocoo()
    dist = np.hypot(*(pts[pairs.row] - pts[pairs.col]).T)
    total = np.bincount(pairs.row, pairs.data, len(pts))
    mean = np.bincount(pairs.row, pairs.data * dist, len(pts)) / np.maximum(total, 1e-300)
    return np.where(total > 0, mean, np.sqrt(np.prod(np.max(pts, axis=0) + 1.0)))


def limit_step(dw: np.ndarray, adjacency: sparse.csr_matrix, cap: np.ndarray) -> np.ndarray:
    """Clip each weight's change to within ``cap`` of its neighbours' mean change
    (neighbours weighted by their coupling in the Hessian).

    Smooth (long-range transport) parts of the step pass; a single cell that would grow
    or shrink by more than its own size in one step (a tiny cell's Newton overshoot) is
    held back.
    """
    total = np.asarray(adjacency.sum(axis=1)).ravel()
    mean = np.where(total > 0, (adjacency @ dw) / np.maximum(total, 1e-300), dw)
    return mean + np.clip(dw - mean, -cap, cap)


def repulsion(
    adjacency: sparse.csr_matrix, pts: np.ndarray, spacing: np.ndarray, strength: float
) -> np.ndarray:
    """Each dot's push (N, 2) away from the diagram neighbours nearer than the mean of the
    two dots' mean neighbour distances ``spacing``: ``strength`` x half the shortfall per
    neighbour, in all at most PUSH_CAP x its own ``spacing``."""
    n = len(pts)
    pairs = adjacency.tocoo()
    i, j = pairs.row, pairs.col
    diff = pts[i] - pts[j]
    dist = np.maximum(np.hypot(diff[:, 0], diff[:, 1]), 1e-12)
    short = np.maximum(0.5 * (spacing[i] + spacing[j]) - dist, 0.0)
    force = (0.5 * strength * short / dist)[:, None] * diff
    push = np.column_stack([np.bincount(i, force[:, axis], n) for axis in (0, 1)])
    size = np.maximum(np.hypot(push[:, 0], push[:, 1]), 1e-300)
    return push * np.minimum(1.0, PUSH_CAP * spacing / size)[:, None]


def revive(
    pts: np.ndarray, weights: np.ndarray, state, capacity: float, h: float, rng
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Move dots whose cells hold no ink into the heaviest cells.

    A revived dot goes SPLIT h from the heavy cell's centroid (random direction) with the
    weight that ties it with the heavy dot there, plus a margin, so it takes the part of
    the heavy cell on its side; the heavy dot and its weight stay as they are.
    """
    dead = np.flatnonzero(state.mass <= 1e-9 * capacity)
    live = np.flatnonzero(state.mass > 1e-9 * capacity)
    if len(dead) == 0 or len(live) == 0:
        return pts, weights, False
    order = live[np.argsort(-state.mass[live], kind="stable")]
    heavy = order[np.arange(len(dead)) % len(order)]  # more dead than live: share them
    angle = rng.random(len(dead)) * 2 * np.pi
    offset = SPLIT * h * np.column_stack([np.cos(angle), np.sin(angle)])
    pts, weights = pts.copy(), weights.copy()
    spot = state.centroid[heavy] + offset
    tie = weights[heavy] - np.sum((spot - pts[heavy]) ** 2, axis=1)
    pts[dead], weights[dead] = spot, tie + np.sum(offset**2, axis=1)
    return pts, weights, True


def relax(
    grid: PowerGrid,
    pts: np.ndarray,
    weights: np.ndarray,
    steps: int,
    tol: float,
    rng: np.random.Generator,
    report: Callable[[int, bool], None] | None,
    *,
    repel: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Up to ``steps`` iterations on one grid; returns (dots, weights, iterations used).

    A step that the backtracking cannot keep within bounds is not taken, and the
    centroid moves of the rest of the level are damped (never diverges). ``repel``: the
    strength of :func:`repulsion` added to the centroid moves (0: none).
    """
    n = len(pts)
    capacity = grid.mass.sum() / n
    h = float(np.sqrt(grid.size[0] * grid.size[1] / n))
    state = cells(grid, pts, weights)
    over, best = OVER_RELAX, float(np.std(state.mass)) / capacity
    stalled = 0  # refused steps in a row at the floor of the damping, with nothing revived
    for step in range(1, steps + 1):
        pts, weights, revived = revive(pts, weights, state, capacity, h, rng)
        if revived:
            state = cells(grid, pts, weights)
        adjacency = coupling(grid, state.edge, n, FLOOR)
        spacing = neighbour_distance(adjacency, pts)
        target = pts + over * (state.centroid - pts)
        if repel > 0:
            target += repulsion(adjacency, pts, spacing, repel)
        target = np.clip(target, 0.0, grid.size)
        move = target - pts
        rhs = capacity - state.mass - moved_mass(grid, state.edge, pts, move)
        cap = STEP_CAP * spacing**2
        dw = limit_step(newton_direction(laplacian(adjacency), rhs), adjacency, cap)
        exact = step % EXACT_EVERY == 0
        trial = _backtrack(grid, state, target, weights, dw, capacity, best, exact)
        if trial is None:
            stalled = stalled + 1 if over == MIN_OVER and not revived else 0
            over = max(MIN_OVER, 0.7 * over)
        else:
            pts, weights, state = trial
            best = min(best, float(np.std(state.mass)) / capacity)
            stalled = 0
        rms = float(np.sqrt(np.mean(np.sum(move**2, axis=1)))) / (over * h)
        # Stalled for a whole cycle of label modes, every further step repeats a refused
        # one (mostly-white line art: 77 s for 1 000 dots on a 400 x 200 px text image).
        done = rms < tol or stalled > EXACT_EVERY
        if report is not None:
            report(step, done or step == steps)
        if done:
            return pts, weights, step
    return pts, weights, steps


def _backtrack(grid, state, target, weights, dw, capacity, best, exact):
    """(dots, weights, cells) after the step (dots to ``target``, weights + dw), halving dw
    while the step blows up the capacity error (beyond 1.25x the level's best, or 3 %) or
    the largest cell (up to BACKTRACK times); None if it still does."""
    heaviest = max(1.2 * float(state.mass.max()), 2 * capacity)
    labels = None if exact else state.labels
    for _ in range(BACKTRACK + 1):
        trial = cells(grid, target, weights + dw, labels)
        ok = float(trial.mass.max()) <= heaviest
        if ok and float(np.std(trial.mass)) / capacity <= max(1.25 * best, 0.03):
            return target, weights + dw, trial
        dw = 0.5 * dw
    return None
