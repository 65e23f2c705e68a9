"""Procedural training images: ramps, radial gradients, smooth fields, shapes, text, mixes.

Every generator is ``(rng, h, w) -> (h, w, 3)`` float RGB in [0, 1], a pure function of
the random stream it is given.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage

PROCEDURAL = ("linear", "radial", "field", "shapes", "text", "mix")
PROCEDURAL_LICENCE = "generated (stipplr, MIT)"


def _tones(rng: np.random.Generator, k: int) -> np.ndarray:
    """k random RGB colours, biased to span light to dark."""
    grey = rng.uniform(0.0, 1.0, (k, 1))
    tint = rng.normal(0.0, 0.12, (k, 3))
    return np.clip(grey + tint, 0.0, 1.0)


def _blend(t: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-pixel mix of colours a and b by weights t in [0, 1] -> (H, W, 3)."""
    return a[None, None] * (1 - t[..., None]) + b[None, None] * t[..., None]


def _coords(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    ys, xs = np.mgrid[0:h, 0:w]
    return xs / max(h, w), ys / max(h, w)


def linear(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A ramp at a random angle with a random tone curve."""
    x, y = _coords(h, w)
    angle = rng.uniform(0, 2 * np.pi)
    t = x * np.cos(angle) + y * np.sin(angle)
    t = (t - t.min()) / max(np.ptp(t), 1e-9)
    a, b = _tones(rng, 2)
    return _blend(t ** rng.uniform(0.4, 2.5), a, b)


def radial(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A radial gradient around a random centre."""
    x, y = _coords(h, w)
    cx, cy = rng.uniform(-0.2, 1.2, 2) * np.array([w, h]) / max(h, w)
    r = np.hypot(x - cx, y - cy)
    t = np.clip(r / rng.uniform(0.2, 1.2), 0, 1)
    a, b = _tones(rng, 2)
    return _blend(t ** rng.uniform(0.5, 2.0), a, b)


def field_(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A smooth random field (Gaussian-filtered noise at a random scale)."""
    sigma = rng.uniform(2, 40)
    noise = ndimage.gaussian_filter(rng.normal(size=(h, w)), sigma, mode="wrap")
    t = (noise - noise.min()) / max(np.ptp(noise), 1e-9)
    a, b = _tones(rng, 2)
    return _blend(t, a, b)


def shapes(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Random ellipses, rectangles and polygons with hard or soft edges on a ramp."""
    image = linear(rng, h, w) if rng.random() < 0.5 else np.broadcast_to(_tones(rng, 1), (h, w, 3))
    image = np.array(image)
    for _ in range(rng.integers(1, 8)):
        mask = Image.new("L", (w, h), 0)
        draw = ImageDraw.Draw(mask)
        x0, x1 = sorted(rng.uniform(-0.1, 1.1, 2) * w)
        y0, y1 = sorted(rng.uniform(-0.1, 1.1, 2) * h)
        kind = rng.integers(3)
        if kind == 0:
            draw.ellipse([x0, y0, x1 + 4, y1 + 4], fill=255)
        elif kind == 1:
            draw.rectangle([x0, y0, x1 + 4, y1 + 4], fill=255)
        else:
            pts = rng.uniform(0, 1, (rng.integers(3, 7), 2)) * [w, h]
            draw.polygon([tuple(p) for p in pts], fill=255)
        m = np.asarray(mask, np.float64) / 255
        if rng.random() < 0.5:
            m = ndimage.gaussian_filter(m, rng.uniform(1, 12))
        image = image * (1 - m[..., None]) + _tones(rng, 1)[0] * m[..., None]
    return image


WORDS = ("stipple", "dots", "blue noise", "Lloyd", "Voronoi", "ink", "pen", "ABC", "0123", "R&D")


def text(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Words in PIL's default font at random sizes and places, sometimes blurred."""
    bg, fg = _tones(rng, 2)
    mask = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(mask)
    for _ in range(rng.integers(2, 10)):
        font = ImageFont.load_default(size=float(rng.uniform(10, 70)))
        xy = (float(rng.uniform(-20, w)), float(rng.uniform(-20, h)))
        draw.text(xy, str(rng.choice(WORDS)), fill=255, font=font)
    m = np.asarray(mask, np.float64) / 255
    if rng.random() < 0.3:
        m = ndimage.gaussian_filter(m, rng.uniform(0.5, 2))
    return _blend(m, bg, fg)


def mix(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Two procedural images multiplied (overlapping tone structure)."""
    first, second = rng.choice(PROCEDURAL[:-1], 2)
    return GENERATORS[first](rng, h, w) * GENERATORS[second](rng, h, w)


GENERATORS = {
    "linear": linear,
    "radial": radial,
    "field": field_,
    "shapes": shapes,
    "text": text,
    "mix": mix,
}
