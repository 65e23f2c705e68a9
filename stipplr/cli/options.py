"""Typer option declarations shared by ``stipple``, ``batch`` and ``plot``.

Every option defaults to None so a command can tell an explicit flag from a default
(explicit flags override presets).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

Points = Annotated[int | None, typer.Option("--points", "-n", help="Number of dots.")]
Engine = Annotated[
    str | None,
    typer.Option(
        help="lbg | voronoi | dither | neural (default: neural if a model ships, else lbg)."
    ),
]
Model = Annotated[str | None, typer.Option(help="Neural model name or checkpoint path.")]
Device = Annotated[str | None, typer.Option(help="auto | cpu | cuda | mps (neural engine).")]
Seed = Annotated[int | None, typer.Option(help="Random seed (same seed, same dots).")]
Gamma = Annotated[float | None, typer.Option(help="Tone: darkness ** gamma.")]
Contrast = Annotated[float | None, typer.Option(help="Tone: contrast about mid-grey.")]
Brightness = Annotated[float | None, typer.Option(help="Tone: lightens (+) or darkens (-).")]
WhiteCutoff = Annotated[
    float | None, typer.Option(help="Tone: luminance at or above this gets no dots.")
]
Edge = Annotated[float | None, typer.Option(help="Tone: edge emphasis strength.")]
Invert = Annotated[bool | None, typer.Option("--invert/--no-invert", help="Tone: invert.")]
RadiusMin = Annotated[
    float | None, typer.Option(help="Dot radius in light areas (source px); sizes dots by tone.")
]
RadiusMax = Annotated[float | None, typer.Option(help="Dot radius in black areas (source px).")]
RenderOptions = Annotated[
    list[str] | None,
    typer.Option("--option", "-O", help="Renderer option KEY=VALUE (see `stipplr renderers`)."),
]
EngineOptions = Annotated[
    list[str] | None,
    typer.Option("--engine-option", "-E", help="Engine option KEY=VALUE (e.g. iterations=30)."),
]
Preset = Annotated[str | None, typer.Option(help="Preset name or TOML path (flags override).")]
Output = Annotated[Path, typer.Option("--output", "-o", help="Output file.")]


def given(**values: Any) -> dict[str, Any]:
    """The options the user actually passed (non-None), to layer over defaults/presets."""
    return {key: value for key, value in values.items() if value is not None}
