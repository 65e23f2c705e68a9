"""The tone stage shared by every engine: image -> darkness map in [0, 1].

darkness = 1 - luminance, then optional invert, gamma, contrast/brightness, edge emphasis
and white cut-off. The defaults leave darkness unchanged so quality can be measured
against the image itself.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import numpy as np
from scipy import ndimage

from stipplr.errors import OptionError

LUMA = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)  # Rec. 709 weights


@dataclass(frozen=True)
class Tone:
    """Tone settings; every default is the identity.

    gamma: darkness ** gamma (> 1 lightens mid-tones, < 1 darkens them).
    contrast: scales darkness about 0.5; brightness: subtracted from darkness.
    white_cutoff: pixels whose luminance is at or above this get no dots.
    edge: adds this times the normalised gradient magnitude (edge emphasis).
    invert: swap dark and light (white dots on black paper).
    """

    gamma: float = 1.0
    contrast: float = 1.0
    brightness: float = 0.0
    white_cutoff: float = 1.0
    edge: float = 0.0
    invert: bool = False

    def __post_init__(self) -> None:
        for name in ("gamma", "contrast", "brightness", "white_cutoff", "edge"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
                raise OptionError(f"tone {name} must be a number, got {value!r}")
            if not math.isfinite(value):
                raise OptionError(f"tone {name} must be finite, got {value}")
        if not isinstance(self.invert, (bool, np.bool_)):
            raise OptionError(f"tone invert must be true or false, got {self.invert!r}")
        if not self.gamma > 0:
            raise OptionError(f"tone gamma must be > 0, got {self.gamma}")
        if not self.contrast >= 0:
            raise OptionError(f"tone contrast must be >= 0, got {self.contrast}")
        if not -1 <= self.brightness <= 1:
            raise OptionError(f"tone brightness must be in [-1, 1], got {self.brightness}")
        if not 0 < self.white_cutoff <= 1:
            raise OptionError(f"tone white_cutoff must be in (0, 1], got {self.white_cutoff}")
        if not self.edge >= 0:
            raise OptionError(f"tone edge must be >= 0, got {self.edge}")

    def is_identity(self) -> bool:
        """True when these settings leave darkness unchanged."""
        return self == Tone()

    def to_dict(self) -> dict[str, float | bool]:
        """Plain dict of the settings (for metadata and presets)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> Tone:
        """Build from a dict, naming any unknown key in the error."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise OptionError(f"unknown tone option(s): {', '.join(unknown)}")
        return cls(**values)


def luminance(rgb: np.ndarray) -> np.ndarray:
    """Rec. 709 luma of an (H, W, 3) array in [0, 1]."""
    return np.asarray(rgb, dtype=np.float32) @ LUMA


def edge_strength(lum: np.ndarray, sigma: float = 1.0) -> np.ndarray:
    """Gradient magnitude of the smoothed luminance, scaled so its 99th percentile is 1."""
    smooth = ndimage.gaussian_filter(lum, sigma)
    magnitude = np.hypot(ndimage.sobel(smooth, 0), ndimage.sobel(smooth, 1))
    top = np.percentile(magnitude, 99)
    return np.clip(magnitude / top, 0, 1) if top > 0 else np.zeros_like(magnitude)


def darkness(rgb: np.ndarray, tone: Tone | None = None) -> np.ndarray:
    """Map an RGB image in [0, 1] to a float32 darkness map in [0, 1] (1 = black)."""
    tone = tone or Tone()
    lum = luminance(rgb)
    if tone.invert:
        lum = 1.0 - lum
    dark = 1.0 - lum
    if tone.gamma != 1.0:
        dark = dark**tone.gamma
    if tone.contrast != 1.0 or tone.brightness != 0.0:
        dark = (dark - 0.5) * tone.contrast + 0.5 - tone.brightness
    if tone.edge > 0:
        dark = dark + tone.edge * edge_strength(lum)
    if tone.white_cutoff < 1.0:
        dark = np.where(lum >= tone.white_cutoff, 0.0, dark)
    return np.clip(dark, 0.0, 1.0).astype(np.float32)
