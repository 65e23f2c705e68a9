"""The plot data model, vpype-style: a page of layers, one per pen, each a list of paths.

A path is a 1-D complex numpy array of points ``x + 1j*y`` in mm, y pointing down from
the page's top-left corner; the pen goes down at its first point and up after its last.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Pen:
    """A pen: a name, an sRGB colour in [0, 1] and a nib width in mm."""

    name: str
    rgb: tuple[float, float, float]
    width: float

    @property
    def hex(self) -> str:
        """The colour as ``#rrggbb``."""
        return "#" + "".join(f"{round(c * 255):02x}" for c in self.rgb)


@dataclass
class Layer:
    """One pen's paths, in drawing order."""

    pen: Pen
    paths: list[np.ndarray] = field(default_factory=list)

    def starts(self) -> np.ndarray:
        """First point of every path (complex, mm)."""
        return np.array([p[0] for p in self.paths], dtype=complex)

    def ends(self) -> np.ndarray:
        """Last point of every path (complex, mm)."""
        return np.array([p[-1] for p in self.paths], dtype=complex)


@dataclass
class PlotDocument:
    """A page ``width`` x ``height`` mm holding one layer per pen, plotted in order."""

    width: float
    height: float
    layers: list[Layer] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def paths(self) -> list[np.ndarray]:
        """Every path of every layer, in plotting order."""
        return [path for layer in self.layers for path in layer.paths]

    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) of all path points in mm (zeros when empty)."""
        paths = self.paths()
        if not paths:
            return (0.0, 0.0, 0.0, 0.0)
        points = np.concatenate(paths)
        return (points.real.min(), points.imag.min(), points.real.max(), points.imag.max())
