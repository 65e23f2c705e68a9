"""Stipple -> plot: lay the dots out on the page, give each to a pen, draw and order them."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from stipplr.dots import Stipple
from stipplr.paper import Layout, fit
from stipplr.plotter.document import Layer, PlotDocument
from stipplr.plotter.options import PlotOptions
from stipplr.plotter.order import greedy_order, improve_route
from stipplr.plotter.pens import assign_pens
from stipplr.plotter.shapes import dot_paths
from stipplr.plotter.stats import PlotStats, pen_up_distance, plot_stats


class CloseDotsWarning(UserWarning):
    """Some dots are closer than the pen width: their ink merges on paper."""


@dataclass(frozen=True)
class Plot:
    """A plot ready to write: the document, its statistics, the page layout (source px ->
    page mm) and the options it was made with."""

    document: PlotDocument
    stats: PlotStats
    layout: Layout
    options: PlotOptions


def place(stipple: Stipple, layout: Layout) -> np.ndarray:
    """Dot centres on the page as complex mm (y down)."""
    xy = stipple.pixels().astype(float) * layout.scale + np.array(layout.offset)
    return xy[:, 0] + 1j * xy[:, 1]


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
    sized = stipple.radius is not None and options.dot_size is None
    fixed = options.pen_width if options.dot_size is None else options.dot_size
    reach_px = float(stipple.radius.max()) if sized and len(stipple) else 0.0
    reach_mm = max((options.tick + options.pen_width) / 2, 0.0 if sized else fixed / 2)
    layout = fit((stipple.width, stipple.height), options.page, options.margin, reach_px, reach_mm)
    centres = place(stipple, layout)
    diameters = 2 * stipple.radius * layout.scale if sized else np.full(len(stipple), fixed)
    warn_close_dots(centres, options.pen_width)

    pens = options.make_pens()
    owner = assign_pens(stipple.rgb, pens)
    document = PlotDocument(*options.page)
    input_order = PlotDocument(*options.page)
    for index, pen in enumerate(pens):
        mine = np.flatnonzero(owner == index)
        paths = dot_paths(
            centres[mine],
            diameters[mine],
            options.dot,
            options.pen_width,
            options.tick,
            options.pitch,
        )
        seconds = options.optimize_seconds * len(mine) / max(len(stipple), 1)
        order = route(centres[mine], options, seconds)
        input_order.layers.append(Layer(pen, paths))
        document.layers.append(Layer(pen, [paths[i] for i in order]))
    stats = plot_stats(document, options, len(stipple), pen_up_distance(input_order))
    document.meta = {"stats": stats.to_dict(), "source": stipple.meta}
    return Plot(document, stats, layout, options)
