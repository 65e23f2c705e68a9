"""The Python API: ``stipplr.stipple(image, points=5000)`` -> :class:`Stipple`, and
``stipplr.stipple_many(images, ...)`` for several images with one setting (equal-size
images share one engine batch: one network pass for the neural engine)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from stipplr import __version__
from stipplr.cells import cell_colours, tone_radii
from stipplr.dots import Stipple
from stipplr.engines import MAX_POINTS, Engine, EngineResult, Progress, get_engine
from stipplr.errors import OptionError
from stipplr.images import ImageLike, load_image
from stipplr.penstipple import PenPlan, pen_plan, place_pen_dots
from stipplr.tone import Tone, darkness
from stipplr.validate import Whole, radius_range

__all__ = ["MAX_POINTS", "EmptyStippleWarning", "default_engine", "stipple", "stipple_many"]


MAX_SEED = 2**63 - 1
"""Seeds are whole numbers from 0 to this (what every engine's random generator takes)."""


class EmptyStippleWarning(UserWarning):
    """The image has no darkness at all, so the stipple has no dots."""


def default_engine() -> str:
    """``neural`` when a trained default model ships with the package, else ``lbg``."""
    from stipplr import neural

    return "neural" if neural.default_model_available() else "lbg"


@dataclass(frozen=True)
class Request:
    """One validated stippling request: the engine, dot count, tone and engine options."""

    engine: Engine
    n: int
    seed: int | None
    tone: Tone
    radius: tuple[float, float] | None
    options: dict[str, Any]
    inks: PenPlan | None = None

    def meta(self, dark: np.ndarray) -> dict[str, Any]:
        """The stipple's meta for an image with darkness ``dark``."""
        shown = {k: v for k, v in self.options.items() if k not in ("model", "device")}
        return {
            "engine": self.engine.name,
            "points_requested": self.n,
            "seed": self.seed,
            "tone": self.tone.to_dict(),
            "options": {k: v for k, v in shown.items() if _jsonable(v)},
            "stipplr_version": __version__,
            "mean_darkness": float(dark.mean()),
            **(self.inks.meta() if self.inks else {}),
        }


def make_request(
    points: int,
    engine: str | None,
    *,
    seed: int | None,
    tone: Tone | dict | None,
    model: str | None,
    device: str,
    radius: tuple[float, float] | None,
    options: dict[str, Any],
    pens: Any = None,
    mix: str = "auto",
    gcr: float = 1.0,
) -> Request:
    """Check every setting before any image is read (one-line errors); ``pens`` (a pen
    set) stipples one class of dots per pen (:mod:`stipplr.penstipple`)."""
    n = Whole(1, MAX_POINTS)(points, "points")
    seed = None if seed is None else Whole(0, MAX_SEED)(seed, "seed")
    chosen = get_engine(engine or default_engine())
    options = dict(options)
    if "model" in chosen.options():
        options.update(model=model, device=device)
    elif model is not None:
        raise OptionError(f"--model only applies to the neural engine, not {chosen.name!r}")
    tone = Tone.from_dict(tone) if isinstance(tone, dict) else (tone or Tone())
    inks = None if pens is None else pen_plan(pens, mix, gcr, chosen, tone)
    coupled = bool(inks and inks.coupled)
    accepted = chosen.class_options() if coupled else chosen.options()
    if model is None and "device" in accepted and "model" not in accepted:
        options.setdefault("device", device)  # an engine with a torch backend (ccvt)
    chosen.validate(n, options, coupled=coupled)
    radius = None if radius is None else radius_range(radius)
    return Request(chosen, n, seed, tone, radius, options, inks)


def request_from(points: int, engine: str | None, settings: dict[str, Any]) -> Request:
    """:func:`make_request` from :func:`stipple`'s keyword arguments as one dict (the rest
    of which are engine options)."""
    settings = dict(settings)
    named = {k: settings.pop(k, None) for k in ("seed", "tone", "model", "radius", "pens")}
    device = settings.pop("device", None) or "auto"
    mix, gcr = settings.pop("mix", None) or "auto", settings.pop("gcr", 1.0)
    return make_request(points, engine, device=device, options=settings, mix=mix, gcr=gcr, **named)


def _empty(request: Request, rgb: np.ndarray, dark: np.ndarray) -> Stipple:
    """The stipple of an image with no darkness: no dots, and a warning."""
    warnings.warn(
        "image has no dark pixels after the tone stage: the stipple has no dots",
        EmptyStippleWarning,
        stacklevel=4,
    )
    empty = np.zeros((0, 2), np.float32)
    height, width = rgb.shape[:2]
    return Stipple(empty, np.zeros((0, 3), np.float32), width, height, meta=request.meta(dark))


def _finish(request: Request, rgb: np.ndarray, dark: np.ndarray, out: EngineResult) -> Stipple:
    """An engine's dots as a Stipple: clipped, coloured (from the photo when the engine
    gave no colours) and sized by tone when asked."""
    xy = np.clip(np.asarray(out.xy, dtype=np.float64), 0.0, 1.0)
    if len(xy) < request.n:  # darkness too sparse for n dots (stipplr.engines.dither)
        warnings.warn(
            f"the image's darkness is too sparse for {request.n} dots: {len(xy)} placed",
            EmptyStippleWarning,
            stacklevel=4,
        )
    colours = cell_colours(xy, rgb) if out.rgb is None else out.rgb
    radii = None if request.radius is None else tone_radii(xy, dark, *request.radius)
    meta = {**request.meta(dark), **out.meta, "points": len(xy)}
    height, width = rgb.shape[:2]
    return Stipple(xy, colours, width, height, radius=radii, meta=meta)


def _with_pens(request: Request, rgb: np.ndarray, progress: Progress | None) -> Stipple:
    """The stipple of one photo drawn with the request's pens: one pen index per dot,
    each dot in its pen's colour; a photo without ink gives no dots and a warning."""
    args = (request.engine, rgb, request.n, request.tone, request.seed, progress)
    dots = place_pen_dots(request.inks, *args, request.options)
    if len(dots.xy) == 0:
        return _empty(request, rgb, dots.darkness)
    colours = np.array([ink.rgb for ink in request.inks.pens], np.float32)[dots.pen] / 255
    stipple = _finish(request, rgb, dots.darkness, EngineResult(dots.xy, colours))
    meta = {**stipple.meta, "ink_per_dot": dots.ink_per_dot}
    counts = np.bincount(dots.pen, minlength=len(request.inks.pens))
    meta["pen_counts"] = dict(zip(request.inks.pens.names, counts.tolist(), strict=True))
    return stipple.replace(meta=meta, pen=dots.pen)


def run_request(
    request: Request, rgbs: Sequence[np.ndarray], progress: Progress | None = None
) -> list[Stipple]:
    """Stipple decoded images (float RGB in [0, 1]); equal-size ones in one engine batch."""
    if request.inks is not None:
        return [_with_pens(request, rgb, progress) for rgb in rgbs]
    darks = [darkness(rgb, request.tone) for rgb in rgbs]
    stipples: list[Stipple | None] = [None] * len(rgbs)
    by_size: dict[tuple[int, ...], list[int]] = {}
    for i, dark in enumerate(darks):
        if float(dark.max()) <= 0.0:
            stipples[i] = _empty(request, rgbs[i], dark)
        else:
            by_size.setdefault(dark.shape, []).append(i)
    for group in by_size.values():
        results = request.engine.run_batch(
            [darks[i] for i in group],
            request.n,
            rgbs=[rgbs[i] for i in group],
            seed=request.seed,
            progress=progress,
            **request.options,
        )
        for i, out in zip(group, results, strict=True):
            stipples[i] = _finish(request, rgbs[i], darks[i], out)
    return stipples  # type: ignore[return-value]


def stipple_many(
    images: Sequence[ImageLike], points: int = 5000, engine: str | None = None, **settings: Any
) -> list[Stipple]:
    """Stipple several images with one setting: ``settings`` are :func:`stipple`'s keyword
    arguments (seed, tone, model, device, radius, progress and engine options).

    All images are decoded first, so pass a bucket at a time; for whole folders (resume,
    broken files, atomic output) use :class:`stipplr.batch.Runner` or ``stipplr batch``.
    """
    progress = settings.pop("progress", None)
    request = request_from(points, engine, settings)
    return run_request(request, [load_image(image) for image in images], progress)


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
    progress: Progress | None = None,
    pens: Any = None,
    mix: str = "auto",
    gcr: float = 1.0,
    **options: Any,
) -> Stipple:
    """Stipple ``image`` with ``points`` dots.

    image: a path, a PIL image or an array (gray, RGB or RGBA; 8/16-bit or float).
    engine: a name from ``stipplr.engines.engine_names()`` (default: ``neural`` when a
        trained model ships, else ``lbg``); ``model`` names the neural model or a path.
    tone: :class:`~stipplr.tone.Tone` settings (or a dict of them); identity by default.
    radius: (r_min, r_max) in source pixels to size dots from local tone; None for none.
    progress: ``progress(done, total)`` called by slow engines as they work.
    pens: a pen set ("cmyk", "cyan,magenta,yellow,black", a pen-set file...): the photo
        is separated into one ink map per pen and every dot gets a pen (``Stipple.pen``);
        mix: coupled | independent | nearest | auto; gcr: grey-component replacement.
    options: engine-specific settings (e.g. ``iterations`` for ``voronoi``).
    An all-white image gives an empty stipple and an :class:`EmptyStippleWarning`.
    """
    kwargs = {"seed": seed, "tone": tone, "model": model, "device": device, "radius": radius}
    if pens is not None:
        kwargs.update(pens=pens, mix=mix, gcr=gcr)
    return stipple_many([image], points, engine, progress=progress, **kwargs, **options)[0]


def _jsonable(value: Any) -> bool:
    """Whether an engine option can go into the stipple's JSON meta."""
    return isinstance(value, (str, int, float, bool, type(None), list, tuple, dict))
