"""Stippling engines: darkness map + dot count -> dot positions.

Every engine is a plain function ``engine(darkness, n, *, seed=None, **options) -> xy``
taking a float (H, W) darkness map in [0, 1] and returning an (N, 2) float array of dot
centres relative to the image (x, y in [0, 1], y down). ``dither`` is the fast baseline;
``voronoi`` and ``lbg`` relax it. The neural engine lives in :mod:`stipplr.neural`.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable

import numpy as np

from stipplr.errors import OptionError

Engine = Callable[..., np.ndarray]

CLASSICAL_ENGINES: dict[str, str] = {
    "dither": "stipplr.engines.dither:dither",
    "voronoi": "stipplr.engines.voronoi:voronoi",
    "lbg": "stipplr.engines.lbg:lbg",
}


def get_engine(name: str) -> Engine:
    """The classical engine function called ``name`` (one-line error when unknown)."""
    try:
        target = CLASSICAL_ENGINES[name]
    except KeyError:
        known = ", ".join(sorted(CLASSICAL_ENGINES))
        raise OptionError(f"unknown engine {name!r} (choose from {known}, neural)") from None
    module, attr = target.split(":")
    return getattr(importlib.import_module(module), attr)


def engine_options(name: str) -> dict[str, object]:
    """The keyword options (with defaults) that engine ``name`` accepts besides seed."""
    params = inspect.signature(get_engine(name)).parameters.values()
    return {
        p.name: p.default
        for p in params
        if p.kind is inspect.Parameter.KEYWORD_ONLY and p.name != "seed"
    }


def run_engine(
    name: str, darkness: np.ndarray, n: int, *, seed: int | None = None, **options: object
) -> np.ndarray:
    """Run engine ``name``; unknown options are refused with a one-line error."""
    allowed = engine_options(name)
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise OptionError(f"engine {name!r} has no option(s) {', '.join(unknown)}")
    return get_engine(name)(darkness, n, seed=seed, **options)
