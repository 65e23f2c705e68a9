"""Dot colours: exact Voronoi-cell means (cells.cell_colours), also for the neural engine's
models that give no colours, with box-window means only on photos too large for them."""

from __future__ import annotations

import numpy as np
import pytest

import stipplr
from stipplr import neural
from stipplr.cells import cell_colours, window_colours


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
    ys, xs = np.mgrid[0:height, 0:width]
    centres = np.column_stack([(xs.ravel() + 0.5) / width, (ys.ravel() + 0.5) / height])
    scale = np.array([width, height])
    nearest = np.argmin(
        np.linalg.norm((centres[:, None] - xy[None]) * scale, axis=2), axis=1
    )  # brute force
    expected = np.stack([rgb.reshape(-1, 3)[nearest == i].mean(axis=0) for i in range(25)])
    assert cell_colours(xy, rgb) == pytest.approx(expected, abs=1e-5)


@pytest.mark.skipif(not neural.default_model_available(), reason="no default model")
def test_the_neural_engine_gives_exact_cell_colours_on_photos_of_usual_size(monkeypatch) -> None:
    rgb = two_colour_photo(64, 96)
    s = stipplr.stipple(rgb, 300, "neural", seed=0, device="cpu")
    assert s.rgb == pytest.approx(cell_colours(s.xy, rgb), abs=1e-6)
    monkeypatch.setattr(neural, "EXACT_COLOUR_PIXELS", 64 * 96 - 1)  # "too large" now
    boxed = stipplr.stipple(rgb, 300, "neural", seed=0, device="cpu")
    assert boxed.xy == pytest.approx(s.xy)
    assert boxed.rgb == pytest.approx(window_colours(s.xy, rgb, np.sqrt(64 * 96 / 300)))
    assert np.abs(boxed.rgb - s.rgb).max() > 0.05  # the two kinds of colour differ
