"""Stippling with pens: coupled multi-class ccvt against independent pens, dot shares per
pen, pen stipples through the API (saved, plotted) and the empty cases."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.spatial import cKDTree

import stipplr
from stipplr.api import EmptyStippleWarning
from stipplr.dots import Stipple
from stipplr.engines import get_engine
from stipplr.engines.multiclass import ccvt_classes
from stipplr.errors import OptionError
from stipplr.metrics import spacing_ratios
from stipplr.penstipple import split_counts
from stipplr.plotter import PlotOptions, make_plot

H, W = 90, 120
COUNTS = (450, 300)


def two_maps() -> tuple[np.ndarray, np.ndarray]:
    """Two overlapping ink maps: a left-to-right ramp and a blob-like falloff."""
    y, x = np.mgrid[0:H, 0:W]
    a = 0.2 + 0.6 * x / W
    b = 0.7 - 0.5 * (x / W) * (y / H + 0.3)
    return a, b


def union_density(maps, counts) -> np.ndarray:
    return sum(c * m / m.sum() for m, c in zip(maps, counts, strict=True))


def cross_close(first: np.ndarray, second: np.ndarray, spacing: float) -> float:
    """Share of ``second``'s dots closer than ``spacing`` px to a dot of ``first``."""
    distance, _ = cKDTree(first * [W, H]).query(second * [W, H])
    return float(np.mean(distance < spacing))


def test_coupled_classes_spread_each_pen_and_the_union_better_than_independent():
    maps = two_maps()
    coupled = ccvt_classes(list(maps), COUNTS, seed=3, iterations=30)
    independent = get_engine("ccvt").run_classes(
        list(maps), list(COUNTS), coupled=False, seed=3, iterations=30
    )
    assert [len(xy) for xy in coupled] == list(COUNTS)
    union = union_density(maps, COUNTS)
    coupled_union = spacing_ratios(union, np.concatenate(coupled)).mean()
    independent_union = spacing_ratios(union, np.concatenate(independent)).mean()
    assert coupled_union >= 0.75 > independent_union  # independent pens land on each other
    for density, xy in zip(maps, coupled, strict=True):
        ratios = spacing_ratios(density, xy)
        assert ratios.mean() >= 0.8 and np.mean(ratios < 0.5) <= 0.005
    h = np.sqrt(H * W / sum(COUNTS))
    assert cross_close(coupled[0], coupled[1], 0.3 * h) <= 0.01
    assert cross_close(independent[0], independent[1], 0.3 * h) > 0.03


def test_coupled_classes_are_seeded_and_take_empty_classes():
    maps = list(two_maps())
    first = ccvt_classes(maps, (40, 30), seed=1, iterations=6)
    again = ccvt_classes(maps, (40, 30), seed=1, iterations=6)
    other = ccvt_classes(maps, (40, 30), seed=2, iterations=6)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not np.array_equal(first[0], other[0])
    empty = ccvt_classes([maps[0], np.zeros((H, W))], (50, 0), seed=1, iterations=4)
    assert [len(xy) for xy in empty] == [50, 0]
    with pytest.raises(OptionError, match="one dot count"):
        ccvt_classes(maps, (0, 0))


def test_split_counts_follows_the_weights_exactly():
    counts = split_counts(np.array([0.5, 0.25, 0.25, 0.0]), 1001)
    assert counts.sum() == 1001 and counts[3] == 0
    assert abs(counts[0] - 500.5) <= 1 and abs(counts[1] - 250.25) <= 1


def colour_photo() -> np.ndarray:
    """Cyan, magenta, yellow and grey quarters (RGB in [0, 1])."""
    image = np.ones((40, 60, 3))
    image[:20, :30] = (0.2, 0.8, 0.9)
    image[:20, 30:] = (0.9, 0.3, 0.6)
    image[20:, :30] = (0.95, 0.9, 0.2)
    image[20:, 30:] = (0.4, 0.4, 0.4)
    return image


@pytest.mark.parametrize("mix", ["coupled", "independent"])
def test_every_pen_gets_dots_in_proportion_to_its_ink(mix: str):
    result = stipplr.stipple(colour_photo(), 800, "ccvt", pens="cmyk", mix=mix, iterations=8)
    assert len(result) == 800 and result.meta["mix"] == mix
    counts = np.bincount(result.pen, minlength=4)
    assert counts.min() > 0  # every pen of a colour photo gets dots
    ink = stipplr.inks.separate(colour_photo(), "cmyk").ink
    np.testing.assert_allclose(counts / counts.sum(), ink / ink.sum(), atol=0.01)
    pens = [entry["colour"] for entry in result.pens]
    assert pens == ["#00a3e0", "#e0007a", "#ffe600", "#1a1a1a"]
    np.testing.assert_allclose(result.rgb[result.pen == 2][0], np.array([255, 230, 0]) / 255)


