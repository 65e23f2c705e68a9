"""Stipple quality metrics, written from their definitions (numpy in, numpy out).

Inputs are a darkness map ``darkness`` (H, W) in [0, 1] and dot centres ``xy`` (N, 2) in
relative coordinates (x, y in [0, 1], y down). h = sqrt(H * W / N) is the mean dot spacing
in source pixels. See shared/notes/stipple-quality.md for what the numbers mean.

- Tone: PSNR and SSIM between the blurred dot density and the blurred darkness.
- Capacity CV: spread of the darkness mass held by each dot's Voronoi cell.
- Adaptive spacing: nearest-neighbour distance over the hexagonal spacing the local
  target density asks for.
- Spectrum (flat fields): periodogram, radially averaged power (RAPS) and anisotropy.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from scipy.spatial import cKDTree
from skimage.metrics import structural_similarity
from skimage.transform import resize

from stipplr.engines.cells import cell_sums, nearest_dot_labels

TONE_PX_PER_H = 8.0
"""Working resolution of the tone metrics: this many pixels per mean dot spacing."""
CAPACITY_PX_PER_H = 16.0
"""Pixels per mean dot spacing when labelling Voronoi cells for capacities (the pixel grid
adds about 0.04 to the CV of a perfect set at 16 px, 0.1 at 4 px)."""
CAPACITY_MAX_PIXELS = 4_000_000
"""Cap on the capacity grid's size (bounds time and memory for very many dots)."""
FLAT_TOLERANCE = 0.02
"""A darkness map whose std / mean is below this counts as a flat field (spectrum metrics)."""
SPACING_SMOOTHING = 0.5
"""Gaussian sigma, in mean spacings, of the darkness that sets the target spacing."""
LOW_FREQUENCY = 0.5
"""Upper end of the "low frequency" band, in cycles per mean dot spacing."""
SPECTRUM_MAX_FREQUENCY = 2.0
"""Spectrum computed up to this many cycles per mean dot spacing."""
SSIM_WINDOW = 11
"""Side of SSIM's Gaussian window (sigma 1.5 px, truncated at 3.5 sigma): smaller maps get NaN."""


def mean_spacing(shape: tuple[int, int], n: int) -> float:
    """Mean dot spacing h = sqrt(H * W / N) in pixels of an image of ``shape``."""
    height, width = shape
    return float(np.sqrt(height * width / n)) if n else np.inf


def working_shape(shape: tuple[int, int], n: int, px_per_h: float) -> tuple[int, int]:
    """A grid with the aspect of ``shape`` and ``px_per_h`` pixels per mean dot spacing."""
    scale = px_per_h / mean_spacing(shape, n)
    return max(1, round(shape[0] * scale)), max(1, round(shape[1] * scale))


