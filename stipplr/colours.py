"""Colour names and hex codes parsed once for renderers and pens (one-line errors)."""

from __future__ import annotations

from typing import Any

from PIL import ImageColor

from stipplr.errors import OptionError


def parse_colour(value: Any, option: str = "colour") -> tuple[int, int, int]:
    """An opaque colour (CSS name, ``#rgb``/``#rrggbb`` with or without ``#``, ``rgb(...)``)
    as 0-255 RGB; ``option`` names the setting in the error."""
    if not isinstance(value, str):
        raise OptionError(f"{option}: expected a colour name or #hex, got {value!r}")
    text = value.strip()
    candidates = [text] + ([f"#{text}"] if len(text) in (3, 6) else [])
    for candidate in candidates:
        try:
            rgb = ImageColor.getrgb(candidate)
        except ValueError:
            continue
        if len(rgb) == 4 and rgb[3] != 255:
            raise OptionError(f"{option}: colour {value!r} must be opaque")
        return rgb[:3]
    raise OptionError(
        f"{option}: unknown colour {value!r} (use a name like 'black' or hex like '#1a2b3c')"
    )


def hex_colour(rgb: tuple[int, int, int]) -> str:
    """``#rrggbb`` for 0-255 RGB."""
    return "#{:02x}{:02x}{:02x}".format(*rgb)
