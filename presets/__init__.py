"""Named, shareable settings: one TOML file per preset.

A preset has a ``description``, optionally the ``commands`` it is meant for (``stipple``,
``batch``, ``plot``; all by default) and the sections of :mod:`stipplr.settings`:
``[stipple]``, ``[tone]``, ``[engine_options]``, ``[render]`` and ``[plot]``. Presets are
looked up by path, then in the user's config folder (``stipplr presets`` prints it), then
among the shipped ones beside this file. Every key and value is checked against the real
option set when the preset loads, and errors name the file and the key.
"""

from __future__ import annotations

import os
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from stipplr.errors import OptionError, StipplrError
from stipplr.settings import DEVICES, SECTIONS, STIPPLE_DEFAULTS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

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
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
        raise OptionError(f"{path}: not a readable TOML file ({exc})") from None
    description = data.pop("description", "")
    commands = data.pop("commands", list(COMMANDS))
    _check(isinstance(description, str), path, "description", "must be a string")
    _check(
        isinstance(commands, list) and commands and set(commands) <= set(COMMANDS),
        path,
        "commands",
        f"must be a list from {', '.join(COMMANDS)}",
    )
    if command is not None and command not in commands:
        raise OptionError(
            f"{path}: preset is for {', '.join(commands)}, not for `stipplr {command}`"
        )
    for section, values in data.items():
        _check(section in SECTIONS, path, section, f"unknown section (use {', '.join(SECTIONS)})")
        _check(isinstance(values, dict), path, section, "must be a [table]")
    validate_sections(data, path)
    return Preset(path.stem, str(path), description, tuple(commands), data)


def _check(ok: bool, path: Path, key: str, reason: str) -> None:
    """One-line error naming the preset file and key unless ``ok``."""
    if not ok:
        raise OptionError(f"{path}: {key}: {reason}")


def validate_sections(sections: dict[str, dict[str, Any]], path: Path) -> None:
    """Check every key and value against the options the engines and renderers really have."""
    stipple = sections.get("stipple", {})
    for key, value in stipple.items():
        _check(key in STIPPLE_DEFAULTS, path, f"stipple.{key}", "unknown key")
        _check_stipple_value(key, value, path)
    validators = {
        "tone": _validate_tone,
        "engine_options": lambda values: _validate_engine_options(values, stipple.get("engine")),
        "render": _validate_render,
        "plot": _validate_plot,
    }
    for section, validate in validators.items():
        if sections.get(section):
            try:
                validate(sections[section])
            except StipplrError as exc:
                raise OptionError(f"{path}: [{section}] {exc}") from None
            except (TypeError, ValueError) as exc:
                raise OptionError(f"{path}: [{section}] bad value ({exc})") from None


def _check_stipple_value(key: str, value: Any, path: Path) -> None:
    """Check one ``[stipple]`` value by its key (engine names, devices, numbers)."""
    from stipplr.engines import engine_names

    where = f"stipple.{key}"
    if key == "points":
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 1
        _check(ok, path, where, "must be a whole number >= 1")
    elif key == "engine":
        engines = engine_names()
        _check(value in engines, path, where, f"must be one of {', '.join(engines)}")
    elif key == "device":
        _check(value in DEVICES, path, where, f"must be one of {', '.join(DEVICES)}")
    elif key == "seed":
        _check(isinstance(value, int) and not isinstance(value, bool), path, where, "must be int")
    elif key in ("radius_min", "radius_max"):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0
        _check(ok, path, where, "must be a number >= 0")
    elif key == "model":
        _check(isinstance(value, str), path, where, "must be a model name or path")


def _validate_tone(values: dict[str, Any]) -> None:
    """``[tone]`` must build a :class:`~stipplr.tone.Tone`."""
    from stipplr.tone import Tone

    Tone.from_dict(values)


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
        for name, r in renderers.available().items()
        if name != "plot" and set(values) <= r.option_names()
    ]
    if not fitting:
        raise OptionError(f"no renderer has all of the options {', '.join(sorted(values))}")
    for renderer in fitting:
        renderer.make_options(**values)


def _validate_plot(values: dict[str, Any]) -> None:
    """``[plot]`` must build the plot renderer's options."""
    from stipplr import renderers

    renderers.get("plot").make_options(**values)
