"""Pen-plotter output: stipples as plot documents (one layer of paths per pen, in mm),
written as SVG for AxiDraw/saxi/vpype, HPGL or G-code.

    from stipplr.plotter import PlotOptions, make_plot, write_plot
    plot = make_plot(stipple, PlotOptions(paper="a4", pen_width="0.3mm"))
    write_plot(plot, "out.svg")

:class:`PlotOptions` parses every option once (lengths to mm, pens to colours); its
:class:`Machine` part is the G-code machine (speeds, pen timing, profile, origin).
:func:`plan_plot` picks the dot count whose ink matches an image's tone before stippling
(``--points auto``; see :mod:`stipplr.plotter.ink`)::

    plan, options = plan_plot(darkness, PlotOptions(pen_width="0.3mm"), engine="lbg")
    plot = make_plot(stipplr.stipple(image, plan.points, "lbg"), options, "svg", darkness)
"""

from stipplr.plotter.build import Plot, make_plot
from stipplr.plotter.document import Layer, Pen, PlotDocument
from stipplr.plotter.files import FORMATS, plot_format, write_plot
from stipplr.plotter.ink import InkPlan, ToneWarning
from stipplr.plotter.options import Machine, PlotOptions
from stipplr.plotter.plan import plan_plot
from stipplr.plotter.preview import check_preview_path, write_preview
from stipplr.plotter.stats import PlotStats

__all__ = [
    "FORMATS",
    "InkPlan",
    "Layer",
    "Machine",
    "Pen",
    "Plot",
    "PlotDocument",
    "PlotOptions",
    "PlotStats",
    "check_preview_path",
    "ToneWarning",
    "make_plot",
    "plan_plot",
    "plot_format",
    "write_plot",
    "write_preview",
]
