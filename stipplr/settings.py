"""Resolved settings of one command: defaults < preset < explicit flags.

Settings are grouped in sections, the same tables a preset TOML file uses: ``[stipple]``
(:class:`StippleOptions`), ``[tone]`` (:class:`~stipplr.tone.Tone`), ``[engine_options]``,
``[render]`` (the renderer's options) and ``[plot]``
(:class:`~stipplr.plotter.PlotOptions`). Each layer's values are merged key by key; the
option objects, which parse and check every value once, are built from the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from stipplr.engines import MAX_POINTS
from stipplr.errors import OptionError
from stipplr.optionset import OptionSet, option
from stipplr.tone import Tone
from stipplr.validate import (
    Choice,
    Number,
    Text,
    Whole,
    invalid,
    radius_range,
    unknown_options,
)

if TYPE_CHECKING:
    from stipplr.plotter import PlotOptions
    from stipplr.renderers import Renderer

SECTIONS = ("stipple", "tone", "engine_options", "render", "plot")
DEVICES = ("auto", "cpu", "cuda", "mps")
"""Device names ``--device`` and presets accept (torch-free, so presets load fast)."""
RADIUS = Number(0, finite=False)  # an infinite radius is refused with both radii in view


@dataclass(frozen=True)
class EngineName(Choice):
    """An engine of the engine table, in any case (``LBG`` is ``lbg``); plug-ins count."""

    noun: str | None = "engine"

    def names(self) -> tuple[str, ...]:
        from stipplr.engines import engine_names

        return tuple(engine_names())


@dataclass(frozen=True)
class Points(Whole):
    """A dot count, or ``auto``: ``stipplr plot`` then picks the count whose ink matches the
    image's tone (see :mod:`stipplr.plotter.ink`); other commands need a number."""

    cli_type: ClassVar[type] = str
    metavar: ClassVar[str] = "INT|auto"

    def rule(self) -> str:
        return super().rule().replace("be a whole", "be auto or a whole", 1)

    def __call__(self, value: Any, name: str) -> Any:
        if isinstance(value, str):
            if value.strip().casefold() == "auto":
                return "auto"
            try:
                number = float(value)
            except ValueError:
                raise invalid(name, self.rule(), value) from None
            value = int(number) if number.is_integer() else value
        return super().__call__(value, name)


@dataclass(frozen=True)
class StippleOptions(OptionSet):
    """What :func:`stipplr.stipple` is asked for (the ``[stipple]`` table)."""

    SECTION = "stipple"

    points: int | str = option(
        5000,
        "number of dots, or auto: the count whose ink matches the tone (plot's default)",
        Points(1, MAX_POINTS),
        flag=("--points", "-n"),
    )
    engine: str | None = option(
        None,
        "{choices} (default: neural if a model ships, else lbg)",
        EngineName(),
        flag=True,
    )
    model: str | None = option(
        None, "neural model name or checkpoint path", Text("a model name or path"), flag=True
    )
    device: str = option("auto", "{choices} (neural engine)", Choice(DEVICES), flag=True)
    seed: int | None = option(None, "random seed (same seed, same dots)", Whole(), flag=True)
    radius_min: float | None = option(
        None, "dot radius in light areas (source px); sizes dots by tone", RADIUS, flag=True
    )
    radius_max: float | None = option(
        None, "dot radius in black areas (source px)", RADIUS, flag=True
    )

    @property
    def radius(self) -> tuple[float, float] | None:
        """(r_min, r_max) for :func:`stipplr.stipple`; one given radius serves as both."""
        if self.radius_min is None and self.radius_max is None:
            return None
        r_min = self.radius_max if self.radius_min is None else self.radius_min
        r_max = r_min if self.radius_max is None else self.radius_max
        return r_min, r_max

    def check(self) -> None:
        if self.radius is not None:
            radius_range(self.radius)


NOT_ENGINE_OPTIONS = frozenset({*StippleOptions.option_names(), "image", "tone", "radius"})
"""``stipplr.stipple``'s own arguments: as engine options they would clash with them."""


@dataclass
class Settings:
    """One command's resolved settings, section by section (values by key)."""

    stipple: dict[str, Any] = field(default_factory=dict)
    tone: dict[str, Any] = field(default_factory=dict)
    engine_options: dict[str, Any] = field(default_factory=dict)
    render: dict[str, Any] = field(default_factory=dict)
    plot: dict[str, Any] = field(default_factory=dict)
    explicit: dict[str, set[str]] = field(default_factory=dict)

    def merge(self, layer: dict[str, dict[str, Any]], origin: str) -> None:
        """Overlay ``layer`` (section -> values) on these settings."""
        for section, values in layer.items():
            if section not in SECTIONS:
                raise OptionError(f"{origin}: unknown section [{section}]")
            known = StippleOptions.option_names()
            if section == "stipple" and set(values) - set(known):
                unknown = unknown_options(section, set(values) - set(known), known)
                raise OptionError(f"{origin}: {unknown}")
            clash = sorted(set(values) & NOT_ENGINE_OPTIONS) if section == "engine_options" else []
            if clash:
                raise OptionError(
                    f"{origin}: {', '.join(clash)} cannot be an engine option (use its own setting)"
                )
            getattr(self, section).update(values)

    def stipple_options(self) -> StippleOptions:
        """The ``[stipple]`` options, parsed and checked."""
        return StippleOptions.parse(self.stipple)

    def tone_options(self) -> Tone:
        """The ``[tone]`` options, parsed and checked."""
        return Tone.parse(self.tone)

    def plot_options(self) -> PlotOptions:
        """The ``[plot]`` options, parsed and checked."""
        from stipplr.plotter import PlotOptions

        return PlotOptions.parse(self.plot)

    def renderer_options(self, renderer: str, known: set[str]) -> dict[str, Any]:
        """Options for ``renderer`` whose option names are ``known``.

        The renderer's section (``[plot]`` for the plot renderer, else ``[render]``) gives
        them. A preset serves several formats, so its keys that this renderer lacks are
        dropped; keys given on the command line are always passed on, so a wrong one
        still fails loudly.
        """
        from stipplr import renderers

        section = renderers.get(renderer).section
        values = {
            k: v
            for k, v in getattr(self, section, {}).items()
            if k in known or k in self.explicit.get(section, set())
        }
        if section != "render":  # -O options given to a plot-format command
            values.update({k: self.render[k] for k in self.explicit.get("render", set())})
        return values

    def output_options(self, renderer: Renderer) -> Any:
        """``renderer``'s options object, built from :meth:`renderer_options`."""
        return renderer.make_options(
            **self.renderer_options(renderer.name, renderer.option_names())
        )

    def stipple_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for :func:`stipplr.stipple` (every value checked here)."""
        options = self.stipple_options()
        chosen = {k: getattr(options, k) for k in ("points", "engine", "model", "device", "seed")}
        tone = self.tone_options().to_dict()
        return {**chosen, "radius": options.radius, "tone": tone, **self.engine_options}


def resolve_settings(command: str, preset: str | None, **explicit: dict[str, Any]) -> Settings:
    """Defaults, then the preset (if any), then the explicitly given flags."""
    settings = Settings()
    if preset is not None:
        from stipplr.presets import load_preset

        loaded = load_preset(preset, command)
        settings.merge(loaded.sections, loaded.origin)
    given = {k: v for k, v in explicit.items() if v}
    settings.merge(given, "command line")
    settings.explicit = {section: set(values) for section, values in given.items()}
    return settings
