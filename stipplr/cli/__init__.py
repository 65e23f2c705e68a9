"""The ``stipplr`` command line: a thin typer layer over the Python API.

Each command lives in its own module here and registers itself on :data:`app`.
"""

from __future__ import annotations

import importlib

import typer

from stipplr import __version__

app = typer.Typer(
    name="stipplr",
    help="Turn photos into stipple drawings: PNG, colour SVG and pen-plotter files.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

COMMAND_MODULES = (
    "stipple",
    "eval",
    "plot",
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
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """stipplr: photos to stipple drawings (dots whose density carries the tone)."""


for _name in COMMAND_MODULES:
    importlib.import_module(f"stipplr.cli.{_name}")


def main() -> None:
    """Console-script entry point."""
    app()
