"""Colour names and hex codes parsed once for renderers and pens (one-line errors).

:class:`Colour` is the option kind: it parses to 0-255 RGB and writes ``#rrggbb`` back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PIL import ImageColor

from stipplr.validate import Kind, invalid

RULE = "be a colour name or hex code such as 'black' or '#1a2b3c'"


def _rgb_triple(value: Any) -> tuple[int, int, int] | None:
    """``value`` when it already is 0-255 RGB (a parsed colour), else None."""
    if not (isinstance(value, tuple) and len(value) == 3):
        return None
    whole = (isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in value)
    return value if all(whole) else None


def parse_colour(value: Any, option: str = "colour") -> tuple[int, int, int]:
    """An opaque colour (CSS name, ``#rgb``/``#rrggbb`` with or without ``#``, ``rgb(...)``,
    or 0-255 RGB) as 0-255 RGB; ``option`` names the setting in the error."""
    rgb = _rgb_triple(value)
    if rgb is not None:
        return rgb
    if not isinstance(value, str):
        raise invalid(option, RULE, value)
    text = value.strip()
    candidates = [text] + ([f"#{text}"] if len(text) in (3, 6) else [])
    for candidate in candidates:
        try:
            parsed = ImageColor.getrgb(candidate)
        except ValueError:
            continue
        if len(parsed) == 4 and parsed[3] != 255:
            raise invalid(option, "be an opaque colour", value)
        return parsed[:3]
    raise invalid(option, RULE, value)


def hex_colour(rgb: tuple[int, int, int]) -> str:
    """``#rrggbb`` for 0-255 RGB."""
    return "#{:02x}{:02x}{:02x}".format(*rgb)


@dataclass(frozen=True)
class Colour(Kind):
    """A colour option, parsed to 0-255 RGB."""

    def __call__(self, value: Any, name: str) -> tuple[int, int, int]:
        return parse_colour(value, name)

    def format(self, value: Any) -> Any:
        return hex_colour(value)
