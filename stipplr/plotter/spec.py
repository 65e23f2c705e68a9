"""Plot options checked and converted once: lengths in mm, parsed pens, the machine, the
G-code profile. Bad values fail here, in one line, before any stippling work."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stipplr.errors import OptionError
from stipplr.paper import parse_paper
from stipplr.plotter.document import Pen
from stipplr.plotter.frame import check_origin
from stipplr.plotter.pens import parse_pens
from stipplr.plotter.profiles import GcodeProfile, get_profile
from stipplr.plotter.shapes import check_kind
from stipplr.plotter.stats import Machine
from stipplr.units import parse_length

if TYPE_CHECKING:
    from stipplr.plotter.options import PlotOptions

ORDERS = ("greedy", "input")
DEFAULT_PITCH = 0.8  # spiral pitch in pen widths: turns overlap, leaving no gaps


@dataclass(frozen=True)
class PlotSpec:
    """Validated plot settings in mm; ``dot_size`` None means "from the stipple's radii
    when it has them, else the pen width"."""

    page: tuple[float, float]
    margin: float
    pen_width: float
    pens: list[Pen]
    kind: str
    dot_size: float | None
    tick: float
    pitch: float
    order: str
    optimize_seconds: float
    machine: Machine
    profile: GcodeProfile
    origin: str
    pen_up_value: float | None
    pen_down_value: float | None


def number(name: str, value: Any, *, optional: bool = False) -> float | None:
    """``value`` as a finite float (None allowed when ``optional``), else a one-line error."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise OptionError(f"{name} must be a number, got {value!r}")
    return float(value)


def resolve(options: PlotOptions) -> PlotSpec:
    """Check every option of ``options`` and convert it (one-line error on the first bad one)."""
    pen_width = parse_length(options.pen_width, "pen width", allow_zero=False)
    if not isinstance(options.landscape, bool):
        raise OptionError(f"landscape must be true or false, got {options.landscape!r}")
    if options.order not in ORDERS:
        raise OptionError(f"unknown order {options.order!r} (choose from {', '.join(ORDERS)})")
    seconds = number("optimize_seconds", options.optimize_seconds)
    if seconds < 0:
        raise OptionError(f"optimize_seconds must be >= 0, got {seconds!r}")
    pitch = (
        DEFAULT_PITCH * pen_width
        if options.spiral_pitch is None
        else parse_length(options.spiral_pitch, "spiral pitch", allow_zero=False)
    )
    if pitch > pen_width:
        raise OptionError(f"spiral pitch {pitch:g} mm must not exceed the pen width")
    machine = Machine(
        **{f.name: number(f.name, getattr(options, f.name)) for f in dataclasses.fields(Machine)}
    )
    page = parse_paper(options.paper, options.landscape)
    margin = parse_length(options.margin, "margin")
    if 2 * margin >= min(page):
        raise OptionError(
            f"margin {margin:g} mm leaves no room on a {page[0]:g} x {page[1]:g} mm page"
        )
    return PlotSpec(
        page=page,
        margin=margin,
        pen_width=pen_width,
        pens=parse_pens(options.pens, pen_width),
        kind=check_kind(options.dot),
        dot_size=None
        if options.dot_size is None
        else parse_length(options.dot_size, "dot size", allow_zero=False),
        tick=parse_length(options.tick, "tick", allow_zero=False),
        pitch=pitch,
        order=options.order,
        optimize_seconds=seconds,
        machine=machine,
        profile=get_profile(options.profile),
        origin=check_origin(options.origin),
        pen_up_value=number("pen_up_value", options.pen_up_value, optional=True),
        pen_down_value=number("pen_down_value", options.pen_down_value, optional=True),
    )
