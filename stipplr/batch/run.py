"""Batch execution: run planned jobs with one stipple setting and one renderer.

Images are decoded in background threads; engines that batch (the neural one) get equal-size
images in one call; on the CPU the network stipples one image per core side by side; a
classical engine can instead run in several processes (:mod:`~stipplr.batch.processes`). A
broken input is reported, counted and skipped; Ctrl-C (or SIGTERM via the CLI) finishes the
files in progress and returns the exact partial summary, so a rerun resumes where it
stopped. Outputs record their settings and jobs are claimed as they start
(:mod:`~stipplr.batch.records`), so reruns redo what no longer matches and concurrent runs
on one ``--out`` share the work.

    from stipplr.batch import Runner, discover, plan
    jobs = plan(discover(["photos"], Path("out")), Path("out"), ".svg")
    summary = Runner({"points": 5000, "engine": "lbg"}, "svg").run(jobs)
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from stipplr import atomic, renderers
from stipplr.api import default_engine, request_from
from stipplr.batch import records, work
from stipplr.batch.plan import Job, up_to_date
from stipplr.errors import OptionError, printable
from stipplr.penstipple import pen_settings

BUCKET_WINDOW = 4
"""A batching engine looks this many batches ahead for images of equal size."""
IN_FLIGHT = 2
"""Images queued per pool thread before the main thread waits for the oldest."""


@dataclass
class Summary:
    """What a batch run did."""

    total: int = 0
    done: int = 0
    skipped: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)
    dots: int = 0
    seconds: float = 0.0
    interrupted: bool = False
    redone: int = 0

    @property
    def images_per_second(self) -> float:
        """Finished images per second of wall time (0 before any time passed)."""
        return self.done / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary (``--json``)."""
        return {**asdict(self), "images_per_second": round(self.images_per_second, 3)}


Report = Callable[[Job, str, "str | None"], None]
"""Progress callback: (job, status "done" | "failed" | "skipped" | "warning", message or
None); every job of the run's to-do list gets exactly one status other than "warning"."""
SHOWN_REDOS = 3
"""Redone outputs named one by one before the rest are summed up in one line."""


def choose_engine(engine: str | None) -> tuple[str, str | None]:
    """The engine to run and, when no model ships and none was asked for, a one-line note."""
    if engine is not None:
        return engine, None
    chosen = default_engine()
    if chosen == "neural":
        return chosen, None
    return chosen, (
        f"no trained neural model ships with this version; using the classical {chosen} engine"
    )


