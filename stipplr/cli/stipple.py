"""``stipplr stipple IMAGE -o OUT``: stipple one image and write it with a renderer."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stipplr import renderers
from stipplr.api import stipple as stipple_image
from stipplr.cli import app
from stipplr.cli import options as o
from stipplr.cli.common import cli_errors, parse_options


@app.command("stipple")
@cli_errors
@o.with_shared_options
def stipple_command(
    image: Annotated[Path, typer.Argument(help="Input image (any common format).")],
    output: o.Output,
    shared: o.SharedOptions,
    renderer: Annotated[
        str | None, typer.Option(help="Renderer (default: from the output's extension).")
    ] = None,
    option: o.RenderOptions = None,
) -> None:
    """Stipple one image. The output's extension picks the renderer (.png .svg .npz .csv).

    Example: stipplr stipple photo.jpg -o photo.svg --points 5000 --engine lbg
    """
    settings = shared.settings("stipple", render=parse_options(option))
    chosen = renderers.get(renderer) if renderer else renderers.for_path(output)
    options = settings.output_options(chosen)
    result = stipple_image(image, **settings.stipple_kwargs())  # bad outputs fail before this
    chosen.write(result, output, options)
    typer.echo(f"{output}: {len(result)} dots ({result.meta['engine']})")
