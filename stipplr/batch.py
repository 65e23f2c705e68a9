"""Stipple whole folders: find images, plan mirrored outputs, run, and resume after a stop.

``INPUT/a/b.jpg`` becomes ``OUT/a/b.svg``. Outputs newer than their input are skipped, so a
rerun after Ctrl-C (or a killed job) picks up where it stopped; every output is written
atomically, so a stop never leaves a half-written file under an output's name. Images are
decoded in background threads; for the neural engine, equal-size images share one network
batch; a classical engine can instead run in several processes. A broken input is
reported, counted and skipped; the run goes on.
"""

from __future__ import annotations

import contextlib
import glob
import multiprocessing
import os
import signal
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from stipplr import renderers
from stipplr.api import default_engine, stipple
from stipplr.atomic import stale_temps
from stipplr.dots import Stipple
from stipplr.errors import OptionError, StipplrError, one_line
from stipplr.images import is_image_path, load_image
from stipplr.settings import Settings
from stipplr.tone import Tone, darkness

DEFAULT_OUT = Path("stipplr-out")
FORMATS: dict[str, tuple[str, str]] = {
    "png": ("png", ".png"),
    "svg": ("svg", ".svg"),
    "plot": ("plot", ".svg"),
    "npz": ("npz", ".npz"),
    "csv": ("csv", ".csv"),
}
"""``--format`` -> (renderer, output extension)."""
BUCKET_WINDOW = 4
"""The neural engine looks this many batches ahead for images of equal size."""
IN_FLIGHT = 2
"""Images queued per pool thread before the main thread waits for the oldest."""


@dataclass(frozen=True)
class Job:
    """One image to stipple and the file to write."""

    source: Path
    output: Path


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


Report = Callable[[Job, str, str | None], None]
"""Progress callback: (job, status "done" | "failed" | "warning", message or None)."""


def _walk(root: Path, exclude: Path) -> Iterator[Path]:
    """Image files under ``root`` (sorted; hidden entries and ``exclude`` left out)."""
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = sorted(
            d for d in dirs if not d.startswith(".") and (here / d).resolve() != exclude
        )
        for name in sorted(files):
            if not name.startswith(".") and is_image_path(name):
                yield here / name


def discover(inputs: Sequence[str | os.PathLike[str]], exclude: Path) -> list[tuple[Path, Path]]:
    """(image file, path relative to the output folder) for every input file, folder or glob.

    A folder's images keep their place under it (prefixed by the folder's name when several
    inputs are given); a file lands at the top. Files a glob or folder walk finds inside
    ``exclude`` (the output folder) and non-image files they find are left out; a file
    named explicitly is always taken (and reported if it is not an image).
    """
    exclude = exclude.resolve()
    found: list[tuple[Path, Path]] = []
    several = len(inputs) > 1
    for item in inputs:
        text = os.fspath(item)
        explicit = Path(text).exists()
        if explicit:
            matches = [Path(text)]
        elif glob.has_magic(text):
            matches = [Path(m) for m in sorted(glob.glob(text, recursive=True))]
            if not matches:
                raise OptionError(f"{text}: matches no files")
            several = several or len(matches) > 1
        else:
            raise OptionError(f"{text}: no such file or folder")
        for path in matches:
            resolved = path.resolve()
            if not explicit and (resolved == exclude or exclude in resolved.parents):
                continue
            if path.is_dir():
                if resolved == exclude:
                    raise OptionError(f"{path}: the output folder cannot be an input folder")
                prefix = Path(resolved.name) if several else Path()
                found += [(f, prefix / f.relative_to(path)) for f in _walk(path, exclude)]
            elif explicit or is_image_path(path):
                found.append((path, Path(path.name)))
    unique: dict[Path, tuple[Path, Path]] = {}
    for source, rel in found:  # a file reached twice (say by a glob and its folder) runs once
        unique.setdefault(source.resolve(), (source, rel))
    return list(unique.values())


