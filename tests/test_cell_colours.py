"""Dot colours: Voronoi-cell means (cells.cell_colours, cells of the dots at their pixel
centres), also for the neural engine's models that give no colours, with box-window means
only on photos too large for them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import stipplr
from stipplr import neural
from stipplr.cells import (
    cell_colours,
    cell_sums,
    nearest_dot_labels,
    pixel_voronoi_labels,
    window_colours,
)
from stipplr.images import load_image

PHOTOS = Path(__file__).resolve().parent.parent / "examples" / "photos"


def two_colour_photo(height: int = 40, width: int = 60) -> np.ndarray:
    """Left half red, right half blue, a dark diagonal stripe across both."""
    rgb = np.zeros((height, width, 3), np.float32)
    rgb[:, : width // 2] = (0.9, 0.1, 0.1)
    rgb[:, width // 2 :] = (0.1, 0.2, 0.9)
    ys, xs = np.mgrid[0:height, 0:width]
    rgb[np.abs(xs - 1.5 * ys) < 4] *= 0.3
    return rgb


def test_cell_colours_are_the_mean_over_each_nearest_pixel_set() -> None:
    rgb = two_colour_photo()
    xy = np.random.default_rng(0).random((25, 2))
    height, width = rgb.shape[:2]
    labels = pixel_voronoi_labels(xy, height, width)
    ys, xs = np.mgrid[0:height, 0:width]
    centres = np.column_stack([xs.ravel() + 0.5, ys.ravel() + 0.5])
    dots = np.floor(xy * [width, height]) + 0.5  # each dot at its pixel's centre
    distance = np.linalg.norm(centres[:, None] - dots[None], axis=2)  # brute force
    assert np.allclose(distance[np.arange(len(labels)), labels], distance.min(axis=1))
    expected = np.stack([rgb.reshape(-1, 3)[labels == i].mean(axis=0) for i in range(25)])
    assert cell_colours(xy, rgb) == pytest.approx(expected, abs=1e-5)


def test_pixel_cells_give_the_exact_cells_colours_on_a_photo() -> None:
    rgb = np.asarray(load_image(PHOTOS / "coffee.jpg"), np.float32) / 255
    xy = np.random.default_rng(1).random((3000, 2))
    height, width = rgb.shape[:2]
    exact = cell_sums(nearest_dot_labels(xy, height, width), rgb.reshape(-1, 3), 3000)
    exact /= np.bincount(nearest_dot_labels(xy, height, width), minlength=3000)[:, None]
    assert np.abs(cell_colours(xy, rgb) - exact).mean() < 0.002
    assert np.abs(cell_colours(xy, rgb) - exact).mean() > 0  # not the same labelling


def test_of_dots_sharing_a_pixel_one_gets_the_cell_the_other_the_pixel_under_it() -> None:
    rgb = two_colour_photo()
    xy = np.array([[0.2, 0.5], [0.2 + 1e-4, 0.5], [0.8, 0.5]])
    labels = pixel_voronoi_labels(xy, *rgb.shape[:2])
    assert set(labels.tolist()) == {1, 2}
    assert cell_colours(xy, rgb)[0] == pytest.approx(rgb[20, 12])
    assert pixel_voronoi_labels(np.zeros((0, 2)), 4, 5).tolist() == [-1] * 20


@pytest.mark.skipif(not neural.default_model_available(), reason="no default model")
def test_the_neural_engine_gives_cell_colours_on_photos_of_usual_size(monkeypatch) -> None:
    rgb = two_colour_photo(64, 96)
    s = stipplr.stipple(rgb, 300, "neural", seed=0, device="cpu")
    assert s.rgb == pytest.approx(cell_colours(s.xy, rgb), abs=1e-6)
    monkeypatch.setattr(neural, "EXACT_COLOUR_PIXELS", 64 * 96 - 1)  # "too large" now
    boxed = stipplr.stipple(rgb, 300, "neural", seed=0, device="cpu")
    assert boxed.xy == pytest.approx(s.xy)
    assert boxed.rgb == pytest.approx(window_colours(s.xy, rgb, np.sqrt(64 * 96 / 300)))
    assert np.abs(boxed.rgb - s.rgb).max() > 0.05  # the two kinds of colour differ
