"""The neural engine: find a model, load it once per process, run it on images.

Its entry in the engine table (:mod:`stipplr.engines`) is :func:`run` / :func:`run_batch`,
with :func:`check` (load the model, refuse what it cannot do) and :func:`hints`.

``--model`` is a model name (a file stem in the user's model folder or in
``stipplr/weights/``; :mod:`stipplr.modelfiles` finds them without torch) or a checkpoint
path; without one, the default model (``default.pt``) is used when there is one.
Inference runs under ``torch.inference_mode`` on the chosen device (:mod:`stipplr.devices`).
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from stipplr import modelfiles
from stipplr.cells import window_colours
from stipplr.checkpoints import load_checkpoint
from stipplr.devices import (
    autocast,
    configure_threads,
    cpu_cores,
    prepare_model,
    select_device,
    threads_for,
)
from stipplr.engines import EngineResult, Hints
from stipplr.errors import OptionError
from stipplr.models import RaggedBatch

WEIGHTS_DIR = modelfiles.SHIPPED_DIR
DEFAULT_MODEL = modelfiles.DEFAULT_MODEL

Prediction = tuple[np.ndarray, "np.ndarray | None", dict[str, Any]]
EXACT_COLOUR_PIXELS = 12_000_000
"""Up to this many pixels the dots get Voronoi-cell mean colours (the API's
:func:`~stipplr.cells.cell_colours`: 0.02-0.05 s on a 640 px photo, 0.4 s at 2 MP, 2.7 s at
12 MP, where the network takes 9-11 s); beyond, box-window means (a tenth of the time),
which come out 0.4-1.6 CIEDE2000 off the cell means, slightly dark."""


@dataclass(frozen=True)
class LoadedModel:
    """A network ready for inference, with its checkpoint meta and device."""

    module: torch.nn.Module
    meta: dict[str, Any]
    device: torch.device


_CACHE: dict[tuple[str, int, str], LoadedModel] = {}


def shipped_models() -> dict[str, Path]:
    """Models that ship with the package: name -> checkpoint file (:mod:`stipplr.modelfiles`)."""
    return modelfiles.shipped_models()


def default_model_available() -> bool:
    """True when a trained default model is there (shipped, or the user's ``default.pt``)."""
    return modelfiles.default_model_available()


def model_path(model: str | None) -> Path:
    """The checkpoint for ``--model``: a user or shipped model name, or a path (None: the
    default model); a one-line error when there is none."""
    return modelfiles.model_path(model)


def load_model(model: str | None = None, device: str | None = "auto") -> LoadedModel:
    """Load ``model`` on ``device``; cached, so each checkpoint is read once per process."""
    path = model_path(model).resolve()
    target = select_device(device)
    key = (str(path), path.stat().st_mtime_ns, str(target))
    if key not in _CACHE:
        configure_threads()
        module, meta = load_checkpoint(path, "cpu")
        meta = {"name": path.stem, **meta, "file": path.name}
        _CACHE[key] = LoadedModel(prepare_model(module, target), meta, target)
    return _CACHE[key]


def check_points(loaded: LoadedModel, n: int) -> None:
    """Refuse a dot count the model cannot place (its ``fixed_n`` or ``n_range``)."""
    name = loaded.meta["name"]
    fixed = getattr(loaded.module, "fixed_n", None)
    if fixed is not None and n != fixed:
        raise OptionError(f"model {name!r} always places {fixed} dots; use --points {fixed}")
    low, high = getattr(loaded.module, "n_range", (1, None))
    if n < low or (high is not None and n > high):
        from stipplr.engines import ENGINES

        others = "|".join(e for e in ENGINES if e != "neural")
        raise OptionError(
            f"model {name!r} places {low} to {high} dots, not {n} "
            f"(a classical --engine {others} takes any count)"
        )


def _predict_kwargs(loaded: LoadedModel, options: dict[str, Any]) -> dict[str, Any]:
    """Engine options the model's ``predict`` accepts as keywords; others are refused, and so
    is a value whose kind (bool, whole number, number) differs from the option's default."""
    params = inspect.signature(loaded.module.predict).parameters.values()
    defaults = {p.name: p.default for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY}
    name = loaded.meta["name"]
    unknown = sorted(set(options) - set(defaults))
    if unknown:
        raise OptionError(
            f"model {name!r} has no option(s) {', '.join(unknown)} "
            f"(it has: {', '.join(sorted(defaults)) or 'none'})"
        )
    for key, value in options.items():
        kind = _kind_mismatch(defaults[key], value)
        if kind:
            raise OptionError(f"model {name!r} option {key} must be {kind}, got {value!r}")
    return options


def _kind_mismatch(default: Any, value: Any) -> str | None:
    """The kind ``value`` should be, judged by the option's ``default``; None when it fits."""
    if isinstance(default, bool):
        return None if isinstance(value, bool) else "true or false"
    whole = isinstance(value, int) and not isinstance(value, bool)
    if isinstance(default, int):
        return None if whole else "a whole number"
    if isinstance(default, float):
        return None if whole or isinstance(value, float) else "a number"
    return None


@contextlib.contextmanager
def _seeded(seed: int | None, device: torch.device) -> Iterator[None]:
    """Seed torch's generators for the block (restored afterwards) when a seed is given."""
    if seed is None:
        yield
        return
    devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def predict_batch(
    rgbs: np.ndarray,
    darks: np.ndarray,
    n: int,
    *,
    model: str | None = None,
    device: str | None = "auto",
    seed: int | None = None,
    **options: Any,
) -> list[Prediction]:
    """Run the network once over equal-size images: rgbs (B, H, W, 3), darks (B, H, W).

    ``seed`` seeds torch for the call (None means 0, as for every engine: reproducible).

    Returns per image (xy (N, 2), rgb (N, 3) or None, model meta).
    """
    loaded = load_model(model, device)
    check_points(loaded, n)
    kwargs = _predict_kwargs(loaded, options)
    dev = loaded.device
    rgb_t = torch.from_numpy(np.ascontiguousarray(rgbs, np.float32)).permute(0, 3, 1, 2)
    dark_t = torch.from_numpy(np.ascontiguousarray(darks, np.float32))[:, None]
    rgb_t, dark_t = rgb_t.to(dev), dark_t.to(dev)
    if dev.type == "cuda":
        rgb_t = rgb_t.contiguous(memory_format=torch.channels_last)
    with (
        _seeded(0 if seed is None else seed, dev),
        torch.inference_mode(),
        autocast(dev),
        threads_for(n * len(rgbs), dev),
    ):
        xy, colours = loaded.module.predict(rgb_t, dark_t, n, **kwargs)
    xy_np = xy.float().cpu().numpy()
    rgb_np = None if colours is None else colours.float().clamp(0, 1).cpu().numpy()
    meta = {k: loaded.meta[k] for k in ("name", "arch", "file") if k in loaded.meta}
    meta["device"] = str(dev)
    return [
        (xy_np[i], None if rgb_np is None else rgb_np[i], dict(meta)) for i in range(len(xy_np))
    ]


def predict_dots(
    rgb: np.ndarray,
    dark: np.ndarray,
    n: int,
    *,
    model: str | None = None,
    device: str | None = "auto",
    seed: int | None = None,
    **options: Any,
) -> Prediction:
    """Dots for one image: xy (N, 2) in [0, 1], rgb (N, 3) or None, and the model's meta."""
    kwargs = {"model": model, "device": device, "seed": seed, **options}
    return predict_batch(rgb[None], dark[None], n, **kwargs)[0]


# The neural engine's entry in the engine table (stipplr.engines): the calling convention.


def check(n: int, options: dict[str, Any]) -> None:
    """Load the model (once per process) and refuse a count or option it cannot take."""
    options = dict(options)
    loaded = load_model(options.pop("model", None), options.pop("device", "auto"))
    check_points(loaded, n)
    _predict_kwargs(loaded, options)


def hints(options: dict[str, Any]) -> Hints:
    """On the CPU, one image per core side by side (the network releases the GIL); on a GPU,
    network batches of 4. Always in this process: the model is loaded once."""
    loaded = load_model(options.get("model"), options.get("device", "auto"))
    if loaded.device.type == "cpu":
        return Hints(batch_size=1, threads=cpu_cores(), processes=False)
    return Hints(batch_size=4, threads=1, processes=False)


def run_batch(
    darks: Sequence[np.ndarray],
    n: int,
    *,
    rgbs: Sequence[np.ndarray],
    seed: int | None = None,
    model: str | None = None,
    device: str | None = "auto",
    **options: Any,
) -> list[EngineResult]:
    """Dots for equal-size images in one network batch; colours from the model or, when it
    gives none, cell means from the API (None here), or, on photos over
    :data:`EXACT_COLOUR_PIXELS`, the photo's mean in a box about each dot (one pass)."""
    kwargs = {"model": model, "device": device, "seed": seed, **options}
    try:
        predictions = predict_batch(np.stack(rgbs), np.stack(darks), n, **kwargs)
    except RaggedBatch:  # some image too sparse for n dots: one network call each
        predictions = [
            predict_batch(rgb[None], dark[None], n, **kwargs)[0]
            for rgb, dark in zip(rgbs, darks, strict=True)
        ]
    results = []
    for (xy, colours, meta), rgb in zip(predictions, rgbs, strict=True):
        height, width = rgb.shape[:2]
        if colours is None and height * width > EXACT_COLOUR_PIXELS:
            colours = window_colours(xy, rgb, np.sqrt(width * height / max(len(xy), 1)))
        results.append(EngineResult(xy, colours, {"model": meta}))
    return results


def run(
    darkness: np.ndarray,
    n: int,
    *,
    rgb: np.ndarray,
    seed: int | None = None,
    model: str | None = None,
    device: str | None = "auto",
    **options: Any,
) -> EngineResult:
    """Dots for one image (see :func:`run_batch`)."""
    kwargs = {"model": model, "device": device, "seed": seed, **options}
    return run_batch([darkness], n, rgbs=[rgb], **kwargs)[0]
