"""Colour error (stipplr.metrics.colour): known flat-colour stipples, the wrong pen, the
ink-per-dot rule of stipples without pens, nearest-pen assignment."""

from __future__ import annotations

import numpy as np
import pytest

from stipplr.dots import Stipple
from stipplr.inks.model import composite
from stipplr.inks.pensets import parse_pen_set
from stipplr.metrics import colour_error

HEIGHT, WIDTH = 90, 150


def jittered_grid(nx: int, ny: int, seed: int = 0) -> np.ndarray:
    """nx * ny dots, one in each grid cell, moved by up to 0.3 cell from its centre."""
    xs, ys = np.meshgrid(np.arange(nx) + 0.5, np.arange(ny) + 0.5)
    jitter = np.random.default_rng(seed).uniform(-0.3, 0.3, (nx * ny, 2))
    return (np.column_stack([xs.ravel(), ys.ravel()]) + jitter) / [nx, ny]


def pen_stipple(xy: np.ndarray, pen: np.ndarray, pens: str, coverage: float) -> Stipple:
    """A stipple with ``pens`` whose dots each stand for ``coverage`` of the picture / N."""
    inks = parse_pen_set(pens)
    meta = {"pens": [ink.to_dict() for ink in inks], "ink_per_dot": coverage * HEIGHT * WIDTH}
    meta["ink_per_dot"] /= len(xy)
    rgb = np.array([ink.rgb for ink in inks], dtype=float)[pen] / 255
    return Stipple(xy, rgb, WIDTH, HEIGHT, meta=meta, pen=pen)


def flat(colour) -> np.ndarray:
    """A flat photo of ``colour`` (sRGB in [0, 1])."""
    return np.broadcast_to(np.asarray(colour, dtype=float), (HEIGHT, WIDTH, 3)).copy()


def test_a_dense_stipple_of_the_right_pen_matches_a_flat_colour() -> None:
    photo = flat(composite(np.full((1, 1), 0.35), [(0, 255, 255)])[0])  # 35 % cyan
    xy = jittered_grid(50, 30)
    good = colour_error(pen_stipple(xy, np.zeros(len(xy), int), "cyan", 0.35), photo)
    assert good["mean"] < 2.0 and good["p95"] >= good["mean"]
    wrong = colour_error(pen_stipple(xy, np.zeros(len(xy), int), "magenta", 0.35), photo)
    assert wrong["mean"] > 20 and wrong["p95"] >= wrong["mean"]
    light = colour_error(pen_stipple(xy, np.zeros(len(xy), int), "cyan", 0.15), photo)
    assert light["mean"] > 5  # the right pen, too little ink


def test_two_pens_mix_into_their_product() -> None:
    photo = flat(composite(np.full((2, 1), 0.3), [(0, 255, 255), (255, 255, 0)])[0])
    xy = jittered_grid(60, 36)
    pen = (np.arange(len(xy)) + np.arange(len(xy)) // 60) % 2  # a checkerboard: both even
    both = colour_error(pen_stipple(xy, pen, "cyan,yellow", 0.6), photo)
    assert both["mean"] < 2.5
    cyan_only = colour_error(pen_stipple(xy, np.zeros(len(xy), int), "cyan,yellow", 0.6), photo)
    assert cyan_only["mean"] > 15


def test_a_mono_stipple_shares_the_photo_darkness_among_its_dots() -> None:
    photo = flat([0.6, 0.6, 0.6])
    xy = jittered_grid(50, 30)
    mono = Stipple(xy, np.zeros((len(xy), 3)), WIDTH, HEIGHT)
    assert colour_error(mono, photo)["mean"] < 2.0
    recorded = mono.replace(meta={"ink_per_dot": 0.4 * HEIGHT * WIDTH / len(xy)})
    assert colour_error(recorded, photo) == pytest.approx(colour_error(mono, photo))
    heavy = mono.replace(meta={"ink_per_dot": 0.8 * HEIGHT * WIDTH / len(xy)})
    assert colour_error(heavy, photo)["mean"] > 10
    left = mono.subset(mono.xy[:, 0] < 0.5)  # the right half left empty: far too light there
    assert colour_error(left.replace(meta=recorded.meta), photo)["p95"] > 20


def test_dots_without_pens_go_to_the_nearest_given_pen() -> None:
    photo = flat(composite(np.full((1, 1), 0.35), [(0, 255, 255)])[0])
    xy = jittered_grid(50, 30)
    meta = {"ink_per_dot": 0.35 * HEIGHT * WIDTH / len(xy)}
    coloured = Stipple(xy, np.tile([0.2, 0.9, 0.9], (len(xy), 1)), WIDTH, HEIGHT, meta=meta)
    assert colour_error(coloured, photo, pens=parse_pen_set("magenta,cyan"))["mean"] < 2.0
    assert colour_error(coloured, photo)["mean"] > 15  # no pens given: one black pen


def test_a_larger_blur_forgives_a_coarse_pattern() -> None:
    photo = flat([0.6, 0.6, 0.6])
    xy = jittered_grid(10, 6)
    coarse = Stipple(xy, np.zeros((len(xy), 3)), WIDTH, HEIGHT)
    assert colour_error(coarse, photo, sigma=40)["mean"] < colour_error(coarse, photo)["mean"]
    assert np.isnan(colour_error(coarse.subset(np.zeros(len(xy), bool)), photo)["mean"])
