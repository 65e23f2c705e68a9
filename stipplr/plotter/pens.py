"""The plot's pens: each pen of the pen set as a :class:`Pen` (its own width, else the
plot's ``--pen`` width)."""

from __future__ import annotations

from collections.abc import Iterable

from stipplr.inks.pensets import Ink
from stipplr.plotter.document import Pen


def make_pens(inks: Iterable[Ink], width: float) -> list[Pen]:
    """The :class:`Pen` of each ink: its own width when it has one, else ``width`` mm."""
    return [Pen(ink.name, tuple(c / 255 for c in ink.rgb), ink.width or width) for ink in inks]
