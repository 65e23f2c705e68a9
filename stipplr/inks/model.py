"""The ink model: how pens' dots on white paper mix into the colour seen from afar.

Each pen p covers a fraction a_p of the paper with ink of colour t_p. The pens' dots are
placed independently of each other, so a point is covered by a given subset of pens with
the product of their a_p and (1 - a_p), and where inks overlap their colours multiply
(subtractive mixing). Averaged, this is the Demichel / Neugebauer mixture, which
factorises per pen::

    R = prod_p (1 - a_p (1 - t_p))        (per RGB channel; paper = 1)

Colours are sRGB values, not linear light, on purpose: that is how the one-pen tone stage
already maps tone to dot density (darkness = 1 - luma), and stipples cannot reach the
coverages linear light asks for (a mid grey would need 79 % of the paper inked, where
dots merge into solid ink), so a plot compresses tone the same way with one pen or many.
Dots that avoid each other (coupled stippling) overlap less than independent ones, so
the model is slightly pessimistic there.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def pen_reflectance(colours: Sequence[tuple[int, int, int]]) -> np.ndarray:
    """(P, 3) colours in [0, 1] of pens given as 0-255 sRGB (what the model multiplies)."""
    return np.asarray(colours, dtype=np.float64).reshape(-1, 3) / 255.0


def composite(coverage: np.ndarray, colours: Sequence[tuple[int, int, int]]) -> np.ndarray:
    """The sRGB colour (..., 3) in [0, 1] of pens with coverage (P, ...) in [0, 1]."""
    cover = np.clip(np.asarray(coverage, dtype=np.float64), 0.0, 1.0)
    light = np.ones(cover.shape[1:] + (3,))
    for a, reflect in zip(cover, pen_reflectance(colours), strict=True):
        light *= 1.0 - a[..., None] * (1.0 - reflect)
    return light
