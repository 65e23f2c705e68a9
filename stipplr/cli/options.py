"""Typer flags of ``stipple``, ``batch`` and ``plot``, generated from the option objects.

The stipple and tone flags (and the plot flags of ``stipplr plot``) are made from the
fields of :class:`~stipplr.settings.StippleOptions`, :class:`~stipplr.tone.Tone` and
:class:`~stipplr.plotter.PlotOptions` that declare a flag, so each default and help text
is written once, in the option object. Every generated flag defaults to None so a command
can tell an explicit flag from a default (explicit flags override presets).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from stipplr.cli.common import parse_options
from stipplr.optionset import FlagSpec, OptionSet, flag_specs
from stipplr.settings import Settings, StippleOptions, resolve_settings
from stipplr.tone import Tone

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

SHARED: tuple[type[OptionSet], ...] = (StippleOptions, Tone)
"""The option objects whose flags ``stipple``, ``batch`` and ``plot`` all take."""
OTHER_FLAGS: dict[str, Any] = {"engine_option": EngineOptions, "preset": Preset}
"""The shared flags that are not options of an option object."""

F = TypeVar("F", bound=Callable[..., Any])


def flag_annotation(spec: FlagSpec) -> Any:
    """The typer parameter type of a generated flag (None when not given)."""
    return Annotated[spec.type | None, typer.Option(*spec.decls, help=spec.help)]


class SharedOptions:
    """The flags one command received, turned into settings on request."""

    def __init__(self, values: dict[str, Any], sections: dict[str, str]) -> None:
        self.values = values
        self.sections = sections
        """Flag name -> the settings section of its option."""

    def given(self, section: str) -> dict[str, Any]:
        """The flags of ``section`` the user actually passed (non-None)."""
        return {
            name: value
            for name, value in self.values.items()
            if self.sections.get(name) == section and value is not None
        }

    def settings(self, command: str, **sections: dict[str, Any]) -> Settings:
        """Defaults < preset < ``sections`` (say ``-O`` options) < the flags given."""
        layers = {name: dict(values) for name, values in sections.items()}
        for section in set(self.sections.values()):
            layers[section] = {**layers.get(section, {}), **self.given(section)}
        return resolve_settings(
            command,
            self.values.get("preset"),
            **layers,
            engine_options=parse_options(self.values.get("engine_option")),
        )


def with_shared_options(func: F | None = None, *, extra: Sequence[type[OptionSet]] = ()) -> Any:
    """Give a command the shared stipple, tone, engine-option and preset flags, plus the
    flags of the ``extra`` option objects (``extra=[PlotOptions]``).

    The command declares ``shared: SharedOptions`` instead of the flags; typer sees them
    all through the wrapper's signature.
    """
    if func is None:
        return functools.partial(with_shared_options, extra=extra)
    specs = [spec for cls in (*SHARED, *extra) for spec in flag_specs(cls)]
    sections = {spec.name: cls.SECTION for cls in (*SHARED, *extra) for spec in flag_specs(cls)}
    annotations = {spec.name: flag_annotation(spec) for spec in specs} | OTHER_FLAGS
    signature = inspect.signature(func, eval_str=True)
    own = [p for p in signature.parameters.values() if p.name != "shared"]
    extra_params = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=kind)
        for name, kind in annotations.items()
    ]

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        """Gather the flags into one SharedOptions and call the command."""
        shared = SharedOptions({name: kwargs.pop(name, None) for name in annotations}, sections)
        return func(*args, shared=shared, **kwargs)

    parameters = own + extra_params
    wrapper.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
    return wrapper
