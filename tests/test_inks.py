"""Pen sets and ink separation: parsing (one-line errors naming the pen), grey-component
replacement, the unmixing of any pen set, and ``stipplr separate``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from stipplr.cli import app
from stipplr.errors import OptionError
from stipplr.inks import composite, parse_pen_set, pen_set_names, separate
from stipplr.inks.separation import black_pen, black_point

CSS_CMYK = "cyan,magenta,yellow,black"
runner = CliRunner()


def flat(*colours: tuple[float, float, float]) -> np.ndarray:
    """A 1 x len(colours) RGB image in [0, 1]."""
    return np.array([colours], dtype=np.float64)


def test_shipped_pen_sets_parse_with_names_colours_and_widths() -> None:
    assert {"cmyk", "black+grey", "fineliner-6"} <= set(pen_set_names())
    assert parse_pen_set("cmyk").names == ["cyan", "magenta", "yellow", "black"]
    fineliner = parse_pen_set("fineliner-6")
    assert len(fineliner) == 6 and all(ink.width == pytest.approx(0.4) for ink in fineliner)
    assert parse_pen_set("cyan, #ff0000").names == ["cyan", "#ff0000"]
    assert parse_pen_set("#ff0000")[0].rgb == (255, 0, 0)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("cyan,nope", "unknown colour 'nope'"),
        ("cyan,Cyan", "pen 'Cyan' is listed twice"),
        (" , ", "no pen given"),
    ],
)
def test_bad_pen_lists_name_the_pen(text: str, reason: str) -> None:
    with pytest.raises(OptionError) as info:
        parse_pen_set(text)
    message = str(info.value)
    assert message.startswith("pens must be") and message.endswith(f"({reason})")
    assert "\n" not in message


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ('name = "sky"\ncolour = "#3a9ad9"\nwidth = "0mm"', "pen 'sky': width must be"),
        ('name = "sky"\ncolour = "skyish"', "pen 'sky': colour must be"),
        ('name = "sky"', "pen 'sky': needs a colour"),
        ('name = "sky"\ncolour = "red"\nnib = 1', "pen 'sky': unknown key 'nib'"),
    ],
)
def test_bad_pen_set_files_name_file_and_pen(tmp_path: Path, body: str, reason: str) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(f"[[pen]]\n{body}\n")
    with pytest.raises(OptionError) as info:
        parse_pen_set(str(path))
    assert str(info.value).startswith(f"{path}: {reason}")


def test_duplicate_pen_in_a_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "twice.toml"
    path.write_text('[[pen]]\nname = "a"\ncolour = "red"\n[[pen]]\nname = "a"\ncolour = "blue"\n')
    with pytest.raises(OptionError, match="pen 'a' is listed twice"):
        parse_pen_set(str(path))


def test_pure_cyan_separates_to_cyan_only() -> None:
    result = separate(flat((0.0, 1.0, 1.0)), CSS_CMYK)
    np.testing.assert_allclose(result.coverage[:, 0, 0], [1, 0, 0, 0], atol=0.02)


def test_grey_goes_to_black_with_full_gcr_and_to_cmy_without() -> None:
    grey = flat((0.5, 0.5, 0.5))
    full = separate(grey, CSS_CMYK, gcr=1.0).coverage[:, 0, 0]
    np.testing.assert_allclose(full, [0, 0, 0, 0.5], atol=0.02)
    balanced = separate(grey, CSS_CMYK, gcr=0.0).coverage[:, 0, 0]
    assert balanced[3] == 0.0
    np.testing.assert_allclose(balanced[:3], 0.5, atol=0.03)  # equal C, M and Y


def test_grey_pen_carries_light_greys_of_black_and_grey() -> None:
    pens = parse_pen_set("black+grey")  # grey first, then black
    assert black_pen(pens) is None  # two neutral pens: plain unmixing, no GCR
    light, dark = separate(flat((0.85, 0.85, 0.85), (0.2, 0.2, 0.2)), pens).coverage.T[:, 0]
    assert light[0] > 0.3 and light[1] < 0.02  # light grey: grey pen only
    assert dark[1] > 0.5  # dark grey needs black


@pytest.mark.parametrize(
    ("pens", "worst"),
    [("cmyk", 0.06), ("fineliner-6", 0.1), (CSS_CMYK, 0.01), ("red,green,blue,black", 0.1)],
)
def test_separation_mixes_back_to_the_photo(pens: str, worst: float) -> None:
    rng = np.random.default_rng(3)
    colours = rng.random((300, 3))
    pen_set = parse_pen_set(pens)
    result = separate(colours[None], pen_set)
    mixed = composite(result.coverage[:, 0], [ink.rgb for ink in pen_set])
    aim = black_point(colours, np.array(pen_set[black_pen(pen_set)].rgb) / 255)
    # mean error over random colours, out-of-gamut ones included (their nearest mixture)
    assert np.abs(mixed - aim).mean() < worst
    assert result.coverage.min() >= 0 and result.coverage.max() <= 1


def test_separate_command_writes_plates_and_preview(tmp_path: Path) -> None:
    photo = tmp_path / "photo.png"
    pixels = np.zeros((12, 16, 3), np.uint8)
    pixels[:, :8] = (0, 255, 255)  # cyan half
    pixels[:, 8:] = (255, 255, 255)  # white half
    Image.fromarray(pixels).save(photo)
    out = tmp_path / "sep"
    result = runner.invoke(app, ["separate", str(photo), "--pens", CSS_CMYK, "-o", str(out)])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "01-cyan.png",
        "02-magenta.png",
        "03-yellow.png",
        "04-black.png",
        "preview.png",
    ]
    cyan = np.asarray(Image.open(out / "01-cyan.png"))
    assert cyan[:, :8].max() < 10 and cyan[:, 8:].min() == 255  # black = full ink
    assert np.asarray(Image.open(out / "02-magenta.png")).min() == 255
    bad = runner.invoke(app, ["separate", str(photo), "--pens", "cyan,cyan", "-o", str(out)])
    assert bad.exit_code == 2 and "pen 'cyan' is listed twice" in bad.output
    on_file = runner.invoke(app, ["separate", str(photo), "-o", str(photo)])
    assert on_file.exit_code == 2 and f"{photo}: not a folder" in on_file.output
