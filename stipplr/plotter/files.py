"""Write a plot to a file whose extension picks the format: SVG, HPGL or G-code.

:func:`check_format` refuses what a format cannot do before any work (a top-left origin
for HPGL); :func:`estimate_only` names the timing options a format's file does not
contain, which then change only the time estimate (or nothing), so the command line can
say so.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from pathlib import Path

from stipplr.atomic import atomic_path
from stipplr.errors import OptionError
from stipplr.plotter.build import Plot, home_of
from stipplr.plotter.frame import check_hpgl_origin
from stipplr.plotter.gcode import gcode_chunks
from stipplr.plotter.hpgl import hpgl_chunks
from stipplr.plotter.options import PlotOptions
from stipplr.plotter.stats import DWELL, PlotStats, plot_stats
from stipplr.plotter.svg import svg_chunks

FORMATS = {  # the one table of plot file types: the plot renderer's extensions come from it
    ".svg": "svg",
    ".hpgl": "hpgl",
    ".plt": "hpgl",
    ".gcode": "gcode",
    ".nc": "gcode",
    ".gc": "gcode",
}
TIMING = ("speed_down", "speed_up", "accel_down", "accel_up", "drop_time", "raise_time")
"""Machine options the time estimate uses; a file may or may not contain them."""


def plot_format(path: str | os.PathLike[str]) -> str:
    """``svg``, ``hpgl`` or ``gcode`` from the file extension (one-line error if none)."""
    fmt = FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise OptionError(f"{path}: plot files end in {', '.join(FORMATS)}")
    return fmt


def check_format(options: PlotOptions, fmt: str) -> None:
    """Refuse (one line) options a ``fmt`` file cannot honour, before any work: HPGL's
    y axis points up, so its origin is bottom-left only."""
    if fmt == "hpgl":
        check_hpgl_origin(options.origin)


def estimate_only(options: PlotOptions, fmt: str) -> dict[str, str]:
    """The machine timing options a ``fmt`` file does not contain, each with what it then
    does: change only the time estimate, or nothing (a dwell the profile never writes is
    not counted either)."""
    estimate = "changes only the time estimate"
    if fmt != "gcode":  # SVG: the plotter software's own settings; HPGL writes VS only
        return {name: estimate for name in TIMING if fmt == "svg" or name != "speed_down"}
    profile = options.profile
    moves = " ".join((profile.header, profile.move, profile.draw, profile.pen_up, profile.pen_down))
    unused = {"accel_down": estimate, "accel_up": estimate}
    for name, placeholder in (("speed_down", "{feed_down"), ("speed_up", "{feed_up")):
        if placeholder not in moves:
            unused[name] = estimate
    for name, snippet in (("drop_time", profile.pen_down), ("raise_time", profile.pen_up)):
        if not DWELL.search(snippet):
            unused[name] = f"has no effect (profile {profile.name} writes no dwell)"
    return unused


def warn_estimate_only(given: dict[str, str], options: PlotOptions, fmt: str) -> None:
    """Warn about given timing options (option -> how given) that a ``fmt`` file lacks."""
    unused = estimate_only(options, fmt)
    for name, how in given.items():
        if name in unused:
            warnings.warn(f"{how} {unused[name]}: a .{fmt} file does not contain it", stacklevel=2)


def stats_for(plot: Plot, fmt: str) -> PlotStats:
    """The plot's statistics for a ``fmt`` file (recomputed when it was made for another:
    the time estimate and home depend on the format; the order stays)."""
    if fmt == plot.fmt:
        return plot.stats
    options = plot.options
    home = home_of(fmt, options.page, options.origin)
    s = plot.stats
    fresh = plot_stats(plot.document, options, s.dots, s.pen_up_mm_input_order, fmt, home)
    return fresh.with_ink(s.coverage, s.darkness)


def plot_chunks(plot: Plot, fmt: str) -> Iterator[str]:
    """The plot as ``svg``, ``hpgl`` or ``gcode`` text, in pieces."""
    machine = plot.options
    if fmt == "svg":
        return svg_chunks(plot.document)
    if fmt == "hpgl":
        return hpgl_chunks(plot.document, machine.origin, machine.speed_down)
    notes = [f"stipplr plot, profile {machine.profile.name}, origin {machine.origin}"]
    return gcode_chunks(plot.document, machine, [*notes, *stats_for(plot, fmt).lines()])


def plot_text(plot: Plot, fmt: str) -> str:
    """The plot as ``svg``, ``hpgl`` or ``gcode`` text."""
    return "".join(plot_chunks(plot, fmt))


def write_plot(plot: Plot, path: str | os.PathLike[str]) -> Path:
    """Write ``plot`` atomically in the format its extension names, streamed in pieces
    (a plot of millions of dots never sits in memory as one string)."""
    fmt = plot_format(path)
    check_format(plot.options, fmt)
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as out:
        for chunk in plot_chunks(plot, fmt):
            out.write(chunk)
    return Path(path)