def plan(found: list[tuple[Path, Path]], out_dir: Path, extension: str) -> list[Job]:
    """Jobs with output paths under ``out_dir``; clashing names keep the input's extension.

    (``a.jpg`` and ``a.png`` become ``a.jpg.svg`` and ``a.png.svg``.) No output may leave
    ``out_dir``, even through a symlink.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise OptionError(f"{out_dir}: the output folder is a file")
    root = out_dir.resolve()
    names = [rel.with_suffix(extension) for _, rel in found]
    counts: dict[Path, int] = {}
    for name in names:
        counts[name] = counts.get(name, 0) + 1
    jobs: dict[Path, Job] = {}
    for (source, rel), name in zip(found, names, strict=True):
        if counts[name] > 1:
            name = rel.with_name(rel.name + extension)
        target = (root / name).resolve()
        if root not in target.parents:
            raise OptionError(f"{source}: its output {target} would leave {root}")
        if target == source.resolve():
            raise OptionError(f"{source}: its output would overwrite it (choose another --out)")
        if target in jobs:
            raise OptionError(f"{source} and {jobs[target].source} would both write {target}")
        jobs[target] = Job(source, target)
    return sorted(jobs.values(), key=lambda job: job.output)


def parse_shard(text: str | None, env: dict[str, str] | None = None) -> tuple[int, int]:
    """``i/n`` (0-based) -> (i, n); without it SLURM's array task variables, else (0, 1)."""
    env = os.environ if env is None else env
    if text is None and "SLURM_ARRAY_TASK_COUNT" in env and "SLURM_ARRAY_TASK_ID" in env:
        low = int(env.get("SLURM_ARRAY_TASK_MIN", "0"))
        text = f"{int(env['SLURM_ARRAY_TASK_ID']) - low}/{env['SLURM_ARRAY_TASK_COUNT']}"
    if text is None:
        return 0, 1
    index, sep, count = text.partition("/")
    try:
        i, n = int(index), int(count)
    except ValueError:
        i, n = -1, 0
    if not sep or not 0 <= i < n:
        raise OptionError(f"shard must look like i/n with 0 <= i < n, got {text!r}")
    return i, n


def shard(jobs: list[Job], index: int, count: int) -> list[Job]:
    """The deterministic ``index``-th of ``count`` parts (every count-th job by output path)."""
    ordered = sorted(jobs, key=lambda job: job.output)
    return ordered[index::count]


def up_to_date(job: Job) -> bool:
    """True when the output exists and is at least as new as its input."""
    try:
        return job.output.stat().st_mtime >= job.source.stat().st_mtime
    except OSError:
        return False


def pending(jobs: list[Job], overwrite: bool = False) -> list[Job]:
    """The jobs still to do: all with ``overwrite``, else those not up to date."""
    return [job for job in jobs if overwrite or not up_to_date(job)]


def remove_stale_temps(job: Job) -> None:
    """Delete temp files a killed run left beside this job's output (see stipplr.atomic)."""
    for stale in stale_temps(job.output):
        stale.unlink(missing_ok=True)


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


def _decode(executor: ThreadPoolExecutor, jobs: list[Job], ahead: int) -> Iterator[tuple]:
    """Yield (job, rgb or the decoding exception) in order, decoding ``ahead`` in advance."""
    queued: deque[tuple[Job, Future]] = deque()
    queue = iter(jobs)
    for job in queue:
        queued.append((job, executor.submit(load_image, job.source)))
        if len(queued) >= ahead:
            break
    while queued:
        job, future = queued.popleft()
        nxt = next(queue, None)
        if nxt is not None:
            queued.append((nxt, executor.submit(load_image, nxt.source)))
        try:
            yield job, future.result()
        except Exception as exc:  # a broken file: reported by the caller, the run goes on
            yield job, exc


def _groups(decoded: Iterator[tuple], size: int) -> Iterator[list[tuple]]:
    """Consecutive decoded items in groups of up to ``size``."""
    group: list[tuple] = []
    for item in decoded:
        group.append(item)
        if len(group) == size:
            yield group
            group = []
    if group:
        yield group


def _message(job: Job, exc: BaseException) -> str:
    """One line naming the file and the reason."""
    text = one_line(exc, limit=None)
    return text if str(job.source) in text else f"{job.source}: {text}"


Outcome = tuple[int, list[str]]
"""A finished job: its number of dots and the warnings it raised."""


