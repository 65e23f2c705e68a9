"""Teacher targets for lloydnet: weighted Lloyd relaxation started from the blue-noise dither.

Starting the ``voronoi`` engine from the very dither the net sees makes input -> target
nearly deterministic: every dot's target is where Lloyd moves that dither dot.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stipplr.engines.dither import DitherGrid, dither_grid
from stipplr.engines.voronoi import voronoi

TEACHER = "voronoi"
TEACHER_ITERATIONS = 30


@dataclass(frozen=True)
class Target:
    """A dither (the net's start) and the teacher's relaxed dots, in the same order."""

    init: np.ndarray
    xy: np.ndarray
    n: int
    offset: tuple[int, int]
    iterations: int


def lloyd_target(
    darkness: np.ndarray,
    n: int,
    offset: tuple[int, int] = (0, 0),
    iterations: int = TEACHER_ITERATIONS,
) -> Target:
    """Dither ``darkness`` into ``n`` dots (threshold tiling ``offset``), then relax them."""
    init = dither_grid(darkness, n, offset=offset).centres()
    xy = voronoi(darkness, n, iterations=iterations, init=init)
    return Target(init.astype(np.float32), xy.astype(np.float32), n, offset, iterations)


def offset_map(grid: DitherGrid, xy: np.ndarray) -> np.ndarray:
    """Dots ``xy`` (row-major over the selected cells) as (2, rows, cols) cell-unit offsets.

    Unselected cells get zeros.
    """
    ys, xs = np.nonzero(grid.selected)
    out = np.zeros((2, grid.rows, grid.cols), np.float32)
    out[0, ys, xs] = xy[:, 0] * grid.cols - (xs + 0.5)
    out[1, ys, xs] = xy[:, 1] * grid.rows - (ys + 0.5)
    return out
