"""HPGL for HP7475A-style plotters: 40 plotter units per mm, ``IN;``, ``SPn;`` per pen,
``PU``/``PD`` moves, ``SP0;`` to park.

Coordinates are absolute plotter units in the frame :func:`~stipplr.plotter.frame.hpgl_frame`
picks: the HP 7475A's own on A4, A3 and letter (portrait pages turned onto the landscape
sheet; anything outside its hard-clip limits is refused), else the page's, from its
bottom-left corner. ``VS`` sets the pen-down speed (1-38 cm/s). HPGL has no comment
syntax an HP7475A accepts, so the statistics are not stored in the file.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from stipplr.plotter.document import PlotDocument
from stipplr.plotter.frame import UNITS_PER_MM, check_hpgl_origin, hpgl_frame

MAX_VELOCITY_CM_S = 38  # HP7475A's VS range is 1..38 cm/s

__all__ = ["UNITS_PER_MM", "hpgl_chunks", "hpgl_speed", "plot_hpgl"]


def hpgl_speed(speed_down: float) -> float:
    """The pen-down speed in mm/s an HPGL file asks for (``VS`` in whole cm/s, 1-38)."""
    return 10.0 * int(np.clip(round(speed_down / 10), 1, MAX_VELOCITY_CM_S))


def _points(units: np.ndarray) -> str:
    """``x,y,x,y...`` of (M, 2) plotter units."""
    return ",".join(f"{x},{y}" for x, y in units.tolist())


def hpgl_chunks(
    document: PlotDocument, origin: str, speed_down: float, batch: int = 20_000
) -> Iterator[str]:
    """HPGL text, a few thousand paths at a time: one ``SPn`` block per non-empty layer
    (pen n = layer number)."""
    check_hpgl_origin(origin)
    page = (document.width, document.height)
    frame = hpgl_frame(page)
    lines = ["IN;", f"VS{round(hpgl_speed(speed_down) / 10)};"]
    for number, layer in enumerate(document.layers, start=1):
        paths = layer.paths
        if not len(paths):
            continue
        units = frame.to_units(paths.points, page)
        frame.check(units, page)
        lines.append(f"SP{number};")
        bounds = paths.offsets.tolist()
        for i, (start, stop) in enumerate(zip(bounds[:-1], bounds[1:], strict=True), 1):
            lines.append(
                f"PU{_points(units[start : start + 1])};PD{_points(units[start + 1 : stop])};"
            )
            if i % batch == 0:
                yield "".join(line + "\n" for line in lines)
                lines = []
    lines += ["PU;", "SP0;"]
    yield "".join(line + "\n" for line in lines)


def plot_hpgl(document: PlotDocument, origin: str, speed_down: float) -> str:
    """The whole HPGL text (see :func:`hpgl_chunks`)."""
    return "".join(hpgl_chunks(document, origin, speed_down))
