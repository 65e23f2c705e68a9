"""Pen sets: ``"cyan,magenta,yellow,black"``, hex codes, a shipped set (``cmyk``,
``black+grey``, ``fineliner-6``) or a pen-set TOML file, parsed once to :class:`PenSet`.

A pen-set file lists its pens in drawing-independent order::

    description = "my pens"
    [[pen]]
    name = "sky"          # unique, names the plot layer
    colour = "#3a9ad9"    # CSS name or hex
    width = "0.3mm"       # optional: the plot's --pen width when absent
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from stipplr.colours import hex_colour, parse_colour
from stipplr.errors import OptionError
from stipplr.tomlfile import read_toml
from stipplr.units import parse_length
from stipplr.validate import Kind, invalid

RULE = (
    "be a comma list of colours such as 'cyan,magenta,yellow,black', a pen set "
    "(cmyk, black+grey, fineliner-6) or a pen-set .toml file"
)
MAX_PENS = 16
MIXES = ("auto", "coupled", "independent", "nearest")
GCR_HELP = "grey-component replacement: share of neutral tones the black pen takes (0-1)"
MIX_HELP = (
    "how pens share the dots: coupled (each pen and all pens evenly spread; engines with a "
    "multi-class mode), independent (each pen on its own), nearest (0.1: a grey stipple, "
    "each dot to the nearest pen); auto: coupled when the engine can"
)

PEN_KEYS = {"name", "colour", "color", "width"}


@dataclass(frozen=True)
class Ink:
    """One pen: a name, its colour (0-255 sRGB) and its nib width in mm (None: the plot's)."""

    name: str
    rgb: tuple[int, int, int]
    width: float | None = None

    @property
    def hex(self) -> str:
        """The colour as ``#rrggbb``."""
        return hex_colour(self.rgb)

    def to_dict(self) -> dict[str, Any]:
        """The pen as a stipple's meta records it."""
        return {"name": self.name, "colour": self.hex, "width": self.width}

    @classmethod
    def from_dict(cls, entry: dict[str, Any]) -> Ink:
        """The pen of a stipple's ``meta["pens"]`` entry."""
        return cls(str(entry["name"]), parse_colour(entry["colour"]), entry.get("width"))


@dataclass(frozen=True)
class PenSet:
    """The pens of a plot or a stipple, and the text they were given as (written back
    into resolved presets)."""

    inks: tuple[Ink, ...]
    source: str

    def __iter__(self):
        return iter(self.inks)

    def __len__(self) -> int:
        return len(self.inks)

    def __getitem__(self, index: int) -> Ink:
        return self.inks[index]

    @property
    def names(self) -> list[str]:
        """The pens' names in order."""
        return [ink.name for ink in self.inks]


def pen_set_names() -> list[str]:
    """The shipped pen sets."""
    folder = resources.files("stipplr.inks") / "sets"
    return sorted(p.name[: -len(".toml")] for p in folder.iterdir() if p.name.endswith(".toml"))


def _shipped(name: str) -> Path | None:
    """The file of a shipped pen set, or None."""
    if name not in pen_set_names():
        return None
    with resources.as_file(resources.files("stipplr.inks") / "sets" / f"{name}.toml") as p:
        return Path(p)


def parse_pen_set(value: Any, name: str = "pens") -> PenSet:
    """A :class:`PenSet` from a comma list of colours, a list of them (or of :class:`Ink`),
    a shipped set's name or a pen-set file; one-line errors name the pen at fault."""
    if isinstance(value, PenSet):
        return value
    if isinstance(value, str):
        text = value.strip()
        found = _shipped(text)
        if found is not None or text.lower().endswith(".toml"):
            return PenSet(_read_file(found or Path(text), name), text)
        entries: list[Any] = text.split(",")
    elif isinstance(value, (list, tuple)):
        entries = list(value)
        text = ",".join(e.name if isinstance(e, Ink) else str(e) for e in entries)
    else:
        raise invalid(name, RULE, value)
    inks = [e if isinstance(e, Ink) else _colour_pen(str(e).strip(), name, value) for e in entries]
    return PenSet(_checked([i for i in inks if i is not None], name, value), text)


def _colour_pen(entry: str, name: str, value: Any) -> Ink | None:
    """The pen named by a colour in a comma list (None for an empty entry)."""
    if not entry:
        return None
    try:
        return Ink(entry, parse_colour(entry))
    except OptionError:
        raise invalid(name, RULE, value, f"unknown colour {entry!r}") from None


def _read_file(path: Path, name: str) -> tuple[Ink, ...]:
    """The pens of a pen-set TOML file."""
    if not path.is_file():
        raise OptionError(f"{os.fspath(path)}: no such pen-set file (for {name})")
    table = read_toml(path, "pen-set file")
    pens = table.get("pen")
    if not isinstance(pens, list) or not pens or not all(isinstance(p, dict) for p in pens):
        raise OptionError(f"{path}: a pen-set file needs [[pen]] tables (name, colour, width)")
    return _checked([_file_pen(entry, i, path) for i, entry in enumerate(pens)], name, path)


def _file_pen(entry: dict[str, Any], index: int, path: Path) -> Ink:
    """One ``[[pen]]`` table of a pen-set file."""
    label = str(entry.get("name", f"#{index + 1}")).strip()
    where = f"{path}: pen {label!r}"
    unknown = set(entry) - PEN_KEYS
    if unknown:
        raise OptionError(f"{where}: unknown key {sorted(unknown)[0]!r} (use name, colour, width)")
    if not label or "name" not in entry:
        raise OptionError(f"{where}: needs a name")
    colour = entry.get("colour", entry.get("color"))
    if colour is None:
        raise OptionError(f"{where}: needs a colour")
    try:
        rgb = parse_colour(colour, "colour")
        width = entry.get("width")
        width = None if width is None else parse_length(width, "width", allow_zero=False)
    except OptionError as exc:
        raise OptionError(f"{where}: {exc}") from None
    return Ink(label, rgb, width)


def _checked(inks: list[Ink], name: str, value: Any) -> tuple[Ink, ...]:
    """The pens, after refusing an empty set, too many pens or a pen listed twice."""
    if not inks:
        raise invalid(name, RULE, value, "no pen given")
    if len(inks) > MAX_PENS:
        raise invalid(name, RULE, value, f"{len(inks)} pens, at most {MAX_PENS}")
    seen: set[str] = set()
    for ink in inks:
        if ink.name.lower() in seen:
            raise invalid(name, RULE, value, f"pen {ink.name!r} is listed twice")
        seen.add(ink.name.lower())
    return tuple(inks)


@dataclass(frozen=True)
class Pens(Kind):
    """The pen-set option: parsed to a :class:`PenSet`; written back as it was given."""

    def __call__(self, value: Any, name: str) -> PenSet:
        return parse_pen_set(value, name)

    def format(self, value: Any) -> Any:
        return value.source if isinstance(value, PenSet) else value
