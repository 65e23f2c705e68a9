"""Plot statistics and a time estimate that matches the file: pen lifts dominate, travel
adds the rest.

Time = every pen drop and lift + every move under a trapezoidal speed profile
(accelerate, cruise, brake; triangular when the move is too short to reach full speed).
A pen-down path counts as one move of its length (corners are not slowed down). What a
drop or a lift costs depends on the file (:func:`lift_times`): SVG and HPGL plotters add
their own servo time (the ``drop_time``/``raise_time`` options); G-code counts exactly the
dwells its profile writes (``G4 P...``) plus any Z move, so ``grbl-z``, which writes no
dwell, is estimated without one.

Pen-up distance is reported as vpype does, between paths, with the legs from home to the
first path and back to home after each layer apart. Home is where the plotter starts:
the page's top-left corner for an AxiDraw (top-right on portrait pages, which AxiDraw
turns), the machine origin for G-code (bottom-left by default) and HPGL.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from stipplr.plotter.document import Layer, PlotDocument
from stipplr.plotter.hpgl import hpgl_speed

if TYPE_CHECKING:
    from stipplr.plotter.options import Machine


@dataclass(frozen=True)
class PlotStats:
    """What the plot costs: dots, pen lifts, distances (mm), estimated time (s), where
    home is, and the ink it lays down (predicted coverage of the picture against the
    image's mean darkness, None when unknown)."""

    dots: int
    pens: int
    pen_lifts: int
    pen_down_mm: float
    pen_up_mm: float
    home_mm: float
    pen_up_mm_input_order: float
    time_s: float
    home: str = "top-left"
    lift_s: float = 0.24
    coverage: float | None = None
    darkness: float | None = None
    layers: tuple[tuple[str, int], ...] = ()  # (pen, dots) per layer, in drawing order

    def with_ink(self, coverage: float | None, darkness: float | None) -> PlotStats:
        """These statistics with the predicted ink coverage and the image's darkness."""
        return replace(self, coverage=coverage, darkness=darkness)

    def to_dict(self) -> dict[str, Any]:
        """Plain values for metadata (distances rounded to 0.1 mm, time to 0.1 s)."""
        fine = ("coverage", "darkness", "lift_s")
        values = {
            k: round(v, 4 if k in fine else 1) if isinstance(v, float) else v
            for k, v in asdict(self).items()
        }
        return {**values, "layers": [[pen, n] for pen, n in self.layers]}

    def lines(self) -> list[str]:
        """Human-readable summary, one fact per line."""
        minutes, seconds = divmod(round(self.time_s), 60)
        hours, minutes = divmod(minutes, 60)
        lines = [f"dots: {self.dots} on {self.pens} pen(s), {self.pen_lifts} pen lifts"]
        if len(self.layers) > 1:
            order = ", ".join(f"{i}. {pen} {n}" for i, (pen, n) in enumerate(self.layers, 1))
            lines.append(f"layers: {order} (a pause for the pen change before each)")
        if self.coverage is not None:
            dark = "unknown" if self.darkness is None else f"{100 * self.darkness:.1f} %"
            lines.append(
                f"ink coverage: {100 * self.coverage:.1f} % of the picture predicted "
                f"(image mean darkness {dark})"
            )
        dwell = f"{self.lift_s:.2f} s per pen drop and lift" if self.lift_s else "no pen dwell"
        return [
            *lines,
            f"pen-down distance: {self.pen_down_mm / 1000:.2f} m",
            f"pen-up distance: {self.pen_up_mm / 1000:.2f} m between paths "
            f"(input order: {self.pen_up_mm_input_order / 1000:.2f} m), "
            f"{self.home_mm / 1000:.2f} m from and back to home ({self.home})",
            f"estimated time: {hours:d}:{minutes:02d}:{seconds:02d} ({dwell})",
        ]


def move_times(distances: np.ndarray, speed: float, accel: float) -> np.ndarray:
    """Seconds per straight move from rest to rest: trapezoidal or triangular profile."""
    distances = np.asarray(distances, dtype=float)
    ramp = speed * speed / accel  # distance spent reaching full speed and braking again
    return np.where(
        distances >= ramp, distances / speed + speed / accel, 2 * np.sqrt(distances / accel)
    )


def travel_moves(layer: Layer, home: complex = 0j) -> tuple[np.ndarray, np.ndarray]:
    """Pen-up moves of one layer: (between paths, [home -> first, last -> home])."""
    if not len(layer.paths):
        return np.zeros(0), np.zeros(0)
    starts, ends = layer.starts(), layer.ends()
    between = np.abs(starts[1:] - ends[:-1])
    return between, np.abs(np.array([starts[0] - home, home - ends[-1]]))


def pen_up_distance(document: PlotDocument, home: complex = 0j) -> float:
    """Pen-up travel in mm between paths over all layers (vpype's measure)."""
    return float(sum(travel_moves(layer, home)[0].sum() for layer in document.layers))


def path_lengths(document: PlotDocument) -> np.ndarray:
    """Pen-down length of every path in mm."""
    return np.concatenate([np.zeros(0)] + [layer.paths.lengths() for layer in document.layers])


DWELL = re.compile(r"\{(up|down)_delay_(s|ms)[^}]*\}")
Z_MOVE = re.compile(r"\bZ\s*\{(up|down)[^}]*\}")


def lift_times(fmt: str, machine: Machine) -> tuple[float, float]:
    """Seconds one pen (drop, lift) costs in a file of format ``fmt``: the plotter's own
    servo time for SVG/HPGL, the dwells (and Z moves) the G-code profile writes."""
    if fmt != "gcode":
        return machine.drop_time, machine.raise_time
    profile = machine.profile
    up, down = machine.pen_values
    times = []
    for snippet, delay, speed, accel in (
        (profile.pen_down, machine.drop_time, machine.speed_down, machine.accel_down),
        (profile.pen_up, machine.raise_time, machine.speed_up, machine.accel_up),
    ):
        seconds = delay if DWELL.search(snippet) else 0.0
        if Z_MOVE.search(snippet):
            seconds += float(move_times(np.array([abs(up - down)]), speed, accel)[0])
        times.append(seconds)
    return times[0], times[1]


def plot_stats(
    document: PlotDocument,
    machine: Machine,
    dots: int,
    pen_up_input_order: float,
    fmt: str = "svg",
    home: tuple[complex, str] = (0j, "top-left"),
) -> PlotStats:
    """Distances and the time estimate of ``document`` written as ``fmt`` for ``machine``
    (``home``: the start position in page mm and its name)."""
    down = path_lengths(document)
    moves = [travel_moves(layer, home[0]) for layer in document.layers]
    between = np.concatenate([np.zeros(0)] + [m[0] for m in moves])
    legs = np.concatenate([np.zeros(0)] + [m[1] for m in moves])
    drop, lift = lift_times(fmt, machine)
    speed_down = hpgl_speed(machine.speed_down) if fmt == "hpgl" else machine.speed_down
    up = np.concatenate([between, legs])
    first_lift = lift if fmt == "gcode" else 0.0  # G-code raises the pen once at the start
    time_s = (
        first_lift
        + len(down) * (drop + lift)
        + move_times(down, speed_down, machine.accel_down).sum()
        + move_times(up, machine.speed_up, machine.accel_up).sum()
    )
    return PlotStats(
        dots=dots,
        pens=sum(1 for layer in document.layers if len(layer.paths)),
        pen_lifts=len(down),
        pen_down_mm=float(down.sum()),
        pen_up_mm=float(between.sum()),
        home_mm=float(legs.sum()),
        pen_up_mm_input_order=float(pen_up_input_order),
        time_s=float(time_s),
        home=home[1],
        lift_s=drop + lift,
        layers=tuple((layer.pen.name, len(layer.paths)) for layer in document.layers),
    )
