"""The tone stage: RGB -> darkness map, identity by default."""

from __future__ import annotations

import numpy as np
import pytest

from stipplr.errors import OptionError
from stipplr.tone import Tone, darkness, edge_strength, luminance


def gray(values) -> np.ndarray:
    """An RGB image whose pixels have the given luminances (1 x len)."""
    v = np.asarray(values, dtype=np.float32)[None, :]
    return np.repeat(v[..., None], 3, axis=2)


LEVELS = [0.0, 0.2, 0.5, 0.8, 1.0]


def test_identity_default_is_one_minus_luminance():
    assert Tone().is_identity()
    np.testing.assert_allclose(darkness(gray(LEVELS))[0], 1 - np.array(LEVELS), atol=1e-6)
    rgb = np.random.default_rng(0).random((8, 9, 3)).astype(np.float32)
    out = darkness(rgb)
    assert out.dtype == np.float32 and out.shape == (8, 9)
    np.testing.assert_allclose(out, 1 - rgb @ np.array([0.2126, 0.7152, 0.0722]), atol=1e-6)


def test_luminance_weights_green_most():
    primaries = np.eye(3, dtype=np.float32)[None]
    r, g, b = luminance(primaries)[0]
    assert g > r > b and r + g + b == pytest.approx(1.0)


def test_gamma_lightens_midtones_and_keeps_ends():
    plain, light, dark = (darkness(gray(LEVELS), Tone(gamma=g))[0] for g in (1.0, 2.0, 0.5))
    np.testing.assert_allclose(light, plain**2, atol=1e-6)
    assert light[2] < plain[2] < dark[2]
    for out in (light, dark):
        assert out[0] == pytest.approx(1.0) and out[-1] == pytest.approx(0.0)


def test_contrast_and_brightness():
    steep = darkness(gray(LEVELS), Tone(contrast=2.0))[0]
    np.testing.assert_allclose(steep, [1.0, 1.0, 0.5, 0.0, 0.0], atol=1e-6)
    flat = darkness(gray(LEVELS), Tone(contrast=0.0))[0]
    np.testing.assert_allclose(flat, 0.5, atol=1e-6)
    lighter = darkness(gray(LEVELS), Tone(brightness=0.2))[0]
    np.testing.assert_allclose(lighter, np.clip(0.8 - np.array(LEVELS), 0, 1), atol=1e-6)


def test_white_cutoff_removes_light_pixels_only():
    out = darkness(gray(LEVELS), Tone(white_cutoff=0.8))[0]
    np.testing.assert_allclose(out, [1.0, 0.8, 0.5, 0.0, 0.0], atol=1e-6)


def test_invert_swaps_dark_and_light():
    out = darkness(gray(LEVELS), Tone(invert=True))[0]
    np.testing.assert_allclose(out, LEVELS, atol=1e-6)


def test_edge_emphasis_adds_darkness_at_edges_only():
    step = np.zeros((20, 20), np.float32)
    step[:, 10:] = 1.0
    rgb = np.repeat(step[..., None], 3, axis=2)
    strength = edge_strength(step)
    assert strength.max() == pytest.approx(1.0) and strength[:, :5].max() < 1e-3
    out = darkness(rgb, Tone(edge=0.5))
    plain = darkness(rgb)
    assert out[:, 11].mean() > plain[:, 11].mean() + 0.2  # light side of the edge
    np.testing.assert_allclose(out[:, 16:], plain[:, 16:], atol=1e-3)
    assert np.all(edge_strength(np.full((8, 8), 0.3, np.float32)) == 0)


def test_output_is_always_clipped_to_unit_range():
    rgb = np.random.default_rng(1).random((16, 16, 3)).astype(np.float32)
    out = darkness(rgb, Tone(gamma=0.3, contrast=3.0, brightness=-0.5, edge=2.0))
    assert out.min() >= 0 and out.max() <= 1


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"gamma": 0}, "gamma"),
        ({"gamma": float("nan")}, "gamma"),
        ({"contrast": -1}, "contrast"),
        ({"brightness": 2}, "brightness"),
        ({"white_cutoff": 0}, "white_cutoff"),
        ({"white_cutoff": 1.5}, "white_cutoff"),
        ({"edge": -0.1}, "edge"),
        # regression: inf contrast gave NaN darkness; a string gamma a TypeError; 3 was "true"
        ({"contrast": float("inf")}, "contrast must be finite"),
        ({"gamma": "abc"}, "gamma must be a number"),
        ({"invert": 3}, "invert must be true or false"),
    ],
)
def test_bad_settings_raise_one_line(values, message):
    with pytest.raises(OptionError, match=message):
        Tone(**values)


def test_dict_round_trip_and_unknown_keys():
    tone = Tone(gamma=1.4, invert=True)
    assert Tone.from_dict(tone.to_dict()) == tone
    assert not tone.is_identity()
    with pytest.raises(OptionError, match="unknown tone option.*sharpen"):
        Tone.from_dict({"gamma": 1.0, "sharpen": 2})
