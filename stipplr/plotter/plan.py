"""The dot count of a plot of an image: ``--points auto`` or a given N checked against the
image's tone, before any stippling work (see :mod:`stipplr.plotter.ink`).

    from stipplr.plotter.plan import plan_plot
    plan, options = plan_plot(darkness, PlotOptions(pen_width="0.3mm"), engine="neural")
    plot = make_plot(stipplr.stipple(image, plan.points), options, darkness_map=darkness)
"""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np

from stipplr.plotter.build import dot_noun, plot_layout, sizing
from stipplr.plotter.ink import (
    SHORTFALL,
    InkPlan,
    ToneMap,
    ToneWarning,
    check_fits,
    check_points,
    ink_areas,
    knee_of,
    plan_points,
    tone_map,
)
from stipplr.plotter.options import PlotOptions
from stipplr.plotter.shapes import dot_kinds, tone_diameters
from stipplr.units import format_length


def dot_area_of(options: PlotOptions, how: str, scale: float, radius: tuple[float, float] | None):
    """``area(g)``: the ink area (mm^2) of a dot where the darkness is g."""
    pen, tick = options.pen_width, options.tick

    def area(g: np.ndarray) -> np.ndarray:
        if how == "tone":
            diameters = tone_diameters(g, options.dot, pen)
        elif how == "radius" and radius is not None:
            diameters = 2 * (radius[0] + (radius[1] - radius[0]) * g) * scale
        else:
            size = pen if options.dot_size is None else options.dot_size
            diameters = np.full(np.shape(g), size)
        return ink_areas(dot_kinds(diameters, options.dot, pen, tick), diameters, pen, tick)

    return area


def tone_of(
    darkness: np.ndarray,
    options: PlotOptions,
    engine: str | None,
    radius: tuple[float, float] | None = None,
    n_hint: float | None = None,
    fmt: str = "svg",
) -> ToneMap:
    """The tone map of ``darkness`` laid out as ``options`` would lay out its stipple for a
    ``fmt`` file."""
    height, width = darkness.shape
    how = sizing(options, radius is not None)
    reach_px = max(radius) if how == "radius" and radius else 0.0
    layout = plot_layout((width, height), options, how, reach_px, fmt)
    area = dot_area_of(options, how, layout.scale, radius)
    if n_hint is None:  # the linear estimate, for the smoothing scale
        picture = width * height * layout.scale**2
        mean = float(np.mean(darkness))
        n_hint = mean * picture / float(area(np.array([max(mean, 1e-6)]))[0])
    return tone_map(darkness, layout, area, knee_of(engine), max(n_hint, 1.0))


GROWTH = 4.0
"""``--dot auto`` grows dots up to this many pen widths (circles, then spirals) when
touch dots cannot reach the image's tone within the caps."""


def plan_plot(
    darkness: np.ndarray,
    options: PlotOptions,
    engine: str | None = None,
    points: int | str = "auto",
    radius: tuple[float, float] | None = None,
    n_range: tuple[int, int] = (1, 10**9),
    fmt: str = "svg",
) -> tuple[InkPlan, PlotOptions]:
    """The dot count for a plot of ``darkness`` (the image after the tone stage), and the
    options to draw it with.

    ``auto`` matches the image's mean darkness (capped: see :func:`~ink.plan_points`);
    with ``--dot auto`` and no dot size, touch dots that cannot get there within the caps
    grow, all alike, to the smallest size that does (at most :data:`GROWTH` pen widths:
    circles up to two, spirals beyond). A given N is refused when its dots cannot stay
    separate and warned about when far off."""
    if points != "auto":
        tones = tone_of(darkness, options, engine, radius, float(points), fmt)
        smallest = float(tones.dot_area.min(initial=math.inf))
        check_fits(int(points), smallest, tones.picture, dot_noun(options))
        return check_points(tones, int(points)), options
    chosen = options
    job = (engine, radius, n_range, fmt)
    plan = _quiet_plan(darkness, options, job)
    grows = options.dot == "auto" and sizing(options, radius is not None) == "fixed"
    if grows and options.dot_size is None and _short(plan):
        chosen = _grown(darkness, options, job)
    tones = tone_of(darkness, chosen, engine, radius, float(plan.points), fmt)
    final = plan_points(tones, chosen.max_dots, n_range)  # warns when still short
    grown = None if chosen is options else f"{format_length(chosen.dot_size)} dots"
    return dataclasses.replace(final, dot=grown), chosen


def _short(plan: InkPlan) -> bool:
    """Whether a plan is held more than :data:`SHORTFALL` below the image's darkness by
    the dot count (``--max-dots`` or the engine): larger dots would help. Merging dots
    would merge at any size."""
    short = plan.coverage < (1 - SHORTFALL) * plan.darkness
    return short and plan.limit in ("max-dots", "engine")


def _grown(darkness: np.ndarray, options: PlotOptions, job: tuple) -> PlotOptions:
    """``options`` with the smallest dot size (bisection, 0.01 mm) whose plan the dot
    count no longer holds short."""
    pen = options.pen_width
    low, high = pen, GROWTH * pen
    if _short(_quiet_plan(darkness, options, job, high)):
        return dataclasses.replace(options, dot_size=round(high, 2))
    while high - low > 0.01:
        mid = (low + high) / 2
        low, high = (mid, high) if _short(_quiet_plan(darkness, options, job, mid)) else (low, mid)
    return dataclasses.replace(options, dot_size=math.ceil(high * 100) / 100)


def _quiet_plan(
    darkness: np.ndarray, options: PlotOptions, job: tuple, dot_size: float | None = None
) -> InkPlan:
    """``auto``'s plan without its warnings (with ``dot_size`` dots if given); ``job`` is
    (engine, radius, n_range, fmt). A first N from the linear estimate's smoothing, then
    again at that N's smoothing scale."""
    engine, radius, n_range, fmt = job
    if dot_size is not None:
        options = dataclasses.replace(options, dot_size=dot_size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ToneWarning)
        tones = tone_of(darkness, options, engine, radius, None, fmt)
        first = plan_points(tones, options.max_dots, n_range)
        tones = tone_of(darkness, options, engine, radius, float(first.points), fmt)
        return plan_points(tones, options.max_dots, n_range)
