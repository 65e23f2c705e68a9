"""Quality metrics on synthetic point sets whose ranking is known in advance."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import importance_sample

from stipplr import metrics
from stipplr.cells import cell_sums, nearest_dot_labels, pixel_centres


def gradient(height: int = 96, width: int = 96) -> np.ndarray:
    """Darkness rising left to right from 0.1 to 0.9."""
    return np.tile(np.linspace(0.1, 0.9, width), (height, 1))


def lloyd(darkness: np.ndarray, xy: np.ndarray, iterations: int) -> np.ndarray:
    """Weighted Lloyd relaxation: move each dot to its cell's darkness centroid."""
    height, width = darkness.shape
    centres = pixel_centres(height, width)
    weight = darkness.ravel()
    for _ in range(iterations):
        labels = nearest_dot_labels(xy, height, width)
        mass = cell_sums(labels, weight, len(xy))
        moments = cell_sums(labels, centres * weight[:, None], len(xy))
        xy = np.where(mass[:, None] > 0, moments / np.maximum(mass, 1e-12)[:, None], xy)
    return xy


def hex_lattice(cols: int, rows: int) -> np.ndarray:
    """A hexagonal lattice filling the unit square (rows / cols ~ 2 / sqrt 3 for regularity)."""
    x = (np.arange(cols) + 0.25)[None, :] + 0.5 * (np.arange(rows) % 2)[:, None]
    y = np.broadcast_to((np.arange(rows) + 0.5)[:, None], x.shape)
    return np.column_stack([x.ravel() / cols, y.ravel() / rows])


def square_grid(side: int) -> np.ndarray:
    centres = (np.arange(side) + 0.5) / side
    return np.array(np.meshgrid(centres, centres)).reshape(2, -1).T


@pytest.fixture(scope="module")
def random_and_relaxed() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    dark = gradient()
    start = importance_sample(dark, 300)
    return dark, start, lloyd(dark, start, 20)


def test_relaxed_set_beats_random_on_every_metric(random_and_relaxed):
    dark, random_xy, relaxed_xy = random_and_relaxed
    bad, good = metrics.evaluate(dark, random_xy), metrics.evaluate(dark, relaxed_xy)
    # plain Lloyd compresses tone (density ~ sqrt(darkness)), so the PSNR gain is modest
    assert good["psnr_db"] > bad["psnr_db"] + 2
    assert good["ssim"] > bad["ssim"] + 0.15
    assert good["capacity_cv"] < 0.5 * bad["capacity_cv"]
    assert bad["spacing_mean"] < 0.6 < 0.8 < good["spacing_mean"]
    assert good["spacing_p1"] > 0.4 > bad["spacing_p1"]
    assert good["clumped"] < 0.05 < 0.3 < bad["clumped"]


def test_random_set_matches_poisson_reference_values():
    flat = np.full((128, 128), 0.5)
    ratios = metrics.spacing_ratios(flat, np.random.default_rng(1).random((2000, 2)))
    # nearest-neighbour distance of a Poisson process: mean 1 / (2 sqrt(n)) -> r ~ 0.46
    assert ratios.mean() == pytest.approx(0.465, abs=0.03)
    assert metrics.capacity_cv(flat, np.random.default_rng(2).random((2000, 2))) > 0.4


def test_hex_lattice_on_flat_field_has_spacing_ratio_one():
    ratios = metrics.spacing_ratios(np.full((120, 120), 0.3), hex_lattice(26, 30))
    assert ratios.mean() == pytest.approx(1.0, abs=0.02)
    assert ratios.min() > 0.95


def test_spacing_follows_the_target_density():
    """Dots twice as dense where darkness is 4x: the ratio stays ~1 on both halves."""
    dark = np.full((128, 128), 0.2)
    dark[:, 64:] = 0.8
    left = hex_lattice(13, 30) * [0.5, 1.0]
    right = hex_lattice(26, 60) * [0.5, 1.0] + [0.5, 0.0]
    ratios = metrics.spacing_ratios(dark, np.vstack([left, right]))
    inner = np.r_[np.abs(left[:, 0] - 0.5) > 0.1, np.abs(right[:, 0] - 0.5) > 0.1]
    assert np.median(ratios[inner]) == pytest.approx(1.0, abs=0.05)


def test_dot_on_white_paper_counts_as_clumped():
    dark = np.zeros((64, 64))
    dark[:, :32] = 1.0
    xy = np.vstack([hex_lattice(8, 9) * [0.5, 1.0], [[0.9, 0.5], [0.95, 0.5]]])
    ratios = metrics.spacing_ratios(dark, xy)
    assert np.all(np.isfinite(ratios))
    assert ratios[-2:].max() < 0.5


