"""``stipplr models``: the trained models there are (shipped and the user's), read from
their model cards, so listing them never imports torch."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from stipplr import modelfiles
from stipplr.cli import app
from stipplr.cli import options as o
from stipplr.cli.common import cli_errors
from stipplr.errors import StipplrError


def model_rows() -> list[dict[str, Any]]:
    """One row per model from its card (a model without a usable card says why). A user
    model that shadows a shipped one of its name is marked so."""
    chosen = modelfiles.models_by_name()
    rows = []
    for model in modelfiles.find_models():
        row: dict[str, Any] = {
            "name": model.name,
            "origin": model.origin,
            "file": str(model.path),
            "default": model.name == modelfiles.DEFAULT_MODEL and chosen[model.name] == model,
            "shadowed": chosen[model.name] != model,
            "size_mb": round(model.path.stat().st_size / 1e6, 2),
        }
        try:
            card = modelfiles.read_card(model.path)
        except StipplrError as exc:
            rows.append({**row, "error": str(exc)})
            continue
        rows.append(
            {
                **row,
                "arch": card.get("arch", "?"),
                "n_range": card.get("n_range"),
                "description": card.get("description", ""),
                "metrics": card.get("metrics", {}),
            }
        )
    return rows


SHOWN_METRICS = ("psnr_db", "spacing_mean", "clumped", "seconds")
"""The held-out scores the table shows (``--json`` has them all)."""


def _metrics_text(metrics: dict[str, Any]) -> str:
    """The numbers worth a table cell: the held-out means when present, else top-level."""
    held_out = metrics.get("held_out")
    scores = held_out.get("mean", {}) if isinstance(held_out, dict) else metrics
    shown = [k for k in SHOWN_METRICS if k in scores] or list(scores)
    return "\n".join(f"{k}={scores[k]:.3g}" for k in shown if isinstance(scores[k], (int, float)))


def _name_cell(row: dict[str, Any]) -> str:
    """A model's name with its origin and whether it is the default or shadowed."""
    notes = [row["origin"]] + (["default"] if row["default"] else [])
    notes += ["shadowed by the user's"] if row["shadowed"] else []
    return f"{row['name']} ({', '.join(notes)})"


def models_table(rows: list[dict[str, Any]]) -> Table:
    """The rows as a rich table, titled with the user's model folder."""
    table = Table(
        "name", "arch", "dots", title=f"models (user folder: {modelfiles.user_model_dir()})"
    )
    table.add_column("held-out metrics (mean)", no_wrap=True)
    table.add_column("description")
    for row in rows:
        if "error" in row:
            table.add_row(_name_cell(row), "?", "", "", row["error"])
            continue
        low_high = row["n_range"]
        dots = f"{low_high[0]}-{low_high[1]}" if low_high else ""
        metrics = _metrics_text(row["metrics"])
        table.add_row(_name_cell(row), row["arch"], dots, metrics, row["description"])
    return table


@app.command("models")
@cli_errors
def models_command(
    as_json: Annotated[bool, o.switch("--json", help="Print the list as JSON.")] = False,
) -> None:
    """List the trained models, shipped and your own (use one with --model NAME).

    Your models live in the user folder shown above the table; python -m training.export
    writes there.

    Example: stipplr models --json
    """
    rows = model_rows()
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        typer.echo(
            f"no trained models (looked in {modelfiles.SHIPPED_DIR} and "
            f"{modelfiles.user_model_dir()})"
        )
        return
    Console().print(models_table(rows))
