"""Batch execution: run planned jobs with one stipple setting and one renderer.

Images are decoded in background threads; engines that batch (the neural one) get equal-size
images in one call; on the CPU the network stipples one image per core side by side; a
classical engine can instead run in several processes. A broken input is reported, counted
and skipped; Ctrl-C (or SIGTERM via the CLI) finishes the files in progress and returns the
partial summary, so a rerun resumes where it stopped.

    from stipplr.batch import Runner, discover, plan
    jobs = plan(discover(["photos"], Path("out")), Path("out"), ".svg")
    summary = Runner({"points": 5000, "engine": "lbg"}, "svg").run(jobs)
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from stipplr import renderers
from stipplr.api import Request, default_engine, make_request
from stipplr.batch import work
from stipplr.batch.plan import Job, pending, remove_stale_temps
from stipplr.errors import OptionError

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

    @property
    def images_per_second(self) -> float:
        """Finished images per second of wall time (0 before any time passed)."""
        return self.done / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary (``--json``)."""
        return {**asdict(self), "images_per_second": round(self.images_per_second, 3)}


Report = Callable[[Job, str, "str | None"], None]
"""Progress callback: (job, status "done" | "failed" | "warning", message or None)."""


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


def _request(stipple: dict[str, Any], engine: str) -> Request:
    """The validated request for ``stipple`` (keyword arguments of :func:`stipplr.stipple`)."""
    kwargs = {k: v for k, v in stipple.items() if k != "engine"}
    points = kwargs.pop("points", 5000)
    named = {k: kwargs.pop(k, None) for k in ("seed", "tone", "model", "radius")}
    device = kwargs.pop("device", None) or "auto"
    return make_request(points, engine, device=device, options=kwargs, **named)


class Runner:
    """Runs planned jobs with one stipple setting, one renderer and its options.

    stipple: keyword arguments of :func:`stipplr.stipple` (points, engine, seed, tone,
    model, device, radius, engine options); render: the renderer's options. Everything is
    checked here, before any file is touched (the neural engine loads its model here).
    """

    def __init__(
        self,
        stipple: dict[str, Any],
        renderer: str,
        render: dict[str, Any] | None = None,
        report: Report | None = None,
    ) -> None:
        engine, self.note = choose_engine(stipple.get("engine"))
        self.request = _request(stipple, engine)
        self.renderer = renderers.get(renderer)
        self.options = self.renderer.make_options(**(render or {}))
        self.report: Report = report or (lambda job, status, message: None)
        self.hints = self.request.engine.hints(self.request.options)

    def record(self, job: Job, outcome: Any, summary: Summary) -> None:
        """Count a finished job; a per-image problem is reported, a settings error raised."""
        if isinstance(outcome, OptionError):
            raise outcome
        if isinstance(outcome, BaseException):  # one broken image must not stop a long batch
            summary.failed.append({"file": str(job.source), "reason": work.message(job, outcome)})
            self.report(job, "failed", work.message(job, outcome))
            return
        dots, notes = outcome
        for note in notes:
            self.report(job, "warning", f"{job.source}: {note}")
        summary.done += 1
        summary.dots += dots
        self.report(job, "done", None)

    def _in_processes(self, todo: list[Job], processes: int, summary: Summary) -> None:
        """Classical engines on several cores: each process reads, stipples and writes."""
        pool = ProcessPoolExecutor(
            processes, multiprocessing.get_context("spawn"), initializer=work.ignore_sigint
        )
        args = (self.request, self.renderer.name, self.options)
        futures = {pool.submit(work.stipple_in_worker, job, *args): job for job in todo}
        try:
            for future in as_completed(futures):
                self.record(futures.pop(future), future.exception() or future.result(), summary)
        except KeyboardInterrupt:
            pool.shutdown(wait=True, cancel_futures=True)  # files in progress are finished
            for future, job in futures.items():
                if not future.cancelled():
                    self.record(job, future.exception() or future.result(), summary)
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def run(
        self,
        jobs: list[Job],
        *,
        overwrite: bool = False,
        workers: int = 2,
        batch_size: int | None = None,
        processes: int = 1,
    ) -> Summary:
        """Stipple ``jobs``; Ctrl-C stops after cleaning up and returns the partial summary.

        ``workers`` threads decode ahead of the engine; ``batch_size`` images of equal size
        go to an engine that batches in one call (default: the engine's hint); ``processes``
        > 1 runs an engine that allows it (the classical ones) in that many processes.
        """
        start = time.perf_counter()
        todo = pending(jobs, overwrite)
        summary = Summary(total=len(jobs), skipped=len(jobs) - len(todo))
        for job in todo:
            remove_stale_temps(job)
        try:
            if processes > 1 and self.hints.processes:
                self._in_processes(todo, processes, summary)
            else:
                size = batch_size or self.hints.batch_size
                ThreadedRun(self, size, workers, summary).run(todo)
        except KeyboardInterrupt:
            summary.interrupted = True
        finally:
            summary.seconds = time.perf_counter() - start
        return summary


