"""``stipplr batch INPUT... --format svg --out DIR``: stipple files, folders and globs."""

from __future__ import annotations

import contextlib
import json
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from stipplr import renderers
from stipplr.batch import (
    DEFAULT_OUT,
    Job,
    Runner,
    Summary,
    discover,
    parse_shard,
    pending,
)
from stipplr.batch import plan as plan_jobs
from stipplr.batch import shard as shard_jobs
from stipplr.cli import app
from stipplr.cli import options as o
from stipplr.cli.common import cli_errors, parse_options
from stipplr.errors import OptionError


@contextlib.contextmanager
def _interrupt_on_sigterm() -> Iterator[None]:
    """Within the block, treat SIGTERM (a scheduler's stop) like Ctrl-C: finish cleanly and
    print the summary. The previous handler comes back afterwards."""

    def handler(signum: int, frame: object) -> None:
        """Raise KeyboardInterrupt in the main thread."""
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class RateColumn(ProgressColumn):
    """Images per second."""

    def render(self, task: Task) -> Text:
        """The task's speed, blank until known."""
        return Text(f"{task.speed:.2f} images/s" if task.speed else "", style="progress.data.speed")


def _summary_line(s: Summary) -> str:
    """The run's closing line: counts, dots, time and speed."""
    stopped = " (interrupted; rerun to resume)" if s.interrupted else ""
    return (
        f"{s.done} done, {s.skipped} skipped, {len(s.failed)} failed of {s.total}; "
        f"{s.dots} dots in {s.seconds:.1f} s ({s.images_per_second:.2f} images/s){stopped}"
    )


@app.command("batch")
@cli_errors
@o.with_shared_options
def batch_command(
    inputs: Annotated[list[str], typer.Argument(help="Image files, folders (recursive), globs.")],
    shared: o.SharedOptions,
    output_format: Annotated[
        str, typer.Option("--format", "-f", help="png | svg | plot | npz | csv.")
    ] = "png",
    out: Annotated[
        Path, typer.Option("--out", help="Output folder; mirrors the input tree.")
    ] = DEFAULT_OUT,
    overwrite: Annotated[
        bool, typer.Option(help="Redo outputs that exist and are newer than their input.")
    ] = False,
    shard: Annotated[
        str | None,
        typer.Option(help="Process part i of n (0-based, i/n); default from SLURM array vars."),
    ] = None,
    workers: Annotated[int, typer.Option(help="Background image-decoding threads.")] = 2,
    batch_size: Annotated[
        int | None,
        typer.Option(help="Images per network batch (neural; default 4 on a GPU, 1 on the CPU)."),
    ] = None,
    processes: Annotated[
        int, typer.Option("--jobs", "-j", min=1, help="Processes for classical engines.")
    ] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary.")] = False,
    option: o.RenderOptions = None,
) -> None:
    """Stipple many images; reruns skip finished outputs. Exit 1 if any file failed.

    Example: stipplr batch photos/ --format svg --out drawings --points 5000
    """
    formats = renderers.formats()
    if output_format not in formats:
        raise OptionError(f"unknown format {output_format!r} (choose from {', '.join(formats)})")
    settings = shared.settings("batch", render=parse_options(option))
    renderer, extension = formats[output_format]
    jobs = plan_jobs(discover(inputs, out), out, extension)
    jobs = shard_jobs(jobs, *parse_shard(shard))
    console = Console(stderr=True, quiet=quiet, highlight=False, soft_wrap=True)
    lines = Console(stderr=True, highlight=False, soft_wrap=True) if quiet else console
    progress = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )

    def report(job: Job, status: str, message: str | None) -> None:
        """Print a job's error or warning and advance the bar when the job is finished."""
        if message:
            kind = "error" if status == "failed" else "warning"
            lines.print(f"stipplr: {kind}: {message}", markup=False)
        if status != "warning":
            progress.advance(task)

    chosen = renderers.get(renderer)
    render = settings.renderer_options(chosen.name, chosen.option_names())
    runner = Runner(settings.stipple_kwargs(), renderer, render, report)
    if runner.note:
        lines.print(f"stipplr: note: {runner.note}", markup=False)
    task = progress.add_task("stippling", total=len(pending(jobs, overwrite)))
    with _interrupt_on_sigterm(), progress:
        summary = runner.run(
            jobs, overwrite=overwrite, workers=workers, batch_size=batch_size, processes=processes
        )
    if as_json:
        typer.echo(json.dumps(summary.to_dict(), indent=2))
    elif not quiet:
        typer.echo(_summary_line(summary), err=True)
        for failure in summary.failed:
            typer.echo(f"  failed: {failure['reason']}", err=True)
    if summary.interrupted:
        raise typer.Exit(130)
    if summary.failed:
        raise typer.Exit(1)
