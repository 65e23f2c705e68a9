"""Helpers the hardening tests' worker processes import (by module name, as a spawned
process cannot see functions defined in a test); no tests here."""

from __future__ import annotations

import os
import signal

import numpy as np

from stipplr.engines.dither import dither


def crashing_engine(darkness: np.ndarray, n: int, *, seed: int | None = None) -> np.ndarray:
    """The dither, except that an all-black image kills the process (as the OOM killer
    would a worker that ran out of memory)."""
    if float(np.mean(darkness)) > 0.99:
        os.kill(os.getpid(), signal.SIGKILL)
    return dither(darkness, n, seed=seed)


def sigint_disposition() -> str:
    """The SIGINT handler a spawned process starts with."""
    handler = signal.getsignal(signal.SIGINT)
    return "ignored" if handler == signal.SIG_IGN else str(handler)
