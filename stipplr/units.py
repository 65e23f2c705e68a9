"""Lengths with units (``15mm``, ``1.5cm``, ``0.5in``, ``96px``) parsed to millimetres.

Physical sizes (plotter pages, margins, pens; PNG/SVG page sizes) are in mm; a bare
number is taken as mm. :class:`Length` is the option kind, as vpype's ``LengthType``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from stipplr.validate import Kind, invalid, is_number

MM_PER_UNIT = {"mm": 1.0, "cm": 10.0, "in": 25.4, "pt": 25.4 / 72, "px": 25.4 / 96}
_LENGTH = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?)\s*([a-z]*)\s*$", re.I)


def parse_length(
    value: str | float,
    name: str = "length",
    *,
    allow_zero: bool = True,
    what: str = "length",
    example: str = "0.3mm",
) -> float:
    """``value`` in mm; units mm, cm, in, pt or px (CSS, 96 per inch); a bare number is mm.

    ``what`` and ``example`` word the error: ``pen width must be a positive length such as
    0.3mm, got 'abc'``."""
    rule = f"be a positive {what}" if not allow_zero else f"be a {what} >= 0"
    rule += f" such as {example}"
    if is_number(value):
        number, unit = float(value), "mm"
    else:
        match = _LENGTH.match(value) if isinstance(value, str) else None
        if not match:
            raise invalid(name, rule, value)
        number, unit = float(match.group(1)), (match.group(2).lower() or "mm")
        if unit not in MM_PER_UNIT:
            detail = f"unknown unit {unit!r}; use {', '.join(MM_PER_UNIT)}"
            raise invalid(name, rule, value, detail)
    mm = number * MM_PER_UNIT[unit]
    if not math.isfinite(mm) or mm < 0 or (mm == 0 and not allow_zero):
        raise invalid(name, rule, value)
    return mm


def format_length(mm: float) -> str:
    """``0.3`` (mm) as ``"0.3mm"``."""
    return f"{mm:g}mm"


@dataclass(frozen=True)
class Length(Kind):
    """A length option: text with a unit or a number of mm, parsed to mm (a float)."""

    positive: bool = False
    example: str = "15mm"
    what: str = "length"

    def __call__(self, value: Any, name: str) -> float:
        return parse_length(
            value, name, allow_zero=not self.positive, what=self.what, example=self.example
        )

    def format(self, value: Any) -> Any:
        return format_length(value)
