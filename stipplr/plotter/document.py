"""The plot data model, vpype-style: a page of layers, one per pen, each a list of paths.

A path is a 1-D complex numpy array of points ``x + 1j*y`` in mm, y pointing down from
the page's top-left corner; the pen goes down at its first point and up after its last.
A layer keeps its paths in one :class:`Paths`: every point in one flat array plus the
offsets where each path starts, so a million dots cost a few arrays, not a million small
ones (16 bytes a point and 8 a path; see :data:`MEMORY_BUDGET`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from stipplr.errors import OptionError

MEMORY_BUDGET = 2 * 1024**3
"""Bytes a plot may use for its path points, and a preview for its pixels (2 GiB): a dot
size or a preview scale that would need more is refused in one line before any file is
written."""


def check_budget(what: str, needed: float, advice: str) -> None:
    """Refuse ``what`` when it needs more than :data:`MEMORY_BUDGET` bytes."""
    if needed > MEMORY_BUDGET:
        raise OptionError(
            f"{what} would need {needed / 1024**3:.1f} GiB, more than the plot memory budget "
            f"of {MEMORY_BUDGET / 1024**3:.0f} GiB ({advice})"
        )


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


class Paths(Sequence):
    """Polylines in one flat complex array: path ``i`` is ``points[offsets[i]:offsets[i+1]]``."""

    def __init__(self, points: np.ndarray | None = None, offsets: np.ndarray | None = None):
        self.points = np.zeros(0, complex) if points is None else np.asarray(points, complex)
        self.offsets = np.zeros(1, np.int64) if offsets is None else np.asarray(offsets, np.int64)

    @classmethod
    def of(cls, paths: Sequence[np.ndarray]) -> Paths:
        """Paths from a list of complex arrays."""
        if isinstance(paths, Paths):
            return paths
        counts = np.array([len(p) for p in paths], np.int64)
        points = np.concatenate([np.asarray(p, complex) for p in paths]) if len(paths) else None
        return cls(points, np.concatenate([[0], np.cumsum(counts)]))

    @classmethod
    def join(cls, parts: Sequence[Paths], order: np.ndarray | None = None) -> Paths:
        """The paths of ``parts`` one after another (then ``order``ed, if given)."""
        points = np.concatenate([np.zeros(0, complex)] + [p.points for p in parts])
        counts = np.concatenate([np.zeros(0, np.int64)] + [p.counts() for p in parts])
        joined = cls(points, np.concatenate([[0], np.cumsum(counts)]))
        return joined if order is None else joined.take(order)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, (int, np.integer)):
            i = int(index) + (len(self) if index < 0 else 0)
            if not 0 <= i < len(self):
                raise IndexError(index)
            return self.points[self.offsets[i] : self.offsets[i + 1]]
        return self.take(np.arange(len(self))[index])

    def __iter__(self) -> Iterator[np.ndarray]:
        bounds = self.offsets.tolist()
        for start, stop in zip(bounds[:-1], bounds[1:], strict=True):
            yield self.points[start:stop]

    def counts(self) -> np.ndarray:
        """Points in each path."""
        return np.diff(self.offsets)

    def starts(self) -> np.ndarray:
        """First point of every path (complex, mm)."""
        return self.points[self.offsets[:-1]]

    def ends(self) -> np.ndarray:
        """Last point of every path (complex, mm)."""
        return self.points[self.offsets[1:] - 1]

    def take(self, order: np.ndarray, flip: np.ndarray | None = None) -> Paths:
        """The paths in ``order``; those where ``flip`` is true drawn backwards."""
        order = np.asarray(order, np.int64)
        counts = self.counts()[order]
        offsets = np.concatenate([[0], np.cumsum(counts)])
        within = np.arange(offsets[-1]) - np.repeat(offsets[:-1], counts)
        if flip is not None:
            flip = np.repeat(np.asarray(flip, bool), counts)
            within = np.where(flip, np.repeat(counts, counts) - 1 - within, within)
        return Paths(self.points[np.repeat(self.offsets[:-1][order], counts) + within], offsets)

    def lengths(self) -> np.ndarray:
        """Pen-down length of every path in mm."""
        if not len(self.points):
            return np.zeros(len(self))
        steps = np.abs(np.diff(self.points, append=self.points[-1:]))
        steps[self.offsets[1:] - 1] = 0  # the step from a path's end to the next is pen-up
        return np.add.reduceat(steps, self.offsets[:-1]) if len(self) else np.zeros(0)


@dataclass
class Layer:
    """One pen's paths, in drawing order."""

    pen: Pen
    paths: Paths = field(default_factory=Paths)

    def __post_init__(self) -> None:
        self.paths = Paths.of(self.paths)

    def starts(self) -> np.ndarray:
        """First point of every path (complex, mm)."""
        return self.paths.starts()

    def ends(self) -> np.ndarray:
        """Last point of every path (complex, mm)."""
        return self.paths.ends()


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

    def count(self) -> int:
        """How many paths the layers hold."""
        return sum(len(layer.paths) for layer in self.layers)

    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) of all path points in mm (zeros when empty)."""
        points = np.concatenate([np.zeros(0, complex)] + [x.paths.points for x in self.layers])
        if not len(points):
            return (0.0, 0.0, 0.0, 0.0)
        return (points.real.min(), points.imag.min(), points.real.max(), points.imag.max())
