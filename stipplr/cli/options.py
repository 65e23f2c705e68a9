"""Typer flags of ``stipple``, ``batch`` and ``plot``, generated from the option objects.

The stipple and tone flags (and the plot flags of ``stipplr plot``) are made from the
fields of :class:`~stipplr.settings.StippleOptions`, :class:`~stipplr.tone.Tone` and
:class:`~stipplr.plotter.PlotOptions` that declare a flag, so each default and help text
is written once, in the option object. Each flag's value is parsed by its option's kind
as the command line is read, so a bad value is one line naming the flag (``--points must
be a whole number from 1 to 2000000, got 'abc'``) and a choice may be given in any case.
Every generated flag defaults to None so a command can tell an explicit flag from a
default (explicit flags override presets). ``--help`` groups the flags in panels.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from stipplr.cli.common import parse_options
from stipplr.optionset import FlagSpec, OptionSet, flag_specs
from stipplr.settings import Settings, StippleOptions, resolve_settings
from stipplr.tone import Tone
from stipplr.validate import Choice, Kind, Whole, invalid

INPUT = "Input and engine"
TONE = "Tone"
OUTPUT = "Output"
PLOT = "Plot: page, pen and machine"
RUN = "Batch run"
PANELS = {"stipple": INPUT, "tone": TONE, "plot": PLOT}
"""The ``--help`` panel of each settings section's flags."""
PANEL_ORDER = (INPUT, TONE, OUTPUT, PLOT, RUN)
"""The order of the panels in ``--help`` (arguments first; ``--help`` itself before)."""

F = TypeVar("F", bound=Callable[..., Any])


def cli_value(text: Any, kind: Kind, flag: str) -> Any:
    """A flag's text as the type its kind reads: ``"30"`` -> 30, ``"2e4"`` -> 20000."""
    if not isinstance(text, str) or kind.cli_type is str:
        return text
    try:
        number = float(text)
    except ValueError:
        rule = kind.rule() if isinstance(kind, Whole) else "be a number"
        raise invalid(flag, rule, text) from None
    if kind.cli_type is int:
        try:
            return int(text)
        except ValueError:  # 2e4 is a whole number; 2.5 stays a float for the kind to refuse
            return int(number) if number.is_integer() else number
    return number


def value_parser(kind: Kind, flag: str) -> Callable[[Any], Any]:
    """The parser of a flag whose value ``kind`` checks (errors name ``flag``)."""

    def parse(text: Any) -> Any:
        """Parse and check the flag's value."""
        return kind(cli_value(text, kind, flag), flag)

    return parse


def kind_option(kind: Kind, *decls: str, help: str, panel: str | None = None, **extra: Any) -> Any:
    """A ``typer.Option`` whose value ``kind`` parses (``--workers`` as ``Whole(1)``)."""
    return typer.Option(
        *decls,
        help=help,
        parser=value_parser(kind, decls[0]),
        metavar=kind.metavar,
        rich_help_panel=panel,
        **extra,
    )


def value_option(*decls: str, help: str, metavar: str, panel: str | None = None) -> Any:
    """A ``typer.Option`` shown with ``metavar`` in the ``panel`` of ``--help``."""
    return typer.Option(*decls, help=help, metavar=metavar, rich_help_panel=panel)


def key_value_options(*decls: str, help: str, panel: str) -> Any:
    """The type of a repeatable ``KEY=VALUE`` flag (``-O``, ``-E``)."""
    return Annotated[
        list[str] | None, value_option(*decls, help=help, metavar="KEY=VALUE", panel=panel)
    ]


def switch(*decls: str, help: str, panel: str | None = None) -> Any:
    """A ``typer.Option`` for an on/off flag (no value shown in ``--help``)."""
    return typer.Option(*decls, help=help, metavar="", rich_help_panel=panel)


