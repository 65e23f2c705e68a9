"""``stipplr plot INPUT -o OUT.svg|.hpgl|.gcode``: a pen-plotter file from an image or a
saved ``.npz`` stipple, with the plot's statistics and an optional PNG preview."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from stipplr.api import Request, request_from
from stipplr.api import stipple as stipple_image
from stipplr.atomic import refuse_inputs
from stipplr.cli import app
from stipplr.cli import options as o
from stipplr.cli.common import cli_errors, engine_progress, parse_options
from stipplr.cli.effects import warn_no_effect, warn_unused_plot_options
from stipplr.dots import Stipple
from stipplr.images import load_image
from stipplr.penstipple import ink_maps, pen_settings
from stipplr.plotter import PlotOptions, make_plot, plot_format, write_plot
from stipplr.plotter.build import Plot
from stipplr.plotter.files import check_format, stats_for, warn_estimate_only
from stipplr.plotter.ink import InkPlan, warn_far_off
from stipplr.plotter.plan import plan_plot
from stipplr.plotter.preview import (
    PreviewScale,
    check_preview,
    measured_coverage,
    preview_image,
    save_preview,
)
from stipplr.settings import Settings
from stipplr.tone import darkness


@app.command("plot")
@cli_errors
@o.with_shared_options(extra=[PlotOptions])
def plot_command(
    source: Annotated[Path, typer.Argument(help="Input image, or a .npz saved stipple.")],
    output: o.Output,
    shared: o.SharedOptions,
    preview: Annotated[
        Path | None,
        o.value_option(
            "--preview",
            help="Also draw the plot at true pen width to this PNG.",
            metavar="PNG",
            panel=o.OUTPUT,
        ),
    ] = None,
    preview_travel: Annotated[
        bool,
        o.switch(
            "--preview-travel", help="Show pen-up moves in the preview (red).", panel=o.OUTPUT
        ),
    ] = False,
    option: o.PlotKeyValues = None,
    preview_scale: Annotated[
        Any,
        o.kind_option(
            PreviewScale(),
            "--preview-scale",
            help="Preview resolution (8px/mm, 300dpi) or long side (1600px), at true pen "
            "width, anti-aliased (default: 8px/mm).",
            panel=o.OUTPUT,
        ),
    ] = None,
) -> None:
    """Make a pen-plotter file: SVG (AxiDraw, saxi, vpype), HPGL or G-code.

    The page, pen and machine flags are plot options (any other one: -O KEY=VALUE).

    Example: stipplr plot photo.jpg -o photo.svg --paper a4 --pen 0.3mm -n 8000

    Example: stipplr plot photo.npz -o photo.gcode --profile marlin --preview p.png
    """
    fmt = plot_format(output)
    settings = shared.settings("plot", plot=parse_options(option))
    plot_options = settings.plot_options()
    check_format(plot_options, fmt)
    ppm = None if preview is None else check_preview(preview, plot_options.page, preview_scale)
    refuse_inputs(output, source)
    if preview is not None:
        refuse_inputs(preview, source, output)
    warn_options(shared.given_options("plot", option), plot_options, fmt)
    if source.suffix.lower() == ".npz":
        warn_no_effect(shared.given_flags("stipple", "tone"), f"{source} is a saved stipple")
        stipple, dark, chosen = Stipple.load(source), None, None
    else:
        stipple, dark, chosen, plot_options = stipple_for_plot(source, settings, plot_options, fmt)
    plot = make_plot(stipple, plot_options, fmt, dark)
    if chosen is None:
        warn_far_off(plot.stats)
    image = None if ppm is None else preview_image(plot.document, ppm, preview_travel)
    report(write_plot(plot, output), plot, chosen)
    if image is not None and preview is not None and ppm is not None:
        save_preview(image, preview)
        cover = measured_coverage(image, plot.picture, ppm)
        typer.echo(f"{preview}: preview, {ppm:g} px/mm, ink on {100 * cover:.1f} % of the picture")


def warn_options(given: dict[str, str], options: PlotOptions, fmt: str) -> None:
    """Warn about the given plot options (option -> how given) a ``fmt`` file never uses
    or holds only in its time estimate."""
    warn_unused_plot_options(given, fmt)
    warn_estimate_only(given, options, fmt)


def engine_range(kwargs: dict[str, Any]) -> tuple[str, tuple[int, int]]:
    """The engine a plot's stipple is made with and the dot counts it takes (the neural
    engine's model may take fewer than the engine table says)."""
    from stipplr.api import default_engine
    from stipplr.engines import get_engine

    name = kwargs.get("engine") or default_engine()
    low, high = get_engine(name).n_range
    if name == "neural":
        from stipplr.neural import load_model

        module = load_model(kwargs.get("model"), kwargs.get("device") or "auto").module
        fixed = getattr(module, "fixed_n", None)
        if fixed is not None:
            return name, (int(fixed), int(fixed))
        model_low, model_high = getattr(module, "n_range", (1, None))
        low, high = max(low, int(model_low)), min(high, int(model_high or high))
    return name, (low, high)


def stipple_for_plot(
    source: Path, settings: Settings, options: PlotOptions, fmt: str
) -> tuple[Stipple, np.ndarray, InkPlan, PlotOptions]:
    """Stipple ``source`` with the dot count its plot needs: ``--points auto`` (the
    default) matches the image's tone; a given count is checked against it. Returns the
    stipple, the image's darkness, the plan and the plot options to draw it with."""
    kwargs = {**settings.stipple_kwargs(), **pen_settings(options)}
    points = settings.stipple.get("points", "auto")
    engine, n_range = engine_range(kwargs)
    given = {k: v for k, v in kwargs.items() if k not in ("points", "engine")}
    request = request_from(n_range[0], engine, given)  # every setting checked before work
    rgb = load_image(source)
    dark = union_ink(rgb, request) if request.inks else darkness(rgb, request.tone)
    plan, options = plan_plot(dark, options, engine, points, kwargs["radius"], n_range, fmt)
    with engine_progress() as progress:
        stipple = stipple_image(
            rgb, progress=progress, **{**kwargs, "points": plan.points, "engine": engine}
        )
    return stipple, dark, plan, options


def union_ink(rgb: np.ndarray, request: Request) -> np.ndarray:
    """The coverage all pens together should reach: the sum of their ink maps (capped at
    full coverage), which ``--points auto`` matches."""
    return np.clip(ink_maps(rgb, request.inks, request.tone).sum(axis=0), 0.0, 1.0)


def report(written: Path, plot: Plot, chosen: InkPlan | None) -> None:
    """Print what was written: the page, how N was chosen and the plot's statistics."""
    x0, y0, x1, y1 = plot.picture
    page = f"{plot.document.width:g} x {plot.document.height:g} mm page"
    typer.echo(f"{written}: {page}, picture {x1 - x0:.0f} x {y1 - y0:.0f} mm")
    if chosen is not None:
        typer.echo(f"  points: {chosen.points} ({chosen.how()})")
    for line in stats_for(plot, plot.fmt).lines():
        typer.echo(f"  {line}")
