"""HPGL for HP7475A-style plotters: 40 plotter units per mm, ``IN;``, ``SPn;`` per pen,
``PU``/``PD`` moves, ``SP0;`` to park.

The page is explicit: ``IP`` puts P1 at the page's origin corner and P2 at its opposite
corner and ``SC`` maps them 1:1, so plotter units are page units. With the default
``bottom-left`` origin, x runs along the page width and y up from the bottom edge. HPGL has
no comment syntax an HP7475A accepts, so the statistics are not stored in the file.
"""

from __future__ import annotations

import numpy as np

from stipplr.plotter.document import PlotDocument
from stipplr.plotter.frame import to_machine

UNITS_PER_MM = 40
MAX_VELOCITY_CM_S = 38  # HP7475A's VS range is 1..38 cm/s


def hpgl_points(points: np.ndarray) -> str:
    """``x,y,x,y...`` in plotter units."""
    units = np.rint(points * UNITS_PER_MM).astype(np.int64)
    return ",".join(f"{x},{y}" for x, y in units)


def plot_hpgl(document: PlotDocument, origin: str, speed_down: float) -> str:
    """HPGL text: one ``SPn`` block per non-empty layer (pen n = layer number)."""
    w, h = round(document.width * UNITS_PER_MM), round(document.height * UNITS_PER_MM)
    velocity = int(np.clip(round(speed_down / 10), 1, MAX_VELOCITY_CM_S))
    lines = ["IN;", f"IP0,0,{w},{h};", f"SC0,{w},0,{h};", f"VS{velocity};"]
    for number, layer in enumerate(document.layers, start=1):
        if not layer.paths:
            continue
        lines.append(f"SP{number};")
        for path in layer.paths:
            points = to_machine(path, document.height, origin)
            lines.append(f"PU{hpgl_points(points[:1])};PD{hpgl_points(points[1:])};")
    lines += ["PU;", "SP0;"]
    return "\n".join(lines) + "\n"
