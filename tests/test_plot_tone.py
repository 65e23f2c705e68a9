"""Ink on paper: the coverage model, --points auto and its caps, dots sized by tone, and
the anti-aliased preview that measures what the model predicts."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import stipplr
from stipplr.dots import Stipple
from stipplr.errors import OptionError
from stipplr.plotter import PlotOptions, make_plot, write_plot
from stipplr.plotter.ink import MERGE, ToneWarning, ink_areas, saturate
from stipplr.plotter.plan import plan_plot, tone_of
from stipplr.plotter.preview import (
    PreviewScale,
    check_preview,
    measured_coverage,
    pixels_per_mm,
    preview_image,
)

SQUARE = {"paper": "100x100mm", "margin": "10mm"}


def flat(level: float, size: int = 96) -> np.ndarray:
    return np.full((size, size), level, dtype=np.float32)


def quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return func(*args, **kwargs)


@pytest.mark.parametrize(("level", "pen"), [(0.25, "0.5mm"), (0.6, "0.4mm")])
def test_flat_grey_predicted_coverage_is_what_the_preview_measures(level, pen):
    options = PlotOptions(**SQUARE, pen_width=pen, dot="touch")
    dark = flat(level)
    plan, options = plan_plot(dark, options, "dither")
    stipple = stipplr.stipple(np.dstack([1 - dark] * 3), plan.points, engine="dither", seed=1)
    plot = quiet(make_plot, stipple, options, "svg", dark)
    measured = measured_coverage(preview_image(plot.document, 16.0), plot.picture, 16.0)
    assert plan.darkness == pytest.approx(level, rel=1e-3)
    assert plot.stats.coverage == pytest.approx(measured, rel=0.06)
    assert measured == pytest.approx(level, rel=0.10)  # the floor is 15 %


def test_the_saturation_model_is_linear_to_the_knee_then_below_the_nominal():
    c = np.array([0.1, 0.4, 0.8, 2.0, 10.0])
    covered = saturate(c, 0.4)
    assert covered[:2] == pytest.approx(c[:2])
    assert np.all(covered[2:] < c[2:]) and np.all(np.diff(covered) > 0) and covered[-1] < 1


def test_dot_ink_areas():
    kinds = np.array(["touch", "circle", "circle", "spiral"])
    areas = ink_areas(kinds, np.array([0.3, 0.6, 1.0, 1.0]), 0.3, 0.05)
    assert areas[0] == pytest.approx(np.pi * 0.3**2 / 4 + 0.05 * 0.3)
    assert areas[1] == pytest.approx(np.pi * 0.3**2)  # one ring fills two pen widths
    assert areas[2] == pytest.approx(np.pi * (0.5**2 - 0.2**2))  # a ring with a hole
    assert areas[3] == pytest.approx(np.pi * 0.5**2)


def test_auto_points_scale_with_paper_area_and_pen_width():
    dark = flat(0.3)

    def n(**values):
        options = PlotOptions(margin="10mm", dot="touch", max_dots=2_000_000, **values)
        plan, _ = plan_plot(dark, options, "lbg")
        return plan.points, tone_of(dark, options, "lbg").picture

    (a5, area5), (a3, area3) = n(paper="a5"), n(paper="a3")
    assert a3 / a5 == pytest.approx(area3 / area5, rel=0.02)
    fine, _ = n(paper="a5", pen_width="0.3mm")
    wide, _ = n(paper="a5", pen_width="0.6mm")
    touch = lambda w: np.pi * w * w / 4 + 0.05 * w  # noqa: E731
    assert fine / wide == pytest.approx(touch(0.6) / touch(0.3), rel=0.02)


def test_max_dots_caps_auto_and_the_warning_names_the_darkest_tone():
    options = PlotOptions(**SQUARE, dot="touch", max_dots=400)
    with pytest.warns(ToneWarning, match=r"capped by --max-dots.*darkest tone these dots reach"):
        plan, _ = plan_plot(flat(0.5), options, "lbg")
    assert plan.points == 400 and plan.limit == "max-dots" and plan.coverage < 0.1


def test_black_image_stops_where_dots_merge():
    options = PlotOptions(**SQUARE, pen_width="0.5mm", dot="touch", max_dots=2_000_000)
    with pytest.warns(ToneWarning, match="merge"):
        plan, _ = plan_plot(flat(1.0), options, "lbg")
    tones = tone_of(flat(1.0), options, "lbg", n_hint=plan.points)
    assert plan.limit == "merge"
    assert tones.nominal(plan.points).max() == pytest.approx(MERGE, rel=0.01)


def test_an_explicit_count_far_off_the_tone_warns_and_a_close_one_does_not():
    options = PlotOptions(**SQUARE, dot="touch")
    auto, _ = plan_plot(flat(0.3), options, "lbg")
    with pytest.warns(ToneWarning, match="much lighter"):
        plan_plot(flat(0.3), options, "lbg", points=auto.points // 3)
    with pytest.warns(ToneWarning, match="much darker"):
        plan_plot(flat(0.3), options, "lbg", points=auto.points * 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ToneWarning)
        plan, _ = plan_plot(flat(0.3), options, "lbg", points=auto.points)
    assert plan.how() == "as given"


def test_a_pen_too_wide_for_the_count_is_a_one_line_error():
    options = PlotOptions(paper="a6", pen_width="2mm")
    with pytest.raises(OptionError) as info:
        plan_plot(flat(0.5), options, "lbg", points=200_000)
    assert "2mm pen is too wide for 200,000" in str(info.value) and "\n" not in str(info.value)
    stipple = Stipple(np.random.default_rng(0).random((5000, 2)), np.zeros((5000, 3)), 50, 50)
    with pytest.raises(OptionError, match="too wide"):
        make_plot(stipple, options)


def test_auto_dots_grow_when_touch_dots_cannot_reach_the_tone():
    options = PlotOptions(**SQUARE, pen_width="0.3mm", max_dots=3000)
    touch, _ = quiet(plan_plot, flat(0.5), PlotOptions(**SQUARE, dot="touch", max_dots=3000))
    plan, grown = quiet(plan_plot, flat(0.5), options, "lbg")
    assert grown.dot_size is not None and 0.3 < grown.dot_size <= 1.2
    assert plan.dot and plan.coverage > touch.coverage
    assert plan.coverage >= 0.95 * plan.darkness


def tone_stipple(n: int = 400) -> Stipple:
    """Left half black dots, right half light grey ones."""
    rng = np.random.default_rng(4)
    xy = rng.random((n, 2))
    grey = np.where(xy[:, :1] < 0.5, 0.0, 0.9)
    return Stipple(xy, np.repeat(grey, 3, axis=1), 60, 60)


@pytest.mark.parametrize("kind", ["circle", "spiral"])
def test_circle_and_spiral_dots_without_a_size_follow_the_tone(tmp_path, kind):
    stipple = tone_stipple()
    touch = quiet(make_plot, stipple, PlotOptions(dot="touch"))
    sized = quiet(make_plot, stipple, PlotOptions(dot=kind))
    a, b = write_plot(touch, tmp_path / "t.svg"), write_plot(sized, tmp_path / "s.svg")
    assert a.read_text() != b.read_text()
    spans = {}
    for path in sized.document.layers[0].paths:
        centre = (path[0] + path[-1]) / 2 if len(path) == 2 else path[0]
        left = centre.real < sized.document.width / 2
        spans.setdefault(left, []).append(np.ptp(path.real))
    dark, light = np.median(spans[True]), np.median(spans[False])
    assert dark > 2 * light  # black dots larger than light-grey ones
    assert max(spans[True]) <= 4 * 0.3 + 1e-6  # at most 4 pen widths wide (spiral's cap)
    assert sized.stats.coverage > touch.stats.coverage


def test_preview_is_anti_aliased_and_scales():
    stipple = Stipple(np.array([[0.5, 0.5]]), np.zeros((1, 3)), 10, 10)
    plot = make_plot(stipple, PlotOptions(paper="20x20mm", margin=5, pen_width="0.3mm"))
    grey = np.asarray(preview_image(plot.document, 8.0).convert("L"))
    assert ((grey > 0) & (grey < 255)).any()  # edge pixels are partly inked
    ink = (1 - grey / 255).sum() / 64  # mm^2 at 8 px/mm
    assert ink == pytest.approx(np.pi * 0.3**2 / 4 + 0.05 * 0.3, rel=0.08)
    assert pixels_per_mm("300dpi", (210, 297)) == pytest.approx(300 / 25.4)
    assert pixels_per_mm("1600px", (210, 297)) == pytest.approx(1600 / 297)
    assert pixels_per_mm("12", (210, 297)) == 12
    with pytest.raises(OptionError, match="preview scale must be"):
        PreviewScale()("big", "preview scale")


def test_a_preview_over_the_memory_budget_is_refused_in_one_line(tmp_path):
    with pytest.raises(OptionError) as info:
        check_preview(tmp_path / "p.png", (420, 594), "200px/mm")
    assert "memory budget" in str(info.value) and "\n" not in str(info.value)
    assert not (tmp_path / "p.png").exists()


def test_dots_over_the_memory_budget_are_refused_in_one_line():
    stipple = Stipple(np.random.default_rng(0).random((20, 2)), np.zeros((20, 3)), 100, 100)
    options = PlotOptions(paper="4000x4000mm", pen_width="0.005mm", dot="spiral", dot_size="30cm")
    with pytest.raises(OptionError) as info:
        quiet(make_plot, stipple, options)
    assert "memory budget" in str(info.value) and "\n" not in str(info.value)
