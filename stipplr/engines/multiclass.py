"""Coupled multi-class stippling with capacity-constrained power diagrams: one class of
dots per pen, each a good stipple of its own ink map, and all classes together a good
stipple of their summed dot density (the idea of Wei 2010's multi-class blue noise and
Schulz et al. 2021's multi-class LBG, here on :mod:`stipplr.engines.ccvt`'s machinery).

Every iteration holds P + 1 power diagrams: one per class (its dots on its own map) and
one of all dots (on the union density sum_p n_p d_p / ink_p). Each diagram takes the
Newton step that gives its cells equal ink, and every dot moves towards the mean of its
two cells' centroids (``coupling`` weighs the union's). A dot is thus pulled to where its
own pen needs ink *and* away from dots of every other pen, so pens do not land on each
other and the union has no gaps or clumps. Each diagram keeps its own coarse-to-fine grid
schedule (a class's grid scales with its dot count), so the cost is about twice that of
one ``ccvt`` run on all dots, not P + 1 times.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from stipplr.engines.ccvt import (
    EXACT_EVERY,
    FLOOR,
    OVER_RELAX,
    STEP_CAP,
    _backtrack,
    ink_fraction,
    limit_step,
    neighbour_distance,
    newton_direction,
    revive,
    schedule,
    start,
)
from stipplr.engines.lloyd import check_options
from stipplr.engines.power import (
    Cells,
    PowerGrid,
    cells,
    coupling,
    laplacian,
    moved_mass,
    power_grid,
)
from stipplr.errors import OptionError

MOVE_HALVINGS = 3  # a coupled move one diagram cannot follow is halved at most this often


@dataclass
class Diagram:
    """One power diagram of the iteration: its density, grid schedule, dots and weights."""

    density: np.ndarray
    plan: list[tuple[tuple[int, int], int]]
    members: np.ndarray  # indices of its dots among all dots
    grid: PowerGrid | None = None
    weights: np.ndarray | None = None
    state: Cells | None = None
    stale: bool = True  # its dots moved since ``state`` was computed

    def shape_at(self, step: int) -> tuple[int, int]:
        """The grid shape this diagram uses at iteration ``step`` (0-based)."""
        done = 0
        for shape, steps in self.plan:
            done += steps
            if step < done:
                return shape
        return self.plan[-1][0]

    def update(self, step: int, pts: np.ndarray, exact: bool) -> None:
        """Label this diagram for the dots ``pts`` (all dots) on the grid of ``step``,
        unless the state of its last accepted step is still current (the periodic exact
        relabelling happens in the step's backtracking, as in ``ccvt``)."""
        shape = self.shape_at(step)
        if self.grid is None or (self.grid.rows, self.grid.cols) != shape:
            self.grid, self.state = power_grid(self.density, *shape), None
        if self.weights is None:
            self.weights = np.zeros(len(self.members))
        if self.state is None or self.stale:
            labels = None if exact or self.state is None else self.state.labels
            self.state = cells(self.grid, pts[self.members], self.weights, labels)
        self.stale = False

    @property
    def capacity(self) -> float:
        return float(self.grid.mass.sum()) / len(self.members)

    def error(self) -> float:
        """Capacity CV of its cells."""
        return float(np.std(self.state.mass)) / self.capacity


def ccvt_classes(
    densities: Sequence[np.ndarray],
    counts: Sequence[int],
    *,
    seed: int | None = None,
    iterations: int = 60,
    tol: float = 2e-3,
    coupling_weight: float = 0.5,
    progress: Callable[[int, int], None] | None = None,
) -> list[np.ndarray]:
    """``counts[p]`` dots (x, y in [0, 1]) per density map, coupled (see the module).

    coupling_weight: share of the union's centroid in each move (0: independent classes,
    1: only the union); iterations, tol: as for ``ccvt``.
    """
    check_options("ccvt", {"iterations": iterations}, {"tol": tol})
    if not 0.0 <= coupling_weight <= 1.0:
        raise OptionError(f"coupling_weight must be from 0 to 1, got {coupling_weight!r}")
    maps = [np.clip(np.nan_to_num(np.asarray(d, np.float64)), 0.0, 1.0) for d in densities]
    counts = [int(c) for c in counts]
    if len(maps) != len(counts) or not maps or min(counts) < 0 or sum(counts) < 1:
        raise OptionError("multi-class stippling needs one dot count >= 0 per map, not all 0")
    if len({m.shape for m in maps}) != 1 or maps[0].ndim != 2:
        raise OptionError("multi-class stippling needs density maps of one 2-D shape")
    rng = np.random.default_rng(0 if seed is None else seed)
    live = [p for p, c in enumerate(counts) if c > 0]
    maps = {p: maps[p] if maps[p].max() > 0 else np.full_like(maps[p], 0.5) for p in live}
    union = sum(counts[p] * maps[p] / maps[p].sum() for p in live)
    union = union / union.max()
    offsets = np.cumsum([0] + [counts[p] for p in live])
    classes = [
        _diagram(maps[p], counts[p], iterations, np.arange(offsets[i], offsets[i + 1]))
        for i, p in enumerate(live)
    ]
    everyone = _diagram(union, int(offsets[-1]), iterations, np.arange(offsets[-1]))
    pts = np.concatenate([_start(d, rng) for d in classes])
    pts = relax_classes(classes, everyone, pts, iterations, tol, coupling_weight, rng, progress)
    size = everyone.grid.size
    out = [np.zeros((0, 2)) for _ in counts]
    for p, d in zip(live, classes, strict=True):
        out[p] = np.clip(pts[d.members] / size, 0.0, 1.0)
    return out


def _diagram(density: np.ndarray, n: int, iterations: int, members: np.ndarray) -> Diagram:
    """A diagram of ``n`` dots on ``density`` with ccvt's grid schedule for it."""
    plan = schedule(density.shape, n, iterations, ink_fraction(density))
    return Diagram(density, plan, members)


def _start(diagram: Diagram, rng: np.random.Generator) -> np.ndarray:
    """A class's seeded Hilbert-curve start on its first grid."""
    diagram.grid = power_grid(diagram.density, *diagram.shape_at(0))
    return start(diagram.grid, len(diagram.members), rng)


def relax_classes(
    classes: list[Diagram],
    everyone: Diagram,
    pts: np.ndarray,
    iterations: int,
    tol: float,
    weight: float,
    rng: np.random.Generator,
    progress: Callable[[int, int], None] | None,
) -> np.ndarray:
    """The coupled iterations; returns the dots (source px)."""
    diagrams = [*classes, everyone]
    over = OVER_RELAX
    pull = union_pull(classes, len(pts), weight)
    for step in range(iterations):
        exact = step % EXACT_EVERY == 0
        for d in diagrams:
            d.update(step, pts, exact)
        pts, revived = _revive_classes(classes, pts, rng)
        if revived:
            everyone.stale = True
            everyone.update(step, pts, exact=True)
        own = np.empty_like(pts)
        for d in classes:
            own[d.members] = d.state.centroid
        goal = (1 - pull[:, None]) * own + pull[:, None] * everyone.state.centroid
        h = float(np.sqrt(np.prod(everyone.grid.size) / len(pts)))
        rms = float(np.sqrt(np.mean(np.sum((goal - pts) ** 2, axis=1)))) / h
        moved = _coupled_step(diagrams, pts, pts + over * (goal - pts), exact)
        if moved is None:  # the states still hold: nothing moved
            over = max(0.5, 0.7 * over)
        else:
            pts = moved
        if progress is not None:
            progress(iterations if rms < tol else step + 1, iterations)
        if rms < tol:
            break
    return pts


def union_pull(classes: list[Diagram], n: int, weight: float) -> np.ndarray:
    """Each dot's share of the union's centroid in its move: ``weight``, scaled down for a
    pen with less than its equal share of the dots (min(1, P n_p / N)). A sparse pen
    hardly shapes the union, which the dense pens keep even by moving away from its dots,
    while the union's pull would cost its own few dots their spacing."""
    pull = np.empty(n)
    for d in classes:
        pull[d.members] = weight * min(1.0, len(classes) * len(d.members) / n)
    return pull


def _coupled_step(
    diagrams: list[Diagram], pts: np.ndarray, target: np.ndarray, exact: bool
) -> np.ndarray | None:
    """Move the dots towards ``target`` and take every diagram's weight step; where one
    diagram's step cannot be kept within bounds (the other diagrams' pull moved its dots
    too far), the move is halved and tried again (MOVE_HALVINGS times). Returns the new
    dots (the diagrams updated) or None (nothing changed)."""
    size = diagrams[-1].grid.size
    for _ in range(MOVE_HALVINGS + 1):
        target = np.clip(target, 0.0, size)
        trials = [_weight_step(d, pts, target, exact) for d in diagrams]
        if all(t is not None for t in trials):
            for d, (weights, state) in zip(diagrams, trials, strict=True):
                d.weights, d.state = weights, state
            return target
        target = pts + 0.5 * (target - pts)
    return None


def _weight_step(d: Diagram, pts: np.ndarray, target: np.ndarray, exact: bool):
    """(weights, cells) of diagram ``d`` after its dots move to ``target``, with the
    Newton step that keeps its cells' ink equal (ccvt's damped, backtracked step); None
    when the step cannot be kept within bounds."""
    mine, goal = pts[d.members], target[d.members]
    state, n = d.state, len(d.members)
    adjacency = coupling(d.grid, state.edge, n, FLOOR)
    rhs = d.capacity - state.mass - moved_mass(d.grid, state.edge, mine, goal - mine)
    cap = STEP_CAP * neighbour_distance(adjacency, mine) ** 2
    dw = limit_step(newton_direction(laplacian(adjacency), rhs), adjacency, cap)
    # bound the step by the diagram's current capacity error, not its best so far: the
    # other diagrams' pulls raise it between steps, and a step that lowers it again must
    # not be refused for missing an old best
    trial = _backtrack(d.grid, state, goal, d.weights, dw, d.capacity, d.error(), exact)
    return None if trial is None else (trial[1], trial[2])


def _revive_classes(
    classes: list[Diagram], pts: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, bool]:
    """Move dots whose class cell holds none of their pen's ink into their class's
    heaviest cells (ccvt's revival, per class); relabels the classes that changed.
    Returns the dots and whether any moved."""
    any_moved = False
    for d in classes:
        h = float(np.sqrt(np.prod(d.grid.size) / len(d.members)))
        moved, weights, revived = revive(pts[d.members], d.weights, d.state, d.capacity, h, rng)
        if revived:
            pts, any_moved = pts.copy(), True
            pts[d.members], d.weights = moved, weights
            d.state = cells(d.grid, moved, weights)
    return pts, any_moved