def test_psnr_prefers_the_right_density():
    dark = gradient()
    right = importance_sample(dark, 400, seed=3)
    wrong = importance_sample(1.0 - dark, 400, seed=3)
    flat = np.random.default_rng(3).random((400, 2))
    psnr_right = metrics.tone_scores(dark, right)[0]
    assert psnr_right > metrics.tone_scores(dark, flat)[0] + 3
    assert psnr_right > metrics.tone_scores(dark, wrong)[0] + 6


def test_tone_works_with_more_dots_than_pixels():
    dark = gradient(16, 16)
    start = importance_sample(dark, 600)
    relaxed = lloyd(np.kron(dark, np.ones((8, 8))), start, 10)
    target, reproduced = metrics.tone_maps(dark, relaxed)
    assert target.shape[0] >= 16 * 8 / metrics.mean_spacing(dark.shape, 600) - 1
    psnr_relaxed, ssim_relaxed = metrics.tone_scores(dark, relaxed)
    psnr_random, ssim_random = metrics.tone_scores(dark, start)
    assert psnr_relaxed > psnr_random + 2 and ssim_relaxed > ssim_random + 0.1


@pytest.mark.parametrize("side", [20, 37])
def test_capacity_cv_of_a_regular_grid_on_a_flat_field_is_near_zero(side):
    assert metrics.capacity_cv(np.full((100, 100), 0.7), square_grid(side)) < 0.05


def test_periodogram_matches_its_definition():
    xy = np.random.default_rng(4).random((50, 2))
    k = np.array([3, -2])
    direct = abs(np.exp(-2j * np.pi * xy @ k).sum()) ** 2 / len(xy)
    power = metrics.periodogram(xy, 4, chunk=7)
    assert power[3 + 4, -2 + 4] == pytest.approx(direct)
    assert power[4, 4] == pytest.approx(len(xy))


def test_spectrum_of_random_set_is_flat_and_of_relaxed_set_is_blue():
    rng = np.random.default_rng(5)
    radius, raps, anisotropy = metrics.radial_spectrum(rng.random((1500, 2)), 60)
    assert len(radius) == len(raps) == len(anisotropy) == 60
    assert raps[10:].mean() == pytest.approx(1.0, abs=0.1)
    assert abs(anisotropy[10:].mean()) < 1.0

    flat = np.full((128, 128), 0.5)
    relaxed = lloyd(flat, rng.random((256, 2)), 30)
    low_relaxed, _ = metrics.spectrum_scores(relaxed)
    low_random, aniso_random = metrics.spectrum_scores(rng.random((256, 2)))
    assert low_relaxed < 0.2 < 0.6 < low_random
    assert abs(aniso_random) < 1.5


def test_splat_keeps_mass_and_position():
    xy = np.array([[0.5, 0.5], [0.0, 1.0], [0.3, 0.7]])
    counts = metrics.splat(xy, (10, 20))
    assert counts.sum() == pytest.approx(3.0)
    assert counts[5, 10] + counts[4, 9] + counts[4, 10] + counts[5, 9] == pytest.approx(1.0)
    assert counts[9, 0] == pytest.approx(1.0)


def test_identical_maps_score_perfectly():
    target = gradient(32, 32)
    assert metrics.psnr(target, target) == np.inf
    assert metrics.ssim(target, target) == pytest.approx(1.0)


def test_ssim_of_maps_smaller_than_its_window_is_nan():
    """Regression: 2 dots on a 5x4 image made 10x13 tone maps and skimage raised."""
    target = np.full((10, 13), 0.5)
    assert np.isnan(metrics.ssim(target, target))
    scores = metrics.evaluate(np.full((4, 5), 0.6), np.array([[0.3, 0.5], [0.7, 0.5]]))
    assert np.isnan(scores["ssim"]) and np.isfinite(scores["psnr_db"])


def test_evaluate_keys_flat_and_degenerate_inputs():
    flat = np.full((64, 64), 0.4)
    scores = metrics.evaluate(flat, hex_lattice(13, 15))
    assert {"psnr_db", "ssim", "capacity_cv", "spacing_mean", "low_power"} <= set(scores)
    assert all(isinstance(v, float) for v in scores.values())
    assert "low_power" not in metrics.evaluate(gradient(), hex_lattice(13, 15))
    assert np.isnan(metrics.evaluate(flat, [[0.5, 0.5]])["psnr_db"])
    assert np.isnan(metrics.evaluate(np.zeros((8, 8)), hex_lattice(4, 4))["capacity_cv"])
    assert metrics.evaluate(flat, np.zeros((0, 2)))["points"] == 0.0


