"""Flat-field spectrum: periodogram, radially averaged power (RAPS), anisotropy, spikes.

Points are relative (x, y) in [0, 1] taken as a unit torus. Frequencies are integer
wave vectors k; |k| / sqrt(N) is in cycles per mean dot spacing h. A Poisson set has
power 1 everywhere; blue noise has none at low frequencies and a peak near 1 / h.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LOW_FREQUENCY = 0.5
"""Upper end of the "low frequency" band, in cycles per mean dot spacing."""
SPECTRUM_MAX_FREQUENCY = 2.0
"""Spectrum computed up to this many cycles per mean dot spacing."""
SPECTRUM_MAX_POINTS = 1 << 16
"""Flat-field spectra of more dots are measured on the centred square holding about this
many (time grows as N^2 and memory as N: a 2M-dot set would take hours)."""


def periodogram(xy: np.ndarray, k_max: int, chunk: int = 4096) -> np.ndarray:
    """P(k) = |sum_j exp(-2 pi i k . x_j)|^2 / N on the unit torus for kx, ky in [-k_max, k_max].

    Returned as a (2 k_max + 1, 2 k_max + 1) array indexed [kx + k_max, ky + k_max]. The sum
    factorises per axis, so each chunk of points is one complex matrix product.
    """
    xy = np.asarray(xy, dtype=np.float64)
    k = np.arange(-k_max, k_max + 1)
    total = np.zeros((len(k), len(k)), dtype=np.complex128)
    for start in range(0, len(xy), chunk):
        part = xy[start : start + chunk]
        ex = np.exp(-2j * np.pi * np.outer(part[:, 0], k))
        ey = np.exp(-2j * np.pi * np.outer(part[:, 1], k))
        total += ex.T @ ey
    return np.abs(total) ** 2 / len(xy)


def annulus_stats(power: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(mean, mean square, max, count) of a periodogram over integer annuli 1 .. k_max.

    Annulus r holds the wave vectors with round(|k|) == r.
    """
    k_max = power.shape[0] // 2
    k = np.arange(-k_max, k_max + 1)
    radius = np.rint(np.hypot(k[:, None], k[None, :])).astype(np.int64).ravel()
    keep = (radius >= 1) & (radius <= k_max)
    radius, values = radius[keep], power.ravel()[keep]
    count = np.bincount(radius, minlength=k_max + 1)[1:]
    mean = np.bincount(radius, weights=values, minlength=k_max + 1)[1:] / count
    square = np.bincount(radius, weights=values**2, minlength=k_max + 1)[1:] / count
    peak = np.full(k_max + 1, -np.inf)
    np.maximum.at(peak, radius, values)
    return mean, square, peak[1:], count


