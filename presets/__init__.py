"""Named, shareable settings: one TOML file per preset.

A preset has a ``description``, optionally the ``commands`` it is meant for (``stipple``,
``batch``, ``plot``; all by default) and the sections of :mod:`stipplr.settings`:
``[stipple]``, ``[tone]``, ``[engine_options]``, ``[render]`` and ``[plot]``. Presets are
looked up by path, then in the user's config folder (``stipplr presets`` prints it), then
among the shipped ones beside this file. Every key and value is checked against the real
option set when the preset loads (the ``[stipple]``, ``[tone]`` and ``[plot]`` values are
parsed then, once), and errors name the file and the key.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from stipplr.errors import OptionError
from stipplr.settings import SECTIONS, StippleOptions
from stipplr.tomlfile import read_toml
from stipplr.tone import Tone
from stipplr.validate import invalid, located

SHIPPED_DIR = Path(__file__).parent
COMMANDS = ("stipple", "batch", "plot")


@dataclass(frozen=True)
class Preset:
    """A loaded, validated preset: its sections and where it came from."""

    name: str
    origin: str
    description: str
    commands: tuple[str, ...]
    sections: dict[str, dict[str, Any]]


def user_preset_dir() -> Path:
    """The user's preset folder (e.g. ``~/.config/stipplr/presets`` on Linux)."""
    return Path(platformdirs.user_config_dir("stipplr")) / "presets"


def preset_dirs() -> list[Path]:
    """Folders searched for preset names, user first so a user preset can shadow a shipped one."""
    return [user_preset_dir(), SHIPPED_DIR]


def find_preset(name: str) -> Path:
    """The file of preset ``name``: a path to a TOML file, or a user or shipped preset name."""
    path = Path(name)
    if path.suffix == ".toml" or os.sep in name:
        if not path.is_file():
            raise OptionError(f"{path}: preset file not found")
        return path
    for folder in preset_dirs():
        candidate = folder / f"{name}.toml"
        if candidate.is_file():
            return candidate
    raise OptionError(f"unknown preset {name!r} (see `stipplr presets`)")


def list_presets() -> list[Preset]:
    """Every valid preset found (user presets shadow shipped ones of the same name), sorted;
    a broken file is skipped with a warning that names it."""
    found: dict[str, Path] = {}
    for folder in reversed(preset_dirs()):
        if folder.is_dir():
            found.update({p.stem: p for p in folder.glob("*.toml")})
    loaded = []
    for name in sorted(found):
        try:
            loaded.append(load_preset(str(found[name])))
        except OptionError as exc:  # one broken user file must not hide the others
            warnings.warn(f"skipped preset: {exc}", stacklevel=2)
    return loaded


def load_preset(name: str, command: str | None = None) -> Preset:
    """Load, parse and validate preset ``name``, for ``command`` when given."""
    path = find_preset(name)
    data = read_toml(path)
    description = data.pop("description", "")
    commands = data.pop("commands", list(COMMANDS))
    with located(path):
        if not isinstance(description, str):
            raise invalid("description", "be a string", description)
        if not (isinstance(commands, list) and commands and set(commands) <= set(COMMANDS)):
            raise invalid("commands", f"be a list from {', '.join(COMMANDS)}", commands)
        if command is not None and command not in commands:
            raise OptionError(f"preset is for {', '.join(commands)}, not for `stipplr {command}`")
        for section, values in data.items():
            if section not in SECTIONS:
                raise OptionError(f"unknown section [{section}] (use {', '.join(SECTIONS)})")
            if not isinstance(values, dict):
                raise invalid(f"[{section}]", "be a table", values)
        sections = parse_sections(data)
    return Preset(path.stem, str(path), description, tuple(commands), sections)


def parse_sections(sections: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every key and value checked against the options the engines and renderers really
    have; the ``[stipple]``, ``[tone]`` and ``[plot]`` values come back parsed."""
    from stipplr.plotter import PlotOptions

    parsed = dict(sections)
    for section, options in (("stipple", StippleOptions), ("tone", Tone), ("plot", PlotOptions)):
        if section in sections:
            parsed[section] = options.parse_values(sections[section])
    stipple = sections.get("stipple", {})
    if "engine" in stipple:
        _check_engine(stipple["engine"])
    if sections.get("engine_options"):
        _validate_engine_options(sections["engine_options"], stipple.get("engine"))
    if sections.get("render"):
        _validate_render(sections["render"])
    return parsed


def _check_engine(engine: Any) -> None:
    """``[stipple] engine`` must name an engine of the table."""
    from stipplr.engines import engine_names

    engines = engine_names()
    if engine not in engines:
        raise invalid("stipple.engine", f"be one of {' | '.join(engines)}", engine)


def _validate_engine_options(values: dict[str, Any], engine: str | None) -> None:
    """``[engine_options]`` must suit the preset's engine (any engine when unset). A model's
    own options are checked when the model loads, before any image is read."""
    from stipplr.engines import ENGINES

    names = [engine] if engine in ENGINES else list(ENGINES)
    if any(ENGINES[name].check for name in names):
        return
    known = set().union(*(ENGINES[name].options() for name in names))
    unknown = sorted(set(values) - known)
    if unknown:
        raise OptionError(f"unknown engine option(s) {', '.join(unknown)}")


def _validate_render(values: dict[str, Any]) -> None:
    """Render options must suit some picture renderer; each that takes them checks values."""
    from stipplr import renderers

    fitting = [
        r
        for r in renderers.available().values()
        if r.section == "render" and set(values) <= r.option_names()
    ]
    if not fitting:
        raise OptionError(f"no renderer has all of the options {', '.join(sorted(values))}")
    for renderer in fitting:
        try:
            renderer.make_options(**values)
        except (TypeError, ValueError) as exc:  # a plug-in's options may fail in any way
            reason = f"[render] bad value for the {renderer.name} renderer ({exc})"
            raise OptionError(reason) from None
