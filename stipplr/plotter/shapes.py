"""Pen strokes that draw one dot: a touch (tiny tick), a circle, or a filled spiral.

Plotter tools drop zero-length paths, so a touch is a short tick (0.05 mm by default)
that vpype, saxi and AxiDraw keep while still lowering and raising the pen for it.

A circle is stroked at radius (d - w) / 2 so its ink edge is the dot's edge (one ring
fills dots up to two pen widths); a spiral (pitch <= pen width) fills any size. Without a
``dot_size``, circle and spiral dots are sized from their local tone
(:func:`tone_diameters`): a touch's width in white, :data:`SIZED_UP_TO` pen widths in black.
"""

from __future__ import annotations

import numpy as np

from stipplr.plotter.document import Paths, check_budget

DOT_KINDS = ("auto", "touch", "circle", "spiral")
CHORD_TOLERANCE_MM = 0.01  # how far a polygon side may stray from the true circle
TOUCH_UP_TO = 1.2  # auto: a touch draws dots up to 1.2 pen widths wide
CIRCLE_UP_TO = 2.0  # auto: one circle fills dots up to 2 pen widths wide, spirals beyond
SIZED_UP_TO = {"circle": CIRCLE_UP_TO, "spiral": 4.0}
"""Tone-sized dots: the diameter of a black dot, in pen widths (white: one pen width)."""


def tone_diameters(darkness: np.ndarray, kind: str, pen_width: float) -> np.ndarray:
    """Diameters (mm) of ``kind`` dots sized by their darkness in [0, 1]: the dot's area
    grows linearly from a touch's (one pen width) in white to :data:`SIZED_UP_TO` in black."""
    top = SIZED_UP_TO[kind] * pen_width
    dark = np.clip(np.asarray(darkness, dtype=float), 0.0, 1.0)
    return np.sqrt(pen_width**2 + (top**2 - pen_width**2) * dark)


def auto_kinds(diameters: np.ndarray, pen_width: float) -> np.ndarray:
    """Per dot: ``touch`` when the nib alone covers it, ``circle`` when one ring fills it
    (diameter <= 2 pen widths), else ``spiral``."""
    ratio = diameters / pen_width
    return np.where(
        ratio <= TOUCH_UP_TO, "touch", np.where(ratio <= CIRCLE_UP_TO, "circle", "spiral")
    )


def dot_kinds(diameters: np.ndarray, kind: str, pen_width: float, tick: float) -> np.ndarray:
    """The kind each dot is drawn as: ``kind`` (per dot for ``auto``), and a touch wherever
    the stroke radius (d - w) / 2 is shorter than half the tick."""
    diameters = np.asarray(diameters, dtype=float)
    kinds = auto_kinds(diameters, pen_width) if kind == "auto" else np.full(len(diameters), kind)
    return np.where((diameters - pen_width) / 2 <= tick / 2, "touch", kinds).astype("<U6")


def _angle_step(radius: np.ndarray) -> np.ndarray:
    """Angle between polygon vertices so chords stay within the tolerance of the arc."""
    radius = np.asarray(radius, dtype=float)
    safe = np.maximum(radius, 1e-12)
    step = 2 * np.arccos(np.maximum(1 - CHORD_TOLERANCE_MM / safe, 0.0))
    return np.where(radius > 0, step, np.pi)


def _sides(radius: np.ndarray) -> np.ndarray:
    """Polygon sides of a circle of ``radius`` (at least 8)."""
    return np.maximum(8, np.ceil(2 * np.pi / _angle_step(radius))).astype(np.int64)


def tick(centre: complex, length: float) -> np.ndarray:
    """A horizontal tick of ``length`` mm centred on the dot."""
    return np.array([centre - length / 2, centre + length / 2])


def circle(centre: complex, radius: float, start_angle: float = 0.0) -> np.ndarray:
    """A closed polygon approximating a circle (at least 8 sides)."""
    sides = int(_sides(np.array([radius]))[0])
    angles = start_angle + np.linspace(0, 2 * np.pi, sides + 1)
    return centre + radius * np.exp(1j * angles)


def spiral(centre: complex, radius: float, pitch: float) -> np.ndarray:
    """An Archimedean spiral from the centre out to ``radius`` (``pitch`` mm between turns),
    closed by one full circle so the dot's edge is clean."""
    turns_angle = 2 * np.pi * radius / pitch
    step = float(_angle_step(np.array([radius]))[0])
    angles = np.linspace(0, turns_angle, max(2, int(np.ceil(turns_angle / step)) + 1))
    inner = centre + (pitch * angles / (2 * np.pi)) * np.exp(1j * angles)
    return np.concatenate([inner, circle(centre, radius, turns_angle)[1:]])


def point_counts(kinds: np.ndarray, radii: np.ndarray, pitch: float) -> np.ndarray:
    """Points of each dot's path (ticks 2, circles sides + 1, spirals their turns too)."""
    sides = _sides(radii)
    turns = 2 * np.pi * np.maximum(radii, 0) / pitch
    inner = np.maximum(2, np.ceil(turns / _angle_step(radii)) + 1).astype(np.int64)
    return np.select([kinds == "touch", kinds == "circle"], [2, sides + 1], inner + sides)


def dot_paths(
    centres: np.ndarray,
    diameters: np.ndarray,
    kind: str,
    pen_width: float,
    tick_length: float,
    pitch: float,
) -> Paths:
    """One path per dot, in the order given: ``kind`` (or per-dot kinds when ``auto``) at
    the given diameters; ticks are made all at once, rings and spirals one by one.

    Refuses (one line) dots whose paths would need more points than the memory budget.
    """
    centres = np.asarray(centres, dtype=complex)
    diameters = np.broadcast_to(np.asarray(diameters, dtype=float), centres.shape)
    kinds = dot_kinds(diameters, kind, pen_width, tick_length)
    radii = (diameters - pen_width) / 2
    counts = point_counts(kinds, radii, pitch)
    needed = 16.0 * counts.sum() + 8.0 * len(counts)
    check_budget("these dots' pen paths", needed, "smaller dots, fewer points or a wider pen")
    offsets = np.concatenate([[0], np.cumsum(counts)])
    points = np.empty(offsets[-1], dtype=complex)
    touch = np.flatnonzero(kinds == "touch")
    points[offsets[touch]] = centres[touch] - tick_length / 2
    points[offsets[touch] + 1] = centres[touch] + tick_length / 2
    for i in np.flatnonzero(kinds != "touch").tolist():
        shape = circle if kinds[i] == "circle" else None
        path = shape(centres[i], radii[i]) if shape else spiral(centres[i], radii[i], pitch)
        points[offsets[i] : offsets[i + 1]] = path
    return Paths(points, offsets)