def stipple_job(
    job: Job, rgb: np.ndarray | None, kwargs: dict[str, Any], *, capture: bool = True
) -> tuple[Stipple, list[str]]:
    """Stipple one image (decoded ``rgb``, or None to read ``job.source``); also its notes.

    ``capture`` records the warnings raised on the way; warning capture is process-wide,
    so threads stippling side by side pass False and only an empty result is noted.
    """
    if rgb is None:
        rgb = load_image(job.source)
    with warnings.catch_warnings(record=True) if capture else contextlib.nullcontext() as caught:
        if capture:
            warnings.simplefilter("always")
        result = stipple(rgb, **kwargs)
    notes = [str(w.message) for w in caught or []]
    if not capture and not len(result):
        notes.append("no dark pixels after the tone stage: the stipple has no dots")
    result = result.replace(meta={**result.meta, "source": job.source.name})
    return result, notes


def stipple_to_file(
    job: Job,
    rgb: np.ndarray | None,
    kwargs: dict[str, Any],
    renderer: str,
    options: Any,
    *,
    capture: bool = True,
) -> Outcome:
    """Stipple one image and write it."""
    result, notes = stipple_job(job, rgb, kwargs, capture=capture)
    renderers.get(renderer).write(result, job.output, options)
    return len(result), notes


def _stipple_in_worker(
    job: Job, kwargs: dict[str, Any], renderer: str, options: Any
) -> Outcome | StipplrError:
    """:func:`stipple_to_file` in a worker process. A per-image error comes back as a plain
    one-line StipplrError: not every exception type (e.g. from third-party decoders) pickles."""
    try:
        return stipple_to_file(job, None, kwargs, renderer, options)
    except OptionError:
        raise
    except Exception as exc:
        return StipplrError(_message(job, exc))


