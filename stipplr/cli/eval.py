"""``stipplr eval SOURCE STIPPLE...``: score saved stipples against their source image."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from stipplr.cli import app
from stipplr.cli import options as o
from stipplr.cli.common import cli_errors
from stipplr.dots import Stipple
from stipplr.errors import OptionError
from stipplr.images import load_image
from stipplr.metrics import evaluate
from stipplr.tone import Tone, darkness

COLUMNS = {
    "points": "dots",
    "spacing_px": "mean spacing h (px)",
    "psnr_db": "tone PSNR (dB)",
    "ssim": "tone SSIM",
    "capacity_cv": "capacity CV",
    "spacing_mean": "spacing ratio, mean",
    "spacing_p1": "spacing ratio, 1st pct",
    "clumped": "clumped (ratio < 0.5)",
    "low_power": "low-frequency power",
    "anisotropy_db": "anisotropy (dB)",
}
"""Metric key -> row label, in display order."""


def stipple_tone(stipple: Stipple, path: Path) -> Tone:
    """The tone settings a stipple was made with (identity when it records none)."""
    try:
        return Tone.from_dict(stipple.meta.get("tone") or {})
    except (OptionError, TypeError) as exc:
        raise OptionError(f"{path}: bad tone in metadata ({exc})") from None


def score_stipple(rgb: np.ndarray, source: Path, path: Path) -> dict[str, float | str | None]:
    """Metrics of the stipple saved at ``path`` against the image ``rgb`` loaded from source."""
    stipple = Stipple.load(path)
    height, width = rgb.shape[:2]
    if (stipple.width, stipple.height) != (width, height):
        raise OptionError(
            f"{path}: made from a {stipple.width}x{stipple.height} image, "
            f"but {source} is {width}x{height}"
        )
    scores = evaluate(darkness(rgb, stipple_tone(stipple, path)), stipple.xy)
    clean = {key: value if math.isfinite(value) else None for key, value in scores.items()}
    return {"stipple": str(path), "engine": stipple.meta.get("engine"), **clean}


def render_table(rows: list[dict[str, float | str | None]]) -> Table:
    """A rich table with one row per metric present and one column per stipple."""
    table = Table(show_header=True, header_style="bold")
    table.add_column("metric")
    for row in rows:
        table.add_column(
            f"{Path(str(row['stipple'])).name}\n{row['engine'] or '?'}", justify="right"
        )
    for key, label in COLUMNS.items():
        if any(key in row for row in rows):
            table.add_row(label, *(_format(row.get(key)) for row in rows))
    return table


def _format(value: float | str | None) -> str:
    """A table cell: four significant digits, ``-`` for a missing metric."""
    return "-" if value is None else f"{value:.4g}"


@app.command("eval")
@cli_errors
def eval_command(
    source: Annotated[Path, typer.Argument(help="The source image the stipples were made from.")],
    stipples: Annotated[list[Path], typer.Argument(help="Saved stipples (.npz).")],
    as_json: Annotated[bool, o.switch("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Score saved stipples against their source: tone PSNR/SSIM, capacity CV, spacing.

    Each stipple is compared with the source's darkness under the tone it was made with.

    Better is: higher PSNR, SSIM and spacing mean; lower capacity CV and clumped.

    Uniform grey sources also get spectrum figures (low-frequency power, anisotropy).

    Example: stipplr eval photo.jpg photo-lbg.npz photo-dither.npz --json
    """
    rgb = load_image(source)
    rows = [score_stipple(rgb, source, path) for path in stipples]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
    else:
        Console().print(render_table(rows))