def _anisotropy_db(mean: np.ndarray, square: np.ndarray) -> np.ndarray:
    """10 log10(var / mean^2) per annulus (NaN / -inf where undefined)."""
    variance = np.maximum(square - mean**2, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return 10 * np.log10(variance / mean**2)


def radial_spectrum(xy: np.ndarray, k_max: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(radius, RAPS, anisotropy dB) for integer annuli 1..k_max of the periodogram.

    RAPS is the mean power in each annulus (1 for a Poisson set); anisotropy is
    10 log10(var / mean^2) over the annulus (about 0 dB for a single isotropic set).
    """
    mean, square, _, _ = annulus_stats(periodogram(xy, k_max))
    return np.arange(1, k_max + 1), mean, _anisotropy_db(mean, square)


@dataclass(frozen=True)
class FlatSpectrum:
    """Radial statistics of a flat-field periodogram, per annulus (frequency in cycles / h).

    ``spike`` is the strongest single wave vector of each annulus over the annulus mean:
    about ln(annulus size) for noise (the maximum over a whole spectrum of N = 16 000 dots
    is 11-13 for random and good blue-noise sets), hundreds for lattices and tiled sets.
    """

    frequency: np.ndarray
    raps: np.ndarray
    anisotropy: np.ndarray
    spike: np.ndarray

    def band(self, low: float, high: float) -> np.ndarray:
        """Mask of the annuli with low < frequency <= high."""
        return (self.frequency > low) & (self.frequency <= high)

    @property
    def low_power(self) -> float:
        """Mean RAPS up to LOW_FREQUENCY (0 for perfect blue noise, 1 for random)."""
        low = self.band(0.0, LOW_FREQUENCY)
        return float(self.raps[low].mean()) if low.any() else np.nan

    @property
    def anisotropy_db(self) -> float:
        """Mean anisotropy (dB) above the low band."""
        high = self.band(LOW_FREQUENCY, np.inf) & np.isfinite(self.anisotropy)
        return float(self.anisotropy[high].mean()) if high.any() else np.nan

    @property
    def peak(self) -> tuple[float, float]:
        """(height, frequency) of the RAPS maximum above the low band."""
        high = np.flatnonzero(self.band(LOW_FREQUENCY, np.inf))
        if not len(high):
            return np.nan, np.nan
        best = high[np.argmax(self.raps[high])]
        return float(self.raps[best]), float(self.frequency[best])

    @property
    def spike_ratio(self) -> float:
        """Strongest single wave vector over its annulus mean, over the whole spectrum."""
        return self.max_spike(0.0)

    def max_spike(self, above: float) -> float:
        """The strongest spike ratio at frequencies above ``above`` (cycles / h)."""
        keep = self.band(above, np.inf) & np.isfinite(self.spike)
        return float(self.spike[keep].max()) if keep.any() else np.nan


def flat_spectrum(xy: np.ndarray, max_frequency: float = SPECTRUM_MAX_FREQUENCY) -> FlatSpectrum:
    """The :class:`FlatSpectrum` of a set meant for a flat field, up to ``max_frequency``."""
    root_n = np.sqrt(len(xy))
    k_max = max(2, int(np.ceil(max_frequency * root_n)))
    mean, square, peak, _ = annulus_stats(periodogram(xy, k_max))
    with np.errstate(divide="ignore", invalid="ignore"):
        spike = np.where(mean > 0, peak / mean, np.nan)
    return FlatSpectrum(
        frequency=np.arange(1, k_max + 1) / root_n,
        raps=mean,
        anisotropy=_anisotropy_db(mean, square),
        spike=spike,
    )


def spectrum_scores(xy: np.ndarray) -> tuple[float, float]:
    """(low-frequency power, mean anisotropy dB) of a set meant for a flat field.

    Frequencies are in cycles per mean spacing (radius / sqrt(N) on the unit torus): the
    low band is (0, LOW_FREQUENCY], anisotropy is averaged up to SPECTRUM_MAX_FREQUENCY.
    """
    spectrum = flat_spectrum(xy)
    return spectrum.low_power, spectrum.anisotropy_db


def spike_ratio(xy: np.ndarray) -> float:
    """The strongest single frequency of the flat-field periodogram over its annulus mean.

    About 11-13 for a random or a good blue-noise set of 16 000 dots (the maximum of that
    many exponential variables), 30-1 300 for lattices and sets tiled with a period.
    """
    return flat_spectrum(xy).spike_ratio


def square_crop(
    xy: np.ndarray, aspect: float, max_points: int | None = SPECTRUM_MAX_POINTS
) -> np.ndarray:
    """The dots in the centred square of an image of ``aspect`` (width / height), rescaled
    to the unit square so the spectrum's torus is isotropic; a smaller centred square
    when the whole one holds more than ``max_points`` dots (None: no limit)."""
    xy = np.asarray(xy, dtype=np.float64)
    axis, side = (0, 1 / aspect) if aspect >= 1 else (1, aspect)
    offset = (1 - side) / 2
    inside = (xy[:, axis] >= offset) & (xy[:, axis] < offset + side)
    cropped = xy[inside].copy()
    cropped[:, axis] = (cropped[:, axis] - offset) / side
    if max_points is not None and len(cropped) > max_points:
        side = float(np.sqrt(max_points / len(cropped)))
        low = (1 - side) / 2
        keep = np.all((cropped >= low) & (cropped < low + side), axis=1)
        cropped = (cropped[keep] - low) / side
    return cropped
