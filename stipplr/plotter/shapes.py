"""Pen strokes that draw one dot: a touch (tiny tick), a circle, or a filled spiral.

Plotter tools drop zero-length paths, so a touch is a short tick (0.05 mm by default)
that vpype, saxi and AxiDraw keep while still lowering and raising the pen for it.
"""

from __future__ import annotations

import numpy as np

DOT_KINDS = ("auto", "touch", "circle", "spiral")
CHORD_TOLERANCE_MM = 0.01  # how far a polygon side may stray from the true circle
TOUCH_UP_TO = 1.2  # auto: a touch draws dots up to 1.2 pen widths wide
CIRCLE_UP_TO = 2.0  # auto: one circle fills dots up to 2 pen widths wide, spirals beyond


def auto_kinds(diameters: np.ndarray, pen_width: float) -> np.ndarray:
    """Per dot: ``touch`` when the nib alone covers it, ``circle`` when one ring fills it
    (diameter <= 2 pen widths), else ``spiral``."""
    ratio = diameters / pen_width
    return np.where(
        ratio <= TOUCH_UP_TO, "touch", np.where(ratio <= CIRCLE_UP_TO, "circle", "spiral")
    )


def tick(centre: complex, length: float) -> np.ndarray:
    """A horizontal tick of ``length`` mm centred on the dot."""
    return np.array([centre - length / 2, centre + length / 2])


def _angle_step(radius: float) -> float:
    """Angle between polygon vertices so chords stay within the tolerance of the arc."""
    return 2 * np.arccos(max(1 - CHORD_TOLERANCE_MM / radius, 0.0)) if radius > 0 else np.pi


def circle(centre: complex, radius: float, start_angle: float = 0.0) -> np.ndarray:
    """A closed polygon approximating a circle (at least 8 sides)."""
    sides = max(8, int(np.ceil(2 * np.pi / _angle_step(radius))))
    angles = start_angle + np.linspace(0, 2 * np.pi, sides + 1)
    return centre + radius * np.exp(1j * angles)


def spiral(centre: complex, radius: float, pitch: float) -> np.ndarray:
    """An Archimedean spiral from the centre out to ``radius`` (``pitch`` mm between turns),
    closed by one full circle so the dot's edge is clean."""
    turns_angle = 2 * np.pi * radius / pitch
    step = _angle_step(radius)
    angles = np.linspace(0, turns_angle, max(2, int(np.ceil(turns_angle / step)) + 1))
    inner = centre + (pitch * angles / (2 * np.pi)) * np.exp(1j * angles)
    return np.concatenate([inner, circle(centre, radius, turns_angle)[1:]])


def dot_paths(
    centres: np.ndarray,
    diameters: np.ndarray,
    kind: str,
    pen_width: float,
    tick_length: float,
    pitch: float,
) -> list[np.ndarray]:
    """One path per dot: ``kind`` (or per-dot kinds when ``auto``) at the given diameters.

    Circles and spirals run at radius (d - w) / 2 so the ink edge lands on the dot edge;
    where that radius is shorter than the tick, the dot is drawn as a touch.
    """
    kinds = auto_kinds(diameters, pen_width) if kind == "auto" else np.full(len(centres), kind)
    radii = (diameters - pen_width) / 2
    kinds = np.where(radii <= tick_length / 2, "touch", kinds)
    paths = []
    for centre, radius, k in zip(centres, radii, kinds, strict=True):
        if k == "touch":
            paths.append(tick(centre, tick_length))
        elif k == "circle":
            paths.append(circle(centre, radius))
        else:
            paths.append(spiral(centre, radius, pitch))
    return paths
