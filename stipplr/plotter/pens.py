"""Pen sets (``black`` or ``cyan,magenta,yellow,black`` or hex colours) and which pen
draws each dot.

A dot's colour is the local colour of the photo, which mixes ink and paper: a light grey
dot stands for sparse black ink, not for a pale pen. So a dot goes to the pen whose *tint
line* (the colours from white paper to the full pen colour, as coverage grows) passes
nearest to it in CIELAB. This works for any pen set, CMYK-like or not; pens are separate
strokes rather than overprinted inks, so no subtractive decomposition is attempted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from skimage.color import rgb2lab

from stipplr.colours import parse_colour
from stipplr.errors import OptionError
from stipplr.plotter.document import Pen
from stipplr.validate import Kind, invalid

PENS_RULE = "be a comma list of colours such as 'cyan,magenta,yellow,black'"

Ink = tuple[str, tuple[int, int, int]]
"""A pen as the options hold it: its name and 0-255 RGB colour (the width is the plot's)."""


def parse_inks(pens: Any, name: str = "pens") -> tuple[Ink, ...]:
    """(name, RGB) of each pen in ``"cyan,magenta,..."`` or a list of names (or of inks)."""
    if isinstance(pens, str):
        entries: list[Any] = pens.split(",")
    elif isinstance(pens, (list, tuple)):
        entries = list(pens)
    else:
        raise invalid(name, PENS_RULE, pens)
    names = [(e[0] if isinstance(e, tuple) else str(e)).strip() for e in entries]
    names = [n for n in names if n]
    if not names:
        raise invalid(name, PENS_RULE, pens, "no colour given")
    if len(set(names)) != len(names):
        raise invalid(name, PENS_RULE, pens, "a pen is listed twice")
    inks = []
    for pen in names:
        try:
            inks.append((pen, parse_colour(pen)))
        except OptionError:
            raise invalid(name, PENS_RULE, pens, f"unknown colour {pen!r}") from None
    return tuple(inks)


def make_pens(inks: Sequence[Ink], width: float) -> list[Pen]:
    """The :class:`Pen` of each ink, all ``width`` mm wide."""
    return [Pen(name, tuple(c / 255 for c in rgb), width) for name, rgb in inks]


def parse_pens(pens: str | Sequence[str], width: float) -> list[Pen]:
    """Pens from ``"cyan,magenta,..."`` or a list of colour names, all ``width`` mm wide."""
    return make_pens(parse_inks(pens), width)


@dataclass(frozen=True)
class Pens(Kind):
    """The pen-set option: parsed to (name, RGB) per pen; written back as a comma list."""

    def __call__(self, value: Any, name: str) -> tuple[Ink, ...]:
        return parse_inks(value, name)

    def format(self, value: Any) -> Any:
        return ",".join(pen for pen, _ in value)


def assign_pens(rgb: np.ndarray, pens: Sequence[Pen]) -> np.ndarray:
    """Index of the pen whose white-to-pen tint line is nearest each dot colour (N, 3)."""
    if len(pens) == 1 or len(rgb) == 0:
        return np.zeros(len(rgb), dtype=np.int64)
    dots = rgb2lab(np.asarray(rgb, dtype=float)[None])[0]
    inks = rgb2lab(np.array([pen.rgb for pen in pens], dtype=float)[None])[0]
    paper = rgb2lab(np.ones((1, 1, 3)))[0, 0]
    line = inks - paper  # (P, 3): paper -> full pen colour
    span = np.maximum((line * line).sum(axis=1), 1e-12)
    t = np.clip(((dots - paper) @ line.T) / span, 0.0, 1.0)  # (N, P) coverage
    nearest = paper + t[:, :, None] * line[None]
    return np.argmin(np.linalg.norm(dots[:, None, :] - nearest, axis=2), axis=1)
