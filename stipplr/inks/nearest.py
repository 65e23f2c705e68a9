"""Nearest-pen assignment (stipplr 0.1's colour plots, kept as ``--mix nearest`` for
comparison): a dot stippled from the grey image goes to the pen whose *tint line* (the
colours from white paper to the full pen colour, as coverage grows) passes nearest to the
photo's colour there in CIELAB. A light grey dot stands for sparse black ink, not for a
pale pen, so the tint line rather than the pen colour is compared."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from skimage.color import rgb2lab

from stipplr.dots import Stipple
from stipplr.inks.pensets import Ink, PenSet, parse_pen_set

DEFAULT_PENS = "black"  # the pen set of a stipple without pens when none is given


def nearest_pens(rgb: np.ndarray, colours: Sequence[tuple[int, int, int]]) -> np.ndarray:
    """Index of the pen (0-255 sRGB ``colours``) whose white-to-pen tint line is nearest
    each dot colour (N, 3) in [0, 1]."""
    if len(colours) == 1 or len(rgb) == 0:
        return np.zeros(len(rgb), dtype=np.int64)
    dots = rgb2lab(np.asarray(rgb, dtype=float)[None])[0]
    inks = rgb2lab(np.array(colours, dtype=float)[None] / 255.0)[0]
    paper = rgb2lab(np.ones((1, 1, 3)))[0, 0]
    line = inks - paper  # (P, 3): paper -> full pen colour
    span = np.maximum((line * line).sum(axis=1), 1e-12)
    t = np.clip(((dots - paper) @ line.T) / span, 0.0, 1.0)  # (N, P) coverage
    nearest = paper + t[:, :, None] * line[None]
    return np.argmin(np.linalg.norm(dots[:, None, :] - nearest, axis=2), axis=1)


def dot_pens(stipple: Stipple, pens: PenSet | None = None) -> tuple[np.ndarray, list[Ink]]:
    """(pen index (N,), the pens) of a stipple's dots: its own pens when it was made with
    pens, else the pen of ``pens`` (default :data:`DEFAULT_PENS`) whose tint line is
    nearest each dot's colour, so any stipple can be drawn, plotted or scored as pens."""
    if stipple.pen is not None:
        return stipple.pen.astype(np.int64), [Ink.from_dict(p) for p in stipple.pens]
    inks = list(parse_pen_set(DEFAULT_PENS if pens is None else pens))
    return nearest_pens(stipple.rgb, [ink.rgb for ink in inks]), inks
