"""Ctrl-C or SIGTERM while the command line is still starting (importing numpy, scipy,
PIL, typer...) exits at once with code 130 and one line, no traceback: nothing has been
read or written yet. :func:`starting` installs that, :func:`started` puts the previous
handlers back once the commands are ready (each command handles interrupts its own way:
``stipplr batch`` finishes the files in progress and prints its summary), and
:func:`finished` ignores them while the process exits with the command's code."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator

_PREVIOUS: dict[int, object] = {}
EXIT_CODE = 130


def _exit_now(signum: int, frame: object) -> None:
    """Leave before any work: one line on stderr, exit 130."""
    try:
        sys.stderr.write("stipplr: interrupted while starting; nothing was done\n")
        sys.stderr.flush()
    finally:
        os._exit(EXIT_CODE)


def starting() -> None:
    """From now until :func:`started`, an interrupt exits at once (main thread only)."""
    if threading.current_thread() is not threading.main_thread() or _PREVIOUS:
        return
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous = signal.getsignal(sig)
        if previous is not signal.SIG_IGN:  # an ignored signal (a background job) stays so
            _PREVIOUS[sig] = previous
            signal.signal(sig, _exit_now)


def started() -> None:
    """Put back the handlers :func:`starting` replaced."""
    if threading.current_thread() is not threading.main_thread():
        return
    while _PREVIOUS:
        sig, previous = _PREVIOUS.popitem()
        if signal.getsignal(sig) is _exit_now:
            signal.signal(sig, previous)  # type: ignore[arg-type]


def finished() -> None:
    """Ignore Ctrl-C and SIGTERM from now on: the command is over and its exit code set,
    and an interrupt while the interpreter shuts down would only replace it."""
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM (a scheduler's stop) raises KeyboardInterrupt like Ctrl-C,
    so the command cleans up the same way; the previous handler comes back afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
