"""The Python API: ``stipplr.stipple(image, points=5000)`` -> :class:`Stipple`."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from stipplr import __version__
from stipplr.dots import Stipple
from stipplr.engines import CLASSICAL_ENGINES, run_engine
from stipplr.engines.cells import cell_colours, tone_radii, window_colours
from stipplr.errors import OptionError
from stipplr.images import ImageLike, load_image
from stipplr.tone import Tone, darkness

MAX_POINTS = 2_000_000


class EmptyStippleWarning(UserWarning):
    """The image has no darkness at all, so the stipple has no dots."""


def default_engine() -> str:
    """``neural`` when a trained default model ships with the package, else ``lbg``."""
    from stipplr import neural

    return "neural" if neural.default_model_available() else "lbg"


def _check_points(points: int) -> int:
    """``points`` as an int, or a one-line error unless it is a whole number in range."""
    if isinstance(points, bool) or int(points) != points or not 1 <= points <= MAX_POINTS:
        raise OptionError(f"points must be a whole number from 1 to {MAX_POINTS}, got {points}")
    return int(points)


def stipple(
    image: ImageLike,
    points: int = 5000,
    engine: str | None = None,
    *,
    seed: int | None = None,
    tone: Tone | dict | None = None,
    model: str | None = None,
    device: str = "auto",
    radius: tuple[float, float] | None = None,
    **options: Any,
) -> Stipple:
    """Stipple ``image`` with ``points`` dots.

    image: a path, a PIL image or an array (gray, RGB or RGBA; 8/16-bit or float).
    engine: ``lbg``, ``voronoi``, ``dither`` or ``neural`` (default: ``neural`` when a
        trained model ships, else ``lbg``); ``model`` names the neural model or a path.
    tone: :class:`~stipplr.tone.Tone` settings (or a dict of them); identity by default.
    radius: (r_min, r_max) in source pixels to size dots from local tone; None for none.
    options: engine-specific settings (e.g. ``iterations`` for ``voronoi``).
    An all-white image gives an empty stipple and an :class:`EmptyStippleWarning`.
    """
    n = _check_points(points)
    tone = Tone.from_dict(tone) if isinstance(tone, dict) else (tone or Tone())
    engine = engine or default_engine()
    if engine != "neural" and engine not in CLASSICAL_ENGINES:
        raise OptionError(
            f"unknown engine {engine!r} (choose from {', '.join(CLASSICAL_ENGINES)}, neural)"
        )
    rgb = load_image(image)
    height, width = rgb.shape[:2]
    dark = darkness(rgb, tone)
    meta: dict[str, Any] = {
        "engine": engine,
        "points_requested": n,
        "seed": seed,
        "tone": tone.to_dict(),
        "options": {k: v for k, v in options.items() if _jsonable(v)},
        "stipplr_version": __version__,
        "mean_darkness": float(dark.mean()),
    }
    if float(dark.max()) <= 0.0:
        warnings.warn(
            "image has no dark pixels after the tone stage: the stipple has no dots",
            EmptyStippleWarning,
            stacklevel=2,
        )
        empty = np.zeros((0, 2), np.float32)
        return Stipple(empty, np.zeros((0, 3), np.float32), width, height, meta=meta)

    if engine == "neural":
        from stipplr import neural

        xy, colours, model_meta = neural.predict_dots(
            rgb, dark, n, model=model, device=device, seed=seed, **options
        )
        meta["model"] = model_meta
    else:
        if model is not None:
            raise OptionError(f"--model only applies to the neural engine, not {engine!r}")
        xy = run_engine(engine, dark, n, seed=seed, **options)
        colours = None
    xy = np.clip(np.asarray(xy, dtype=np.float64), 0.0, 1.0)
    if colours is None and engine == "neural":  # keep the one-pass engine fast
        colours = window_colours(xy, rgb, np.sqrt(width * height / max(len(xy), 1)))
    elif colours is None:
        colours = cell_colours(xy, rgb)
    radii = None if radius is None else tone_radii(xy, dark, *_check_radius(radius))
    meta["points"] = len(xy)
    return Stipple(xy, colours, width, height, radius=radii, meta=meta)


def _check_radius(radius: tuple[float, float]) -> tuple[float, float]:
    """(r_min, r_max) as floats, or a one-line error unless 0 <= r_min <= r_max."""
    r_min, r_max = (float(r) for r in radius)
    if not 0 <= r_min <= r_max < float("inf"):
        raise OptionError(f"radius must satisfy 0 <= min <= max < inf, got {r_min}, {r_max}")
    return r_min, r_max


def _jsonable(value: Any) -> bool:
    """Whether an engine option can go into the stipple's JSON meta."""
    return isinstance(value, (str, int, float, bool, type(None), list, tuple, dict))
