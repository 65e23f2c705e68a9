"""``csv`` renderer: one row per dot, for spreadsheets and other tools."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from stipplr.dots import Stipple
from stipplr.renderers import Renderer


@dataclass(frozen=True)
class CsvOptions:
    """The CSV format has no options."""


def write_csv(stipple: Stipple, path: Path, options: CsvOptions) -> None:
    """Write x, y (relative and in pixels), r, g, b and radius per dot."""
    stipple.to_csv(path)


RENDERER = Renderer(
    "csv", (".csv",), "one row per dot: x, y, r, g, b[, radius]", CsvOptions, write_csv
)