def test_pen_stipple_saves_loads_and_plots_one_layer_per_pen(tmp_path):
    result = stipplr.stipple(colour_photo(), 600, "ccvt", pens="cmyk", iterations=6)
    path = tmp_path / "pens.npz"
    result.save(path)
    loaded = Stipple.load(path)
    assert np.array_equal(loaded.pen, result.pen) and loaded.pens == result.pens
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plot = make_plot(loaded, PlotOptions(paper="a6"))
    names = [layer.pen.name for layer in plot.document.layers]
    assert names == ["yellow", "cyan", "magenta", "black"]  # light inks first
    assert [len(layer.paths) for layer in plot.document.layers] == np.bincount(
        loaded.pen, minlength=4
    )[[2, 0, 1, 3]].tolist()


def test_nearest_mix_keeps_the_old_assignment_and_engines_without_classes_refuse_coupled():
    result = stipplr.stipple(colour_photo(), 300, "lbg", pens="cmyk", mix="nearest")
    assert result.meta["mix"] == "nearest" and len(result) == 300
    auto = stipplr.stipple(colour_photo(), 300, "dither", pens="cmyk")
    assert auto.meta["mix"] == "independent"  # auto: coupled only where the engine can
    with pytest.raises(OptionError, match="no coupled multi-pen mode"):
        stipplr.stipple(colour_photo(), 300, "dither", pens="cmyk", mix="coupled")


def test_white_photo_with_pens_gives_no_dots_no_layers_and_a_warning():
    with pytest.warns(EmptyStippleWarning):
        result = stipplr.stipple(np.ones((20, 30, 3)), 200, "ccvt", pens="cmyk")
    assert len(result) == 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plot = make_plot(result, PlotOptions(pens="cmyk"))
    assert plot.document.layers == []


def test_plot_command_with_pens_writes_one_layer_per_pen_light_first(tmp_path):
    import xml.etree.ElementTree as ET

    from PIL import Image
    from typer.testing import CliRunner

    from stipplr.cli import app

    photo = tmp_path / "colours.png"
    Image.fromarray((colour_photo() * 255).astype(np.uint8)).save(photo)
    out, preview = tmp_path / "plot.svg", tmp_path / "preview.png"
    args = ["plot", str(photo), "-o", str(out), "--pens", "cmyk", "--engine", "ccvt"]
    args += ["--points", "400", "--paper", "a6", "--preview", str(preview), "-E", "iterations=6"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "layers: 1. yellow" in result.output and "4 pen(s)" in result.output
    labels = [
        g.get("{http://www.inkscape.org/namespaces/inkscape}label")
        for g in ET.parse(out).getroot().findall("{http://www.w3.org/2000/svg}g")
    ]
    assert labels == ["1 yellow", "!2 cyan", "!3 magenta", "!4 black"]
    pixels = np.asarray(Image.open(preview).convert("RGB"), dtype=float)
    assert (pixels[..., 2] < pixels[..., 0] - 60).any()  # yellow ink shows in the preview


def test_batch_plot_with_pens_separates_each_image():
    from stipplr.batch import Runner
    from stipplr.penstipple import pen_settings

    runner = Runner({"points": 300, "engine": "ccvt", "iterations": 4}, "plot", {"pens": "cmyk"})
    assert runner.request.inks is not None and runner.request.inks.mix == "coupled"
    assert pen_settings(PlotOptions()) == {}  # one pen: the grey stipple, as before
    (result,) = stipplr.stipple_many(
        [colour_photo()], 300, "ccvt", iterations=4, **pen_settings(PlotOptions(pens="cmyk"))
    )
    assert np.bincount(result.pen, minlength=4).min() > 0


def test_stipple_command_drawing_several_pens_separates_the_photo(tmp_path):
    from PIL import Image
    from typer.testing import CliRunner

    from stipplr.cli import app

    photo = tmp_path / "colours.png"
    Image.fromarray((colour_photo() * 255).astype(np.uint8)).save(photo)
    out = tmp_path / "pens.png"
    args = ["stipple", str(photo), "-o", str(out), "--engine", "dither", "-n", "600"]
    result = CliRunner().invoke(app, [*args, "-O", "color=pens", "-O", "pens=cmyk"])
    assert result.exit_code == 0, result.output
    pixels = np.asarray(Image.open(out).convert("RGB"), dtype=int)
    yellow = (pixels[..., 0] > 200) & (pixels[..., 1] > 180) & (pixels[..., 2] < 80)
    cyan = (pixels[..., 0] < 60) & (pixels[..., 1] > 120) & (pixels[..., 2] > 180)
    # the yellow quarter is drawn with the yellow pen, the cyan one with the cyan pen, as
    # densely as their ink asks (a grey stipple coloured afterwards: 0.07 and 0.16)
    assert yellow[20:, :30].mean() > 0.25 and cyan[:20, :30].mean() > 0.35
    assert yellow[:20, :30].mean() < 0.01
