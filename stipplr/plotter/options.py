"""Options of a plot: page, pen, dot drawing, ordering, machine and G-code settings.

The same names serve the ``plot`` renderer (``-O key=value``), the ``[plot]`` section
of presets and the ``stipplr plot`` flags. Lengths accept units (``0.3mm``, ``1in``);
a bare number is mm. Options are checked when built, so a bad value fails at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field


def _opt(default: object, help: str) -> object:
    """A dataclass field with its ``stipplr renderers`` help text."""
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class PlotOptions:
    """Every setting of a plot, with saxi/AxiDraw-like defaults."""

    paper: str = _opt("a4", "a3 | a4 | a5 | letter | ... or WxH such as 300x218mm")
    landscape: bool = _opt(False, "long side horizontal")
    margin: str | float = _opt("15mm", "blank border on every side")
    pen_width: str | float = _opt("0.3mm", "nib width (stroke width, spiral pitch bound)")
    pens: str = _opt("black", "comma list of pen colours (CSS names or hex), one layer each")
    dot: str = _opt("auto", "auto | touch | circle | spiral: how one dot is drawn")
    dot_size: str | float | None = _opt(
        None, "dot diameter (default: from the stipple's radii if any, else the pen width)"
    )
    tick: str | float = _opt("0.05mm", "length of a touch dot's stroke (tools drop 0-length)")
    spiral_pitch: str | float | None = _opt(None, "spiral turn spacing (default 0.8 pen widths)")
    order: str = _opt("greedy", "greedy (nearest neighbour) | input (keep the stipple's order)")
    optimize_seconds: float = _opt(0.0, "time budget (s) for 2-opt/Or-opt after greedy ordering")
    speed_down: float = _opt(50.0, "pen-down speed, mm/s")
    speed_up: float = _opt(200.0, "pen-up speed, mm/s")
    accel_down: float = _opt(200.0, "pen-down acceleration, mm/s^2")
    accel_up: float = _opt(400.0, "pen-up acceleration, mm/s^2")
    drop_time: float = _opt(0.12, "seconds to lower the pen (G-code dwell after pen down)")
    raise_time: float = _opt(0.12, "seconds to raise the pen (G-code dwell after pen up)")
    profile: str = _opt("grbl-servo", "G-code profile: grbl-servo | grbl-z | marlin | TOML path")
    pen_up_value: float | None = _opt(None, "G-code pen-up servo value / Z (profile default)")
    pen_down_value: float | None = _opt(None, "G-code pen-down servo value / Z")
    origin: str = _opt("bottom-left", "HPGL/G-code origin: bottom-left (y up) | top-left (y down)")

    def __post_init__(self) -> None:
        from stipplr.plotter.spec import resolve  # spec needs this module: import late

        resolve(self)
