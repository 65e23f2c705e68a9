"""vpype plugin (``pip install stipplr[vpype]``): a ``stipplr`` command for vpype pipelines.

    vpype stipplr photo.jpg linesort write out.svg
    vpype stipplr --pens red,black -n 8000 photo.jpg linesort write out.svg

Options go before the file (vpype chains commands). Stipples an image (or loads a ``.npz``
stipple), lays it out for the pen like ``stipplr plot`` and adds one vpype layer per pen,
with its colour, pen width and name.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import vpype as vp
import vpype_cli

from stipplr.dots import Stipple
from stipplr.errors import StipplrError
from stipplr.optionset import OptionSet, flag_specs
from stipplr.plotter import PlotOptions, make_plot
from stipplr.settings import StippleOptions

PX_PER_MM = 96 / 25.4  # vpype works in CSS pixels
OPTIONS: dict[type[OptionSet], tuple[str, ...]] = {
    StippleOptions: ("points", "engine", "seed"),
    PlotOptions: (
        "paper",
        "landscape",
        "margin",
        "pen_width",
        "pens",
        "mix",
        "gcr",
        "dot",
        "dot_size",
    ),
}
"""The options the plugin takes, as flags generated from stipplr's option objects."""


def load_stipple(source: Path, options: StippleOptions, plot: PlotOptions) -> Stipple:
    """A saved ``.npz`` stipple, or the image at ``source`` stippled as ``options`` say
    (with several pens: one ink map per pen, as ``stipplr plot`` does)."""
    if source.suffix.lower() == ".npz":
        return Stipple.load(source)
    from stipplr.api import stipple

    inks = {}
    if len(plot.pens) > 1:
        inks = {"pens": plot.pens, "mix": plot.mix, "gcr": plot.gcr}
    return stipple(source, options.points, options.engine, seed=options.seed, **inks)


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


def option_flags(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add the click options of :data:`OPTIONS` (None when not given: stipplr's default)."""
    for cls, names in reversed(OPTIONS.items()):
        for spec in reversed([s for s in flag_specs(cls) if s.name in names]):
            command = click.option(*spec.decls, spec.name, type=spec.type, help=spec.help)(command)
    return command


def given(cls: type[OptionSet], values: dict[str, Any]) -> dict[str, Any]:
    """The options of ``cls`` among the plugin's ``values`` that the user gave."""
    return {k: v for k, v in values.items() if k in OPTIONS[cls] and v is not None}


@click.command("stipplr")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@option_flags
@vpype_cli.global_processor
def stipplr_cmd(document: vp.Document, source: Path, **values: Any) -> vp.Document:
    """Stipple an image (or load a .npz stipple) into one layer per pen."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            stipple_options = StippleOptions.parse(given(StippleOptions, values))
            options = PlotOptions.parse(given(PlotOptions, values))
            return add_plot(document, load_stipple(source, stipple_options, options), options)
        except StipplrError as exc:
            raise click.ClickException(str(exc)) from None
        finally:
            for w in caught:
                click.echo(f"stipplr: warning: {w.message}", err=True)


stipplr_cmd.help_group = "Plugins"
