"""Blue-noise threshold maps (void-and-cluster, Ulichney 1993) for ordered dithering.

A threshold map ranks every cell of an S x S torus so that the first k ranks form an
evenly spread (blue-noise) set for every k. ``generate`` builds one; the package ships a
pre-computed map (``scripts/make_bluenoise.py``) that ``threshold_map`` loads.

``tile`` repeats the map with period S (seamless, but the repetition shows: shifting the
dots by one period lands all of them on dots). ``scrambled_tile`` gives every tile one of
the 8 rotations / flips of the square and its own toroidal shift, and offsets the tile
grid per image, all drawn from a seed: no tile repeats its neighbours, at the price of
seams where neighbouring tiles meet (an occasional close pair the relaxers remove).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).parent / "data"
DEFAULT_SIZE = 128
SIGMA = 1.5  # Ulichney's Gaussian energy filter width, in cells


def map_path(size: int = DEFAULT_SIZE) -> Path:
    """Where the shipped ``size`` x ``size`` rank map lives."""
    return DATA_DIR / f"bluenoise{size}.npy"


def toroidal_gaussian(size: int, sigma: float = SIGMA) -> np.ndarray:
    """A (size, size) Gaussian centred on cell (0, 0) with wrap-around distances."""
    d = np.minimum(np.arange(size), size - np.arange(size)).astype(np.float64)
    g = np.exp(-(d**2) / (2 * sigma**2))
    return np.outer(g, g)


def _energy(pattern: np.ndarray, kernel_fft: np.ndarray) -> np.ndarray:
    """Toroidal convolution of a binary pattern with the Gaussian (via FFT)."""
    return np.fft.irfft2(np.fft.rfft2(pattern) * kernel_fft, s=pattern.shape)


def _initial_pattern(size: int, kernel: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Ulichney's prototype: ~10 % random ones, swapped until evenly spread."""
    pattern = np.zeros((size, size), dtype=bool)
    pattern.flat[rng.choice(size * size, size * size // 10, replace=False)] = True
    energy = _energy(pattern.astype(np.float64), np.fft.rfft2(kernel))
    for _ in range(size * size):
        cluster = np.argmax(np.where(pattern, energy, -np.inf))
        _toggle(pattern, energy, kernel, cluster, False)
        void = np.argmin(np.where(pattern, np.inf, energy))
        _toggle(pattern, energy, kernel, void, True)
        if void == cluster:
            break
    return pattern


def _toggle(
    pattern: np.ndarray, energy: np.ndarray, kernel: np.ndarray, flat: int, value: bool
) -> None:
    """Set one cell of ``pattern`` and update ``energy`` by the shifted kernel, in place."""
    y, x = divmod(int(flat), pattern.shape[1])
    pattern[y, x] = value
    shifted = np.roll(kernel, (y, x), axis=(0, 1))
    energy += shifted if value else -shifted


def generate(size: int = DEFAULT_SIZE, sigma: float = SIGMA, seed: int = 0) -> np.ndarray:
    """A (size, size) void-and-cluster rank map: a permutation of 0 .. size**2 - 1.

    Phase 1 removes the tightest clusters of the prototype (ranks count down); phases 2
    and 3 fill the largest voids (ranks count up). On a torus the energy of the complement
    is a constant minus the energy of the pattern, so phase 3 is phase 2 continued.
    """
    kernel = toroidal_gaussian(size, sigma)
    prototype = _initial_pattern(size, kernel, np.random.default_rng(seed))
    kernel_fft = np.fft.rfft2(kernel)
    ranks = np.empty(size * size, dtype=np.int64)
    ones = int(prototype.sum())

    pattern = prototype.copy()
    energy = _energy(pattern.astype(np.float64), kernel_fft)
    for rank in range(ones - 1, -1, -1):
        cluster = int(np.argmax(np.where(pattern, energy, -np.inf)))
        _toggle(pattern, energy, kernel, cluster, False)
        ranks[cluster] = rank

    pattern = prototype.copy()
    energy = _energy(pattern.astype(np.float64), kernel_fft)
    for rank in range(ones, size * size):
        void = int(np.argmin(np.where(pattern, np.inf, energy)))
        _toggle(pattern, energy, kernel, void, True)
        ranks[void] = rank
    return ranks.reshape(size, size)


@lru_cache(maxsize=4)
def _load_ranks(size: int) -> np.ndarray:
    """The shipped rank map, read once and made read-only (it is shared)."""
    ranks = np.load(map_path(size))
    ranks.setflags(write=False)
    return ranks


def threshold_map(size: int = DEFAULT_SIZE) -> np.ndarray:
    """The shipped (size, size) threshold map, float32 values (rank + 0.5) / size**2 in (0, 1)."""
    ranks = _load_ranks(size).astype(np.float32)
    return (ranks + 0.5) / np.float32(size * size)


def tile(
    threshold: np.ndarray, rows: int, cols: int, offset: tuple[int, int] = (0, 0)
) -> np.ndarray:
    """Tile a square threshold map over (rows, cols) cells, starting at ``offset`` (y, x)."""
    size_y, size_x = threshold.shape
    ys = (np.arange(rows) + offset[0]) % size_y
    xs = (np.arange(cols) + offset[1]) % size_x
    return threshold[np.ix_(ys, xs)]


DIHEDRAL = 8
"""The rotations (4) and reflections (4) of the square."""


def dihedral(square: np.ndarray, k: int) -> np.ndarray:
    """Transform ``k`` (0-7) of the square's symmetry group: k % 4 quarter turns, then a
    transpose for k >= 4."""
    turned = np.rot90(square, k % 4)
    return turned.T if k >= 4 else turned


def scrambled_tile(threshold: np.ndarray, rows: int, cols: int, seed: int) -> np.ndarray:
    """Tile a square threshold map over (rows, cols) cells without repeating it.

    The tile grid starts at a random offset; each tile is a dihedral transform of the map
    rolled by a random toroidal shift. Everything comes from ``seed``, so the same
    seed and grid give the same thresholds.
    """
    size = threshold.shape[0]
    rng = np.random.default_rng(seed)
    start_y, start_x = (int(v) for v in rng.integers(size, size=2))
    tiles_y, tiles_x = -(-(rows + start_y) // size), -(-(cols + start_x) // size)
    # Kinds cycle through a random order with a step of 3 per tile row: the 3 x 3 tiles
    # around any tile all differ, so neighbours are never translated copies.
    order = rng.permutation(DIHEDRAL)
    kinds = order[(np.arange(tiles_x)[None, :] + 3 * np.arange(tiles_y)[:, None]) % DIHEDRAL]
    shifts = rng.integers(size, size=(tiles_y, tiles_x, 2))
    out = np.empty((tiles_y * size, tiles_x * size), dtype=threshold.dtype)
    for ty in range(tiles_y):
        for tx in range(tiles_x):
            block = np.roll(dihedral(threshold, int(kinds[ty, tx])), shifts[ty, tx], axis=(0, 1))
            out[ty * size : (ty + 1) * size, tx * size : (tx + 1) * size] = block
    return out[start_y : start_y + rows, start_x : start_x + cols]
