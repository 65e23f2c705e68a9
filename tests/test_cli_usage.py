"""The command line as users of typer/rich CLIs expect it: usage errors in one line naming
the option, choices in any case and listed in --help, grouped options, no option name cut
off at 80 columns, and an example for every command that really runs."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import numpy as np
import pytest
import typer
from PIL import Image
from typer.testing import CliRunner

from stipplr.cli import app
from stipplr.dots import Stipple

runner = CliRunner()
FAST = ["--engine", "dither", "-n", "40"]


def invoke(*args: object, width: int = 80):
    return runner.invoke(
        app, [str(a) for a in args], terminal_width=width, env={"COLUMNS": str(width)}
    )


def assert_one_line_error(result, *fragments: str) -> str:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("stipplr: error: "), result.stderr
    assert "╭" not in result.stderr and "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def commands() -> list[tuple[list[str], typer.core.TyperCommand]]:
    """Every command path (root first) with its click command."""
    found = []

    def walk(command, path):
        found.append((path, command))
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, name])

    walk(typer.main.get_command(app), [])
    return found


COMMAND_PATHS = [" ".join(path) for path, _ in commands()]


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["stipple", "x.png"], ["missing option '--output' / '-o'", "stipplr stipple --help"]),
        (["stipple", "x.png", "-o", "y.png", "--points", "abc"], ["--points must be", "'abc'"]),
        (["stipple", "x.png", "-o", "y.png", "--points", "1e9"], ["--points must be", "2000000"]),
        (["stipple", "x.png", "-o", "y.png", "--gamma", "x"], ["--gamma must be a number"]),
        (["stipple", "x.png", "-o", "y.png", "--bogus"], ["no such option: --bogus"]),
        (["stipple", "-o", "y.png"], ["missing argument"]),
        (["stiple", "x.png"], ["no such command 'stiple'"]),
        (["batch", "x", "--jobs", "0"], ["--jobs must be a whole number >= 1, got 0"]),
        (
            ["batch", "x", "--format", "gif"],
            ["--format must be one of", "png", "svg", "unknown format"],
        ),
        (["plot", "x.png", "-o", "y.svg", "--dot", "blob"], ["--dot must be one of auto"]),
        (["plot", "x.png", "-o", "y.svg", "--pen", "abc"], ["--pen must be a positive pen"]),
        (["presets", "show"], ["missing argument"]),
        (["models", "--jsn"], ["no such option: --jsn"]),
    ],
)
def test_usage_errors_are_one_line_naming_the_option(args, fragments):
    assert_one_line_error(invoke(*args), *fragments)


def test_an_unreadable_input_is_one_line(tmp_path):
    folder = tmp_path / "photo.jpg"  # a folder where the image should be
    folder.mkdir()
    line = assert_one_line_error(invoke("stipple", folder, "-o", tmp_path / "o.png", *FAST))
    assert str(folder) in line


@pytest.mark.parametrize(
    "args",
    [
        ["--engine", "DITHER"],
        ["--engine", "Dither", "--device", "CPU"],
        ["--engine", "dither", "--renderer", "NPZ"],
    ],
)
def test_choices_are_case_insensitive(images, tmp_path, args):
    out = tmp_path / "out.npz"
    result = invoke("stipple", images["gradient"], "-o", out, "-n", 30, *args)
    assert result.exit_code == 0, result.output
    assert Stipple.load(out).meta["engine"] == "dither"


def test_lbg_in_capitals_is_accepted(images, tmp_path):
    result = invoke("stipple", images["gradient"], "-o", tmp_path / "o.npz", "--engine", "LBG")
    assert result.exit_code == 0, result.output
    assert Stipple.load(tmp_path / "o.npz").meta["engine"] == "lbg"


def test_plot_choices_are_case_insensitive(images, tmp_path):
    out = tmp_path / "p.gcode"
    args = ["--dot", "TOUCH", "--profile", "MARLIN", "--origin", "Top-Left", "--order", "INPUT"]
    result = invoke("plot", images["gradient"], "-o", out, *FAST, *args)
    assert result.exit_code == 0, result.output
    assert "M280 P0" in out.read_text()  # the marlin profile's pen servo


def test_batch_format_is_case_insensitive(images, tmp_path):
    result = invoke("batch", images["gradient"], "--out", tmp_path / "o", "--format", "SVG", *FAST)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "o" / "gradient.svg").is_file()


@pytest.mark.parametrize(
    ("command", "flag", "choices"),
    [
        ("stipple", "--engine", "dither | voronoi | lbg | ccvt | neural"),
        ("stipple", "--device", "auto | cpu | cuda | mps"),
        ("stipple", "--renderer", "png | svg | plot | npz | csv"),
        ("batch", "--format", "png | svg | plot | npz | csv"),
        ("plot", "--dot", "auto | touch | circle | spiral"),
        ("plot", "--profile", "grbl-servo | grbl-z | marlin"),
        ("plot", "--origin", "bottom-left (y up) | top-left (y down)"),
    ],
)
def test_choices_are_listed_in_help(command, flag, choices):
    text = " ".join(invoke(command, "--help", width=200).stdout.split())
    assert re.search(rf"{flag} \S+ [^│]*{re.escape(choices)}", text), text


@pytest.mark.parametrize("path", COMMAND_PATHS)
def test_help_at_80_columns_cuts_no_option_name(path):
    (command,) = [c for p, c in commands() if " ".join(p) == path]
    result = invoke(*path.split(), "--help")
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    assert "…" not in result.stdout
    for param in command.params:
        for name in (*param.opts, *param.secondary_opts):
            if name.startswith("-"):
                assert re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", result.stdout), name


def test_help_groups_options_in_panels():
    text = invoke("plot", "--help", width=120).stdout
    panels = re.findall(r"╭─ (.+?) ─", text)
    assert panels == [
        "Arguments", "Options", "Input and engine", "Tone", "Output", "Plot: page, pen and machine",
    ]  # fmt: skip
    assert panels[-1] in re.split(r"╭─ ", text)[-1] and "--paper" in re.split(r"╭─ ", text)[-1]
    assert "Batch run" in invoke("batch", "--help", width=120).stdout


# The examples in --help, run for real on a tiny image with a fast engine.


def examples() -> list[tuple[str, str]]:
    """(command path, example) for every ``Example:`` line of every command's help."""
    found = []
    for path, command in commands():
        for line in (command.help or "").splitlines():
            if line.strip().startswith("Example:"):
                found.append((" ".join(path), line.strip().removeprefix("Example:").strip()))
    return found


