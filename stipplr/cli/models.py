"""``stipplr models``: the trained models that ship with this version."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from stipplr.cli import app
from stipplr.cli.common import cli_errors
from stipplr.errors import StipplrError


def model_rows() -> list[dict[str, Any]]:
    """One row per shipped model from its checkpoint meta (a broken file says why)."""
    from stipplr.checkpoints import read_checkpoint  # torch only when this command runs
    from stipplr.neural import DEFAULT_MODEL, shipped_models

    rows = []
    for name, path in shipped_models().items():
        row: dict[str, Any] = {"name": name, "default": name == DEFAULT_MODEL}
        try:
            payload = read_checkpoint(path)
        except StipplrError as exc:
            rows.append({**row, "error": str(exc)})
            continue
        meta = payload.get("meta") or {}
        rows.append(
            {
                **row,
                "arch": payload["arch"],
                "n_range": meta.get("n_range"),
                "description": meta.get("description", ""),
                "metrics": meta.get("metrics", {}),
                "size_mb": round(path.stat().st_size / 1e6, 2),
            }
        )
    return rows


def _metrics_text(metrics: dict[str, Any]) -> str:
    """The numbers worth a table cell: the held-out means when present, else top-level."""
    held_out = metrics.get("held_out")
    scores = held_out.get("mean", {}) if isinstance(held_out, dict) else metrics
    return "\n".join(f"{k}={v:.3g}" for k, v in scores.items() if isinstance(v, (int, float)))


@app.command("models")
@cli_errors
def models_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON.")] = False,
) -> None:
    """List the trained models that ship with stipplr (use one with --model NAME)."""
    from stipplr.neural import WEIGHTS_DIR

    rows = model_rows()
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        typer.echo(f"no trained models ship with this version (looked in {WEIGHTS_DIR})")
        return
    table = Table("name", "arch", "dots")
    table.add_column("held-out metrics (mean)", no_wrap=True)
    table.add_column("description")
    for row in rows:
        if "error" in row:
            table.add_row(row["name"], "?", "", "", row["error"])
            continue
        low_high = row["n_range"]
        dots = f"{low_high[0]}-{low_high[1]}" if low_high else ""
        name = row["name"] + (" (default)" if row["default"] else "")
        table.add_row(name, row["arch"], dots, _metrics_text(row["metrics"]), row["description"])
    Console().print(table)
