"""``npz`` renderer: the stipple itself (arrays plus metadata), reloadable with Stipple.load."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from stipplr.dots import Stipple
from stipplr.renderers import Renderer


@dataclass(frozen=True)
class NpzOptions:
    """The npz format has no options."""


def write_npz(stipple: Stipple, path: Path, options: NpzOptions) -> None:
    """Save the stipple losslessly."""
    stipple.save(path)


RENDERER = Renderer(
    "npz", (".npz",), "the stipple's dots and metadata (lossless)", NpzOptions, write_npz
)
