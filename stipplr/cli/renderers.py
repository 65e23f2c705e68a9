"""``stipplr renderers``: every output format (built-in and plug-in) and its options."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from stipplr import renderers
from stipplr.cli import app
from stipplr.cli import options as o
from stipplr.cli.common import cli_errors


def renderer_rows() -> list[dict[str, Any]]:
    """One row per available renderer: name, extensions, description and options."""
    return [
        {
            "name": name,
            "extensions": list(renderer.extensions),
            "description": renderer.description,
            "options": [
                {"name": option, "default": default, "help": text}
                for option, default, text in renderer.option_help()
            ],
        }
        for name, renderer in renderers.available().items()
    ]


def _table(row: dict[str, Any]) -> Table:
    """A renderer's options as a table titled with its name, extensions and description."""
    title = f"[bold]{row['name']}[/] ({' '.join(row['extensions'])}): {row['description']}"
    table = Table("option", "default", "help", title=title, title_justify="left")
    for option in row["options"]:
        table.add_row(option["name"], option["default"], option["help"])
    if not row["options"]:
        table.add_row("(none)", "", "")
    return table


@app.command("renderers")
@cli_errors
def renderers_command(
    as_json: Annotated[bool, o.switch("--json", help="Print the list as JSON.")] = False,
) -> None:
    """List the output formats and their options (pass options with -O KEY=VALUE).

    Example: stipplr renderers --json

    Example: stipplr stipple photo.jpg -o photo.png -O color=dots -O width=2048
    """
    rows = renderer_rows()
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    console = Console()
    for row in rows:
        console.print(_table(row))
