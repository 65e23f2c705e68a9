"""``stipplr plot`` through typer's CliRunner: .npz and image inputs, stats, bad options."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from stipplr.cli import app
from stipplr.dots import Stipple

runner = CliRunner()


def plot(*args: object):
    return runner.invoke(app, ["plot", *(str(a) for a in args)])


@pytest.fixture
def saved(tmp_path):
    rng = np.random.default_rng(3)
    path = tmp_path / "dots.npz"
    Stipple(rng.random((300, 2)), rng.random((300, 3)), 60, 40).save(path)
    return path


def test_npz_to_gcode_prints_stats_and_writes_a_preview(tmp_path, saved):
    out, preview = tmp_path / "out.gcode", tmp_path / "preview.png"
    result = plot(
        saved,
        "-o",
        out,
        "--paper",
        "a5",
        "--landscape",
        "--pen",
        "0.5mm",
        "--preview",
        preview,
        "--preview-travel",
        "--profile",
        "marlin",
    )
    assert result.exit_code == 0, result.output
    assert "dots: 300 on 1 pen(s), 300 pen lifts" in result.stdout
    assert "estimated time:" in result.stdout and "input order" in result.stdout
    text = out.read_text()
    assert text.count("M280 P0 S30") == 300 and "; dots: 300" in text
    assert Image.open(preview).size == (round(210 * 8), round(148 * 8))


def test_npz_to_hpgl_and_svg_with_pens(tmp_path, saved):
    result = plot(saved, "-o", tmp_path / "out.hpgl", "--pens", "cyan,magenta,yellow,black")
    assert result.exit_code == 0, result.output
    assert "on 4 pen(s)" in result.stdout
    result = plot(saved, "-o", tmp_path / "out.svg", "-O", "dot=circle", "-O", "dot_size=1mm")
    assert result.exit_code == 0, result.output
    svg = (tmp_path / "out.svg").read_text()
    assert svg.count("<path ") == 300 and 'inkscape:label="1 black"' in svg


def test_image_input_with_the_dither_engine(tmp_path):
    image = tmp_path / "ramp.png"
    row = np.linspace(0, 255, 48).astype(np.uint8)
    Image.fromarray(np.tile(row, (32, 1))).save(image)
    out = tmp_path / "ramp.gcode"
    result = plot(image, "-o", out, "--engine", "dither", "--points", 200, "--seed", 1)
    assert result.exit_code == 0, result.output
    assert "dots: 200" in result.stdout and out.read_text().count("M3 S30") == 200


def test_plotter_presets(tmp_path, saved):
    result = plot(saved, "-o", tmp_path / "out.hpgl", "--preset", "hp7475a")
    assert result.exit_code == 0, result.output
    assert "297 x 210 mm page" in result.stdout  # A4 landscape from the preset
    result = plot(saved, "-o", tmp_path / "out.gcode", "--preset", "grbl-servo-a4", "--pen", "1mm")
    assert result.exit_code == 0, result.output
    assert "G4 P0.150" in (tmp_path / "out.gcode").read_text()  # the preset's drop time


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--paper", "a11"], "unknown paper"),
        (["--pen", "-0.3mm"], "pen width"),
        (["--pens", "black,blurple"], "blurple"),
        (["--margin", "2furlongs"], "unit"),
        (["-O", "colour=red"], "no option"),
        (["--profile", "nope"], "G-code profile"),
    ],
)
def test_bad_options_are_one_line_errors(tmp_path, saved, args, fragment):
    result = plot(saved, "-o", tmp_path / "out.gcode", *args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("stipplr: error: "), result.stderr
    assert fragment in lines[0] and "Traceback" not in result.output


def test_unknown_output_extension_fails_before_any_work(tmp_path, saved):
    result = plot(saved, "-o", tmp_path / "out.pdf")
    assert result.exit_code == 2 and "plot files end in" in result.stderr


def test_unwritable_preview_format_fails_before_any_work(tmp_path, saved):
    """Regression: a preview extension PIL cannot write failed only after the plot was
    written; now nothing is written and the error names the preview file."""
    out = tmp_path / "out.svg"
    result = plot(saved, "-o", out, "--preview", tmp_path / "preview.xyz")
    assert result.exit_code == 2 and "preview.xyz" in result.stderr, result.output
    assert "Traceback" not in result.output and not out.exists()


@pytest.fixture
def ramp(tmp_path):
    image = tmp_path / "ramp.png"
    row = np.linspace(100, 255, 48).astype(np.uint8)  # no black: no merging cap
    Image.fromarray(np.tile(row, (32, 1))).save(image)
    return image


SMALL = [
    "--engine",
    "dither",
    "--seed",
    "1",
    "--paper",
    "60x40mm",
    "--margin",
    "4mm",
    "--pen",
    "0.5mm",
]


def test_points_auto_is_the_default_and_matches_the_image_tone(tmp_path, ramp):
    out, preview = tmp_path / "ramp.svg", tmp_path / "preview.png"
    result = plot(ramp, "-o", out, *SMALL, "--preview", preview, "--preview-scale", "600px")
    assert result.exit_code == 0, result.output
    assert "(auto: their ink matches the image's mean darkness)" in result.stdout
    line = next(x for x in result.stdout.splitlines() if "ink coverage:" in x)
    predicted, dark = (float(v) for v in re.findall(r"([\d.]+) %", line))
    assert predicted == pytest.approx(dark, rel=0.05)
    measured = float(re.search(r"ink on ([\d.]+) %", result.stdout).group(1))
    assert measured == pytest.approx(dark, rel=0.15)
    assert Image.open(preview).size == (600, 400)
    assert "ToneWarning" not in result.stderr and "warning" not in result.stderr


def test_explicit_points_far_off_and_max_dots_warn(tmp_path, ramp):
    result = plot(ramp, "-o", tmp_path / "a.svg", *SMALL, "-n", "100")
    assert result.exit_code == 0, result.output
    assert "points: 100 (as given)" in result.stdout and "much lighter" in result.stderr
    result = plot(ramp, "-o", tmp_path / "b.svg", *SMALL, "--max-dots", "150", "--dot", "touch")
    assert result.exit_code == 0, result.output
    assert "capped by --max-dots" in result.stderr and "darkest tone" in result.stderr


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--preview", "p.png", "--preview-scale", "abc"], "preview-scale"),
        (["--preview", "p.png", "--preview-scale", "500px/mm"], "memory budget"),
        (["-n", "90000", "--pen", "3mm"], "too wide"),
        (["-n", "auto!"], "points"),
    ],
)
def test_impossible_plot_requests_are_one_line_errors(tmp_path, ramp, args, fragment):
    result = plot(ramp, "-o", tmp_path / "out.svg", "--engine", "dither", *args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], result.stderr
    assert not (tmp_path / "out.svg").exists()
