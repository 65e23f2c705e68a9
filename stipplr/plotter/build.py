"""Stipple -> plot: lay the dots out on the page, give each to a pen, draw and order them."""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from stipplr.dots import Stipple
from stipplr.errors import OptionError
from stipplr.plotter.document import Layer, PlotDocument
from stipplr.plotter.layout import Layout, fit, place
from stipplr.plotter.options import PlotOptions
from stipplr.plotter.order import greedy_order, improve_route
from stipplr.plotter.paper import parse_paper
from stipplr.plotter.pens import assign_pens, parse_pens
from stipplr.plotter.shapes import check_kind, dot_paths
from stipplr.plotter.stats import Machine, PlotStats, pen_up_distance, plot_stats
from stipplr.plotter.units import parse_length

ORDERS = ("greedy", "input")
DEFAULT_PITCH = 0.8  # spiral pitch in pen widths: turns overlap, leaving no gaps


class CloseDotsWarning(UserWarning):
    """Some dots are closer than the pen width: their ink merges on paper."""


@dataclass(frozen=True)
class Plot:
    """A plot ready to write: the document, its statistics and the page layout."""

    document: PlotDocument
    stats: PlotStats
    layout: Layout
    options: PlotOptions


def machine_of(options: PlotOptions) -> Machine:
    """The machine settings held in ``options``."""
    return Machine(**{f.name: float(getattr(options, f.name)) for f in dataclasses.fields(Machine)})


def _check_order(options: PlotOptions) -> None:
    if options.order not in ORDERS:
        raise OptionError(f"unknown order {options.order!r} (choose from {', '.join(ORDERS)})")
    if not np.isfinite(options.optimize_seconds) or options.optimize_seconds < 0:
        raise OptionError(f"optimize_seconds must be >= 0, got {options.optimize_seconds!r}")


def warn_close_dots(centres: np.ndarray, pen_width: float) -> int:
    """Count (and warn about) dots whose nearest neighbour is closer than the pen width."""
    if len(centres) < 2:
        return 0
    points = np.column_stack([centres.real, centres.imag])
    distance, _ = cKDTree(points).query(points, k=2)
    count = int((distance[:, 1] < pen_width).sum())
    if count:
        warnings.warn(
            f"{count} of {len(centres)} dots are closer than the pen width ({pen_width:g} mm) "
            "to another dot and will merge on paper (fewer points, larger paper or finer pen)",
            CloseDotsWarning,
            stacklevel=3,
        )
    return count


def route(centres: np.ndarray, options: PlotOptions, seconds: float) -> np.ndarray:
    """Drawing order of ``centres`` (complex mm) starting from home at the page corner."""
    if options.order == "input" or len(centres) < 2:
        return np.arange(len(centres))
    points, home = np.column_stack([centres.real, centres.imag]), np.zeros(2)
    return improve_route(points, greedy_order(points, home), home, seconds)


def make_plot(stipple: Stipple, options: PlotOptions | None = None) -> Plot:
    """Turn ``stipple`` into a :class:`Plot`: one layer per pen, dots ordered per layer."""
    options = options or PlotOptions()
    pen_width = parse_length(options.pen_width, "pen width", allow_zero=False)
    tick = parse_length(options.tick, "tick", allow_zero=False)
    margin = parse_length(options.margin, "margin")
    page = parse_paper(options.paper, options.landscape)
    kind = check_kind(options.dot)
    pens = parse_pens(options.pens, pen_width)
    machine = machine_of(options)
    _check_order(options)
    pitch = (
        DEFAULT_PITCH * pen_width
        if options.spiral_pitch is None
        else parse_length(options.spiral_pitch, "spiral pitch", allow_zero=False)
    )
    if pitch > pen_width:
        raise OptionError(f"spiral pitch {pitch:g} mm must not exceed the pen width")
    sized = stipple.radius is not None and options.dot_size is None
    fixed = pen_width if options.dot_size is None else parse_length(options.dot_size, "dot size")
    reach_px = float(stipple.radius.max()) if sized and len(stipple) else 0.0
    reach_mm = max((tick + pen_width) / 2, 0.0 if sized else fixed / 2)
    layout = fit((stipple.width, stipple.height), page, margin, reach_px, reach_mm)
    centres = place(stipple, layout)
    diameters = 2 * stipple.radius * layout.scale if sized else np.full(len(stipple), fixed)
    warn_close_dots(centres, pen_width)

    owner = assign_pens(stipple.rgb, pens)
    document = PlotDocument(page[0], page[1])
    input_order = PlotDocument(page[0], page[1])
    for index, pen in enumerate(pens):
        mine = np.flatnonzero(owner == index)
        paths = dot_paths(centres[mine], diameters[mine], kind, pen_width, tick, pitch)
        seconds = options.optimize_seconds * len(mine) / max(len(stipple), 1)
        order = route(centres[mine], options, seconds)
        input_order.layers.append(Layer(pen, paths))
        document.layers.append(Layer(pen, [paths[i] for i in order]))
    stats = plot_stats(document, machine, len(stipple), pen_up_distance(input_order))
    document.meta = {"stats": stats.to_dict(), "source": stipple.meta}
    return Plot(document, stats, layout, options)
