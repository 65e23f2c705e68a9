"""``stipplr engines``: the engine table, with each engine's dot range and options."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from stipplr.cli import app
from stipplr.cli import options as o
from stipplr.cli.common import cli_errors
from stipplr.engines import ENGINES


def engine_rows() -> list[dict[str, Any]]:
    """One row per engine: name, summary, dot range and options with their defaults."""
    return [
        {
            "name": engine.name,
            "summary": engine.summary,
            "n_range": list(engine.n_range),
            "options": {k: v for k, v in engine.options().items() if _jsonable(v)},
            "model_options": engine.check is not None,
            "coupled_pens": engine.classes is not None,
            "coupled_options": {k: v for k, v in engine.class_options().items() if _jsonable(v)},
        }
        for engine in ENGINES.values()
    ]


def _jsonable(value: Any) -> bool:
    """Whether a default prints as JSON (all of stipplr's do; a plug-in's might not)."""
    return isinstance(value, (str, int, float, bool, type(None)))


@app.command("engines")
@cli_errors
def engines_command(
    as_json: Annotated[bool, o.switch("--json", help="Print the table as JSON.")] = False,
) -> None:
    """List the stippling engines and their options (set one with -E key=value).

    Example: stipplr engines --json
    """
    rows = engine_rows()
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table("engine", "dots", "options (-E key=value, default)", "what")
    for row in rows:
        options = "\n".join(f"{k}={v}" for k, v in row["options"].items())
        if row["model_options"]:
            options += "\n+ the model's own (stipplr models)"
        if row["coupled_pens"]:
            coupled = " ".join(f"{k}={v}" for k, v in row["coupled_options"].items())
            options += f"\n--mix coupled (pens): {coupled}"
        low, high = row["n_range"]
        dots = "the model's" if row["model_options"] else f"{low}-{high}"
        table.add_row(row["name"], dots, options, row["summary"])
    Console().print(table)
