"""One batch job's work: stipple a decoded image (or a bucket of equal-size ones) and write
it; per-image failures come back as values, so one broken file never stops the run."""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import threading
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from stipplr import atomic, renderers
from stipplr.api import Request, run_request
from stipplr.batch import records
from stipplr.batch.plan import Job
from stipplr.dots import Stipple
from stipplr.errors import OptionError, StipplrError, one_line, printable
from stipplr.images import load_image

Outcome = tuple[int, list[str]]
"""A finished job: its number of dots and the warnings it raised."""
F = TypeVar("F", bound=Callable[..., Any])
EMPTY_NOTE = "no dark pixels after the tone stage: the stipple has no dots"
WATCH_PARENT = 0.5
"""Seconds between a worker process's checks that the main process is still alive."""


def message(job: Job, exc: BaseException) -> str:
    """One line naming the file and the reason (control characters escaped)."""
    text = one_line(exc, limit=None)
    return printable(text if str(job.source) in text else f"{job.source}: {text}")


def sparse_note(result: Stipple, request: Request) -> list[str]:
    """The note of a stipple with fewer dots than asked for (none when it has them all)."""
    if not len(result):
        return [EMPTY_NOTE]
    if len(result) < request.n:
        return [f"the image's darkness is too sparse for {request.n} dots: {len(result)} placed"]
    return []


def _labelled(job: Job, result: Stipple) -> Stipple:
    """The stipple with its source file's name in the meta."""
    return result.replace(meta={**result.meta, "source": job.source.name})


def stipple_job(
    job: Job, rgb: np.ndarray | None, request: Request, *, capture: bool = True
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
        (result,) = run_request(request, [rgb])
    notes = [str(w.message) for w in caught or []]
    if not capture:
        notes += sparse_note(result, request)
    return _labelled(job, result), notes


def stipple_bucket(
    images: list[tuple[Job, np.ndarray]], request: Request
) -> list[tuple[Job, Stipple | BaseException, list[str]]]:
    """Stipple equal-size images in one engine batch (one network pass for the neural engine).

    If the batch fails, each image is retried alone so the failure lands on its own file.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results = run_request(request, [rgb for _, rgb in images])
    except OptionError:
        raise
    except Exception:
        return [_alone(job, rgb, request) for job, rgb in images]
    return [
        (job, _labelled(job, result), sparse_note(result, request))
        for (job, _), result in zip(images, results, strict=True)
    ]


def _alone(job: Job, rgb: np.ndarray, request: Request) -> tuple[Job, Any, list[str]]:
    """One image of a failed bucket, stippled on its own: (job, stipple or error, notes)."""
    try:
        result, notes = stipple_job(job, rgb, request)
    except OptionError:
        raise
    except Exception as exc:
        return job, exc, []
    return job, result, notes


def stipple_to_file(
    job: Job,
    rgb: np.ndarray | None,
    request: Request,
    renderer: str,
    options: Any,
    *,
    settings: dict | None = None,
    capture: bool = True,
) -> Outcome:
    """Stipple one image and write it (and its record of ``settings``)."""
    result, notes = stipple_job(job, rgb, request, capture=capture)
    write_output(job, result, renderers.get(renderer), options, settings)
    return len(result), notes


def write_output(
    job: Job, result: Stipple, renderer: Any, options: Any, settings: dict | None
) -> None:
    """Write the stipple with the renderer, then the record of the settings that made it."""
    renderer.write(result, job.output, options)
    if settings is not None:
        records.write_record(job, settings)


def stipple_in_worker(
    job: Job, request: Request, renderer: str, options: Any, settings: dict | None = None
) -> Outcome | StipplrError:
    """:func:`stipple_to_file` in a worker process. A per-image error comes back as a plain
    one-line StipplrError: not every exception type (e.g. from third-party decoders) pickles."""
    try:
        return stipple_to_file(job, None, request, renderer, options, settings=settings)
    except OptionError:
        raise
    except Exception as exc:
        return StipplrError(message(job, exc))


def ignore_sigint() -> None:
    """Worker processes finish their current file on Ctrl-C; the main process stops them."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextlib.contextmanager
def deferred_interrupts() -> Iterator[None]:
    """Within the block (engine code in the main thread), Ctrl-C and SIGTERM wait for the
    block to end and then raise KeyboardInterrupt; a second one raises at once. An engine
    interrupted inside a multi-threaded call (scipy's cKDTree with ``workers=-1`` joins
    Python threads) would leave those threads running on freed memory: a segfault."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []

    def later(signum: int, frame: object) -> None:
        caught.append(signum)
        if len(caught) > 1:
            raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, later) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if caught:
        raise KeyboardInterrupt


def uninterrupted(function: F) -> F:
    """``function`` run under :func:`deferred_interrupts`: a run's counting and reporting
    is never cut in half by Ctrl-C, so its summary stays exact."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with deferred_interrupts():
            return function(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def start_worker(parent: int, roots: list[str]) -> None:
    """A worker process's set-up: Ctrl-C and SIGTERM are the main process's to handle (it
    finishes the files in progress), writes stay inside the output folders, and the worker
    exits by itself when the main process dies (even by kill -9), so none is orphaned."""
    ignore_sigint()
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    atomic.confine_forever(roots)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(WATCH_PARENT)
        os._exit(70)

    threading.Thread(target=watch, name="stipplr-watch-parent", daemon=True).start()


def check_writable(roots: list[Path]) -> None:
    """Refuse, before any work, an output folder that cannot be created or written."""
    for root in roots:
        try:
            atomic.write_bytes(root / records.STATE_DIR / "writable", b"")
            (root / records.STATE_DIR / "writable").unlink()
        except OSError as exc:
            reason = exc.strerror or one_line(exc)
            raise OptionError(f"{root}: cannot write outputs there ({reason})") from None


def preflight(renderer: Any, options: Any) -> None:
    """Refuse, before any work, a page or dot size the PNG / SVG renderers would refuse
    whatever the image (a page given in mm, a fixed dot size); one line."""
    from stipplr.renderers.style import DotStyle, page_layout

    if not isinstance(options, DotStyle):
        return
    probe = Stipple(np.full((1, 2), 0.5), np.zeros((1, 3)), 1000, 1000)
    if options.size_mm is not None:
        page_layout(probe, options)
    if renderer.name == "png" and options.dot_px is not None:
        from stipplr.renderers.png import MAX_RADIUS

        if options.dot_px > 2 * MAX_RADIUS:
            raise OptionError(
                f"dots of {options.dot_px:g} px are too large for the png renderer "
                f"(at most {2 * MAX_RADIUS} px): lower dot_px"
            )


def decode_ahead(executor: ThreadPoolExecutor, jobs: Iterable[Job], ahead: int) -> Iterator[tuple]:
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


def groups(decoded: Iterator[tuple], size: int) -> Iterator[list[tuple]]:
    """Consecutive decoded items in groups of up to ``size``."""
    group: list[tuple] = []
    for item in decoded:
        group.append(item)
        if len(group) == size:
            yield group
            group = []
    if group:
        yield group
