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
from stipplr.plotter import check_preview_path, make_plot, plot_format, write_plot, write_preview
from stipplr.renderers.plot import RENDERER

Text = str | None


@app.command("plot")
@cli_errors
@o.with_shared_options
def plot_command(
    source: Annotated[Path, typer.Argument(help="Input image, or a .npz saved stipple.")],
    output: o.Output,
    shared: o.SharedOptions,
    paper: Annotated[
        Text, typer.Option(help="a4 | a3 | a5 | letter | ... or WxH (300x218mm).")
    ] = None,
    landscape: Annotated[
        bool | None, typer.Option("--landscape/--portrait", help="Page orientation.")
    ] = None,
    margin: Annotated[Text, typer.Option(help="Margin on every side (default 15mm).")] = None,
    pen: Annotated[Text, typer.Option("--pen", help="Pen (nib) width (default 0.3mm).")] = None,
    pens: Annotated[
        Text, typer.Option(help="Pen colours, one layer each: black or cyan,magenta,yellow,black.")
    ] = None,
    dot: Annotated[Text, typer.Option(help="auto | touch | circle | spiral.")] = None,
    dot_size: Annotated[
        Text, typer.Option(help="Dot diameter (default: stipple radii, else the pen width).")
    ] = None,
    tick: Annotated[Text, typer.Option(help="Touch-dot stroke length (default 0.05mm).")] = None,
    order: Annotated[Text, typer.Option(help="greedy | input.")] = None,
    optimize_seconds: Annotated[
        float | None, typer.Option(help="2-opt/Or-opt time budget after greedy ordering (s).")
    ] = None,
    profile: Annotated[
        Text, typer.Option(help="G-code profile: grbl-servo | grbl-z | marlin | template.toml.")
    ] = None,
    speed_down: Annotated[float | None, typer.Option(help="Pen-down speed (mm/s).")] = None,
    speed_up: Annotated[float | None, typer.Option(help="Pen-up speed (mm/s).")] = None,
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

    Example: stipplr plot photo.jpg -o photo.svg --paper a4 --pen 0.3mm --points 8000
    """
    plot_format(output)
    if preview is not None:
        check_preview_path(preview)
    settings = shared.settings(
        "plot",
        plot={
            **parse_options(option),
            **o.given(
                paper=paper,
                landscape=landscape,
                margin=margin,
                pen_width=pen,
                pens=pens,
                dot=dot,
                dot_size=dot_size,
                tick=tick,
                order=order,
                optimize_seconds=optimize_seconds,
                profile=profile,
                speed_down=speed_down,
                speed_up=speed_up,
            ),
        },
    )
    plot_options = RENDERER.make_options(**settings.plot)
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
