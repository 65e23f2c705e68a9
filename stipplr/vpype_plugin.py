"""vpype plugin (``pip install stipplr[vpype]``): a ``stipplr`` command for vpype pipelines.

    vpype stipplr photo.jpg linesort write out.svg
    vpype stipplr --pens red,black -n 8000 photo.jpg linesort write out.svg

Options go before the file (vpype chains commands). Stipples an image (or loads a ``.npz``
stipple), lays it out for the pen like ``stipplr plot`` and adds one vpype layer per pen,
with its colour, pen width and name.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import click
import vpype as vp
import vpype_cli

from stipplr.dots import Stipple
from stipplr.errors import StipplrError
from stipplr.plotter import PlotOptions, make_plot

PX_PER_MM = 96 / 25.4  # vpype works in CSS pixels


def load_stipple(source: Path, points: int, engine: str | None, seed: int | None) -> Stipple:
    """A saved ``.npz`` stipple, or the image at ``source`` stippled with ``points`` dots."""
    if source.suffix.lower() == ".npz":
        return Stipple.load(source)
    from stipplr.api import stipple

    return stipple(source, points, engine, seed=seed)


def add_plot(document: vp.Document, stipple: Stipple, options: PlotOptions) -> vp.Document:
    """Add the plot's layers (new ids) to ``document`` and set its page size."""
    plot = make_plot(stipple, options)
    document.page_size = (plot.document.width * PX_PER_MM, plot.document.height * PX_PER_MM)
    for layer in plot.document.layers:
        if not layer.paths:
            continue
        layer_id = document.free_id()
        document.add(vp.LineCollection([p * PX_PER_MM for p in layer.paths]), layer_id)
        lines = document.layers[layer_id]
        lines.set_property(vp.METADATA_FIELD_COLOR, vp.Color(layer.pen.hex))
        lines.set_property(vp.METADATA_FIELD_PEN_WIDTH, layer.pen.width * PX_PER_MM)
        lines.set_property(vp.METADATA_FIELD_NAME, layer.pen.name)
    return document


@click.command("stipplr")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-n", "--points", type=int, default=5000, show_default=True, help="Dots.")
@click.option("--engine", help="lbg | voronoi | dither | neural (stipplr's default if unset).")
@click.option("--seed", type=int, help="Random seed.")
@click.option("--paper", default="a4", show_default=True, help="Paper name or WxH.")
@click.option("--landscape", is_flag=True, help="Long side horizontal.")
@click.option("--margin", default="15mm", show_default=True, help="Margin on every side.")
@click.option("--pen", "pen_width", default="0.3mm", show_default=True, help="Pen width.")
@click.option("--pens", default="black", show_default=True, help="Pen colours, comma list.")
@click.option("--dot", default="auto", show_default=True, help="auto|touch|circle|spiral.")
@click.option("--dot-size", help="Dot diameter (default: stipple radii, else the pen).")
@vpype_cli.global_processor
def stipplr_cmd(
    document: vp.Document,
    source: Path,
    points: int,
    engine: str | None,
    seed: int | None,
    paper: str,
    landscape: bool,
    margin: str,
    pen_width: str,
    pens: str,
    dot: str,
    dot_size: str | None,
) -> vp.Document:
    """Stipple an image (or load a .npz stipple) into one layer per pen."""
    options = PlotOptions(
        paper=paper,
        landscape=landscape,
        margin=margin,
        pen_width=pen_width,
        pens=pens,
        dot=dot,
        dot_size=dot_size,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            return add_plot(document, load_stipple(source, points, engine, seed), options)
        except StipplrError as exc:
            raise click.ClickException(str(exc)) from None
        finally:
            for w in caught:
                click.echo(f"stipplr: warning: {w.message}", err=True)


stipplr_cmd.help_group = "Plugins"
