"""``stipplr eval``: metrics of saved stipples against their source image."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import importance_sample
from PIL import Image
from typer.testing import CliRunner

import stipplr
from stipplr import metrics
from stipplr.cli import app
from stipplr.dots import Stipple
from stipplr.images import load_image
from stipplr.tone import Tone, darkness

runner = CliRunner()


def random_stipple(source, n: int, seed: int = 0, meta: dict | None = None) -> Stipple:
    """Dots drawn at random with density proportional to the source's darkness."""
    dark = darkness(load_image(source))
    xy = importance_sample(dark, n, seed)
    return Stipple(
        xy, np.zeros((n, 3)), dark.shape[1], dark.shape[0], meta=meta or {"engine": "random"}
    )


def run_json(*args: object) -> list[dict]:
    result = runner.invoke(app, ["eval", *(str(a) for a in args), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def saved(images, tmp_path):
    """A dither stipple and a random one of the gradient, saved as .npz."""
    dither = tmp_path / "dither.npz"
    stipplr.stipple(images["gradient"], 80, "dither", seed=0).save(dither)
    rand = tmp_path / "random.npz"
    random_stipple(images["gradient"], 80).save(rand)
    return dither, rand


def test_json_scores_rank_dither_above_random(images, saved):
    dither, rand = saved
    rows = run_json(images["gradient"], dither, rand)
    assert [row["stipple"] for row in rows] == [str(dither), str(rand)]
    assert [row["engine"] for row in rows] == ["dither", "random"]
    good, bad = rows
    assert good["points"] == bad["points"] == 80
    assert good["psnr_db"] > bad["psnr_db"] and good["spacing_mean"] > bad["spacing_mean"]
    assert "low_power" not in good


def test_json_matches_the_metrics_module(images, saved):
    dither, _ = saved
    (row,) = run_json(images["gradient"], dither)
    expected = metrics.evaluate(darkness(load_image(images["gradient"])), Stipple.load(dither).xy)
    for key, value in expected.items():
        assert row[key] == pytest.approx(value)


def test_eval_uses_the_tone_recorded_in_the_stipple(images, tmp_path):
    tone = Tone(invert=True, gamma=1.5)
    path = tmp_path / "inverted.npz"
    stipplr.stipple(images["gradient"], 80, "dither", seed=0, tone=tone).save(path)
    (row,) = run_json(images["gradient"], path)
    dark = darkness(load_image(images["gradient"]), tone)
    assert row["psnr_db"] == pytest.approx(metrics.tone_scores(dark, Stipple.load(path).xy)[0])
    identity = metrics.tone_scores(darkness(load_image(images["gradient"])), Stipple.load(path).xy)
    assert row["psnr_db"] > identity[0] + 3


def test_flat_source_gets_spectrum_figures(images, tmp_path):
    path = tmp_path / "flat.npz"
    random_stipple(images["flat_gray"], 300).save(path)
    (row,) = run_json(images["flat_gray"], path)
    assert row["low_power"] == pytest.approx(1.0, abs=0.5)
    assert row["anisotropy_db"] is not None


def test_table_lists_metrics_and_stipples(images, saved):
    result = runner.invoke(app, ["eval", str(images["gradient"]), *map(str, saved)])
    assert result.exit_code == 0, result.output
    for text in ("tone PSNR", "capacity CV", "spacing ratio", "dither.npz", "random.npz"):
        assert text in result.stdout


def test_single_dot_reports_missing_metrics_as_null(images, tmp_path):
    path = tmp_path / "one.npz"
    Stipple([[0.2, 0.5]], [[0, 0, 0]], 24, 16).save(path)
    (row,) = run_json(images["gradient"], path)
    assert row["psnr_db"] is None and row["points"] == 1


def test_help_has_an_example():
    result = runner.invoke(app, ["eval", "--help"])
    assert result.exit_code == 0 and "Example: stipplr eval" in result.stdout


def one_line_error(args: list[object]) -> str:
    result = runner.invoke(app, ["eval", *map(str, args)])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("stipplr: error: ")
    return lines[0]


def test_errors_are_one_line(images, saved, tmp_path):
    dither, _ = saved
    assert "0 bytes" in one_line_error([images["empty"], dither])
    assert "not a stipplr .npz" in one_line_error([images["gradient"], images["text"]])
    assert "no such file" in one_line_error([images["gradient"], tmp_path / "none.npz"])
    mismatch = one_line_error([images["flat_gray"], dither])
    assert "24x16" in mismatch and "64x64" in mismatch
    bad_tone = tmp_path / "bad_tone.npz"
    Stipple.load(dither).replace(meta={"tone": {"sparkle": 1}}).save(bad_tone)
    assert "sparkle" in one_line_error([images["gradient"], bad_tone])


@pytest.fixture
def colour_photo(tmp_path):
    """A 60 x 40 photo: cyan-tinted left half, yellow-tinted right half."""
    rgb = np.ones((40, 60, 3))
    rgb[:, :30, 0] = 0.55
    rgb[:, 30:, 2] = 0.55
    path = tmp_path / "colour.png"
    Image.fromarray(np.uint8(np.rint(rgb * 255))).save(path)
    return path


def test_colour_sources_get_the_colour_error_of_the_metrics_module(colour_photo, tmp_path):
    path = tmp_path / "colour.npz"
    s = stipplr.stipple(colour_photo, 300, "dither", seed=0)
    s.save(path)
    (row,) = run_json(colour_photo, path)
    expected = metrics.colour_error(s, load_image(colour_photo))
    assert row["colour_mean"] == pytest.approx(expected["mean"])
    assert row["colour_p95"] == pytest.approx(expected["p95"]) and expected["p95"] > 0
    with_pens = run_json(colour_photo, path, "--pens", "cyan,yellow")[0]
    assert with_pens["colour_mean"] < row["colour_mean"]  # black dots are the wrong colour
    assert with_pens["psnr_db"] == row["psnr_db"]
    table = runner.invoke(app, ["eval", str(colour_photo), str(path)])
    assert "colour error, mean (CIEDE2000)" in table.stdout


def test_grey_sources_get_no_colour_error(images, saved):
    (row,) = run_json(images["gradient"], saved[0])
    assert "colour_mean" not in row and "colour_p95" not in row


def test_bad_pens_are_one_line_errors(colour_photo, saved):
    assert "--pens" in one_line_error([colour_photo, saved[0], "--pens", "cyan,nocolour"])