class Runner:
    """Runs planned jobs with one stipple setting, one renderer and its options.

    stipple: keyword arguments of :func:`stipplr.stipple` (points, engine, seed, tone,
    model, device, radius, engine options); render: the renderer's options. Everything is
    checked here, before any file is touched (the neural engine loads its model here, and
    a page or dot size the renderer would refuse is refused now).
    """

    def __init__(
        self,
        stipple: dict[str, Any],
        renderer: str,
        render: dict[str, Any] | None = None,
        report: Report | None = None,
    ) -> None:
        engine, self.note = choose_engine(stipple.get("engine"))
        settings = {k: v for k, v in stipple.items() if k not in ("engine", "points")}
        self.renderer = renderers.get(renderer)
        self.options = self.renderer.make_options(**(render or {}))
        settings = {**pen_settings(self.options), **settings}
        self.request = request_from(stipple.get("points", 5000), engine, settings)
        work.preflight(self.renderer, self.options)
        self.report: Report = report or (lambda job, status, message: None)
        self.hints = self.request.engine.hints(self.request.options)
        self.settings = records.fingerprint(self.request, self.renderer.name, self.options)
        self.redo: list[tuple[Job, str]] = []
        self.seen: dict[Job, dict | None] = {}

    def todo(
        self, jobs: list[Job], *, overwrite: bool = False, skip_existing: bool = False
    ) -> list[Job]:
        """The jobs to do: all with ``overwrite``; else those without an output, those whose
        output records other settings or an older input (``self.redo`` says which and why),
        and with ``skip_existing`` only those without an output newer than their input.
        Jobs with a problem are always listed (they are reported)."""
        chosen, self.redo = [], []
        self.seen = {job: records.output_stat(job) for job in jobs}
        for job in jobs:
            if overwrite or job.problem:
                chosen.append(job)
                continue
            if skip_existing:
                if not up_to_date(job):
                    chosen.append(job)
                continue
            try:
                reason = records.redo_reason(job, self.settings)
            except FileNotFoundError:
                chosen.append(job)
                continue
            if reason is not None:
                chosen.append(job)
                self.redo.append((job, reason))
        return chosen

    @work.uninterrupted
    def record(self, job: Job, outcome: Any, summary: Summary) -> None:
        """Count a finished job; a per-image problem is reported, a settings error raised."""
        if isinstance(outcome, OptionError):
            raise outcome
        if isinstance(outcome, BaseException):  # one broken image must not stop a long batch
            self.fail(job, work.message(job, outcome), summary)
            return
        dots, notes = outcome
        for note in notes:
            self.report(job, "warning", f"{job.source}: {note}")
        summary.done += 1
        summary.dots += dots
        self.report(job, "done", None)

    @work.uninterrupted
    def settle(self, job: Job, outcome: Any, summary: Summary, held: set[Job]) -> None:
        """:meth:`record` a finished job, then release its claim."""
        try:
            self.record(job, outcome, summary)
        finally:
            records.release(job)
            held.discard(job)

    @work.uninterrupted
    def fail(self, job: Job, reason: str, summary: Summary) -> None:
        """Count and report a failed job (control characters in names escaped)."""
        reason = printable(reason)
        summary.failed.append({"file": str(job.source), "reason": reason})
        self.report(job, "failed", reason)

    def claimed(self, todo: Iterable[Job], summary: Summary, held: set[Job]) -> Iterator[Job]:
        """The jobs of ``todo`` this run claims, one at a time as they are asked for; a job
        another live run holds, or made meanwhile with these settings, is skipped."""
        for job in todo:
            holder = records.claim(job)
            if holder is None:
                held.add(job)
                if not records.made_since(job, self.settings, self.seen.get(job)):
                    yield job
                    continue
                records.release(job)
                held.discard(job)
            message = None if holder is None else f"{job.output}: being made by {holder}"
            self.skip(job, message, summary)

    @work.uninterrupted
    def skip(self, job: Job, message: str | None, summary: Summary) -> None:
        """Count and report a job skipped while the run goes on."""
        summary.skipped += 1
        self.report(job, "skipped", None if message is None else printable(message))

    def _announce(self) -> None:
        """Say which outputs are redone because their settings or input changed."""
        more = len(self.redo) - SHOWN_REDOS
        for i, (job, reason) in enumerate(self.redo[:SHOWN_REDOS]):
            last = i == SHOWN_REDOS - 1 and more > 0
            tail = f" (and {more} more outputs to redo)" if last else ""
            self.report(job, "warning", f"{job.output}: {reason}; redoing it{tail}")

    def run(
        self,
        jobs: list[Job],
        *,
        overwrite: bool = False,
        skip_existing: bool = False,
        workers: int = 2,
        batch_size: int | None = None,
        processes: int = 1,
    ) -> Summary:
        """Stipple ``jobs``; Ctrl-C stops after cleaning up and returns the partial summary.

        ``overwrite`` redoes every output, ``skip_existing`` keeps every output newer than
        its input whatever its settings (see :meth:`todo`); ``workers`` threads decode
        ahead of the engine; ``batch_size`` images of equal size go to an engine that
        batches in one call (default: the engine's hint); ``processes`` > 1 runs an engine
        that allows it (the classical ones) in that many processes.
        """
        start = time.perf_counter()
        roots = sorted({str(job.root or job.output.parent) for job in jobs})
        work.check_writable([Path(r) for r in roots])
        todo = self.todo(jobs, overwrite=overwrite, skip_existing=skip_existing)
        summary = Summary(total=len(jobs), skipped=len(jobs) - len(todo), redone=len(self.redo))
        held: set[Job] = set()
        with contextlib.ExitStack() as stack:
            for root in roots:
                stack.enter_context(atomic.confine(root))
            try:
                records.remove_stale([job for job in jobs if not job.problem])
                self._announce()
                for job in todo:
                    if job.problem:
                        self.fail(job, f"{job.source}: {job.problem}", summary)
                runnable = self.claimed([j for j in todo if not j.problem], summary, held)
                if processes > 1 and self.hints.processes:
                    from stipplr.batch.processes import ProcessRun

                    ProcessRun(self, processes, summary, held, roots).run(runnable)
                else:
                    size = batch_size or self.hints.batch_size
                    ThreadedRun(self, size, workers, summary, held).run(runnable)
            except KeyboardInterrupt:
                summary.interrupted = True
            finally:
                for job in list(held):
                    records.release(job)
                summary.seconds = time.perf_counter() - start
        return summary


