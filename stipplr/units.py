"""Lengths with units (``15mm``, ``1.5cm``, ``0.5in``, ``96px``) parsed to millimetres.

Physical sizes (plotter pages, margins, pens; PNG/SVG page sizes) are in mm; a bare
number is taken as mm.
"""

from __future__ import annotations

import math
import re

from stipplr.errors import OptionError

MM_PER_UNIT = {"mm": 1.0, "cm": 10.0, "in": 25.4, "pt": 25.4 / 72, "px": 25.4 / 96}
_LENGTH = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?)\s*([a-z]*)\s*$", re.I)


def parse_length(value: str | float, name: str = "length", *, allow_zero: bool = True) -> float:
    """``value`` in mm; units mm, cm, in, pt or px (CSS, 96 per inch); a bare number is mm."""
    if isinstance(value, bool):
        raise OptionError(f"{name} must be a length such as 0.3mm, got {value!r}")
    if isinstance(value, int | float):
        number, unit = float(value), "mm"
    else:
        match = _LENGTH.match(str(value))
        if not match:
            raise OptionError(f"{name} must be a length such as 0.3mm, got {value!r}")
        number, unit = float(match.group(1)), (match.group(2).lower() or "mm")
        if unit not in MM_PER_UNIT:
            raise OptionError(
                f"{name}: unknown unit {unit!r} in {value!r} (use {', '.join(MM_PER_UNIT)})"
            )
    mm = number * MM_PER_UNIT[unit]
    if not math.isfinite(mm) or mm < 0 or (mm == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise OptionError(f"{name} must be {bound}, got {value!r}")
    return mm