class ThreadedRun:
    """One run in this process: decode threads ahead, a pool that stipples (side by side)
    or writes, and the jobs in flight, oldest first."""

    def __init__(self, runner: Runner, batch_size: int, workers: int, summary: Summary) -> None:
        self.runner = runner
        self.summary = summary
        batching = runner.request.engine.batch is not None
        self.batch_size = max(1, batch_size) if batching else 1
        self.window = self.batch_size * BUCKET_WINDOW if self.batch_size > 1 else 1
        self.side_by_side = runner.hints.threads if self.batch_size == 1 else 1
        self.workers = max(1, workers)
        self.pool = ThreadPoolExecutor(self.side_by_side, thread_name_prefix="stipplr-work")
        self.pending: list[tuple[Job, Any, Any]] = []

    def run(self, todo: list[Job]) -> None:
        """Decode, stipple and write every job (images in progress finish even on Ctrl-C)."""
        decoder = ThreadPoolExecutor(self.workers, thread_name_prefix="stipplr-decode")
        ahead = self.workers + self.window + IN_FLIGHT * self.side_by_side
        try:
            for group in work.groups(work.decode_ahead(decoder, todo, ahead), self.window):
                self._group(group)
        finally:
            decoder.shutdown(wait=False, cancel_futures=True)
            self._finish()
            self.pool.shutdown(wait=True)

    def _group(self, group: list[tuple]) -> None:
        """Failures first, then same-size images, ``batch_size`` at a time."""
        buckets: dict[tuple, list[tuple[Job, np.ndarray]]] = {}
        for job, rgb in group:
            if isinstance(rgb, BaseException):
                self.runner.record(job, rgb, self.summary)
            else:
                buckets.setdefault(rgb.shape, []).append((job, rgb))
        for same_size in buckets.values():
            for start in range(0, len(same_size), self.batch_size):
                images = same_size[start : start + self.batch_size]
                if len(images) == 1:
                    self._one(*images[0])
                else:
                    for job, result, notes in work.stipple_bucket(images, self.runner.request):
                        self._write(job, result, notes)

    def _one(self, job: Job, rgb: np.ndarray) -> None:
        """Stipple and write one image: on a pool thread when images run side by side, else
        here (only the writing goes to the pool, overlapping the next image's stippling)."""
        runner = self.runner
        if self.side_by_side > 1:
            args = (job, rgb, runner.request, runner.renderer.name, runner.options)
            self.pending.append(
                (job, self.pool.submit(work.stipple_to_file, *args, capture=False), None)
            )
            self._finish(keep=IN_FLIGHT * self.side_by_side)
            return
        try:
            result, notes = work.stipple_job(job, rgb, runner.request)
        except Exception as exc:  # recorded (or re-raised if it is a settings error)
            runner.record(job, exc, self.summary)
            return
        self._write(job, result, notes)

    def _write(self, job: Job, result: Any, notes: list[str]) -> None:
        """Queue the writing of a finished stipple (or record its error)."""
        if isinstance(result, BaseException):
            self.runner.record(job, result, self.summary)
            return
        runner = self.runner
        future = self.pool.submit(runner.renderer.write, result, job.output, runner.options)
        self.pending.append((job, future, (len(result), notes)))
        self._finish(keep=IN_FLIGHT * self.side_by_side)

    def _finish(self, keep: int = 0) -> None:
        """Wait for queued images, oldest first, until at most ``keep`` are in flight."""
        while len(self.pending) > keep:
            job, future, outcome = self.pending.pop(0)
            error = future.exception()
            self.runner.record(job, error or outcome or future.result(), self.summary)
