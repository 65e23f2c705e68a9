"""``plot`` renderer: pen-plotter files (HPGL, G-code, or plot-SVG when asked by name).

Plot-SVG (layers per pen, in mm) is written for ``.svg`` paths only when this renderer is
chosen explicitly (``renderer="plot"``); a bare ``.svg`` goes to the ``svg`` renderer.
"""

from __future__ import annotations

from pathlib import Path

from stipplr.dots import Stipple
from stipplr.plotter import FORMATS, PlotOptions, make_plot, plot_format, write_plot
from stipplr.renderers import Renderer


def write(stipple: Stipple, path: Path, options: PlotOptions) -> None:
    """Lay out, order and write ``stipple`` for a pen plotter (ordered and estimated for
    the format ``path`` names)."""
    write_plot(make_plot(stipple, options, plot_format(path)), path)


RENDERER = Renderer(
    "plot",
    tuple(ext for ext in FORMATS if ext != ".svg"),  # a bare .svg goes to the svg renderer
    "pen-plotter HPGL / G-code (and plot-SVG with renderer='plot'): one layer per pen, "
    "dots ordered to cut pen-up travel",
    PlotOptions,
    write,
    section="plot",
    default_extension=".svg",
)
