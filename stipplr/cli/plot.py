"""``stipplr plot INPUT -o OUT.svg|.hpgl|.gcode``: a pen-plotter file from an image or a
saved ``.npz`` stipple, with the plot's statistics and an optional PNG preview."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stipplr.api import stipple as stipple_image
from stipplr.cli import app
from stipplr.cli import options as o
from stipplr.cli.common import cli_errors, parse_options
from stipplr.dots import Stipple
from stipplr.plotter import (
    PlotOptions,
    check_preview_path,
    make_plot,
    plot_format,
    write_plot,
    write_preview,
)


@app.command("plot")
@cli_errors
@o.with_shared_options(extra=[PlotOptions])
def plot_command(
    source: Annotated[Path, typer.Argument(help="Input image, or a .npz saved stipple.")],
    output: o.Output,
    shared: o.SharedOptions,
    preview: Annotated[
        Path | None, typer.Option(help="Also draw the plot at true pen width to this PNG.")
    ] = None,
    preview_travel: Annotated[
        bool, typer.Option(help="Show pen-up moves in the preview (light red).")
    ] = False,
    option: Annotated[
        list[str] | None,
        typer.Option("--option", "-O", help="Plot option KEY=VALUE (see `stipplr renderers`)."),
    ] = None,
) -> None:
    """Make a pen-plotter file: SVG (AxiDraw, saxi, vpype), HPGL or G-code.

    The page, pen and machine flags are plot options (any other one: -O KEY=VALUE).

    Example: stipplr plot photo.jpg -o photo.svg --paper a4 --pen 0.3mm --points 8000
    """
    plot_format(output)
    if preview is not None:
        check_preview_path(preview)
    settings = shared.settings("plot", plot=parse_options(option))
    plot_options = settings.plot_options()
    if source.suffix.lower() == ".npz":
        stipple = Stipple.load(source)
    else:
        stipple = stipple_image(source, **settings.stipple_kwargs())
    plot = make_plot(stipple, plot_options)
    written = write_plot(plot, output)
    typer.echo(f"{written}: {plot.document.width:g} x {plot.document.height:g} mm page")
    for line in plot.stats.lines():
        typer.echo(f"  {line}")
    if preview is not None:
        write_preview(plot.document, preview, travel=preview_travel)
        typer.echo(f"{preview}: preview")
