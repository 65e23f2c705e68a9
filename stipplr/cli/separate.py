"""``stipplr separate IMAGE --pens cmyk -o FOLDER``: the photo's ink map per pen, as
PNGs to inspect before plotting (what ``stipplr plot --pens`` stipples)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from stipplr.cli import app
from stipplr.cli import options as o
from stipplr.cli.common import cli_errors
from stipplr.images import load_image
from stipplr.inks.files import write_separation
from stipplr.inks.pensets import GCR_HELP, Pens
from stipplr.inks.separation import separate
from stipplr.validate import Number


@app.command("separate")
@cli_errors
def separate_command(
    image: Annotated[Path, typer.Argument(help="Input image.", metavar="IMAGE")],
    output: Annotated[
        Path, o.value_option("--output", "-o", help="Output folder.", metavar="FOLDER")
    ],
    pens: Annotated[
        Any,
        o.kind_option(
            Pens(),
            "--pens",
            help="Pens: colours (cyan,magenta,yellow,black or hex), a pen set (cmyk, "
            "black+grey, fineliner-6) or a pen-set .toml file.",
        ),
    ] = "cmyk",
    gcr: Annotated[
        Any, o.kind_option(Number(0, 1), "--gcr", help=GCR_HELP.capitalize() + ".")
    ] = 1.0,
) -> None:
    """Separate a photo into one ink map per pen: NN-PEN.png (black = full ink) and
    preview.png (the pens mixed as the plot will mix them).

    Example: stipplr separate photo.jpg --pens cmyk -o sep/
    """
    result = separate(load_image(image), Pens()(pens, "pens"), float(gcr))
    files = write_separation(result, output)
    for ink, share, path in zip(result.pens, result.ink, files, strict=False):
        typer.echo(f"{path}: {ink.name} ({ink.hex}), ink on {100 * share:.1f} % of the picture")
    typer.echo(f"{files[-1]}: the pens mixed by the ink model")
