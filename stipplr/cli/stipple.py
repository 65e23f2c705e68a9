"""``stipplr stipple IMAGE -o OUT``: stipple one image and write it with a renderer."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

import renderers
from stipplr.api import stipple as stipple_image
from stipplr.cli import app
from stipplr.cli import options as o
from stipplr.cli.common import cli_errors, parse_options
from stipplr.settings import resolve_settings


@app.command("stipple")
@cli_errors
def stipple_command(
    image: Annotated[Path, typer.Argument(help="Input image (any common format).")],
    output: o.Output,
    points: o.Points = None,
    engine: o.Engine = None,
    model: o.Model = None,
    device: o.Device = None,
    seed: o.Seed = None,
    gamma: o.Gamma = None,
    contrast: o.Contrast = None,
    brightness: o.Brightness = None,
    white_cutoff: o.WhiteCutoff = None,
    edge: o.Edge = None,
    invert: o.Invert = None,
    radius_min: o.RadiusMin = None,
    radius_max: o.RadiusMax = None,
    renderer: Annotated[
        str | None, typer.Option(help="Renderer (default: from the output's extension).")
    ] = None,
    option: o.RenderOptions = None,
    engine_option: o.EngineOptions = None,
    preset: o.Preset = None,
) -> None:
    """Stipple one image. The output's extension picks the renderer (.png .svg .npz .csv).

    Example: stipplr stipple photo.jpg -o photo.svg --points 5000 --engine lbg
    """
    settings = resolve_settings(
        "stipple",
        preset,
        stipple=o.given(
            points=points,
            engine=engine,
            model=model,
            device=device,
            seed=seed,
            radius_min=radius_min,
            radius_max=radius_max,
        ),
        tone=o.given(
            gamma=gamma,
            contrast=contrast,
            brightness=brightness,
            white_cutoff=white_cutoff,
            edge=edge,
            invert=invert,
        ),
        engine_options=parse_options(engine_option),
        render=parse_options(option),
    )
    result = stipple_image(image, **settings.stipple_kwargs())
    chosen = renderers.get(renderer) if renderer else renderers.for_path(output)
    options = settings.renderer_options(chosen.name, chosen.option_names())
    written = renderers.render(result, output, chosen.name, **options)
    typer.echo(f"{written}: {len(result)} dots ({result.meta['engine']})")
