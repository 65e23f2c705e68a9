"""The ``stipplr`` command line: a thin typer layer over the Python API.

Each command lives in its own module here and registers itself on :data:`app`.
"""

from __future__ import annotations

from stipplr import interrupts

interrupts.starting()  # an interrupt while the commands import exits 130 in one line

import importlib  # noqa: E402
from typing import Any  # noqa: E402

import typer  # noqa: E402

from stipplr import __version__  # noqa: E402
from stipplr.cli.common import Command, OneLineErrors  # noqa: E402


class App(typer.Typer):
    """A typer app whose groups and commands print usage errors in one line."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cls=OneLineErrors, **kwargs)

    def command(self, *args: Any, **kwargs: Any) -> Any:
        """Register a command (a :class:`~stipplr.cli.common.Command`)."""
        return super().command(*args, cls=Command, **kwargs)


app = App(
    name="stipplr",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

COMMAND_MODULES = (
    "stipple",
    "eval",
    "plot",
    "separate",
    "batch",
    "engines",
    "models",
    "renderers",
    "presets",
)


def _version(value: bool) -> None:
    """``--version``: print it and stop before any command runs."""
    if value:
        typer.echo(f"stipplr {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        callback=_version,
        is_eager=True,
        metavar="",
        help="Print the version and exit.",
    ),
) -> None:
    """Turn photos into stipple drawings: PNG, colour SVG and pen-plotter files.

    Example: stipplr stipple photo.jpg -o photo.png --points 8000

    Example: stipplr batch photos/ --format svg --out drawings
    """


for _name in COMMAND_MODULES:
    importlib.import_module(f"stipplr.cli.{_name}")
interrupts.started()


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    finally:
        interrupts.finished()  # the exit code stands
