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
from stipplr.inks.pensets import Pens, PenSet
from stipplr.metrics import colour_error, evaluate
from stipplr.tone import Tone, darkness

GREY_TOLERANCE = 2 / 255
"""A source whose channels differ by less than this everywhere is grey: no colour error."""

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
    "colour_mean": "colour error, mean (CIEDE2000)",
    "colour_p95": "colour error, 95th pct",
}
"""Metric key -> row label, in display order."""


def stipple_tone(stipple: Stipple, path: Path) -> Tone:
    """The tone settings a stipple was made with (identity when it records none)."""
    try:
        return Tone.from_dict(stipple.meta.get("tone") or {})
    except (OptionError, TypeError) as exc:
        raise OptionError(f"{path}: bad tone in metadata ({exc})") from None


def is_colour(rgb: np.ndarray) -> bool:
    """Whether an (H, W, 3) image has colour (some pixel off grey by GREY_TOLERANCE)."""
    return bool(np.any(np.ptp(rgb, axis=2) > GREY_TOLERANCE))


def colour_scores(stipple: Stipple, rgb: np.ndarray, pens: PenSet | None) -> dict[str, float]:
    """The colour error of a colour source or a stipple drawn with pens (else nothing)."""
    if not (is_colour(rgb) or stipple.pens or pens is not None):
        return {}
    error = colour_error(stipple, rgb, pens=pens)
    return {"colour_mean": error["mean"], "colour_p95": error["p95"]}


def score_stipple(
    rgb: np.ndarray, source: Path, path: Path, pens: PenSet | None = None
) -> dict[str, float | str | None]:
    """Metrics of the stipple saved at ``path`` against the image ``rgb`` loaded from
    source; ``pens`` assigns the dots of a stipple without pens for the colour error."""
    stipple = Stipple.load(path)
    height, width = rgb.shape[:2]
    if (stipple.width, stipple.height) != (width, height):
        raise OptionError(
            f"{path}: made from a {stipple.width}x{stipple.height} image, "
            f"but {source} is {width}x{height}"
        )
    scores = evaluate(darkness(rgb, stipple_tone(stipple, path)), stipple.xy)
    scores |= colour_scores(stipple, rgb, pens)
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
    pens: Annotated[
        PenSet | None,
        o.kind_option(
            Pens(),
            "--pens",
            help="Colour error of stipples without pens: each dot goes to the nearest of "
            "these pens (cmyk, cyan,black, a pen-set .toml file).",
        ),
    ] = None,
) -> None:
    """Score saved stipples against their source: tone PSNR/SSIM, capacity CV, spacing, colour.

    Each stipple is compared with the source's darkness under the tone it was made with.

    Better is: higher PSNR, SSIM and spacing mean; lower capacity CV, clumped, colour error.

    Uniform grey sources also get spectrum figures (low-frequency power, anisotropy).

    Colour sources and pen stipples get the colour error (mean, 95th pct CIEDE2000).

    Colour error: the photo against the dots' pens mixed by the ink model, both blurred.

    Example: stipplr eval photo.jpg photo-lbg.npz photo-dither.npz --json
    """
    rgb = load_image(source)
    rows = [score_stipple(rgb, source, path, pens) for path in stipples]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
    else:
        Console().print(render_table(rows))
