"""Stippling with pens: the photo is separated into one ink map per pen
(:func:`stipplr.inks.separation`), the dots are shared out in proportion to each pen's ink,
and the engine places every pen's dots, coupled (each pen evenly spread and all pens
together: the engine's multi-class mode) or independently (each pen on its own, as
desktop tools do). ``nearest`` keeps stipplr 0.1's way for comparison: one grey stipple,
each dot given to the pen nearest its colour.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage

from stipplr.cells import cell_colours
from stipplr.engines import Engine, Progress
from stipplr.errors import OptionError
from stipplr.inks.nearest import nearest_pens
from stipplr.inks.pensets import MIXES, PenSet, parse_pen_set
from stipplr.inks.separation import separate
from stipplr.tone import Tone, darkness, luminance, shape_tone
from stipplr.validate import Choice, Number

SMOOTHING = 0.5  # a pen's map is blurred by this many of its own dot spacings


@dataclass(frozen=True)
class PenPlan:
    """How a stipple is drawn with pens: the pen set, the (resolved) mix and the GCR."""

    pens: PenSet
    mix: str
    gcr: float

    @property
    def coupled(self) -> bool:
        return self.mix == "coupled"

    def meta(self) -> dict[str, Any]:
        """What the stipple's meta records of it."""
        return {"pens": [ink.to_dict() for ink in self.pens], "mix": self.mix, "gcr": self.gcr}


def pen_plan(pens: Any, mix: str, gcr: float, engine: Engine, tone: Tone) -> PenPlan:
    """The checked plan (one-line errors); ``auto`` becomes coupled when ``engine`` can."""
    pen_set = parse_pen_set(pens)
    mix = Choice(MIXES, noun="mix")(mix, "mix")
    gcr = Number(0, 1)(gcr, "gcr")
    if mix == "auto":
        mix = "coupled" if engine.classes else "independent"
    if mix != "nearest" and tone.invert:
        raise OptionError("tone invert does not apply to pens on white paper")
    return PenPlan(pen_set, mix, float(gcr))


def pen_settings(options: Any) -> dict[str, Any]:
    """The :func:`stipplr.stipple` pen settings that output options ask for: plot options
    with several pens, or PNG/SVG options drawing several pens (``color=pens``), mean
    each image is separated into one ink map per pen; anything else asks for none."""
    pens = getattr(options, "pens", None)
    if pens is None or len(pens) < 2:
        return {}
    if hasattr(options, "mix"):  # plot options
        return {"pens": pens, "mix": options.mix, "gcr": options.gcr}
    return {"pens": pens} if getattr(options, "color", None) == "pens" else {}


def split_counts(weights: np.ndarray, n: int) -> np.ndarray:
    """``n`` split in proportion to ``weights`` (largest remainders; sums to ``n``)."""
    w = np.clip(np.asarray(weights, dtype=np.float64), 0.0, None)
    if w.sum() <= 0:
        return np.zeros(len(w), dtype=np.int64)
    share = n * w / w.sum()
    counts = np.floor(share).astype(np.int64)
    rest = np.argsort(-(share - counts), kind="stable")[: n - int(counts.sum())]
    counts[rest] += 1
    return counts


def dot_areas(pens: PenSet) -> np.ndarray:
    """Relative ink area of one dot of each pen (width^2; a pen without a width counts
    as the mean of the given ones)."""
    widths = np.array([np.nan if ink.width is None else ink.width for ink in pens])
    fill = np.nanmean(widths) if np.isfinite(widths).any() else 1.0
    return np.where(np.isfinite(widths), widths, fill) ** 2


def ink_maps(rgb: np.ndarray, plan: PenPlan, tone: Tone) -> np.ndarray:
    """(P, H, W) coverage of each pen, shaped by the tone settings (gamma, contrast,
    brightness, edge emphasis, white cut-off)."""
    coverage = separate(rgb, plan.pens, plan.gcr).coverage
    if tone.is_identity():
        return coverage
    return np.stack([shape_tone(c, luminance(rgb), tone) for c in coverage])


def smooth_to_spacing(coverage: np.ndarray, n: int) -> np.ndarray:
    """A pen's ink map blurred by half the mean spacing of its ``n`` dots: a pen with few
    dots cannot draw finer detail, and specks smaller than its spacing would leave its
    dots clumped on them (``stipplr.metrics`` judges spacing on the same smoothing)."""
    if n == 0:
        return coverage
    sigma = SMOOTHING * float(np.sqrt(coverage.size / n))
    return ndimage.gaussian_filter(coverage, sigma, mode="reflect") if sigma > 0.5 else coverage


@dataclass(frozen=True)
class PenDots:
    """Dots placed with pens: centres (N, 2) in [0, 1], each dot's pen, the union's
    darkness (for meta and radii) and the ink each dot stands for (px^2)."""

    xy: np.ndarray
    pen: np.ndarray
    darkness: np.ndarray
    ink_per_dot: float


def place_pen_dots(
    plan: PenPlan,
    engine: Engine,
    rgb: np.ndarray,
    n: int,
    tone: Tone,
    seed: int | None,
    progress: Progress | None,
    options: dict[str, Any],
) -> PenDots:
    """Every pen's dots for one photo (see the module docstring)."""
    if plan.mix == "nearest":
        dark = darkness(rgb, tone)
        xy = np.asarray(engine.run(dark, n, rgb=rgb, seed=seed, progress=progress, **options).xy)
        pen = nearest_pens(cell_colours(xy, rgb), [ink.rgb for ink in plan.pens])
        return PenDots(xy, pen, dark, float(dark.sum()) / max(len(xy), 1))
    maps = ink_maps(rgb, plan, tone)
    ink = maps.reshape(len(maps), -1).sum(axis=1)
    counts = split_counts(ink / dot_areas(plan.pens), n)
    union = np.clip(maps.sum(axis=0), 0.0, 1.0)
    if counts.sum() == 0:  # no ink at all: no dots (the API warns)
        return PenDots(np.zeros((0, 2)), np.zeros(0, np.int64), union, 0.0)
    per_pen = engine.run_classes(
        [smooth_to_spacing(m, c) for m, c in zip(maps, counts, strict=True)],
        counts.tolist(),
        coupled=plan.coupled,
        seed=seed,
        progress=progress,
        **options,
    )
    xy = np.concatenate([np.asarray(p, dtype=np.float64).reshape(-1, 2) for p in per_pen])
    pen = np.repeat(np.arange(len(per_pen)), [len(p) for p in per_pen])
    return PenDots(xy, pen, union, float(ink.sum()) / max(len(xy), 1))