def resample(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Bilinear resampling of a 2-D map to ``shape`` (pixel areas aligned; anti-aliased
    when shrinking)."""
    image = np.asarray(image, dtype=np.float64)
    if image.shape == tuple(shape):
        return image
    shrinking = shape[0] < image.shape[0] or shape[1] < image.shape[1]
    return resize(image, shape, order=1, mode="edge", anti_aliasing=shrinking)


def splat(xy: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Bilinear splat of unit-mass dots into an (H, W) count map (mass kept at the borders)."""
    height, width = shape
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    u = xy[:, 0] * width - 0.5
    v = xy[:, 1] * height - 0.5
    x0, y0 = np.floor(u), np.floor(v)
    fx, fy = u - x0, v - y0
    out = np.zeros(height * width)
    for dx, wx in ((0, 1 - fx), (1, fx)):
        for dy, wy in ((0, 1 - fy), (1, fy)):
            col = np.clip(x0 + dx, 0, width - 1).astype(np.int64)
            row = np.clip(y0 + dy, 0, height - 1).astype(np.int64)
            out += np.bincount(row * width + col, weights=wx * wy, minlength=height * width)
    return out.reshape(height, width)


def tone_maps(
    darkness: np.ndarray, xy: np.ndarray, sigma: float = 1.0, px_per_h: float = TONE_PX_PER_H
) -> tuple[np.ndarray, np.ndarray]:
    """(target, reproduced): blurred darkness and blurred dot density on a common grid.

    The grid has ``px_per_h`` pixels per mean spacing h; both maps are blurred by the same
    Gaussian of ``sigma`` h and the density is scaled to the darkness's mass.
    """
    shape = working_shape(np.shape(darkness), len(xy), px_per_h)
    target = ndimage.gaussian_filter(resample(darkness, shape), sigma * px_per_h, mode="reflect")
    density = ndimage.gaussian_filter(splat(xy, shape), sigma * px_per_h, mode="reflect")
    return target, density * (target.sum() / density.sum())


def psnr(target: np.ndarray, reproduced: np.ndarray, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB (inf for identical maps)."""
    mse = float(np.mean((np.asarray(target) - np.asarray(reproduced)) ** 2))
    return float(10 * np.log10(data_range**2 / mse)) if mse > 0 else np.inf


def ssim(target: np.ndarray, reproduced: np.ndarray, data_range: float = 1.0) -> float:
    """SSIM (Wang et al. 2004): Gaussian window sigma 1.5 px, K1 = 0.01, K2 = 0.03.

    NaN for maps narrower than the window (under ~1.4 mean spacings on the short side)."""
    if min(np.shape(target)) < SSIM_WINDOW:
        return float("nan")
    return float(
        structural_similarity(
            np.asarray(target, dtype=np.float64),
            np.asarray(reproduced, dtype=np.float64),
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
            data_range=data_range,
            K1=0.01,
            K2=0.03,
        )
    )


def tone_scores(darkness: np.ndarray, xy: np.ndarray, sigma: float = 1.0) -> tuple[float, float]:
    """(PSNR dB, SSIM) of the dots' blurred density against the blurred darkness."""
    target, reproduced = tone_maps(darkness, xy, sigma)
    return psnr(target, reproduced), ssim(target, reproduced)


def capacities(darkness: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Darkness mass in each dot's Voronoi cell divided by the mean mass, shape (N,).

    Cells are labelled on a grid of CAPACITY_PX_PER_H pixels per mean spacing (fewer when
    that grid would exceed CAPACITY_MAX_PIXELS).
    """
    n = len(xy)
    px_per_h = min(CAPACITY_PX_PER_H, np.sqrt(CAPACITY_MAX_PIXELS / n))
    height, width = working_shape(np.shape(darkness), n, px_per_h)
    fine = resample(darkness, (height, width))
    mass = cell_sums(nearest_dot_labels(xy, height, width), fine.ravel(), n)
    return mass / mass.mean()


def capacity_cv(darkness: np.ndarray, xy: np.ndarray) -> float:
    """Coefficient of variation (std / mean) of the cell capacities; 0 is perfect."""
    return float(np.std(capacities(darkness, xy)))


def spacing_ratios(darkness: np.ndarray, xy: np.ndarray, floor: float = 1e-3) -> np.ndarray:
    """Each dot's nearest-neighbour distance over the hexagonal spacing d_hex at its spot.

    d_hex(x) = sqrt(2 / (sqrt(3) n(x))) with n(x) = N rho(x) / integral(rho) dots per pixel
    and rho the darkness smoothed by SPACING_SMOOTHING h; rho is floored at ``floor`` times
    its mean so a dot on white paper gets a tiny ratio instead of a division by zero.
    """
    height, width = np.shape(darkness)
    xy = np.asarray(xy, dtype=np.float64)
    n = len(xy)
    px = xy * np.array([width, height])
    distance, _ = cKDTree(px).query(px, k=2)
    shape = working_shape((height, width), n, TONE_PX_PER_H)
    rho = ndimage.gaussian_filter(
        resample(darkness, shape), SPACING_SMOOTHING * TONE_PX_PER_H, mode="reflect"
    )
    rows_cols = [xy[:, 1] * shape[0] - 0.5, xy[:, 0] * shape[1] - 0.5]
    at_dots = np.maximum(
        ndimage.map_coordinates(rho, rows_cols, order=1, mode="nearest"), floor * rho.mean()
    )
    density = n * at_dots / (rho.mean() * height * width)
    d_hex = np.sqrt(2.0 / (np.sqrt(3.0) * density))
    return distance[:, 1] / d_hex


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


def radial_spectrum(xy: np.ndarray, k_max: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(radius, RAPS, anisotropy dB) for integer annuli 1..k_max of the periodogram.

    RAPS is the mean power in each annulus (1 for a Poisson set); anisotropy is
    10 log10(var / mean^2) over the annulus (about 0 dB for a single isotropic set).
    """
    power = periodogram(xy, k_max)
    k = np.arange(-k_max, k_max + 1)
    radius = np.rint(np.hypot(k[:, None], k[None, :])).astype(np.int64).ravel()
    keep = (radius >= 1) & (radius <= k_max)
    radius, values = radius[keep], power.ravel()[keep]
    count = np.bincount(radius, minlength=k_max + 1)[1:]
    mean = np.bincount(radius, weights=values, minlength=k_max + 1)[1:] / count
    square = np.bincount(radius, weights=values**2, minlength=k_max + 1)[1:] / count
    variance = np.maximum(square - mean**2, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        anisotropy = 10 * np.log10(variance / mean**2)
    return np.arange(1, k_max + 1), mean, anisotropy


def spectrum_scores(xy: np.ndarray) -> tuple[float, float]:
    """(low-frequency power, mean anisotropy dB) of a set meant for a flat field.

    Frequencies are in cycles per mean spacing (radius / sqrt(N) on the unit torus): the
    low band is (0, LOW_FREQUENCY], anisotropy is averaged up to SPECTRUM_MAX_FREQUENCY.
    """
    root_n = np.sqrt(len(xy))
    k_max = max(2, int(np.ceil(SPECTRUM_MAX_FREQUENCY * root_n)))
    radius, raps, anisotropy = radial_spectrum(xy, k_max)
    frequency = radius / root_n
    low = frequency <= LOW_FREQUENCY
    high = (frequency > LOW_FREQUENCY) & np.isfinite(anisotropy)
    low_power = float(raps[low].mean()) if low.any() else np.nan
    return low_power, float(anisotropy[high].mean()) if high.any() else np.nan


def square_crop(xy: np.ndarray, aspect: float) -> np.ndarray:
    """The dots in the centred square of an image of ``aspect`` (width / height), rescaled
    to the unit square so the spectrum's torus is isotropic."""
    xy = np.asarray(xy, dtype=np.float64)
    axis, side = (0, 1 / aspect) if aspect >= 1 else (1, aspect)
    offset = (1 - side) / 2
    inside = (xy[:, axis] >= offset) & (xy[:, axis] < offset + side)
    cropped = xy[inside].copy()
    cropped[:, axis] = (cropped[:, axis] - offset) / side
    return cropped


def is_flat(darkness: np.ndarray) -> bool:
    """True for a uniform (flat-field) darkness map, where spectrum metrics apply."""
    mean = float(np.mean(darkness))
    return mean > 0 and float(np.std(darkness)) <= FLAT_TOLERANCE * mean


def evaluate(darkness: np.ndarray, xy: np.ndarray) -> dict[str, float]:
    """All scalar metrics of the dots ``xy`` against ``darkness``, as an ordered dict.

    Keys: points, spacing_px (h), psnr_db, ssim, capacity_cv, spacing_mean, spacing_p1,
    clumped (fraction of dots with ratio < 0.5) and, for flat fields only, low_power and
    anisotropy_db (of the centred square). Metrics that need two dots or some darkness are
    NaN otherwise.
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
    if is_flat(darkness):
        square = square_crop(xy, darkness.shape[1] / darkness.shape[0])
        scores["low_power"], scores["anisotropy_db"] = spectrum_scores(square)
    return scores
