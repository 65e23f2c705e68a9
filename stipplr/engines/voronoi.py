"""Weighted Voronoi stippling (Secord 2002): weighted Lloyd relaxation of the dither dots.

Starting from the blue-noise dither keeps tone (a random start loses it) and leaves
little to relax, so the dots converge in a few tens of steps. The dither's dots are first
moved off their cell centres by a smooth random swirl (``scattered_dither``): from the
cell lattice itself, dark tones would stay a square grid (an equilibrium of Lloyd's
method) and every tone would keep spectral spikes at the cell pitch. Lloyd's centroidal
Voronoi sets place dots with a density proportional to weight ** (1/2) in 2-D (Gersho's
asymptotics), which compresses contrast; relaxing on darkness ** 2 (``exponent=2``, the
default) restores it, while ``exponent=1`` is Secord's original.
"""

from __future__ import annotations

import numpy as np

from stipplr.engines.lloyd import (
    Labelling,
    check_options,
    density_grid,
    relax,
    start_positions,
)
from stipplr.errors import OptionError

OVER_RELAX = 1.5  # step 1.5x towards the centroid: ~1/3 fewer steps, same quality


def voronoi(
    darkness: np.ndarray,
    n: int,
    *,
    seed: int | None = None,
    iterations: int = 50,
    tol: float = 5e-3,
    exponent: float = 2.0,
    init: np.ndarray | None = None,
) -> np.ndarray:
    """Exactly ``n`` dots relaxed towards the weighted centroids of their Voronoi cells.

    seed: realisation of the start (None: the default one; the same seed gives the same
    dots); iterations: cap on Lloyd steps; tol: stop once the RMS dot-to-centroid distance
    is below this fraction of the mean spacing h; exponent: relax on darkness ** exponent
    (2 keeps tone, 1 is Secord's original); init: (n, 2) start positions (default: the
    scattered dither).
    """
    check_options("voronoi", {"iterations": iterations}, {"tol": tol, "exponent": exponent})
    if exponent == 0:
        raise OptionError("voronoi option exponent must be > 0")
    xy = start_positions(darkness, n, init, seed)
    if init is not None and len(xy) != n:  # (a near-empty image's dither has fewer)
        raise OptionError(f"init has {len(xy)} positions but {n} dots were asked for")
    grid = density_grid(np.clip(darkness, 0.0, 1.0) ** exponent, n)
    labelling = Labelling(grid, grid.to_px(xy))
    relax(labelling, int(iterations), tol, over=OVER_RELAX)
    return grid.to_rel(labelling.pts)
