"""Stipple quality metrics, written from their definitions (numpy in, numpy out).

Inputs are a darkness map ``darkness`` (H, W) in [0, 1] and dot centres ``xy`` (N, 2) in
relative coordinates (x, y in [0, 1], y down). h = sqrt(H * W / N) is the mean dot spacing
in source pixels. See shared/notes/stipple-quality.md for what the numbers mean.

- Tone (:mod:`.tone`): PSNR and SSIM between the blurred dot density and the blurred darkness.
- Density (:mod:`.density`): capacity CV (spread of the darkness mass held by each dot's
  Voronoi cell), adaptive spacing (nearest-neighbour distance over the hexagonal spacing
  the local target density asks for) and highlight leakage (dots on near-white pixels
  over their fair share).
- Spectrum (:mod:`.spectrum`, flat fields): periodogram, radially averaged power (RAPS),
  anisotropy, main peak, low-frequency power and the strongest spike over its annulus.
- Colour (:mod:`.colour`): mean and 95th-percentile CIEDE2000 between the blurred ink-model
  composite of the dots (each in its pen's colour) and the blurred photo.
- Structure (:mod:`.structure`): tile repetition (shift test, period search) and 4- / 6-fold
  bond-orientational order (lattice detector).
"""

from __future__ import annotations

import numpy as np

from stipplr.metrics.colour import colour_error
from stipplr.metrics.density import (
    CAPACITY_MAX_PIXELS,
    CAPACITY_PX_PER_H,
    HIGHLIGHT_DARKNESS,
    SPACING_SMOOTHING,
    capacities,
    capacity_cv,
    highlight_leakage,
    spacing_ratios,
)
from stipplr.metrics.spectrum import (
    LOW_FREQUENCY,
    SPECTRUM_MAX_FREQUENCY,
    FlatSpectrum,
    annulus_stats,
    flat_spectrum,
    periodogram,
    radial_spectrum,
    spectrum_scores,
    spike_ratio,
    square_crop,
)
from stipplr.metrics.structure import (
    COINCIDENCE_RADIUS,
    MIN_REPEAT_SHIFT,
    bond_order,
    find_repetition,
    shift_coincidence,
    tile_repetition,
)
from stipplr.metrics.tone import (
    SSIM_WINDOW,
    TONE_PX_PER_H,
    mean_spacing,
    psnr,
    resample,
    splat,
    ssim,
    tone_maps,
    tone_scores,
    working_shape,
)

__all__ = [
    "CAPACITY_MAX_PIXELS",
    "CAPACITY_PX_PER_H",
    "COINCIDENCE_RADIUS",
    "FLAT_TOLERANCE",
    "HIGHLIGHT_DARKNESS",
    "LOW_FREQUENCY",
    "MIN_REPEAT_SHIFT",
    "SPACING_SMOOTHING",
    "SPECTRUM_MAX_FREQUENCY",
    "SSIM_WINDOW",
    "TONE_PX_PER_H",
    "FlatSpectrum",
    "annulus_stats",
    "bond_order",
    "capacities",
    "capacity_cv",
    "colour_error",
    "evaluate",
    "find_repetition",
    "flat_spectrum",
    "highlight_leakage",
    "is_flat",
    "mean_spacing",
    "periodogram",
    "psnr",
    "radial_spectrum",
    "resample",
    "shift_coincidence",
    "spacing_ratios",
    "spectrum_scores",
    "spike_ratio",
    "splat",
    "square_crop",
    "ssim",
    "tile_repetition",
    "tone_maps",
    "tone_scores",
    "working_shape",
]

FLAT_TOLERANCE = 0.02
"""A darkness map whose std / mean is below this counts as a flat field (spectrum metrics)."""


def is_flat(darkness: np.ndarray) -> bool:
    """True for a uniform (flat-field) darkness map, where spectrum metrics apply."""
    mean = float(np.mean(darkness))
    return mean > 0 and float(np.std(darkness)) <= FLAT_TOLERANCE * mean


def evaluate(darkness: np.ndarray, xy: np.ndarray) -> dict[str, float]:
    """All scalar metrics of the dots ``xy`` against ``darkness``, as an ordered dict.

    Keys: points, spacing_px (h), psnr_db, ssim, capacity_cv, spacing_mean, spacing_p1,
    clumped (fraction of dots with ratio < 0.5), highlight_leakage and, for flat fields
    only (measured on the centred square), low_power, anisotropy_db, peak_height and
    spike_ratio. Metrics that need two dots or some darkness are NaN otherwise.
    """
    darkness = np.asarray(darkness, dtype=np.float64)
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    n = len(xy)
    scores = {"points": float(n), "spacing_px": mean_spacing(darkness.shape, n)}
    names = ("psnr_db", "ssim", "capacity_cv", "spacing_mean", "spacing_p1", "clumped")
    if n < 2 or float(darkness.sum()) <= 0:
        return scores | dict.fromkeys(names, np.nan)
    scores["psnr_db"], scores["ssim"] = tone_scores(darkness, xy)
    scores["capacity_cv"] = capacity_cv(darkness, xy)
    ratios = spacing_ratios(darkness, xy)
    scores["spacing_mean"] = float(ratios.mean())
    scores["spacing_p1"] = float(np.percentile(ratios, 1))
    scores["clumped"] = float(np.mean(ratios < 0.5))
    scores["highlight_leakage"] = highlight_leakage(darkness, xy)
    if is_flat(darkness):
        spectrum = flat_spectrum(square_crop(xy, darkness.shape[1] / darkness.shape[0]))
        scores["low_power"], scores["anisotropy_db"] = spectrum.low_power, spectrum.anisotropy_db
        scores["peak_height"] = spectrum.peak[0]
        scores["spike_ratio"] = spectrum.spike_ratio
    return scores
