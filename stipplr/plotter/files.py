"""Write a plot to a file whose extension picks the format: SVG, HPGL or G-code."""

from __future__ import annotations

import os
from pathlib import Path

from stipplr.atomic import write_text
from stipplr.errors import OptionError
from stipplr.plotter.build import Plot, machine_of
from stipplr.plotter.frame import check_origin
from stipplr.plotter.gcode import plot_gcode
from stipplr.plotter.hpgl import plot_hpgl
from stipplr.plotter.profiles import get_profile
from stipplr.plotter.svg import plot_svg

FORMATS = {
    ".svg": "svg",
    ".hpgl": "hpgl",
    ".plt": "hpgl",
    ".gcode": "gcode",
    ".nc": "gcode",
    ".gc": "gcode",
}


def plot_text(plot: Plot, fmt: str) -> str:
    """The plot as ``svg``, ``hpgl`` or ``gcode`` text."""
    options = plot.options
    if fmt == "svg":
        return plot_svg(plot.document)
    origin = check_origin(options.origin)
    machine = machine_of(options)
    if fmt == "hpgl":
        return plot_hpgl(plot.document, origin, machine.speed_down)
    profile = get_profile(options.profile)
    notes = [f"stipplr plot, profile {profile.name}, origin {origin}", *plot.stats.lines()]
    return plot_gcode(
        plot.document, profile, machine, origin, notes, options.pen_up_value, options.pen_down_value
    )


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
