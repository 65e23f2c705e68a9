"""Flat fields: the relaxing engines leave no lattice, spike or tile repetition at any grey.

192 x 192 px with 2 304 dots, so solid ink gives exactly one 4 px dither cell per dot (the
worst case: the cells form a full square grid). Reference values (``stipplr.metrics``):
spike ratio (strongest frequency over its annulus mean) ~9-11 for random or blue-noise
sets of this size, 30-1 300 for lattices and tiles; global |psi4| 1 for an axis-aligned
square lattice, ~0 otherwise; repetition (best shift test) ~3-5 % for random sets.
The dither itself packs its cells hexagonally: dark tones give a hexagonal packing (local
|psi4| 0 and |psi6| 1 when every cell holds a dot), not a square lattice.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import cKDTree

from stipplr import bluenoise, metrics, neural
from stipplr.engines.dither import dither, dither_grid
from stipplr.engines.lbg import lbg
from stipplr.engines.voronoi import voronoi

SIDE, N = 192, 2304
LEVELS = (0.1, 0.5, 0.8, 1.0)


def shipped_network(dark: np.ndarray, n: int, seed: int) -> np.ndarray:
    """The shipped default model's dots (the network engine, CPU)."""
    rgb = np.repeat(1 - dark[..., None], 3, axis=-1)
    return neural.predict_dots(rgb, dark, n, model="default", device="cpu", seed=seed)[0]


RELAXERS = {"voronoi": voronoi, "lbg": lbg}
if neural.default_model_available():
    RELAXERS["neural"] = shipped_network


@pytest.fixture(scope="module")
def relaxed() -> dict[tuple[str, float], np.ndarray]:
    """Dots of every relaxing engine on every grey level (computed once)."""
    return {
        (name, level): engine(np.full((SIDE, SIDE), level, np.float32), N, seed=0)
        for name, engine in RELAXERS.items()
        for level in LEVELS
    }


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("name", sorted(RELAXERS))
def test_relaxed_flat_fields_have_no_spikes_lattice_or_repetition(relaxed, name, level):
    xy = relaxed[name, level]
    dark = np.full((SIDE, SIDE), level)
    assert metrics.spike_ratio(xy) < 25
    local4, global4 = metrics.bond_order(xy, 4)
    assert global4 < 0.1 and local4 < metrics.bond_order(xy, 6)[0]
    assert metrics.find_repetition(xy)[0] < 0.12
    assert metrics.spacing_ratios(dark, xy).mean() > 0.85


def test_seeds_give_independent_flat_fields(relaxed):
    """Dots of two seeds coincide (within 0.1 h) about as rarely as independent sets, ~3 %."""
    dark = np.full((SIDE, SIDE), 0.8, np.float32)
    first, second = relaxed["voronoi", 0.8], voronoi(dark, N, seed=1)
    distance, _ = cKDTree(second).query(first)
    assert np.mean(distance < 0.1 / np.sqrt(N)) < 0.1
    assert np.array_equal(first, voronoi(dark, N, seed=0))


@pytest.mark.parametrize("hexagonal", [False, True])
def test_the_dither_texture_does_not_repeat_at_its_tile_period(hexagonal):
    light = np.full((SIDE * 2, SIDE * 2), 0.1, np.float32)
    n = 4 * N
    periodic = dither_grid(light, n, hexagonal=hexagonal)  # no seed: the tile repeats
    period = periodic.cell_px * bluenoise.DEFAULT_SIZE
    scrambled = dither_grid(light, n, seed=3, hexagonal=hexagonal).centres()
    assert metrics.tile_repetition(periodic.centres(), period, light.shape) > 0.95
    assert metrics.tile_repetition(scrambled, period, light.shape) < 0.3
    if hexagonal:  # the engine's own dots
        assert np.array_equal(scrambled, dither(light, n, seed=3))


@pytest.mark.parametrize("level", [0.8, 0.9, 1.0])
def test_dark_dither_has_no_four_fold_order(level):
    """Square cells give a square lattice (local / global |psi4| measured 0.47 / 0.40 at
    80 %, 0.68 / 0.67 at 90 %, 1 / 1 at 100 %); the engine's hexagonal cells measured
    0.32 / 0.03, 0.17 / 0.01 and 0.03 / 0.00 (any seed), |psi6| 0.96-1. The bounds: no
    common orientation (global < 0.1), less local 4-fold order than a Poisson set (0.42)
    and the 80 % square dither, 6-fold order well above 4-fold, dots about a cell apart."""
    dark = np.full((SIDE, SIDE), level, np.float32)
    square = dither_grid(dark, N, seed=0).centres()
    xy = dither(dark, N, seed=0)
    assert len(xy) == N
    assert metrics.bond_order(square, 4)[1] > 0.35  # the measure sees the square lattice
    local4, global4 = metrics.bond_order(xy, 4)
    assert global4 < 0.1 and local4 < 0.35 and local4 < metrics.bond_order(xy, 6)[0] - 0.4
    assert metrics.spacing_ratios(dark, xy).mean() > 0.85
