"""Write a plot to a file whose extension picks the format: SVG, HPGL or G-code."""

from __future__ import annotations

import os
from pathlib import Path

from stipplr.atomic import write_text
from stipplr.errors import OptionError
from stipplr.plotter.build import Plot
from stipplr.plotter.gcode import plot_gcode
from stipplr.plotter.hpgl import plot_hpgl
from stipplr.plotter.svg import plot_svg

FORMATS = {  # the one table of plot file types: the plot renderer's extensions come from it
    ".svg": "svg",
    ".hpgl": "hpgl",
    ".plt": "hpgl",
    ".gcode": "gcode",
    ".nc": "gcode",
    ".gc": "gcode",
}


def plot_text(plot: Plot, fmt: str) -> str:
    """The plot as ``svg``, ``hpgl`` or ``gcode`` text."""
    machine = plot.options
    if fmt == "svg":
        return plot_svg(plot.document)
    if fmt == "hpgl":
        return plot_hpgl(plot.document, machine.origin, machine.speed_down)
    notes = [f"stipplr plot, profile {machine.profile.name}, origin {machine.origin}"]
    return plot_gcode(plot.document, machine, [*notes, *plot.stats.lines()])


def plot_format(path: str | os.PathLike[str]) -> str:
    """``svg``, ``hpgl`` or ``gcode`` from the file extension (one-line error if none)."""
    fmt = FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise OptionError(f"{path}: plot files end in {', '.join(FORMATS)}")
    return fmt


def write_plot(plot: Plot, path: str | os.PathLike[str]) -> Path:
    """Write ``plot`` atomically in the format its extension names."""
    fmt = plot_format(path)
    write_text(path, plot_text(plot, fmt))
    return Path(path)
