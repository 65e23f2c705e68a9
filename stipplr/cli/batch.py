"""``stipplr batch INPUT... --format svg --out DIR``: stipple files, folders and globs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

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
from stipplr.batch import DEFAULT_OUT, Job, Runner, Summary, discover, parse_shard
from stipplr.batch import plan as plan_jobs
from stipplr.batch import shard as shard_jobs
from stipplr.cli import app
from stipplr.cli import options as o
from stipplr.cli.common import cli_errors, parse_options
from stipplr.cli.effects import no_effect
from stipplr.interrupts import sigterm_as_interrupt
from stipplr.validate import Whole

SHARD_HELP = "Do part K of N (1/4 .. 4/4); default: from SLURM array variables."
NAME_WIDTH = 28
"""Characters of the current file's name shown beside the progress bar."""


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


def short_name(path: Path, width: int = NAME_WIDTH) -> str:
    """A file's name cut to ``width`` characters (the start kept: ``long-photo-na….jpg``)."""
    name = path.name
    return name if len(name) <= width else name[: width - 5] + "…" + name[-4:]


class Tracker:
    """Follows the run file by file: the progress bar (its description is the file being
    stippled), the messages, and each file's result for ``--json``."""

    def __init__(self, jobs: list[Job], todo: list[Job], progress: Progress, lines: Console):
        self.progress = progress
        self.lines = lines
        self.todo = todo
        self.next = 0
        self.files: dict[Job, dict[str, Any]] = {
            job: {"file": str(job.source), "output": str(job.output), "status": "skipped"}
            for job in jobs
        }
        for job in todo:
            self.files[job]["status"] = "pending"
        self.task = progress.add_task(self.current(), total=len(todo))

    def current(self) -> str:
        """The description beside the bar: the first file not finished yet."""
        while (
            self.next < len(self.todo) and self.files[self.todo[self.next]]["status"] != "pending"
        ):
            self.next += 1
        if self.next >= len(self.todo):
            return "stippling"
        return f"{short_name(self.todo[self.next].source):<{NAME_WIDTH}}"

    def report(self, job: Job, status: str, message: str | None) -> None:
        """Print a job's error or warning; on a finished job, advance the bar."""
        entry = self.files[job]
        if message:
            kind = "error" if status == "failed" else "warning"
            self.lines.print(f"stipplr: {kind}: {message}", markup=False)
            if status == "warning":
                entry.setdefault("warnings", []).append(message)
            else:
                entry["reason"] = message
        if status != "warning":
            entry["status"] = status
            self.progress.update(self.task, advance=1, description=self.current())

    def results(self) -> list[dict[str, Any]]:
        """Every file's result; files an interrupted run never reached are ``not run``."""
        return [
            {**entry, "status": "not run" if entry["status"] == "pending" else entry["status"]}
            for entry in self.files.values()
        ]


def make_progress(console: Console) -> Progress:
    """The progress display: current file, bar, count, speed and time left."""
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )


def idle_flags(runner: Runner, processes: int, batch_size: int | None) -> list[str]:
    """Warnings for ``--jobs`` and ``--batch-size`` when the engine cannot use them."""
    engine = runner.request.engine
    notes = []
    if processes > 1 and not runner.hints.processes:
        why = f"the {engine.name} engine runs in this process (side by side on the CPU cores)"
        notes.append(no_effect(["--jobs"], why))
    if batch_size is not None and engine.batch is None:
        notes.append(
            no_effect(["--batch-size"], f"the {engine.name} engine takes one image at a time")
        )
    return notes