class ThreadedRun:
    """One run in this process: decode threads ahead, a pool that stipples (side by side)
    or writes, and the jobs in flight, oldest first."""

    def __init__(
        self, runner: Runner, batch_size: int, workers: int, summary: Summary, held: set[Job]
    ) -> None:
        self.runner = runner
        self.summary = summary
        self.held = held
        batching = runner.request.engine.batch is not None
        self.batch_size = max(1, batch_size) if batching else 1
        self.window = self.batch_size * BUCKET_WINDOW if self.batch_size > 1 else 1
        self.side_by_side = runner.hints.threads if self.batch_size == 1 else 1
        self.workers = max(1, workers)
        self.pool = ThreadPoolExecutor(self.side_by_side, thread_name_prefix="stipplr-work")
        self.pending: list[tuple[Job, Any, Any]] = []

    def run(self, todo: Iterable[Job]) -> None:
        """Decode, stipple and write every job (images in progress finish even on Ctrl-C;
        every thread has stopped when this returns, so none outlives the run)."""
        decoder = ThreadPoolExecutor(self.workers, thread_name_prefix="stipplr-decode")
        ahead = self.workers + self.window + IN_FLIGHT * self.side_by_side
        try:
            for group in work.groups(work.decode_ahead(decoder, todo, ahead), self.window):
                self._group(group)
        finally:
            decoder.shutdown(wait=True, cancel_futures=True)
            try:
                self._finish()
            finally:
                self.pool.shutdown(wait=True)

    def record(self, job: Job, outcome: Any) -> None:
        """Count a finished job and release its claim."""
        self.runner.settle(job, outcome, self.summary, self.held)

    def _group(self, group: list[tuple]) -> None:
        """Failures first, then same-size images, ``batch_size`` at a time."""
        buckets: dict[tuple, list[tuple[Job, np.ndarray]]] = {}
        for job, rgb in group:
            if isinstance(rgb, BaseException):
                self.record(job, rgb)
            else:
                buckets.setdefault(rgb.shape, []).append((job, rgb))
        for same_size in buckets.values():
            for start in range(0, len(same_size), self.batch_size):
                images = same_size[start : start + self.batch_size]
                if len(images) == 1:
                    self._one(*images[0])
                else:
                    with work.deferred_interrupts():
                        done = work.stipple_bucket(images, self.runner.request)
                    for job, result, notes in done:
                        self._write(job, result, notes)

    def _one(self, job: Job, rgb: np.ndarray) -> None:
        """Stipple and write one image: on a pool thread when images run side by side, else
        here (only the writing goes to the pool, overlapping the next image's stippling)."""
        runner = self.runner
        if self.side_by_side > 1:
            args = (job, rgb, runner.request, runner.renderer.name, runner.options)
            future = self.pool.submit(
                work.stipple_to_file, *args, settings=runner.settings, capture=False
            )
            self.pending.append((job, future, None))
            self._finish(keep=IN_FLIGHT * self.side_by_side)
            return
        try:
            with work.deferred_interrupts():
                result, notes = work.stipple_job(job, rgb, runner.request)
        except Exception as exc:  # recorded (or re-raised if it is a settings error)
            self.record(job, exc)
            return
        self._write(job, result, notes)

    def _write(self, job: Job, result: Any, notes: list[str]) -> None:
        """Queue the writing of a finished stipple (or record its error)."""
        if isinstance(result, BaseException):
            self.record(job, result)
            return
        runner = self.runner
        future = self.pool.submit(
            work.write_output, job, result, runner.renderer, runner.options, runner.settings
        )
        self.pending.append((job, future, (len(result), notes)))
        self._finish(keep=IN_FLIGHT * self.side_by_side)

    def _finish(self, keep: int = 0) -> None:
        """Wait for queued images, oldest first, until at most ``keep`` are in flight. A job
        leaves the queue only once recorded, so an interrupt while waiting loses none."""
        while len(self.pending) > keep:
            job, future, outcome = self.pending[0]
            error = future.exception()
            with work.deferred_interrupts():
                self.pending.pop(0)
                self.record(job, error or outcome or future.result())
