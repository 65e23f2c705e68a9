"""``stipplr presets`` lists presets; ``stipplr presets show NAME`` prints resolved settings."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from stipplr.cli import App, app
from stipplr.cli import options as o
from stipplr.cli.common import cli_errors
from stipplr.presets import COMMANDS, list_presets, load_preset, user_preset_dir
from stipplr.settings import SECTIONS, Settings, resolve_settings
from stipplr.tomlfile import toml_value
from stipplr.validate import Choice

presets_app = App(
    invoke_without_command=True,
    no_args_is_help=False,
)
app.add_typer(presets_app, name="presets")


@presets_app.callback()
@cli_errors
def presets_list(
    ctx: typer.Context,
    as_json: Annotated[bool, o.switch("--json", help="Machine-readable list.")] = False,
) -> None:
    """Named settings for stipple, batch and plot: lists them (use one with --preset NAME).

    `stipplr presets show NAME` prints a preset's settings; docs/presets.md shows each.

    Example: stipplr presets

    Example: stipplr stipple photo.jpg -o photo.png --preset bold
    """
    if ctx.invoked_subcommand is not None:
        return
    found = list_presets()
    if as_json:
        rows = [
            {
                "name": p.name,
                "commands": list(p.commands),
                "description": p.description,
                "file": p.origin,
            }
            for p in found
        ]
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title=f"presets (user folder: {user_preset_dir()})")
    for column in ("name", "for", "description"):
        table.add_column(column)
    for p in found:
        table.add_row(p.name, ", ".join(p.commands), p.description)
    Console().print(table)


@presets_app.command("show")
@cli_errors
def presets_show(
    name: Annotated[str, typer.Argument(help="Preset name or TOML path.")],
    command: Annotated[
        str | None,
        o.kind_option(
            Choice(COMMANDS), "--command", help="Resolve for this command (default: its first)."
        ),
    ] = None,
) -> None:
    """Print the settings a preset resolves to (defaults filled in), as TOML.

    Example: stipplr presets show axidraw-a4-fine
    """
    preset = load_preset(name)
    command = command or preset.commands[0]
    settings = resolve_settings(command, name)
    typer.echo(f"# {preset.name}: {preset.description}\n# file: {preset.origin}")
    typer.echo(f"# resolved for `stipplr {command}`")
    for section, values in resolved_sections(settings, command).items():
        values = {k: v for k, v in values.items() if v is not None}
        if values:
            typer.echo(f"\n[{section}]")
            for key, value in values.items():
                typer.echo(f"{key} = {toml_value(value)}")


def resolved_sections(settings: Settings, command: str) -> dict[str, dict[str, Any]]:
    """Each section as TOML would write it: the stipple and tone options (and, for
    ``plot``, the plot options) with their defaults filled in; the others as given."""
    from stipplr.plotter import PlotOptions

    full = {
        "stipple": settings.stipple_options().to_dict(),
        "tone": settings.tone_options().to_dict(),
        "plot": settings.plot_options().to_dict()
        if command == "plot"
        else PlotOptions.format_values(settings.plot),
    }
    return {section: full.get(section, getattr(settings, section)) for section in SECTIONS}