def help_rank(parameter: inspect.Parameter) -> int:
    """Where a command parameter shows in ``--help``: arguments, then by panel."""
    for info in getattr(parameter.annotation, "__metadata__", ()):
        if isinstance(info, typer.models.ArgumentInfo):
            return -1
        panel = getattr(info, "rich_help_panel", None)
        if panel in PANEL_ORDER:
            return PANEL_ORDER.index(panel)
    return len(PANEL_ORDER)


def flag_annotation(spec: FlagSpec) -> Any:
    """The typer parameter type of a generated flag (None when not given)."""
    panel = PANELS.get(spec.section)
    if spec.type is bool:
        return Annotated[bool | None, switch(*spec.decls, help=spec.help, panel=panel)]
    assert spec.kind is not None
    return Annotated[Any, kind_option(spec.kind, *spec.decls, help=spec.help, panel=panel)]


RenderOptions = key_value_options(
    "--option", "-O", help="Renderer option KEY=VALUE (see `stipplr renderers`).", panel=OUTPUT
)
EngineOptions = key_value_options(
    "--engine-option",
    "-E",
    help="Engine option KEY=VALUE (see `stipplr engines`), e.g. iterations=30 for voronoi.",
    panel=INPUT,
)
PlotKeyValues = key_value_options(
    "--option", "-O", help="Plot option KEY=VALUE (see `stipplr renderers`).", panel=PLOT
)
Preset = Annotated[
    str | None,
    value_option(
        "--preset",
        help="Preset name or TOML path (see `stipplr presets`; flags override it).",
        metavar="NAME",
        panel=INPUT,
    ),
]
Output = Annotated[
    Path, value_option("--output", "-o", help="Output file.", metavar="FILE", panel=OUTPUT)
]


@dataclass(frozen=True)
class RendererName(Choice):
    """An output format: a renderer's name, in any case (plug-ins count)."""

    noun: str | None = "renderer"

    def names(self) -> tuple[str, ...]:
        from stipplr import renderers

        return tuple(renderers.available())


SHARED: tuple[type[OptionSet], ...] = (StippleOptions, Tone)
"""The option objects whose flags ``stipple``, ``batch`` and ``plot`` all take."""
OTHER_FLAGS: dict[str, Any] = {"engine_option": EngineOptions, "preset": Preset}
"""The shared flags that are not options of an option object."""
OTHER_NAMES = {"engine_option": "-E", "preset": "--preset"}


class SharedOptions:
    """The flags one command received, turned into settings on request."""

    def __init__(self, values: dict[str, Any], specs: Sequence[FlagSpec]) -> None:
        self.values = values
        self.specs = {spec.name: spec for spec in specs}
        self.sections = {spec.name: spec.section for spec in specs}
        """Flag name -> the settings section of its option."""

    def given(self, section: str) -> dict[str, Any]:
        """The flags of ``section`` the user actually passed (non-None)."""
        return {
            name: value
            for name, value in self.values.items()
            if self.sections.get(name) == section and value is not None
        }

    def given_flags(self, *sections: str) -> list[str]:
        """The flags of ``sections`` the user passed, as typed (``--points``, ``-E``)."""
        flags = [self.specs[name].flag for s in sections for name in self.given(s)]
        if "stipple" in sections and self.values.get("engine_option"):
            flags.append(OTHER_NAMES["engine_option"])
        return flags

    def given_options(self, section: str, pairs: list[str] | None = None) -> dict[str, str]:
        """The options of ``section`` given by flag or in ``-O`` ``pairs``: option -> how
        it was given (``--profile``, ``-O origin``)."""
        given = {name: self.specs[name].flag for name in self.given(section)}
        return {**{name: f"-O {name}" for name in parse_options(pairs)}, **given}

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
        shared = SharedOptions({name: kwargs.pop(name, None) for name in annotations}, specs)
        return func(*args, shared=shared, **kwargs)

    keyword = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own + extra_params]
    parameters = sorted(keyword, key=help_rank)  # typer passes them all by name
    wrapper.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
    return wrapper