def test_square_crop_keeps_the_centred_square_rescaled():
    xy = np.array([[0.1, 0.5], [0.3, 0.2], [0.5, 0.9], [0.74, 0.1], [0.8, 0.5]])
    np.testing.assert_allclose(metrics.square_crop(xy, 2.0), [[0.1, 0.2], [0.5, 0.9], [0.98, 0.1]])
    np.testing.assert_allclose(
        metrics.square_crop(xy[:, ::-1], 0.5), [[0.2, 0.1], [0.9, 0.5], [0.1, 0.98]]
    )
    np.testing.assert_array_equal(metrics.square_crop(xy, 1.0), xy)


def test_spectrum_of_a_wide_flat_field_is_measured_on_its_centred_square():
    cols, rows = 64, 32
    x, y = np.meshgrid(np.arange(cols) + 0.5, np.arange(rows) + 0.5)
    jitter = 0.15 * (np.random.default_rng(6).random((2, x.size)) - 0.5)
    xy = np.column_stack([(x.ravel() + jitter[0]) / cols, (y.ravel() + jitter[1]) / rows])
    scores = metrics.evaluate(np.full((64, 128), 0.5), xy)
    stretched = metrics.spectrum_scores(xy)[1]  # square cells look oblong on the unit torus
    assert scores["anisotropy_db"] < stretched - 0.5
    assert scores["low_power"] < 0.1


@pytest.mark.filterwarnings("error")
def test_spectrum_of_a_tiny_lattice_has_no_warnings():
    low, anisotropy = metrics.spectrum_scores(square_grid(2))
    assert low == pytest.approx(0.0, abs=1e-12) and np.isfinite(anisotropy)


# Flat-field structure: point sets of known character.


def jittered_grid(side: int, seed: int = 7) -> np.ndarray:
    """One dot uniformly inside each cell of a side x side grid (cell lattice peaks vanish)."""
    return square_grid(side) + (np.random.default_rng(seed).random((side * side, 2)) - 0.5) / side


def periodic_set(copies: int = 4, per_tile: int = 256, seed: int = 8) -> np.ndarray:
    """A random tile of ``per_tile`` dots repeated copies x copies times over the unit square."""
    tile = np.random.default_rng(seed).random((per_tile, 2)) / copies
    shifts = np.array([(i, j) for i in range(copies) for j in range(copies)]) / copies
    return (tile[None, :, :] + shifts[:, None, :]).reshape(-1, 2)


@pytest.fixture(scope="module")
def flat_relaxed() -> np.ndarray:
    """Lloyd's method on a flat field from a random start (blue noise, locally hexagonal)."""
    return lloyd(np.full((128, 128), 0.5), np.random.default_rng(9).random((400, 2)), 40)


def test_spike_ratio_is_small_for_noise_and_large_for_lattices_and_tiles(flat_relaxed):
    rng = np.random.default_rng(10)
    # max of ~4 000 independent exponentials (2 048 dots up to 2 / h): ln 4 000 ~ 8
    assert metrics.spike_ratio(rng.random((2048, 2))) < 16
    assert metrics.spike_ratio(jittered_grid(45)) < 16
    assert metrics.spike_ratio(flat_relaxed) < 16
    assert metrics.spike_ratio(square_grid(45)) > 100
    assert metrics.spike_ratio(periodic_set(per_tile=128)) > 50


def test_flat_spectrum_summaries(flat_relaxed):
    random_spectrum = metrics.flat_spectrum(np.random.default_rng(11).random((4096, 2)))
    relaxed = metrics.flat_spectrum(flat_relaxed)
    assert random_spectrum.low_power == pytest.approx(1.0, abs=0.25)
    assert random_spectrum.peak[0] < 1.6
    height, frequency = relaxed.peak
    assert relaxed.low_power < 0.2 and height > 1.5 and 0.8 < frequency < 1.3
    lattice_height, lattice_frequency = metrics.flat_spectrum(square_grid(32)).peak
    assert lattice_frequency == 1.0 and lattice_height > 20  # 4 N in one annulus
    assert (relaxed.low_power, relaxed.anisotropy_db) == metrics.spectrum_scores(flat_relaxed)