def _ignore_sigint() -> None:
    """Worker processes finish their current file on Ctrl-C; the main process stops them."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class Runner:
    """Runs planned jobs with one engine, tone, renderer and its options."""

    def __init__(self, settings: Settings, renderer: str, report: Report | None = None) -> None:
        self.kwargs = settings.stipple_kwargs()
        self.kwargs["engine"], self.note = choose_engine(self.kwargs["engine"])
        self.renderer = chosen = renderers.get(renderer)
        self.options = chosen.make_options(
            **settings.renderer_options(chosen.name, chosen.option_names())
        )
        self.report = report or (lambda job, status, message: None)
        self.default_batch = 1
        """Images per network batch unless told: on the CPU a batch only adds bookkeeping."""
        self.threads = 1
        """Images stippled side by side in threads (the network and numpy release the GIL)."""
        if self.kwargs["engine"] == "neural":  # a missing or broken model stops the run up front
            from stipplr import neural  # torch is imported only when the network runs

            loaded = neural.load_model(self.kwargs["model"], self.kwargs["device"])
            neural.check_points(loaded, self.kwargs["points"])
            self.default_batch = 1 if loaded.device.type == "cpu" else 4
            if loaded.device.type == "cpu":  # one image per core, side by side (see _one)
                from stipplr.devices import cpu_cores

                self.threads = cpu_cores()

    def _prime(self, images: list[tuple[Job, np.ndarray]]) -> contextlib.AbstractContextManager:
        """For the neural engine, one network batch per bucket of equal-size images."""
        if self.kwargs["engine"] != "neural" or len(images) < 2:
            return contextlib.nullcontext()
        from stipplr import neural

        tone = Tone.from_dict(self.kwargs["tone"])
        rgbs = np.stack([rgb for _, rgb in images])
        darks = np.stack([darkness(rgb, tone) for rgb in rgbs])
        skip = {"points", "engine", "tone", "radius"}
        options = {k: v for k, v in self.kwargs.items() if k not in skip}
        return neural.primed(rgbs, darks, self.kwargs["points"], **options)

    def _one(self, job: Job, rgb: np.ndarray, summary: Summary) -> None:
        """Stipple and write one decoded image without waiting for it to finish.

        With several threads each image is stippled and written on a pool thread; with one,
        stippling happens here (inside a network batch's primed block) and only the writing
        goes to the pool, so it overlaps with stippling the next image.
        """
        if self._side_by_side > 1:
            future = self._pool.submit(
                stipple_to_file,
                job,
                rgb,
                self.kwargs,
                self.renderer.name,
                self.options,
                capture=False,
            )
            self._pending.append((job, future, None))
        else:
            try:
                result, notes = stipple_job(job, rgb, self.kwargs)
            except Exception as exc:  # recorded (or re-raised if it is a settings error)
                self._record(job, exc, summary)
                return
            future = self._pool.submit(self.renderer.write, result, job.output, self.options)
            self._pending.append((job, future, (len(result), notes)))
        self._finish(summary, keep=IN_FLIGHT * self._side_by_side)

    def _finish(self, summary: Summary, keep: int = 0) -> None:
        """Wait for queued images, oldest first, until at most ``keep`` are in flight."""
        while len(self._pending) > keep:
            job, future, outcome = self._pending.pop(0)
            error = future.exception()
            self._record(job, error or outcome or future.result(), summary)

    def _record(self, job: Job, outcome: Outcome | BaseException, summary: Summary) -> None:
        """Count a finished job; a per-image problem is reported, a settings error raised."""
        if isinstance(outcome, OptionError):
            raise outcome
        if isinstance(outcome, BaseException):  # one broken image must not stop a long batch
            summary.failed.append({"file": str(job.source), "reason": _message(job, outcome)})
            self.report(job, "failed", _message(job, outcome))
            return
        dots, notes = outcome
        for note in notes:
            self.report(job, "warning", f"{job.source}: {note}")
        summary.done += 1
        summary.dots += dots
        self.report(job, "done", None)

    def _bucket(self, group: list[tuple], batch_size: int, summary: Summary) -> None:
        """Process a group: failures first, then same-size images, ``batch_size`` at a time
        (one network batch each for the neural engine)."""
        buckets: dict[tuple, list[tuple[Job, np.ndarray]]] = {}
        for job, rgb in group:
            if isinstance(rgb, BaseException):
                self._record(job, rgb, summary)
            else:
                buckets.setdefault(rgb.shape, []).append((job, rgb))
        for same_size in buckets.values():
            for start in range(0, len(same_size), batch_size):
                images = same_size[start : start + batch_size]
                with self._prime(images):
                    for job, rgb in images:
                        self._one(job, rgb, summary)

    def _in_processes(self, todo: list[Job], processes: int, summary: Summary) -> None:
        """Classical engines on several cores: each process reads, stipples and writes."""
        pool = ProcessPoolExecutor(
            processes, multiprocessing.get_context("spawn"), initializer=_ignore_sigint
        )
        args = (self.kwargs, self.renderer.name, self.options)
        futures = {pool.submit(_stipple_in_worker, job, *args): job for job in todo}
        try:
            for future in as_completed(futures):
                self._record(futures.pop(future), future.exception() or future.result(), summary)
        except KeyboardInterrupt:
            pool.shutdown(wait=True, cancel_futures=True)  # files in progress are finished
            for future, job in futures.items():
                if not future.cancelled():
                    self._record(job, future.exception() or future.result(), summary)
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _in_threads(self, todo: list[Job], workers: int, batch_size: int, summary: Summary) -> None:
        """Decode in background threads; stipple and write on a pool (see :meth:`_one`)."""
        batch_size = max(1, batch_size) if self.kwargs["engine"] == "neural" else 1
        window = batch_size * BUCKET_WINDOW if batch_size > 1 else 1
        executor = ThreadPoolExecutor(max(1, workers), thread_name_prefix="stipplr-decode")
        self._side_by_side = self.threads if batch_size == 1 else 1  # batches stay together
        self._pool = ThreadPoolExecutor(self._side_by_side, thread_name_prefix="stipplr-work")
        self._pending = []
        ahead = max(1, workers) + window + IN_FLIGHT * self._side_by_side
        try:
            for group in _groups(_decode(executor, todo, ahead), window):
                self._bucket(group, batch_size, summary)
        finally:
            executor.shutdown(wait=False, cancel_futures=True)
            self._finish(summary)  # images in progress are finished, even on Ctrl-C
            self._pool.shutdown(wait=True)

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

        ``workers`` threads decode ahead of the engine; ``processes`` > 1 runs a classical
        engine in that many processes instead (the neural engine always runs here, batched).
        """
        start = time.perf_counter()
        todo = pending(jobs, overwrite)
        summary = Summary(total=len(jobs), skipped=len(jobs) - len(todo))
        for job in todo:
            remove_stale_temps(job)
        try:
            if processes > 1 and self.kwargs["engine"] != "neural":
                self._in_processes(todo, processes, summary)
            else:
                self._in_threads(todo, workers, batch_size or self.default_batch, summary)
        except KeyboardInterrupt:
            summary.interrupted = True
        finally:
            summary.seconds = time.perf_counter() - start
        return summary
