"""``stipplr stipple IMAGE -o OUT``: stipple one image and write it with a renderer; a saved
``.npz`` stipple as IMAGE is rendered again (its dots kept) with any renderer options."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stipplr import renderers
from stipplr.api import stipple as stipple_image
from stipplr.atomic import refuse_inputs
from stipplr.cli import app
from stipplr.cli import options as o
from stipplr.cli.common import cli_errors, engine_progress, parse_options
from stipplr.cli.effects import fit_small_source, warn_no_effect
from stipplr.dots import Stipple
from stipplr.penstipple import pen_settings


def is_saved_stipple(path: Path) -> bool:
    """Whether ``path`` names a saved stipple (``.npz``) rather than an image."""
    return path.suffix.lower() == ".npz"


@app.command("stipple")
@cli_errors
@o.with_shared_options
def stipple_command(
    image: Annotated[
        Path,
        typer.Argument(
            help="Input image (any common format), or a saved .npz stipple.", metavar="IMAGE"
        ),
    ],
    output: o.Output,
    shared: o.SharedOptions,
    renderer: Annotated[
        str | None,
        o.kind_option(
            o.RendererName(),
            "--renderer",
            help="png | svg | plot | npz | csv (default: from the output's extension).",
            panel=o.OUTPUT,
        ),
    ] = None,
    option: o.RenderOptions = None,
) -> None:
    """Stipple one image. The output's extension picks the renderer (.png .svg .npz .csv).

    A saved stipple (.npz) as input is drawn again, dots unchanged, with the renderer
    options given (-O).

    Example: stipplr stipple photo.jpg -o photo.svg --points 5000 --engine lbg

    Example: stipplr stipple photo.jpg -o photo.png --engine voronoi -E iterations=30

    Example: stipplr stipple photo.npz -o photo.png -O color=dots -O width=1200
    """
    settings = shared.settings("stipple", render=parse_options(option))
    chosen = renderers.get(renderer) if renderer else renderers.for_path(output)
    options = settings.output_options(chosen)  # a bad output fails before any work
    refuse_inputs(output, image)
    if is_saved_stipple(image):
        warn_no_effect(shared.given_flags("stipple", "tone"), f"{image} is a saved stipple")
        result = Stipple.load(image)
    else:
        kwargs = {**pen_settings(options), **settings.stipple_kwargs()}
        with engine_progress() as progress:
            result = stipple_image(image, progress=progress, **kwargs)
    options = fit_small_source(result, options, image)
    chosen.write(result, output, options)
    made = "re-rendered" if is_saved_stipple(image) else result.meta.get("engine", "?")
    typer.echo(f"{output}: {len(result)} dots ({made})")
