"""``stipplr stipple`` and the root command through typer's CliRunner."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from stipplr import __version__
from stipplr.cli import app
from stipplr.dots import Stipple

runner = CliRunner()


def stipple(*args: object):
    return runner.invoke(app, ["stipple", *(str(a) for a in args)])


def assert_one_line_error(result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("stipplr: error: "), result.stderr
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0]


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.strip() == f"stipplr {__version__}"


def test_no_arguments_shows_help():
    result = runner.invoke(app, [])
    assert "stipple" in result.output and "eval" in result.output


def test_stipple_help_has_an_example():
    result = runner.invoke(app, ["stipple", "--help"])
    assert result.exit_code == 0 and "Example: stipplr stipple" in result.stdout


def test_dither_to_npz(images, tmp_path):
    out = tmp_path / "out.npz"
    result = stipple(images["gradient"], "-o", out, "--engine", "dither", "-n", 60, "--seed", 3)
    assert result.exit_code == 0, result.output
    assert f"{out}: 60 dots (dither)" in result.stdout
    s = Stipple.load(out)
    assert len(s) == 60 and (s.width, s.height) == (24, 16)
    assert s.meta["engine"] == "dither" and s.meta["seed"] == 3
    # the ramp is dark on the left: most dots sit there, and dots take the colour below them
    assert np.mean(s.xy[:, 0] < 0.5) > 0.6
    assert np.corrcoef(s.xy[:, 0], s.rgb[:, 0])[0, 1] > 0.5


def test_same_seed_same_dots(images, tmp_path):
    for name in ("a.npz", "b.npz"):
        result = stipple(images["gradient"], "-o", tmp_path / name, "--engine", "dither", "-n", 40)
        assert result.exit_code == 0, result.output
    a, b = Stipple.load(tmp_path / "a.npz"), Stipple.load(tmp_path / "b.npz")
    np.testing.assert_array_equal(a.xy, b.xy)


def test_tone_flags_reach_the_stipple(images, tmp_path):
    out = tmp_path / "toned.npz"
    args = ["--gamma", 1.5, "--white-cutoff", 0.9, "--invert", "--engine", "dither", "-n", 30]
    result = stipple(images["gradient"], "-o", out, *args)
    assert result.exit_code == 0, result.output
    tone = Stipple.load(out).meta["tone"]
    assert tone["gamma"] == 1.5 and tone["white_cutoff"] == 0.9 and tone["invert"] is True
    assert np.mean(Stipple.load(out).xy[:, 0] > 0.5) > 0.6  # inverted: dots on the light side


def test_csv_output_and_radius(images, tmp_path):
    out = tmp_path / "dots.csv"
    args = ["--engine", "dither", "-n", 25, "--radius-min", 0.5, "--radius-max", 2]
    result = stipple(images["gradient"], "-o", out, *args)
    assert result.exit_code == 0, result.output
    lines = out.read_text().splitlines()
    assert lines[0].endswith("radius_px") and len(lines) == 26


def test_white_image_warns_and_writes_an_empty_stipple(images, tmp_path):
    out = tmp_path / "white.npz"
    result = stipple(images["white"], "-o", out, "--engine", "dither")
    assert result.exit_code == 0, result.output
    assert "stipplr: warning:" in result.stderr and "no dots" in result.stderr
    assert len(Stipple.load(out)) == 0


def test_bad_input_files_give_one_line_errors(bad_file, tmp_path):
    path, reason = bad_file
    out = tmp_path / "out.npz"
    result = stipple(path, "-o", out, "--engine", "dither")
    assert_one_line_error(result, str(path), reason)
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--engine", "crayon"], "--engine must be one of dither | voronoi | lbg | ccvt | neural"),
        (["--engine", "dither", "-n", 0], "--points must be"),
        (["--engine", "dither", "--gamma", -1], "gamma"),
        (["--engine", "dither", "-E", "wobble=3"], "wobble"),
        (["--engine", "dither", "-E", "novalue"], "key=value"),
        (["--engine", "dither", "--model", "x"], "--model only applies"),
        # regression: these reached stipplr.stipple as its own arguments (tracebacks)
        (["--engine", "dither", "-E", "radius=3"], "radius cannot be an engine option"),
        (["--engine", "dither", "-E", "tone=3"], "tone cannot be an engine option"),
        (["--engine", "dither", "-E", "seed=abc"], "seed cannot be an engine option"),
        (["--engine", "dither", "-E", "image=x"], "image cannot be an engine option"),
        (["--engine", "dither", "--radius-max", "inf"], "radius must satisfy"),
    ],
)
def test_bad_options_give_one_line_errors(images, tmp_path, args, fragment):
    result = stipple(images["gradient"], "-o", tmp_path / "out.npz", *args)
    assert_one_line_error(result, fragment)


def test_unknown_output_extension_is_refused(images, tmp_path):
    result = stipple(images["gradient"], "-o", tmp_path / "out.xyz", "--engine", "dither")
    assert_one_line_error(result, "out.xyz", "no renderer")


def test_unwritable_output_gives_one_line_error(images):
    out = images["gradient"] / "out.npz"  # the "folder" is a file
    result = stipple(images["gradient"], "-o", out, "--engine", "dither")
    assert_one_line_error(result, str(images["gradient"]))


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_image_outputs_are_written(images, tmp_path, suffix):
    out = tmp_path / f"out{suffix}"
    result = stipple(images["gradient"], "-o", out, "--engine", "dither", "-n", 30)
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["images", out.name]  # no temp files


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["-o", "out.xyz"], "no renderer"),
        (["-o", "out.png", "-O", "wobble=1"], "wobble"),
        (["-o", "out.png", "--renderer", "crayon"], "unknown renderer"),
    ],
)
def test_bad_output_fails_before_stippling(images, tmp_path, monkeypatch, args, fragment):
    """Regression: the output format and renderer options were checked only after the
    (possibly long) stippling; now they fail first."""
    import stipplr.cli.stipple as command

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("stippled before checking the output")

    monkeypatch.setattr(command, "stipple_image", never)
    args = [str(tmp_path / a) if a.startswith("out.") else a for a in args]
    result = stipple(images["gradient"], *args, "--engine", "dither")
    assert_one_line_error(result, fragment)