EXAMPLES = examples()
OUTPUT_FLAGS = {"-o", "--output", "--out", "--preview"}
IMAGE_SUFFIXES = (".jpg", ".png")


def make_inputs(words: list[str], folder: Path) -> None:
    """Create in ``folder`` the inputs an example names: images, saved stipples, folders."""
    rng = np.random.default_rng(0)
    pixels = (rng.random((24, 32, 3)) * 255).astype(np.uint8)
    for before, word in zip(["", *words], words, strict=False):
        if before in OUTPUT_FLAGS or (folder / word).exists():
            continue
        if word.endswith(IMAGE_SUFFIXES):
            Image.fromarray(pixels).save(folder / word)
        elif word.endswith(".npz"):
            Image.fromarray(pixels).save(folder / "source.png")
            assert (
                invoke("stipple", folder / "source.png", "-o", folder / word, *FAST).exit_code == 0
            )
        elif word.endswith("/"):
            (folder / word).mkdir(parents=True)
            for name in ("a.png", "b.png"):
                Image.fromarray(pixels).save(folder / word / name)


def test_every_command_has_an_example_of_itself():
    own = {path for path, example in EXAMPLES if f"stipplr {path}".strip() in example}
    assert own == set(COMMAND_PATHS)


@pytest.mark.parametrize(("path", "example"), EXAMPLES)
def test_help_examples_run(path, example, tmp_path, monkeypatch):
    assert len(example) <= 78, "an example must fit on one line at 80 columns"
    words = shlex.split(example)
    assert words[0] == "stipplr"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    make_inputs(words[1:], tmp_path)
    args = words[1:]
    if args[0] in ("stipple", "batch", "plot") and not args[1].endswith(".npz"):
        args += ["-n", "300"]  # the last -n wins: fewer dots keep the slow engines fast
        if "--engine" not in args:
            args += ["--engine", "dither"]  # the default engine runs a network: slow here
    result = runner.invoke(app, args)
    assert result.exit_code == 0, f"{example}: {result.output}"
    assert "error" not in result.stderr
