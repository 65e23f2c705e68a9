"""Option values checked in one place, with one error form: ``NAME must RULE, got VALUE``.

A *kind* turns what a user gave (a flag, a ``-O key=value``, a preset or config key, an
argument in Python) into a typed value -- a float, an int, a length in mm, an RGB colour --
or raises :class:`~stipplr.errors.OptionError` in that one form, naming the option::

    plot.pen_width must be a positive pen width such as 0.3mm, got 'abc'
    presets/x.toml: tone.gamma must be > 0, got -1

(:func:`located` puts the file in front.) Kinds are idempotent: a parsed value passes
through unchanged, so an option object can be rebuilt from its own values. The kinds of
lengths, colours and paper sizes live beside their parsers (:mod:`stipplr.units`,
:mod:`stipplr.colours`, :mod:`stipplr.paper`).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

from stipplr.errors import OptionError


def shown(value: Any) -> str:
    """``value`` as an error message quotes it (numpy scalars as plain numbers)."""
    if isinstance(value, numbers.Number) and hasattr(value, "item"):
        value = value.item()
    return repr(value)


def invalid(name: str, rule: str, value: Any, detail: str | None = None) -> OptionError:
    """The one error form: ``NAME must RULE, got VALUE`` (and `` (DETAIL)`` when given)."""
    tail = f" ({detail})" if detail else ""
    return OptionError(f"{name} must {rule}, got {shown(value)}{tail}")


def unknown_options(
    section: str, unknown: Iterable[str], known: Iterable[str], owner: str | None = None
) -> OptionError:
    """The error for option names that ``owner`` (default: the ``[section]`` table) lacks."""
    names = ", ".join(f"{section}.{name}" for name in sorted(unknown))
    return OptionError(
        f"unknown {section} option(s) {names}: {owner or f'[{section}]'} has no option of "
        f"that name (it has: {', '.join(known) or 'none'})"
    )


@contextmanager
def located(where: object) -> Iterator[None]:
    """Put ``where: `` (a file, a table) in front of an OptionError raised inside."""
    try:
        yield
    except OptionError as exc:
        raise OptionError(f"{where}: {exc}") from None


def is_number(value: Any) -> bool:
    """A real number, not a bool (``True`` is an int in Python, never a number option)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


class Kind:
    """One kind of option value: ``kind(value, name)`` is the parsed value or an error.

    ``cli_type`` is the type a command-line flag of this kind reads (lengths and colours
    stay text until the kind parses them); :meth:`format` writes a parsed value back the
    way a user would (for TOML and help).
    """

    cli_type: ClassVar[type] = str
    metavar: ClassVar[str] = "TEXT"
    """What ``--help`` shows for a flag of this kind's value."""

    def __call__(self, value: Any, name: str) -> Any:
        raise NotImplementedError

    def names(self) -> tuple[str, ...]:
        """The names a value of this kind is one of (case-insensitive), or () for any."""
        return ()

    def format(self, value: Any) -> Any:
        """``value`` as a user writes it (for printed settings and TOML)."""
        return value


@dataclass(frozen=True)
class Number(Kind):
    """A finite real number (a float), optionally bounded: ``low`` is exclusive when
    ``above``; ``finite=False`` lets infinity through (never NaN)."""

    low: float | None = None
    high: float | None = None
    above: bool = False
    finite: bool = True
    cli_type: ClassVar[type] = float
    metavar: ClassVar[str] = "NUM"

    def rule(self) -> str:
        """The bounds in words: ``> 0``, ``>= 0``, ``in [-1, 1]``, ``in (0, 1]``."""
        if self.low is not None and self.high is not None:
            return f"in {'(' if self.above else '['}{self.low:g}, {self.high:g}]"
        if self.low is not None:
            return f"{'>' if self.above else '>='} {self.low:g}"
        return f"<= {self.high:g}" if self.high is not None else "a number"

    def __call__(self, value: Any, name: str) -> float:
        if not is_number(value):
            raise invalid(name, "be a number", value)
        number = float(value)
        if math.isnan(number) or (self.finite and math.isinf(number)):
            raise invalid(name, "be finite", value)
        low_ok = self.low is None or number > self.low or (number == self.low and not self.above)
        if not low_ok or (self.high is not None and number > self.high):
            raise invalid(name, f"be {self.rule()}", value)
        return number


@dataclass(frozen=True)
class Whole(Kind):
    """A whole number (an int, not a float or a bool), optionally from ``low`` to ``high``."""

    low: int | None = None
    high: int | None = None
    cli_type: ClassVar[type] = int
    metavar: ClassVar[str] = "INT"

    def rule(self) -> str:
        """``be a whole number`` with its bounds (``from 1 to 10``, ``>= 1``)."""
        if self.low is not None and self.high is not None:
            return f"be a whole number from {self.low} to {self.high}"
        bounds = (
            "" if self.low is None and self.high is None else Number(self.low, self.high).rule()
        )
        return f"be a whole number {bounds}".rstrip()

    def __call__(self, value: Any, name: str) -> int:
        if not isinstance(value, numbers.Integral) or isinstance(value, bool):
            raise invalid(name, self.rule(), value)
        whole = int(value)
        if (self.low is not None and whole < self.low) or (
            self.high is not None and whole > self.high
        ):
            raise invalid(name, self.rule(), value)
        return whole


@dataclass(frozen=True)
class Flag(Kind):
    """True or false (a bool; ``1`` or ``"yes"`` would pass silently as true, so they fail)."""

    cli_type: ClassVar[type] = bool
    metavar: ClassVar[str] = ""

    def __call__(self, value: Any, name: str) -> bool:
        if not (isinstance(value, bool) or type(value).__name__ in ("bool", "bool_")):  # numpy
            raise invalid(name, "be true or false", value)
        return bool(value)


def match_name(value: Any, names: Iterable[str]) -> str | None:
    """The one of ``names`` that ``value`` spells, ignoring case (``LBG`` is ``lbg``)."""
    if not isinstance(value, str):
        return None
    folded = {name.casefold(): name for name in names}
    return folded.get(value.strip().casefold())


@dataclass(frozen=True)
class Choice(Kind):
    """One of a few names, in any case; ``noun`` says what they are (``dot kind``) in the
    error. The value is the name as declared (``TOUCH`` -> ``touch``). A subclass may
    override :meth:`names` to read them from a table (the engines, the renderers)."""

    choices: tuple[str, ...] = ()
    noun: str | None = None
    metavar: ClassVar[str] = "NAME"

    def names(self) -> tuple[str, ...]:
        return self.choices

    def __call__(self, value: Any, name: str) -> str:
        chosen = match_name(value, self.names())
        if chosen is None:
            detail = f"unknown {self.noun}" if self.noun else None
            raise invalid(name, f"be one of {' | '.join(self.names())}", value, detail)
        return chosen


@dataclass(frozen=True)
class Text(Kind):
    """Any string (a model name, a path)."""

    what: str = "text"

    def __call__(self, value: Any, name: str) -> str:
        if not isinstance(value, str):
            raise invalid(name, f"be {self.what}", value)
        return value


def radius_range(radius: Any, name: str = "radius") -> tuple[float, float]:
    """(r_min, r_max) as floats, unless not ``0 <= r_min <= r_max < inf``."""
    rule = "satisfy 0 <= min <= max < inf"
    try:
        r_min, r_max = (float(r) for r in radius)
    except (TypeError, ValueError):
        raise invalid(name, rule, radius) from None
    if not 0 <= r_min <= r_max < math.inf:
        raise invalid(name, rule, (r_min, r_max))
    return r_min, r_max
