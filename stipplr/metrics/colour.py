"""Colour error: how far a stipple, seen from afar, is from the photo's colours.

What it measures: the CIEDE2000 colour difference, pixel by pixel, between the photo and
the colour the stipple's dots mix into, both blurred by the same Gaussian (sigma = the
mean dot spacing h = sqrt(area / N) by default: about the distance at which single dots
stop being seen); ``colour_error`` reports its mean and 95th percentile. Tone metrics
(:mod:`.tone`) compare darkness only; this one sees a cyan sky drawn in black dots, pens
in the wrong proportion, or colour lost by assigning dots to pens after stippling.

How the stipple's colour is made, with the ink model of :mod:`stipplr.inks.model`:

- Each dot belongs to a pen: its own (``Stipple.pen``, a stipple made with pens); for a
  stipple without pens, the pen of a given :class:`~stipplr.inks.pensets.PenSet` whose tint
  line is nearest the dot's colour (:func:`stipplr.inks.nearest.nearest_pens`, the old
  assign-after-stippling output), else one black pen (a mono stipple).
- Pen p's coverage near x is ``ink per dot`` times the Gaussian-blurred density of its
  dots (dots splatted bilinearly into a grid of the photo's pixels): c_p(x) in [0, 1].
  ``ink per dot`` is the paper area, in source pixels, that one dot stands for at full
  coverage: ``meta["ink_per_dot"]`` (recorded for pen stipples: total separated ink / N);
  without it, the photo's total darkness (1 - Rec. 709 luma, :func:`stipplr.tone.darkness`)
  over N, as the one-pen tone stage spreads it.
- The colour is ``composite(c, pen colours)``: the pens multiply where they overlap.

So the figure is about colour and tone together, independent of the dot size a renderer
draws: it judges where the dots of each pen are, not how big they are drawn. Photos over
:data:`MAX_PIXELS` are scored on a proportionally smaller grid.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from skimage.color import deltaE_ciede2000, rgb2lab

from stipplr.dots import Stipple
from stipplr.inks.model import composite
from stipplr.inks.nearest import dot_pens
from stipplr.inks.pensets import PenSet
from stipplr.metrics.tone import resample, splat
from stipplr.tone import darkness

MAX_PIXELS = 4_000_000
"""Largest grid the colour error is measured on (bounds memory: pens x grid x 8 bytes)."""
PERCENTILE = 95.0


def ink_per_dot(stipple: Stipple, photo_rgb: np.ndarray) -> float:
    """Source px^2 of full coverage each dot stands for: ``meta["ink_per_dot"]``, else the
    photo's total darkness shared by the dots (the one-pen tone stage's rule)."""
    recorded = stipple.meta.get("ink_per_dot")
    if isinstance(recorded, (int, float)) and recorded > 0:
        return float(recorded)
    return float(darkness(photo_rgb).sum()) / max(len(stipple), 1)


def grid_shape(shape: tuple[int, int]) -> tuple[int, int]:
    """The photo's (H, W), shrunk proportionally to at most :data:`MAX_PIXELS` pixels."""
    scale = min(1.0, float(np.sqrt(MAX_PIXELS / (shape[0] * shape[1]))))
    return max(1, round(shape[0] * scale)), max(1, round(shape[1] * scale))


def blurred_photo(photo_rgb: np.ndarray, shape: tuple[int, int], sigma: float) -> np.ndarray:
    """The photo resampled to ``shape`` and blurred by ``sigma`` grid pixels (H, W, 3)."""
    channels = [resample(photo_rgb[:, :, c], shape) for c in range(3)]
    return np.stack([ndimage.gaussian_filter(c, sigma, mode="reflect") for c in channels], -1)


def blurred_composite(
    stipple: Stipple, shape: tuple[int, int], sigma: float, ink: float, pens: PenSet | None
) -> np.ndarray:
    """The stipple's colour from afar (H, W, 3): each pen's blurred dot density times
    ``ink`` (grid px^2 per dot) as its coverage, mixed by the ink model."""
    pen, inks = dot_pens(stipple, pens)
    colours = [ink.rgb for ink in inks]
    coverage = np.stack(
        [
            ink * ndimage.gaussian_filter(splat(stipple.xy[pen == p], shape), sigma, mode="reflect")
            for p in range(len(colours))
        ]
    )
    return composite(coverage, colours)


def colour_error(
    stipple: Stipple,
    photo_rgb: np.ndarray,
    sigma: float | None = None,
    pens: PenSet | None = None,
) -> dict[str, float]:
    """Mean and 95th-percentile CIEDE2000 between the blurred composite of ``stipple`` and
    the blurred photo (H, W, 3 in [0, 1]); ``sigma`` in source pixels (default: the mean
    spacing); ``pens`` assigns the dots of a stipple without pens (module docstring).
    NaN for a stipple without dots."""
    if not len(stipple):
        return {"mean": float("nan"), "p95": float("nan")}
    photo = np.asarray(photo_rgb, dtype=np.float64)
    shape = grid_shape(photo.shape[:2])
    scale = shape[0] / photo.shape[0]
    blur = (stipple.mean_spacing() if sigma is None else sigma) * scale
    ink = ink_per_dot(stipple, photo) * scale**2
    mixed = blurred_composite(stipple, shape, blur, ink, pens)
    target = blurred_photo(photo, shape, blur)
    error = deltaE_ciede2000(rgb2lab(np.clip(target, 0, 1)), rgb2lab(mixed))
    return {"mean": float(error.mean()), "p95": float(np.percentile(error, PERCENTILE))}
