"""Named, shareable settings: one TOML file per preset (see :mod:`stipplr.settings`)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stipplr.errors import OptionError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PRESET_DIR = Path(__file__).parent


@dataclass(frozen=True)
class Preset:
    """A loaded preset: its sections and where it came from."""

    name: str
    origin: str
    description: str
    sections: dict[str, dict[str, Any]]


def find_preset(name: str) -> Path:
    """The file of preset ``name`` (a shipped name or a path to a TOML file)."""
    path = Path(name)
    if path.suffix == ".toml" or path.exists():
        if not path.is_file():
            raise OptionError(f"{path}: preset file not found")
        return path
    shipped = PRESET_DIR / f"{name}.toml"
    if shipped.is_file():
        return shipped
    raise OptionError(f"unknown preset {name!r}")


def load_preset(name: str, command: str | None = None) -> Preset:
    """Load and parse preset ``name``; bad TOML gives a one-line error naming the file."""
    path = find_preset(name)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise OptionError(f"{path}: not valid TOML ({exc})") from None
    description = str(data.pop("description", ""))
    data.pop("commands", None)
    return Preset(path.stem, str(path), description, data)
