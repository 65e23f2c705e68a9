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
import sys
from dataclasses import dataclass
from pathlib import Path

from stipplr.errors import OptionError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

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
    """Format strings for one G-code dialect plus its default pen-up/pen-down values."""

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


def _check_snippets(profile: GcodeProfile, origin: str) -> GcodeProfile:
    """Format every snippet once with sample values so a bad placeholder fails early."""
    for f in dataclasses.fields(profile):
        snippet = getattr(profile, f.name)
        if f.type != "str" or f.name == "name":
            continue
        try:
            snippet.format(**PLACEHOLDERS)
        except (KeyError, IndexError, ValueError, AttributeError) as exc:
            raise OptionError(
                f"{origin}: {f.name} snippet {snippet!r} is not a valid template ({exc!r}; "
                f"placeholders: {', '.join(PLACEHOLDERS)})"
            ) from None
    return profile


def load_template(path: Path) -> GcodeProfile:
    """A profile from a TOML template file (one-line error when malformed)."""
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise OptionError(f"{path}: cannot read G-code template ({exc})") from None
    known = {f.name for f in dataclasses.fields(GcodeProfile)} - {"name"}
    unknown = sorted(set(table) - known)
    missing = sorted({"pen_up", "pen_down", "move", "draw"} - set(table))
    if unknown or missing:
        problem = f"unknown key(s) {', '.join(unknown)}" if unknown else ""
        problem += ("; " if unknown and missing else "") + (
            f"missing key(s) {', '.join(missing)}" if missing else ""
        )
        raise OptionError(f"{path}: {problem} (keys: {', '.join(sorted(known))})")
    try:
        profile = GcodeProfile(name=path.stem, **table)
        profile = dataclasses.replace(profile, up=float(profile.up), down=float(profile.down))
    except (TypeError, ValueError) as exc:
        raise OptionError(f"{path}: bad G-code template value ({exc})") from None
    return _check_snippets(profile, str(path))


def get_profile(name: str) -> GcodeProfile:
    """A built-in profile by name, or a template from a ``.toml`` path."""
    if isinstance(name, str) and name in BUILTIN_PROFILES:
        return BUILTIN_PROFILES[name]
    if isinstance(name, str) and name.lower().endswith(".toml"):
        path = Path(name)
        if not path.is_file():
            raise OptionError(f"{path}: G-code template not found")
        return load_template(path)
    raise OptionError(
        f"unknown G-code profile {name!r} (choose from {', '.join(BUILTIN_PROFILES)} "
        "or give a .toml template)"
    )
