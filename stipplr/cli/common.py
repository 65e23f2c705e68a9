"""Pieces shared by the CLI commands: error reporting and option parsing.

Every error is one line on stderr, ``stipplr: error: ...``, with exit code 2: stipplr's
own (:func:`cli_errors`) and the command line's usage errors -- a missing ``-o``, an
unknown flag, a bad flag value -- which :class:`OneLineErrors` catches before typer
would print them in a box.
"""

from __future__ import annotations

import contextlib
import functools
import warnings
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import typer
from typer.core import TyperCommand, TyperGroup

from stipplr.errors import OptionError, StipplrError, one_line, printable
from stipplr.interrupts import sigterm_as_interrupt

try:  # recent typer versions bundle their own click
    from typer._click import exceptions as click_exceptions
except ImportError:  # pragma: no cover - typer on the click package
    from click import exceptions as click_exceptions  # type: ignore[no-redef]

UsageError = click_exceptions.UsageError
NoArgsIsHelpError: Any = getattr(click_exceptions, "NoArgsIsHelpError", ())
"""Raised for a bare group (its help is shown); an empty tuple catches nothing."""

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``stipplr: error: message`` on stderr and return the Exit to raise."""
    typer.echo(f"stipplr: error: {printable(message)}", err=True)
    return typer.Exit(code)


def usage_message(exc: Any) -> str:
    """A usage error in one line, with where to look: ``missing option '--output' / '-o'
    (see `stipplr stipple --help`)``."""
    text = " ".join(exc.format_message().split()).rstrip(".")
    if text[:1].isupper() and text[1:2].islower():  # "Missing option" -> "missing option"
        text = text[:1].lower() + text[1:]
    ctx = getattr(exc, "ctx", None)
    return f"{text} (see `{ctx.command_path} --help`)" if ctx is not None else text


@contextlib.contextmanager
def one_line_usage_errors() -> Iterator[None]:
    """Within the block, a usage error or a flag's bad value exits 2 after one line."""
    try:
        yield
    except NoArgsIsHelpError:
        raise  # shows the help
    except UsageError as exc:
        raise fail(usage_message(exc)) from None
    except StipplrError as exc:  # a flag's value refused by its option's kind
        raise fail(str(exc)) from None


def quiet_help_option(option: Any) -> Any:
    """``--help`` without a ``<bool>`` type beside it in the help."""
    if option is not None:
        option.metavar = ""
    return option


class Command(TyperCommand):
    """A stipplr command: its ``--help`` flag shows no value type."""

    def get_help_option(self, ctx: Any) -> Any:
        return quiet_help_option(super().get_help_option(ctx))


class OneLineErrors(TyperGroup):
    """The command group whose usage errors (its own and its commands') are one line."""

    def get_help_option(self, ctx: Any) -> Any:
        return quiet_help_option(super().get_help_option(ctx))

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        with one_line_usage_errors():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: Any) -> Any:
        with one_line_usage_errors():
            return super().invoke(ctx)


def cli_errors(func: F) -> F:
    """Turn stipplr's and file-system errors into one line on stderr and exit code 2;
    show warnings briefly."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        """Run the command; print its warnings and turn its errors into one line."""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                with sigterm_as_interrupt():
                    return func(*args, **kwargs)
            except KeyboardInterrupt:  # Ctrl-C or SIGTERM: temp files are gone already
                raise fail("interrupted", 130) from None
            except StipplrError as exc:
                raise fail(str(exc)) from None
            except OSError as exc:  # e.g. an output folder that cannot be created or written
                raise fail(one_line(exc, limit=None)) from None
            finally:
                for w in caught:
                    typer.echo(f"stipplr: warning: {printable(str(w.message))}", err=True)

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


@contextlib.contextmanager
def engine_progress(label: str = "stippling") -> Iterator[Callable[[int, int], None]]:
    """A transient progress bar on stderr that slow engines (ccvt, ...) advance through the
    engine table's ``progress(done, total)`` callback; silent when stderr is no terminal."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    console = Console(stderr=True)
    bar = Progress(
        f"[progress.description]{label}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
    task = bar.add_task(label, total=None)
    with bar:
        yield lambda done, total: bar.update(task, completed=done, total=total)
