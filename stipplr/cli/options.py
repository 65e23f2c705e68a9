"""Typer option declarations shared by ``stipple``, ``batch`` and ``plot``.

Every option defaults to None so a command can tell an explicit flag from a default
(explicit flags override presets).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from stipplr.cli.common import parse_options
from stipplr.settings import Settings, resolve_settings

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


SHARED: dict[str, tuple[Any, str]] = {
    "points": (Points, "stipple"),
    "engine": (Engine, "stipple"),
    "model": (Model, "stipple"),
    "device": (Device, "stipple"),
    "seed": (Seed, "stipple"),
    "gamma": (Gamma, "tone"),
    "contrast": (Contrast, "tone"),
    "brightness": (Brightness, "tone"),
    "white_cutoff": (WhiteCutoff, "tone"),
    "edge": (Edge, "tone"),
    "invert": (Invert, "tone"),
    "radius_min": (RadiusMin, "stipple"),
    "radius_max": (RadiusMax, "stipple"),
    "engine_option": (EngineOptions, "engine_options"),
    "preset": (Preset, "preset"),
}
"""The options ``stipple``, ``batch`` and ``plot`` share: name -> (type, settings section)."""

F = TypeVar("F", bound=Callable[..., Any])


class SharedOptions:
    """The shared options one command received, turned into settings on request."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def settings(self, command: str, **sections: dict[str, Any]) -> Settings:
        """Defaults < preset < the flags given here and in ``sections`` (e.g. ``render``)."""
        layers: dict[str, dict[str, Any]] = {"stipple": {}, "tone": {}}
        for name, (_, section) in SHARED.items():
            if section in layers and self.values.get(name) is not None:
                layers[section][name] = self.values[name]
        engine_options = parse_options(self.values.get("engine_option"))
        return resolve_settings(
            command,
            self.values.get("preset"),
            **layers,
            engine_options=engine_options,
            **sections,
        )


def with_shared_options(func: F) -> F:
    """Give a command the shared stipple, tone, engine-option and preset flags.

    The command declares ``shared: SharedOptions`` instead of the fifteen flags; typer
    sees them all through the wrapper's signature, declared once in :data:`SHARED`.
    """
    signature = inspect.signature(func, eval_str=True)
    own = [p for p in signature.parameters.values() if p.name != "shared"]
    extra = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=kind)
        for name, (kind, _) in SHARED.items()
    ]

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        """Gather the shared flags into one SharedOptions and call the command."""
        shared = SharedOptions({name: kwargs.pop(name, None) for name in SHARED})
        return func(*args, shared=shared, **kwargs)

    parameters = own + extra
    wrapper.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
    return wrapper  # type: ignore[return-value]
