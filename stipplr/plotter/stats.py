"""Plot statistics and a time estimate: pen lifts dominate, travel adds the rest.

Time = lifts x (drop + raise) + every move under a trapezoidal speed profile (accelerate,
cruise, brake; triangular when the move is too short to reach full speed). A pen-down
path counts as one move of its length (corners are not slowed down). The speeds and
times are the :class:`~stipplr.plotter.options.Machine` options.
The pen starts at home (the page's top-left corner) and returns there after each layer.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np

from stipplr.plotter.document import Layer, PlotDocument

if TYPE_CHECKING:
    from stipplr.plotter.options import Machine


@dataclass(frozen=True)
class PlotStats:
    """What the plot costs: dots, pen lifts, distances (mm) and estimated time (s)."""

    dots: int
    pens: int
    pen_lifts: int
    pen_down_mm: float
    pen_up_mm: float
    pen_up_mm_input_order: float
    time_s: float

    def to_dict(self) -> dict[str, float | int]:
        """Plain values for metadata (distances rounded to 0.1 mm, time to 0.1 s)."""
        return {k: round(v, 1) if isinstance(v, float) else v for k, v in asdict(self).items()}

    def lines(self) -> list[str]:
        """Human-readable summary, one fact per line."""
        minutes, seconds = divmod(round(self.time_s), 60)
        hours, minutes = divmod(minutes, 60)
        return [
            f"dots: {self.dots} on {self.pens} pen(s), {self.pen_lifts} pen lifts",
            f"pen-down distance: {self.pen_down_mm / 1000:.2f} m",
            f"pen-up distance: {self.pen_up_mm / 1000:.2f} m "
            f"(input order: {self.pen_up_mm_input_order / 1000:.2f} m)",
            f"estimated time: {hours:d}:{minutes:02d}:{seconds:02d}",
        ]


def move_times(distances: np.ndarray, speed: float, accel: float) -> np.ndarray:
    """Seconds per straight move from rest to rest: trapezoidal or triangular profile."""
    distances = np.asarray(distances, dtype=float)
    ramp = speed * speed / accel  # distance spent reaching full speed and braking again
    return np.where(
        distances >= ramp, distances / speed + speed / accel, 2 * np.sqrt(distances / accel)
    )


def travel_moves(layer: Layer, home: complex = 0j) -> np.ndarray:
    """Pen-up move lengths of one layer: home -> first path, between paths, last -> home."""
    if not layer.paths:
        return np.zeros(0)
    stops = np.concatenate(
        [[home], np.column_stack([layer.starts(), layer.ends()]).ravel(), [home]]
    )
    return np.abs(stops[1::2] - stops[0::2])


def pen_up_distance(document: PlotDocument) -> float:
    """Total pen-up travel in mm over all layers."""
    return float(sum(travel_moves(layer).sum() for layer in document.layers))


def path_lengths(document: PlotDocument) -> np.ndarray:
    """Pen-down length of every path in mm (vectorised over all paths at once)."""
    paths = document.paths()
    if not paths:
        return np.zeros(0)
    points = np.concatenate(paths)
    counts = np.array([len(p) for p in paths])
    ends = np.cumsum(counts)
    steps = np.abs(np.diff(points, append=points[-1:]))
    steps[ends - 1] = 0  # the step from a path's last point to the next path is pen-up
    return np.add.reduceat(steps, ends - counts)


def plot_stats(
    document: PlotDocument, machine: Machine, dots: int, pen_up_input_order: float
) -> PlotStats:
    """Distances and the time estimate of ``document`` plotted on ``machine``."""
    down = path_lengths(document)
    up = np.concatenate([np.zeros(0)] + [travel_moves(layer) for layer in document.layers])
    lifts = len(down)
    time_s = (
        lifts * (machine.drop_time + machine.raise_time)
        + move_times(down, machine.speed_down, machine.accel_down).sum()
        + move_times(up, machine.speed_up, machine.accel_up).sum()
    )
    return PlotStats(
        dots=dots,
        pens=sum(1 for layer in document.layers if layer.paths),
        pen_lifts=lifts,
        pen_down_mm=float(down.sum()),
        pen_up_mm=float(up.sum()),
        pen_up_mm_input_order=float(pen_up_input_order),
        time_s=float(time_s),
    )
