"""Flags that would do nothing say so, and a tiny source still gets a picture you can see.

A flag the user typed that cannot change the output -- ``--points`` for a saved stipple,
``--profile`` for an HPGL file, ``--jobs`` with the neural engine -- is named in a
warning rather than silently ignored. A source image so small that its dots would be
packed closer than :data:`MIN_SPACING_PX` output pixels is drawn larger (unless the page
size was given), with a warning that says how large.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from stipplr.dots import Stipple

MIN_SPACING_PX = 3.0
"""The closest mean dot spacing, in output pixels, a default-size picture is drawn at."""
PAGE_SIZE_OPTIONS = ("width", "height", "size_mm", "width_mm", "height_mm")
"""Renderer options that set the page size (given: the picture is drawn as asked)."""
PLOT_ONLY = {
    "profile": ("gcode",),
    "pen_up_value": ("gcode",),
    "pen_down_value": ("gcode",),
    "origin": ("hpgl", "gcode"),
}
"""Plot options that only some plot formats use: option -> the formats that use it."""


def no_effect(flags: Iterable[str], why: str) -> str:
    """``--points, --engine have no effect: WHY``."""
    flags = list(dict.fromkeys(flags))
    return f"{', '.join(flags)} {'has' if len(flags) == 1 else 'have'} no effect: {why}"


def warn_no_effect(flags: Iterable[str], why: str) -> None:
    """Warn that the ``flags`` given (if any) have no effect, and ``why``."""
    flags = list(flags)
    if flags:
        warnings.warn(no_effect(flags, why), stacklevel=2)


def unused_plot_options(given: Iterable[str], fmt: str) -> list[str]:
    """Of the plot options ``given``, those a ``fmt`` (svg, hpgl, gcode) file never uses."""
    return [name for name in given if fmt not in PLOT_ONLY.get(name, (fmt,))]


def warn_unused_plot_options(given: dict[str, str], fmt: str) -> None:
    """Warn about given plot options (option -> flag as typed) that ``fmt`` never uses."""
    unused = unused_plot_options(given, fmt)
    for name in unused:
        users = " and ".join(f".{f}" for f in PLOT_ONLY[name])
        warn_no_effect([given[name]], f"{name} applies to {users} files, not .{fmt}")


def small_source_width(stipple: Stipple) -> int | None:
    """The page width that puts the dots :data:`MIN_SPACING_PX` apart, when the source is
    too small for that at its own size; None when it is large enough."""
    if not len(stipple):
        return None
    spacing = math.sqrt(stipple.width * stipple.height / len(stipple))
    if spacing >= MIN_SPACING_PX:
        return None
    return math.ceil(stipple.width * MIN_SPACING_PX / spacing)


def fit_small_source(stipple: Stipple, options: Any, source: Path) -> Any:
    """Renderer ``options`` for ``stipple``: drawn larger, with a warning, when the source
    is tiny for its dots and the options leave the page size to the source."""
    fields = (
        {f.name for f in dataclasses.fields(options)}
        if dataclasses.is_dataclass(options)
        else set()
    )
    if not set(PAGE_SIZE_OPTIONS) <= fields or any(
        getattr(options, name) is not None for name in PAGE_SIZE_OPTIONS
    ):
        return options
    width = small_source_width(stipple)
    if width is None:
        return options
    enlarged = dataclasses.replace(options, width=width)
    height = max(1, round(width / stipple.aspect))
    warnings.warn(
        f"{source} is only {stipple.width}x{stipple.height} px for {len(stipple)} dots: "
        f"drawing it at {width}x{height} px so the dots show (-O width=PX to choose)",
        stacklevel=2,
    )
    return enlarged