@app.command("batch")
@cli_errors
@o.with_shared_options
def batch_command(
    inputs: Annotated[
        list[str],
        typer.Argument(help="Image files, folders (recursive), globs.", metavar="INPUT"),
    ],
    shared: o.SharedOptions,
    output_format: Annotated[
        str,
        o.kind_option(
            o.RendererName(noun="format"),
            "--format",
            "-f",
            help="png | svg | plot | npz | csv (plot: plotter SVG).",
            panel=o.OUTPUT,
        ),
    ] = "png",
    out: Annotated[
        Path,
        o.value_option(
            "--out", help="Output folder; mirrors the input tree.", metavar="DIR", panel=o.OUTPUT
        ),
    ] = DEFAULT_OUT,
    overwrite: Annotated[
        bool,
        o.switch("--overwrite", help="Redo outputs that exist and are newer.", panel=o.OUTPUT),
    ] = False,
    skip_existing: Annotated[
        bool,
        o.switch(
            "--skip-existing",
            help="Keep every output newer than its input, whatever settings made it.",
            panel=o.OUTPUT,
        ),
    ] = False,
    option: o.RenderOptions = None,
    shard: Annotated[
        str | None,
        o.value_option("--shard", help=SHARD_HELP, metavar="K/N", panel=o.RUN),
    ] = None,
    workers: Annotated[
        int, o.kind_option(Whole(1), "--workers", help="Image-decoding threads.", panel=o.RUN)
    ] = 2,
    batch_size: Annotated[
        int | None,
        o.kind_option(
            Whole(1), "--batch-size", help="Images per network batch (neural).", panel=o.RUN
        ),
    ] = None,
    processes: Annotated[
        int,
        o.kind_option(
            Whole(1), "--jobs", "-j", help="Processes for classical engines.", panel=o.RUN
        ),
    ] = 1,
    as_json: Annotated[
        bool,
        o.switch("--json", help="Print the summary and each file's result as JSON.", panel=o.RUN),
    ] = False,
    quiet: Annotated[
        bool, o.switch("--quiet", "-q", help="No progress or summary.", panel=o.RUN)
    ] = False,
) -> None:
    """Stipple many images; reruns skip finished outputs. Exit 1 if any file failed.

    Example: stipplr batch photos/ --format svg --out drawings --points 5000

    Example: stipplr batch photos/ --out drawings --shard 1/2 --json
    """
    settings = shared.settings("batch", render=parse_options(option))
    renderer, extension = renderers.formats()[output_format]
    jobs = plan_jobs(discover(inputs, out), out, extension)
    jobs = shard_jobs(jobs, *parse_shard(shard))
    console = Console(stderr=True, quiet=quiet, highlight=False, soft_wrap=True)
    lines = Console(stderr=True, highlight=False, soft_wrap=True) if quiet else console
    progress = make_progress(console)
    chosen = renderers.get(renderer)
    render = settings.renderer_options(chosen.name, chosen.option_names())
    tracker: Tracker | None = None

    def report(job: Job, status: str, message: str | None) -> None:
        """Pass the runner's reports to the tracker."""
        assert tracker is not None
        tracker.report(job, status, message)

    runner = Runner(settings.stipple_kwargs(), renderer, render, report)
    if runner.note:
        lines.print(f"stipplr: note: {runner.note}", markup=False)
    for note in idle_flags(runner, processes, batch_size):
        lines.print(f"stipplr: warning: {note}", markup=False)
    todo = runner.todo(jobs, overwrite=overwrite, skip_existing=skip_existing)
    tracker = Tracker(jobs, todo, progress, lines)
    with sigterm_as_interrupt(), progress:  # SIGTERM finishes cleanly, like Ctrl-C
        summary = runner.run(
            jobs,
            overwrite=overwrite,
            skip_existing=skip_existing,
            workers=workers,
            batch_size=batch_size,
            processes=processes,
        )
    finish(summary, tracker, as_json, quiet)


def finish(summary: Summary, tracker: Tracker, as_json: bool, quiet: bool) -> None:
    """Print the summary (text on stderr, or JSON with a ``files`` array on stdout) and
    exit 130 when interrupted, 1 when a file failed."""
    if as_json:
        typer.echo(json.dumps({**summary.to_dict(), "files": tracker.results()}, indent=2))
    elif not quiet:
        typer.echo(_summary_line(summary), err=True)
        for failure in summary.failed:
            typer.echo(f"  failed: {failure['reason']}", err=True)
    if summary.interrupted:
        raise typer.Exit(130)
    if summary.failed:
        raise typer.Exit(1)
