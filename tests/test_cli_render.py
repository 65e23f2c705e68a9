"""Saved stipples drawn again, tiny sources drawn at a size you can see, and flags that
would do nothing named in a warning (``plot x.npz -n 9000``, ``--profile`` with .hpgl)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from stipplr.cli import app
from stipplr.cli.effects import MIN_SPACING_PX, small_source_width, unused_plot_options
from stipplr.dots import Stipple

runner = CliRunner()
FAST = ["--engine", "dither", "-n", "40", "--seed", "2"]  # 24x16 px: dots > 3 px apart


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def pixels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


@pytest.mark.parametrize("options", [[], ["-O", "color=dots", "-O", "width=90"]])
def test_a_re_render_equals_the_original_render(images, tmp_path, options):
    direct, saved, again = tmp_path / "direct.png", tmp_path / "s.npz", tmp_path / "again.png"
    assert invoke("stipple", images["gradient"], "-o", direct, *FAST, *options).exit_code == 0
    assert invoke("stipple", images["gradient"], "-o", saved, *FAST).exit_code == 0
    result = invoke("stipple", saved, "-o", again, *options)
    assert result.exit_code == 0, result.output
    assert f"{again}: 40 dots (re-rendered)" in result.stdout
    assert result.stderr == ""  # no stipple flags given: nothing to warn about
    np.testing.assert_array_equal(pixels(direct), pixels(again))


def test_renderer_options_change_a_re_render(images, tmp_path):
    saved = tmp_path / "s.npz"
    assert invoke("stipple", images["gradient"], "-o", saved, *FAST).exit_code == 0
    big = tmp_path / "big.png"
    assert invoke("stipple", saved, "-o", big, "-O", "width=240").exit_code == 0
    assert Image.open(big).size == (240, 160)
    svg = tmp_path / "s.svg"
    assert invoke("stipple", saved, "-o", svg, "-O", "color=dots").exit_code == 0
    assert svg.read_text().count("<circle") == 40


def test_stipple_flags_on_a_saved_stipple_warn(images, tmp_path):
    saved = tmp_path / "s.npz"
    assert invoke("stipple", images["gradient"], "-o", saved, *FAST).exit_code == 0
    result = invoke("stipple", saved, "-o", tmp_path / "x.png", "--engine", "lbg", "-n", 9000)
    assert result.exit_code == 0, result.output
    assert "stipplr: warning: --points, --engine have no effect" in result.stderr
    assert "is a saved stipple" in result.stderr
    assert len(Stipple.load(saved)) == 40


def test_plot_of_a_saved_stipple_warns_about_stipple_flags(images, tmp_path):
    saved = tmp_path / "s.npz"
    assert invoke("stipple", images["gradient"], "-o", saved, *FAST).exit_code == 0
    result = invoke("plot", saved, "-o", tmp_path / "p.svg", "-n", 9000, "--gamma", 2)
    assert result.exit_code == 0, result.output
    assert "--points, --gamma have no effect: " in result.stderr
    assert "dots: 40" in result.stdout


@pytest.mark.parametrize(
    ("output", "args", "warned"),
    [
        ("p.hpgl", ["--profile", "marlin"], "--profile has no effect: profile applies to .gcode"),
        ("p.svg", ["--origin", "top-left"], "--origin has no effect: origin applies to .hpgl"),
        ("p.svg", ["-O", "pen_up_value=40"], "-O pen_up_value has no effect"),
        ("p.gcode", ["--profile", "marlin", "--origin", "top-left"], None),
        ("p.hpgl", ["--origin", "bottom-left"], None),
    ],
)
def test_plot_options_the_format_ignores_warn(images, tmp_path, output, args, warned):
    result = invoke("plot", images["gradient"], "-o", tmp_path / output, *FAST, *args)
    assert result.exit_code == 0, result.output
    if warned:
        assert f"stipplr: warning: {warned}" in result.stderr
    else:
        assert "no effect" not in result.stderr


def test_unused_plot_options():
    assert unused_plot_options(["profile", "paper", "origin"], "svg") == ["profile", "origin"]
    assert unused_plot_options(["profile", "origin"], "gcode") == []


def test_a_tiny_source_warns_and_gets_a_sensible_size(tmp_path):
    tiny = tmp_path / "tiny.png"
    Image.fromarray(np.full((6, 8, 3), 90, np.uint8)).save(tiny)
    out = tmp_path / "tiny-out.png"
    result = invoke("stipple", tiny, "-o", out, "--engine", "dither", "-n", 5000)
    assert result.exit_code == 0, result.output
    width, height = Image.open(out).size
    assert "stipplr: warning: " in result.stderr and "only 8x6 px for 5000 dots" in result.stderr
    assert f"{width}x{height} px" in result.stderr
    assert width * height / 5000 >= MIN_SPACING_PX**2 * 0.95  # dots ~3 px apart or more
    assert abs(width / height - 8 / 6) < 0.02
    assert width < 1000  # sensible, not huge
    chosen = tmp_path / "chosen.png"
    asked = invoke(
        "stipple", tiny, "-o", chosen, "--engine", "dither", "-n", 5000, "-O", "width=50"
    )
    assert asked.exit_code == 0 and Image.open(chosen).size[0] == 50
    assert "only 8x6" not in asked.stderr  # the size was given: drawn as asked


def test_a_normal_source_keeps_its_size():
    photo = Stipple(np.full((5000, 2), 0.5), np.zeros((5000, 3)), 640, 427)
    assert small_source_width(photo) is None
    tiny = Stipple(np.full((5000, 2), 0.5), np.zeros((5000, 3)), 8, 6)
    assert small_source_width(tiny) == pytest.approx(8 * 3 / np.sqrt(48 / 5000), abs=1)
