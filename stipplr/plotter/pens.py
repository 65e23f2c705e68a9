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

import numpy as np
from skimage.color import rgb2lab

from stipplr.colours import parse_colour
from stipplr.errors import OptionError
from stipplr.plotter.document import Pen


def parse_pens(pens: str | Sequence[str], width: float) -> list[Pen]:
    """Pens from ``"cyan,magenta,..."`` or a list of colour names, all ``width`` mm wide."""
    if not isinstance(pens, (str, list, tuple)):
        raise OptionError(f"pens must be a comma list of colours, got {pens!r}")
    names = pens.split(",") if isinstance(pens, str) else [str(name) for name in pens]
    names = [name.strip() for name in names if name.strip()]
    if not names:
        raise OptionError("pens must name at least one colour")
    if len(set(names)) != len(names):
        raise OptionError(f"pens are listed twice in {','.join(names)!r}")
    return [
        Pen(name, tuple(c / 255 for c in parse_colour(name, "pen colour")), width) for name in names
    ]


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
