"""G-code profiles: the snippets a machine needs for header, footer, pen up/down and moves.

Built in: ``grbl-servo`` (GRBL forks that drive a pen servo with ``M3 S<n>``, then a
``G4 P<seconds>`` dwell), ``grbl-z`` (a Z axis lifts the pen) and ``marlin``
(``M280 P0 S<angle>`` servo, ``G4 P<milliseconds>``). Anything else comes from a TOML
template whose keys are ``header``, ``footer``, ``pen_up``, ``pen_down``, ``move`` (pen-up
travel), ``draw`` (pen-down line), optional ``up``/``down`` values, ``pen_change`` (default
``M0``, a pause) and ``comment``.
Snippets are Python format strings; the placeholders are listed in :data:`PLACEHOLDERS`.
"""

from __future__ import annotations

import dataclasses
import re
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stipplr.errors import OptionError, printable
from stipplr.tomlfile import read_toml
from stipplr.validate import Kind, Number, invalid, located

PLACEHOLDERS = {
    "x": "0.000",
    "y": "0.000",
    "up": 0.0,
    "down": 0.0,
    "feed_up": 12000.0,
    "feed_down": 3000.0,
    "up_delay_s": 0.12,
    "down_delay_s": 0.12,
    "up_delay_ms": 120.0,
    "down_delay_ms": 120.0,
    "width": 210.0,
    "height": 297.0,
    "text": "",
}
"""Every placeholder a snippet may use, with sample values: ``x``/``y`` (mm, formatted),
``up``/``down`` (servo value or Z), feeds in mm/min, delays, page size in mm, and ``text``
(``comment`` only)."""


@dataclass(frozen=True)
class GcodeProfile:
    """Format strings for one G-code dialect plus its default pen-up/pen-down values; a
    template's ``name`` is its path."""

    name: str
    pen_up: str
    pen_down: str
    move: str
    draw: str
    header: str = "G21\nG90"
    footer: str = "G0 X0 Y0"
    pen_change: str = "M0"
    up: float = 0.0
    down: float = 0.0
    comment: str = "; {text}"


BUILTIN_PROFILES = {
    "grbl-servo": GcodeProfile(
        "grbl-servo",
        pen_up="M3 S{up:g}\nG4 P{up_delay_s:.3f}",
        pen_down="M3 S{down:g}\nG4 P{down_delay_s:.3f}",
        move="G0 X{x} Y{y}",
        draw="G1 X{x} Y{y} F{feed_down:.0f}",
        up=60,
        down=30,
    ),
    "grbl-z": GcodeProfile(
        "grbl-z",
        pen_up="G0 Z{up:g}",
        pen_down="G1 Z{down:g} F{feed_down:.0f}",
        move="G0 X{x} Y{y}",
        draw="G1 X{x} Y{y} F{feed_down:.0f}",
        up=5,
        down=0,
    ),
    "marlin": GcodeProfile(
        "marlin",
        pen_up="M280 P0 S{up:g}\nG4 P{up_delay_ms:.0f}",
        pen_down="M280 P0 S{down:g}\nG4 P{down_delay_ms:.0f}",
        move="G0 X{x} Y{y} F{feed_up:.0f}",
        draw="G1 X{x} Y{y} F{feed_down:.0f}",
        up=60,
        down=30,
    ),
}


PROFILE_RULE = f"be a G-code profile ({' | '.join(BUILTIN_PROFILES)}) or a .toml template"
SNIPPET_RULE = f"be a format string with the placeholders {', '.join(PLACEHOLDERS)}"


MAX_FIELD_WIDTH = 99
"""Widths and precisions in a snippet's format specs stay below 100 (``{x:>50000000}``
would write 50 MB per point)."""


def _placeholders(field: str) -> dict[str, Any]:
    """The sample placeholders snippet ``field`` is formatted with: ``x``/``y`` only in
    ``move`` and ``draw``, ``text`` only in ``comment`` (as the G-code writer does)."""
    drop = ({"x", "y"} if field not in ("move", "draw") else set()) | (
        {"text"} if field != "comment" else set()
    )
    return {k: v for k, v in PLACEHOLDERS.items() if k not in drop}


def _check_spec(field: str, snippet: str) -> None:
    """Refuse a nested or huge format spec before anything is formatted."""
    for _, name, spec, _ in string.Formatter().parse(snippet):
        if name is None or not spec:
            continue
        numbers = [int(n) for n in re.findall(r"[0-9]+", spec)]
        if "{" in spec or any(n > MAX_FIELD_WIDTH for n in numbers):
            rule = f"use format widths and precisions up to {MAX_FIELD_WIDTH}"
            raise invalid(field, rule, snippet)


def _check_snippets(profile: GcodeProfile) -> GcodeProfile:
    """Format every snippet once with sample values so a bad placeholder fails early."""
    for f in dataclasses.fields(profile):
        snippet = getattr(profile, f.name)
        if f.type != "str" or f.name == "name":
            continue
        try:
            _check_spec(f.name, snippet)
            snippet.format(**_placeholders(f.name))
        except (KeyError, IndexError, ValueError, AttributeError) as exc:
            rule = f"be a format string with the placeholders {', '.join(_placeholders(f.name))}"
            raise invalid(f.name, rule, snippet, repr(exc)) from None
    return profile


def load_template(path: Path) -> GcodeProfile:
    """A profile from a TOML template file (one-line error naming the file when malformed)."""
    table = read_toml(path, "G-code template")
    known = {f.name for f in dataclasses.fields(GcodeProfile)} - {"name"}
    unknown = sorted(set(table) - known)
    missing = sorted({"pen_up", "pen_down", "move", "draw"} - set(table))
    if unknown or missing:
        problem = f"unknown key(s) {', '.join(unknown)}" if unknown else ""
        problem += ("; " if unknown and missing else "") + (
            f"missing key(s) {', '.join(missing)}" if missing else ""
        )
        raise OptionError(f"{path}: {problem} (keys: {', '.join(sorted(known))})")
    with located(path):
        for key in ("up", "down"):
            if key in table:
                table[key] = Number()(table[key], key)
        for key, value in table.items():
            if key not in ("up", "down") and not isinstance(value, str):
                raise invalid(key, "be a string", value)
        return _check_snippets(GcodeProfile(name=printable(str(path)), **table))


def get_profile(name: Any, option: str = "profile") -> GcodeProfile:
    """A built-in profile by name, or a template from a ``.toml`` path."""
    if isinstance(name, GcodeProfile):
        return name
    if isinstance(name, str) and name.strip().casefold() in BUILTIN_PROFILES:
        return BUILTIN_PROFILES[name.strip().casefold()]  # names in any case (MARLIN)
    if isinstance(name, str) and name.lower().endswith(".toml"):
        path = Path(name)
        if not path.is_file():
            raise invalid(option, PROFILE_RULE, name, "file not found")
        return load_template(path)
    raise invalid(option, PROFILE_RULE, name, "unknown G-code profile")


@dataclass(frozen=True)
class Profile(Kind):
    """The G-code profile option: a built-in name or a template path, parsed to the profile."""

    def __call__(self, value: Any, name: str) -> GcodeProfile:
        return get_profile(value, name)

    def format(self, value: Any) -> Any:
        return value.name
