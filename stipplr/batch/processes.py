"""``--jobs N``: a classical engine in N worker processes, each reading, stippling and writing.

Jobs are claimed and handed out as workers free up (a few in flight per worker), so a
concurrent run on the same ``--out`` can take the rest. When a worker dies (the OOM
killer, a crash in a native library) the pool breaks for every job in flight; the pool is
restarted and those jobs are run again one at a time, so the job that kills a worker on
its own is the only one failed. Workers start with Ctrl-C ignored (a Ctrl-C during their
start-up blames no image), finish their file when the main process is interrupted, and
exit by themselves when it dies.
"""

from __future__ import annotations

import os
import signal
import threading
from collections import deque
from collections.abc import Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.context import SpawnContext, SpawnProcess
from typing import Any

from stipplr.batch import work
from stipplr.batch.plan import Job
from stipplr.errors import StipplrError

PER_WORKER = 2
"""Jobs in flight per worker process."""
DIED = "the worker process stippling it died (killed, perhaps for lack of memory)"


class QuietProcess(SpawnProcess):
    """A spawned worker that starts with SIGINT ignored: the disposition is inherited, so
    a Ctrl-C while it imports cannot kill it before its initializer runs."""

    def start(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            super().start()
            return
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            super().start()
        finally:
            signal.signal(signal.SIGINT, previous)


class QuietSpawn(SpawnContext):
    """The spawn context with :class:`QuietProcess` workers."""

    Process = QuietProcess


class ProcessRun:
    """One ``--jobs`` run: hands jobs to a process pool, restarts it when a worker dies."""

    def __init__(self, runner: Any, processes: int, summary: Any, held: set, roots: list[str]):
        self.runner = runner
        self.processes = processes
        self.summary = summary
        self.held = held
        self.roots = roots
        self.args = (runner.request, runner.renderer.name, runner.options, runner.settings)
        self.isolating: set[Job] = set()

    def _pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            self.processes,
            QuietSpawn(),
            initializer=work.start_worker,
            initargs=(os.getpid(), self.roots),
        )

    def _record(self, job: Job, outcome: Any, flight: dict[Future, Job], future: Future) -> None:
        """Count a finished job and take it out of ``flight``, both or neither."""
        with work.deferred_interrupts():
            del flight[future]
            self.isolating.discard(job)
            self.runner.settle(job, outcome, self.summary, self.held)

    def run(self, todo: Iterable[Job]) -> None:
        """Stipple every job; on Ctrl-C, the files in progress finish and are counted."""
        queue = iter(todo)
        suspects: deque[Job] = deque()
        flight: dict[Future, Job] = {}
        pool = self._pool()
        try:
            while True:
                limit = 1 if self.isolating else self.processes * PER_WORKER
                while len(flight) < limit:
                    job = suspects.popleft() if suspects else next(queue, None)
                    if job is None:
                        break
                    flight[pool.submit(work.stipple_in_worker, job, *self.args)] = job
                if not flight:
                    return
                done, _ = wait(flight, return_when=FIRST_COMPLETED)
                if self._collect(done, flight, suspects):
                    pool.shutdown(wait=True, cancel_futures=True)
                    pool = self._pool()
        except KeyboardInterrupt:
            pool.shutdown(wait=True, cancel_futures=True)  # the files in progress finish
            for future, job in list(flight.items()):
                if future.done() and not future.cancelled():
                    error = future.exception()
                    if not isinstance(error, BrokenProcessPool):  # no blame for a stop
                        self._record(job, error or future.result(), flight, future)
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _collect(self, done: set[Future], flight: dict[Future, Job], suspects: deque) -> bool:
        """Record finished jobs; True when a worker died (the pool must be restarted). The
        jobs in flight then are retried one by one; one that was alone is the culprit."""
        broken = any(isinstance(f.exception(), BrokenProcessPool) for f in done)
        if not broken:
            for future in done:
                self._record(flight[future], future.exception() or future.result(), flight, future)
            return False
        alone = len(flight) == 1
        for future, job in list(flight.items()):
            error = future.exception() if future.done() else None
            if future.done() and not isinstance(error, BrokenProcessPool):
                self._record(job, error or future.result(), flight, future)
            elif alone:
                self._record(job, StipplrError(f"{job.source}: {DIED}"), flight, future)
            else:
                suspects.append(job)
                self.isolating.add(job)
                del flight[future]
        return True
