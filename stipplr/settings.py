"""Resolved settings of one command: defaults < preset < explicit flags.

Settings are grouped in sections, the same tables a preset TOML file uses:
``[stipple]`` (points, engine, model, device, seed, radius_min, radius_max), ``[tone]``,
``[engine_options]``, ``[render]`` (renderer options) and ``[plot]`` (plotter options).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stipplr.errors import OptionError

SECTIONS = ("stipple", "tone", "engine_options", "render", "plot")
DEVICES = ("auto", "cpu", "cuda", "mps")
"""Device names ``--device`` and presets accept (torch-free, so presets load fast)."""
STIPPLE_DEFAULTS: dict[str, Any] = {
    "points": 5000,
    "engine": None,
    "model": None,
    "device": "auto",
    "seed": None,
    "radius_min": None,
    "radius_max": None,
}
NOT_ENGINE_OPTIONS = frozenset({*STIPPLE_DEFAULTS, "image", "tone", "radius"})
"""``stipplr.stipple``'s own arguments: as engine options they would clash with them."""


@dataclass
class Settings:
    """One command's resolved settings, section by section."""

    stipple: dict[str, Any] = field(default_factory=lambda: dict(STIPPLE_DEFAULTS))
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
            if section == "stipple":
                unknown = sorted(set(values) - set(STIPPLE_DEFAULTS))
                if unknown:
                    raise OptionError(
                        f"{origin}: unknown key(s) in [stipple]: {', '.join(unknown)}"
                    )
            clash = sorted(set(values) & NOT_ENGINE_OPTIONS) if section == "engine_options" else []
            if clash:
                raise OptionError(
                    f"{origin}: {', '.join(clash)} cannot be an engine option (use its own setting)"
                )
            getattr(self, section).update(values)

    def renderer_options(self, renderer: str, known: set[str]) -> dict[str, Any]:
        """Options for ``renderer`` whose option names are ``known``.

        The plot renderer reads ``[plot]``, the others ``[render]``. A preset serves several
        formats, so its keys that this renderer lacks are dropped; keys given on the command
        line are always passed on, so a wrong one still fails loudly.
        """
        section = "plot" if renderer == "plot" else "render"
        values = {
            k: v
            for k, v in getattr(self, section).items()
            if k in known or k in self.explicit.get(section, set())
        }
        if section == "plot":  # -O options given to a plot-format command
            values.update({k: self.render[k] for k in self.explicit.get("render", set())})
        return values

    def stipple_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for :func:`stipplr.stipple`."""
        s = dict(self.stipple)
        r_min, r_max = s.pop("radius_min"), s.pop("radius_max")
        radius = None
        if r_min is not None or r_max is not None:
            r_min = r_max if r_min is None else r_min
            r_max = r_min if r_max is None else r_max
            radius = (r_min, r_max)
        return {**s, "radius": radius, "tone": dict(self.tone), **self.engine_options}


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
