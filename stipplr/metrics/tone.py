"""Tone metrics: PSNR and SSIM between the blurred dot density and the blurred darkness.

Also the shared grid helpers (mean spacing, working grids, resampling, splatting).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from skimage.metrics import structural_similarity
from skimage.transform import resize

TONE_PX_PER_H = 8.0
"""Working resolution of the tone metrics: this many pixels per mean dot spacing."""
SSIM_WINDOW = 11
"""Side of SSIM's Gaussian window (sigma 1.5 px, truncated at 3.5 sigma): smaller maps get NaN."""
TONE_MAX_PIXELS = 8_000_000
"""Cap on the tone and spacing grids (fewer pixels per h beyond N = 125 000): bounds the
memory of ``evaluate`` on huge stipples (about 1 GB at the cap, SSIM's maps included)."""


def mean_spacing(shape: tuple[int, int], n: int) -> float:
    """Mean dot spacing h = sqrt(H * W / N) in pixels of an image of ``shape``."""
    height, width = shape
    return float(np.sqrt(height * width / n)) if n else np.inf


def working_shape(shape: tuple[int, int], n: int, px_per_h: float) -> tuple[int, int]:
    """A grid with the aspect of ``shape`` and ``px_per_h`` pixels per mean dot spacing
    (fewer when that grid would exceed TONE_MAX_PIXELS)."""
    scale = min(px_per_h / mean_spacing(shape, n), np.sqrt(TONE_MAX_PIXELS / np.prod(shape)))
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
