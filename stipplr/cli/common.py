"""Pieces shared by the CLI commands: error reporting and option parsing."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

import typer

from stipplr.errors import OptionError, StipplrError, one_line

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``stipplr: error: message`` on stderr and return the Exit to raise."""
    typer.echo(f"stipplr: error: {message}", err=True)
    return typer.Exit(code)


def cli_errors(func: F) -> F:
    """Turn stipplr's and file-system errors into one line on stderr and exit code 2;
    show warnings briefly."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        """Run the command; print its warnings and turn its errors into one line."""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                return func(*args, **kwargs)
            except StipplrError as exc:
                raise fail(str(exc)) from None
            except OSError as exc:  # e.g. an output folder that cannot be created or written
                raise fail(one_line(exc, limit=None)) from None
            finally:
                for w in caught:
                    typer.echo(f"stipplr: warning: {w.message}", err=True)

    return wrapper  # type: ignore[return-value]


def parse_value(text: str) -> Any:
    """Parse a KEY=VALUE option value: bool, int, float, comma list, or the string itself."""
    lowered = text.strip().lower()
    if lowered in ("true", "yes", "on"):
        return True
    if lowered in ("false", "no", "off"):
        return False
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_options(pairs: list[str] | None) -> dict[str, Any]:
    """Parse repeated ``-O key=value`` renderer/engine options into a dict."""
    options: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise OptionError(f"option {pair!r} must look like key=value")
        options[key.strip().replace("-", "_")] = parse_value(value)
    return options
