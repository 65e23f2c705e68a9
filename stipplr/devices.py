"""Where the network runs: device choice, CPU threads, and CUDA speed-ups (AMP)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import torch

from stipplr.errors import OptionError
from stipplr.settings import DEVICES

MAX_CPU_THREADS = 8
"""More intra-op threads than this rarely speeds up inference and starves other work."""

LARGE_CALL_DOTS = 50_000
"""A network call placing this many dots in all gets every core :func:`configure_threads`
found: its FFTs are large enough that the threads' barriers cost little (100 000 dots on
coffee: 3.3 s on one thread, 2.1 s on two, this 2-core machine idle), and the decoding a
spare core does beside the network is small against it."""

_threads_set = False
_ceiling: int | None = None  # torch's threads before configure_threads (honours OMP_NUM_THREADS)


def _mps_available() -> bool:
    """Whether Apple's MPS backend exists in this torch build and can run here."""
    return bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()


def select_device(name: str | None = "auto") -> torch.device:
    """``auto`` picks CUDA, then MPS, then the CPU; an unavailable explicit choice is refused."""
    name = (name or "auto").lower()
    if name not in DEVICES and not name.startswith("cuda:"):
        raise OptionError(f"unknown device {name!r} (choose from {', '.join(DEVICES)})")
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps" if _mps_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise OptionError(f"device {name!r} requested but no CUDA GPU is available")
    if name == "mps" and not _mps_available():
        raise OptionError("device 'mps' requested but Apple MPS is not available")
    return torch.device(name)


def cpu_cores() -> int:
    """CPU cores this process may use (honours affinity masks, e.g. under SLURM)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def configure_threads() -> None:
    """Cap torch's CPU threads once per process: one core fewer than usable (at most 8).

    The spare core decodes, colours and writes images beside the network; intra-op
    threads that have to share their cores with that work spin at barriers, which made
    lloydnet's small convolutions 10-40x slower here (2 threads 0.65 s, 1 thread 0.015 s
    per 640x427 image on a busy 2-core machine). torch counts the machine's cores, not
    the ones a scheduler gave this job; a lower count set by the caller or
    OMP_NUM_THREADS is kept.
    """
    global _threads_set, _ceiling
    if _threads_set:
        return
    _threads_set = True
    _ceiling = min(torch.get_num_threads(), cpu_cores(), MAX_CPU_THREADS)
    wanted = min(max(1, cpu_cores() - 1), MAX_CPU_THREADS)
    torch.set_num_threads(min(torch.get_num_threads(), wanted))


@contextlib.contextmanager
def threads_for(dots: int, device: torch.device) -> Iterator[None]:
    """Every core :func:`configure_threads` found, for a CPU call of at least
    ``LARGE_CALL_DOTS`` dots; the configured threads otherwise. Restored afterwards."""
    before = torch.get_num_threads()
    if device.type != "cpu" or dots < LARGE_CALL_DOTS or _ceiling is None or _ceiling <= before:
        yield
        return
    torch.set_num_threads(_ceiling)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextlib.contextmanager
def autocast(device: torch.device) -> Iterator[None]:
    """Mixed precision on CUDA (bf16 when supported, else fp16); full precision elsewhere."""
    if device.type != "cuda":
        yield
        return
    dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    with torch.autocast("cuda", dtype=dtype):
        yield


def channels_last(model: torch.nn.Module) -> torch.nn.Module:
    """Store 2-D and 3-D convolution weights channels-last (faster cuDNN kernels), in place.

    Module-wide ``to(memory_format=...)`` would fail on 5-D weights, so go conv by conv.
    """
    for module in model.modules():
        if isinstance(module, torch.nn.Conv2d):
            module.to(memory_format=torch.channels_last)
        elif isinstance(module, torch.nn.Conv3d):
            module.to(memory_format=torch.channels_last_3d)
    return model


def prepare_model(model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """Move ``model`` to ``device`` for inference (channels-last on CUDA), in eval mode."""
    model = model.to(device).eval()
    return channels_last(model) if device.type == "cuda" else model
