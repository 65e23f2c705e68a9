"""The renderers' ``pens`` colour mode: pen colours, inks that multiply (the ink model),
PNG == SVG, nearest-pen assignment of stipples without pens, the ignored-option warning;
and the plot preview's pens mixed by the same model."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from test_renderers import flatten, rasterise_svg

from stipplr.dots import Stipple
from stipplr.inks.model import composite
from stipplr.inks.pensets import parse_pen_set
from stipplr.plotter.document import Layer, Pen, PlotDocument
from stipplr.plotter.preview import preview_image
from stipplr.renderers.png import rasterise
from stipplr.renderers.style import page_layout
from stipplr.renderers.svg import SvgOptions, build_svg

CYAN, YELLOW, GREEN = (0.0, 1.0, 1.0), (1.0, 1.0, 0.0), (0.0, 1.0, 0.0)


def pen_stipple(xy, pen, pens: str = "cyan,yellow", width: int = 100, height: int = 50) -> Stipple:
    """A stipple made with ``pens``: each dot's colour is its pen's."""
    inks = parse_pen_set(pens)
    pen = np.asarray(pen)
    rgb = np.array([ink.rgb for ink in inks], dtype=float)[pen] / 255
    meta = {"pens": [ink.to_dict() for ink in inks]}
    return Stipple(np.asarray(xy, dtype=float), rgb, width, height, meta=meta, pen=pen)


def both(stipple: Stipple, **options) -> tuple[np.ndarray, np.ndarray]:
    """(PNG, SVG) of ``stipple`` in pens mode as RGB floats over white."""
    style = SvgOptions(color="pens", **options)
    page = page_layout(stipple, style)
    png = flatten(rasterise(stipple, style))
    return png, rasterise_svg(build_svg(stipple, style), page.width, page.height)


def test_each_pen_draws_in_its_own_colour() -> None:
    s = pen_stipple([[0.2, 0.5], [0.8, 0.5]], [0, 1], "cyan,magenta")
    for image in both(s, dot_px=16):
        assert image[25, 20] == pytest.approx([0, 1, 1], abs=0.01)
        assert image[25, 80] == pytest.approx([1, 0, 1], abs=0.01)
        assert image[2, 2] == pytest.approx([1, 1, 1], abs=0.01)


def test_overlapping_cyan_and_yellow_multiply_to_green() -> None:
    s = pen_stipple([[0.45, 0.5], [0.55, 0.5]], [0, 1])
    png, svg = both(s, dot_px=30)
    for image in (png, svg):
        assert image[25, 50] == pytest.approx(GREEN, abs=0.01)  # the overlap
        assert image[25, 37] == pytest.approx(CYAN, abs=0.01)
        assert image[25, 63] == pytest.approx(YELLOW, abs=0.01)
    assert np.abs(png - svg).mean() < 0.01


def test_png_mixes_pens_by_the_ink_model_not_by_painting_over() -> None:
    """Two overlapping pale inks: the overlap is their product (not the top dot's
    colour), and one black pen draws what mono mode draws."""
    s = pen_stipple([[0.45, 0.5], [0.55, 0.5]], [0, 1], "#8080ff,#ff8080")
    png = rasterise(s, SvgOptions(color="pens", dot_px=30)) / 255
    expected = composite(np.ones((2, 1)), [(128, 128, 255), (255, 128, 128)])[0]
    assert png[25, 50] == pytest.approx(expected, abs=1 / 255)
    assert np.abs(expected - [1.0, 0.5, 0.5]).max() > 0.2  # the top colour differs
    dots = pen_stipple(np.random.default_rng(0).random((300, 2)), np.zeros(300, int), "black")
    pens = rasterise(dots, SvgOptions(color="pens", dot_px=3, width=400))
    mono = rasterise(dots, SvgOptions(dot_px=3, width=400))
    assert pens.ndim == 2  # a black pen on white paper: a grey image
    assert np.abs(pens.astype(int) - mono).max() <= 1


def test_png_and_svg_agree_on_a_many_pen_stipple() -> None:
    rng = np.random.default_rng(4)
    s = pen_stipple(rng.random((700, 2)), rng.integers(0, 4, 700), "cmyk", 300, 200)
    for options in ({"dot_size": 1.2}, {"paper": "ivory"}, {"transparent": True}):
        png, svg = both(s, **options)
        assert png.shape == svg.shape
        assert np.abs(png - svg).mean() < 0.015, options  # top-dot colours: 0.067


def test_transparent_pens_over_white_are_the_opaque_picture() -> None:
    rng = np.random.default_rng(5)
    s = pen_stipple(rng.random((400, 2)), rng.integers(0, 2, 400), width=200, height=100)
    opaque = rasterise(s, SvgOptions(color="pens", dot_size=1.5))
    clear = rasterise(s, SvgOptions(color="pens", dot_size=1.5, transparent=True))
    assert clear.shape == (100, 200, 4)
    assert np.abs(flatten(clear) * 255 - opaque).max() <= 2


def test_a_stipple_without_pens_goes_to_the_nearest_pens() -> None:
    rgb = np.array([[0.1, 0.8, 0.9], [0.3, 0.3, 0.3]])  # a cyan-ish dot, a dark grey one
    s = Stipple(np.array([[0.2, 0.5], [0.8, 0.5]]), rgb, 100, 50)
    for image in both(s, dot_px=16, pens="cyan,black"):
        assert image[25, 20] == pytest.approx([0, 1, 1], abs=0.01)
        assert image[25, 80] == pytest.approx([0, 0, 0], abs=0.01)
    for image in both(s, dot_px=16):  # default: one black pen
        assert image[25, 20] == pytest.approx([0, 0, 0], abs=0.01)


def test_a_stipple_with_pens_ignores_the_option_with_a_warning() -> None:
    s = pen_stipple([[0.2, 0.5], [0.8, 0.5]], [0, 1])
    with pytest.warns(UserWarning, match=r"render\.pens black is ignored.*cyan,yellow"):
        png = rasterise(s, SvgOptions(color="pens", dot_px=16, pens="black"))
    assert png[25, 20] == pytest.approx([0, 255, 255], abs=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rasterise(s, SvgOptions(color="pens", dot_px=16))
        rasterise(s, SvgOptions(color="pens", dot_px=16, pens="cyan,yellow"))


def test_svg_has_one_multiplying_group_per_pen_with_dots() -> None:
    s = pen_stipple([[0.2, 0.5], [0.5, 0.5], [0.8, 0.5]], [0, 0, 2], "cyan,magenta,yellow")
    text = build_svg(s, SvgOptions(color="pens"))
    assert text.count("<g ") == 2 and text.count("mix-blend-mode:multiply") == 2
    assert 'fill="#00ffff"' in text and 'fill="#ffff00"' in text and 'fill="#ff00ff"' not in text


def test_plot_preview_multiplies_crossing_pens() -> None:
    """Two crossing 1 mm strokes, cyan and yellow: green where they cross, each pen's own
    colour elsewhere, the paper white."""
    strokes = {"cyan": np.array([1 + 5j, 9 + 5j]), "yellow": np.array([5 + 1j, 5 + 9j])}
    layers = [
        Layer(Pen(name, tuple(c / 255 for c in parse_pen_set(name)[0].rgb), 1.0), [path])
        for name, path in strokes.items()
    ]
    image = np.asarray(preview_image(PlotDocument(10, 10, layers), 10.0)) / 255
    assert image[50, 50] == pytest.approx(GREEN, abs=0.01)
    assert image[50, 20] == pytest.approx(CYAN, abs=0.01)
    assert image[20, 50] == pytest.approx(YELLOW, abs=0.01)
    assert image[20, 20] == pytest.approx([1, 1, 1], abs=0.01)
