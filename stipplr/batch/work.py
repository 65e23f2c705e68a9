"""One batch job's work: stipple a decoded image (or a bucket of equal-size ones) and write
it; per-image failures come back as values, so one broken file never stops the run."""

from __future__ import annotations

import contextlib
import signal
import warnings
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from stipplr import renderers
from stipplr.api import Request, run_request
from stipplr.batch.plan import Job
from stipplr.dots import Stipple
from stipplr.errors import OptionError, StipplrError, one_line
from stipplr.images import load_image

Outcome = tuple[int, list[str]]
"""A finished job: its number of dots and the warnings it raised."""
EMPTY_NOTE = "no dark pixels after the tone stage: the stipple has no dots"


def message(job: Job, exc: BaseException) -> str:
    """One line naming the file and the reason."""
    text = one_line(exc, limit=None)
    return text if str(job.source) in text else f"{job.source}: {text}"


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
    if not capture and not len(result):
        notes.append(EMPTY_NOTE)
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
        (job, _labelled(job, result), [] if len(result) else [EMPTY_NOTE])
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
    capture: bool = True,
) -> Outcome:
    """Stipple one image and write it."""
    result, notes = stipple_job(job, rgb, request, capture=capture)
    renderers.get(renderer).write(result, job.output, options)
    return len(result), notes


def stipple_in_worker(
    job: Job, request: Request, renderer: str, options: Any
) -> Outcome | StipplrError:
    """:func:`stipple_to_file` in a worker process. A per-image error comes back as a plain
    one-line StipplrError: not every exception type (e.g. from third-party decoders) pickles."""
    try:
        return stipple_to_file(job, None, request, renderer, options)
    except OptionError:
        raise
    except Exception as exc:
        return StipplrError(message(job, exc))


def ignore_sigint() -> None:
    """Worker processes finish their current file on Ctrl-C; the main process stops them."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def decode_ahead(executor: ThreadPoolExecutor, jobs: list[Job], ahead: int) -> Iterator[tuple]:
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