def test_annulus_stats_match_their_definition():
    power = metrics.periodogram(np.random.default_rng(12).random((60, 2)), 6)
    mean, square, peak, count = metrics.annulus_stats(power)
    k = np.arange(-6, 7)
    radius = np.rint(np.hypot(k[:, None], k[None, :]))
    ring = power[radius == 3]
    assert count[2] == ring.size
    expected = (ring.mean(), (ring**2).mean(), ring.max())
    assert (mean[2], square[2], peak[2]) == pytest.approx(expected)


def test_shift_test_counts_coinciding_dots():
    rng = np.random.default_rng(13)
    # a random set: pi (0.1 h)^2 / h^2 ~ 3 % land on a dot
    assert metrics.shift_coincidence(rng.random((4000, 2)), (0.31, 0.17)) == pytest.approx(
        0.031, abs=0.012
    )
    tiled = periodic_set()
    assert metrics.shift_coincidence(tiled, (0.25, 0.0)) == 1.0
    assert metrics.shift_coincidence(tiled, (0.25, 0.5), torus=True) == 1.0
    assert metrics.shift_coincidence(tiled, (0.13, 0.0)) < 0.08
    # in pixels: on a 200 x 400 px field the period is 100 px across, 50 px down
    assert metrics.shift_coincidence(tiled, (100.0, 50.0), shape=(200, 400)) == 1.0
    assert np.isnan(metrics.shift_coincidence(tiled, (1.5, 0.0)))


def test_find_repetition_finds_the_period_and_not_noise(flat_relaxed):
    fraction, (dx, dy) = metrics.find_repetition(periodic_set())
    assert fraction > 0.99
    periods = np.array([dx, dy]) / 0.25  # a non-zero multiple of the tile period
    np.testing.assert_allclose(periods, np.round(periods), atol=0.02)
    assert np.abs(np.round(periods)).max() >= 1
    assert metrics.find_repetition(np.random.default_rng(14).random((4096, 2)))[0] < 0.08
    assert metrics.find_repetition(jittered_grid(64))[0] < 0.08
    # the tile-period variant: the known period only
    assert metrics.tile_repetition(periodic_set(), 0.25) == 1.0
    assert metrics.tile_repetition(jittered_grid(64), 0.25) < 0.08
    assert np.isnan(metrics.tile_repetition(periodic_set(), 2.0))


def test_bond_order_tells_square_from_hexagonal(flat_relaxed):
    square = metrics.bond_order(square_grid(30), 4)
    assert square == pytest.approx((1.0, 1.0))
    assert metrics.bond_order(square_grid(30), 6)[0] < 0.01
    regular_hex = hex_lattice(30, round(30 * 2 / np.sqrt(3)))
    assert metrics.bond_order(regular_hex, 6)[0] > 0.99
    assert metrics.bond_order(regular_hex, 4)[0] < 0.02
    random_4 = metrics.bond_order(np.random.default_rng(15).random((4000, 2)), 4)
    assert random_4[0] == pytest.approx(0.42, abs=0.03) and random_4[1] < 0.05
    relaxed_4, relaxed_6 = metrics.bond_order(flat_relaxed, 4), metrics.bond_order(flat_relaxed, 6)
    assert relaxed_4[0] < 0.35 < relaxed_6[0]
    assert np.isnan(metrics.bond_order(square_grid(1), 4)[0])


def test_highlight_leakage_is_dots_over_deserved_share():
    dark = np.ones((10, 20))
    dark[:, :10] = 0.01  # near-white left half: 0.01 / 1.01 of the darkness
    on_white = np.column_stack([np.full(10, 0.25), np.linspace(0.05, 0.95, 10)])
    on_black = np.column_stack([np.full(90, 0.75), np.linspace(0.01, 0.99, 90)])
    ratio = metrics.highlight_leakage(dark, np.vstack([on_white, on_black]))
    assert ratio == pytest.approx(0.1 / (0.01 / 1.01))
    assert metrics.highlight_leakage(dark, on_black) == 0.0
    assert np.isnan(metrics.highlight_leakage(np.ones((10, 20)), on_black))
    dark[:, :10] = 0.0
    assert metrics.highlight_leakage(dark, on_white) == np.inf
    assert metrics.highlight_leakage(dark, on_white, threshold=0.0) != np.inf  # none below 0


def test_evaluate_reports_spikes_and_leakage():
    flat = metrics.evaluate(np.full((64, 64), 0.4), square_grid(16))
    assert flat["spike_ratio"] > 30 and flat["peak_height"] > 5
    assert np.isnan(flat["highlight_leakage"])  # no near-white pixels
    ramp = metrics.evaluate(gradient(), importance_sample(gradient(), 300))
    assert "spike_ratio" not in ramp and np.isnan(ramp["highlight_leakage"])
