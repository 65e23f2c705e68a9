"""Options of a plot, parsed once: the drawing (page, pens, dots, order) and the machine.

The same names serve the ``plot`` renderer (``-O key=value``), the ``[plot]`` table of
presets, the ``stipplr plot`` flags and the vpype plugin. Lengths accept units (``0.3mm``,
``1in``; a bare number is mm) and are held in mm; pens hold their colours, the profile its
G-code snippets. Every value is checked when the options are built, so a bad one fails at
once, in one line, before any stippling work.
"""

from __future__ import annotations

from dataclasses import dataclass

from stipplr.inks.pensets import GCR_HELP, MIX_HELP, MIXES, Pens, PenSet
from stipplr.optionset import OptionSet, option
from stipplr.paper import Paper
from stipplr.plotter.document import Pen
from stipplr.plotter.frame import ORIGINS
from stipplr.plotter.pens import make_pens
from stipplr.plotter.profiles import GcodeProfile, Profile
from stipplr.plotter.shapes import DOT_KINDS
from stipplr.units import Length, format_length
from stipplr.validate import Choice, Flag, Number, Whole, invalid

ORDERS = ("greedy", "input")
PEN_ORDERS = ("light-first", "as-given")
DEFAULT_PITCH = 0.8  # spiral pitch in pen widths: turns overlap, leaving no gaps
POSITIVE = Number(0, above=True)
DEFAULT_MAX_DOTS = 100_000  # the shipped network's largest count; about 8 h of AxiDraw time


@dataclass(frozen=True)
class Drawing(OptionSet):
    """How the dots go on paper: page, pens, dot shapes and their order."""

    SECTION = "plot"

    paper: tuple[float, float] = option(
        "a4", "a3 | a4 | a5 | letter | ... or WxH such as 300x218mm", Paper(), flag=True
    )
    landscape: bool = option(False, "long side horizontal", Flag(), flag="--landscape/--portrait")
    margin: float = option("15mm", "blank border on every side", Length(), flag=True)
    pen_width: float = option(
        "0.3mm",
        "nib width (stroke width, spiral pitch bound)",
        Length(positive=True, example="0.3mm", what="pen width"),
        flag="--pen",
    )
    pens: PenSet = option(
        "black",
        "pens, one layer each: colours (cyan,magenta,yellow,black or hex), a pen set "
        "(cmyk, black+grey, fineliner-6) or a pen-set .toml file; several pens separate "
        "the photo's colours into one ink map per pen",
        Pens(),
        flag=True,
    )
    mix: str = option("auto", MIX_HELP, Choice(MIXES, noun="mix"), flag=True)
    gcr: float = option(1.0, GCR_HELP, Number(0, 1), flag=True)
    pen_order: str = option(
        "light-first",
        "light-first: layers from the lightest ink to the darkest (dark ink on top, as "
        "printers do); as-given: the pen set's order",
        Choice(PEN_ORDERS, noun="pen order"),
    )
    dot: str = option(
        "auto",
        "auto | touch | circle | spiral: how one dot is drawn",
        Choice(DOT_KINDS, noun="dot kind"),
        flag=True,
    )
    dot_size: float | None = option(
        None,
        "dot diameter (default: the stipple's radii if any; circle/spiral: from local tone; "
        "else the pen width)",
        Length(positive=True, example="1mm"),
        flag=True,
    )
    tick: float = option(
        "0.05mm",
        "length of a touch dot's stroke (tools drop 0-length)",
        Length(positive=True, example="0.05mm"),
        flag=True,
    )
    spiral_pitch: float | None = option(
        None,
        f"spiral turn spacing (default {DEFAULT_PITCH:g} pen widths)",
        Length(positive=True, example="0.2mm"),
    )
    order: str = option(
        "greedy",
        "greedy (nearest neighbour) | input (keep the stipple's order)",
        Choice(ORDERS),
        flag=True,
    )
    optimize_seconds: float = option(
        0.0,
        "time budget (s) for ordering in all: greedy, then 2-opt/Or-opt with the rest",
        Number(0),
        flag=True,
    )
    max_dots: int = option(
        DEFAULT_MAX_DOTS,
        "most dots --points auto may choose (pen lifts dominate plotting time)",
        Whole(1),
        flag=True,
    )

    @property
    def page(self) -> tuple[float, float]:
        """(width, height) of the page in mm, turned when ``landscape``."""
        width, height = self.paper
        return (height, width) if self.landscape and height > width else (width, height)

    @property
    def pitch(self) -> float:
        """Spiral turn spacing in mm."""
        return DEFAULT_PITCH * self.pen_width if self.spiral_pitch is None else self.spiral_pitch

    def make_pens(self) -> list[Pen]:
        """The :class:`Pen` of each of the pens (``pen_width`` wide unless the pen set
        gives a width)."""
        return make_pens(self.pens, self.pen_width)

    def check(self) -> None:
        width, height = self.page
        if 2 * self.margin >= min(width, height):
            rule = f"leave room on a {width:g} x {height:g} mm page"
            raise invalid(self.key("margin"), rule, format_length(self.margin))
        if self.pitch > self.pen_width:
            rule = f"not exceed the pen width ({format_length(self.pen_width)})"
            raise invalid(self.key("spiral_pitch"), rule, format_length(self.pitch))


@dataclass(frozen=True)
class Machine(OptionSet):
    """The plotter: speeds and pen timing (the time estimate, G-code feeds and dwells),
    the G-code dialect and its pen values, and where HPGL/G-code put the origin.
    Defaults follow saxi."""

    SECTION = "plot"

    speed_down: float = option(50.0, "pen-down speed, mm/s", POSITIVE, flag=True)
    speed_up: float = option(200.0, "pen-up speed, mm/s", POSITIVE, flag=True)
    accel_down: float = option(200.0, "pen-down acceleration, mm/s^2", POSITIVE)
    accel_up: float = option(400.0, "pen-up acceleration, mm/s^2", POSITIVE)
    drop_time: float = option(
        0.12, "seconds to lower the pen (G-code dwell after pen down)", Number(0)
    )
    raise_time: float = option(
        0.12, "seconds to raise the pen (G-code dwell after pen up)", Number(0)
    )
    profile: GcodeProfile = option(
        "grbl-servo",
        "G-code profile: grbl-servo | grbl-z | marlin | template.toml",
        Profile(),
        flag=True,
    )
    pen_up_value: float | None = option(
        None, "G-code pen-up servo value / Z (profile default)", Number()
    )
    pen_down_value: float | None = option(None, "G-code pen-down servo value / Z", Number())
    origin: str = option(
        "bottom-left",
        "G-code origin: bottom-left (y up) | top-left (y down); HPGL takes bottom-left only",
        Choice(ORIGINS),
        flag=True,
    )

    @property
    def pen_values(self) -> tuple[float, float]:
        """(pen-up, pen-down) servo values or Z: the options', else the profile's."""
        up = self.profile.up if self.pen_up_value is None else self.pen_up_value
        down = self.profile.down if self.pen_down_value is None else self.pen_down_value
        return up, down


@dataclass(frozen=True)
class PlotOptions(Machine, Drawing):
    """Every option of a plot: the drawing's, then the machine's (saxi/AxiDraw defaults)."""

    @property
    def machine(self) -> Machine:
        """Just the machine's options."""
        return Machine(**{name: getattr(self, name) for name in Machine.option_names()})
