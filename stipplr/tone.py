"""The tone stage shared by every engine: image -> darkness map in [0, 1].

darkness = 1 - luminance, then optional invert, gamma, contrast/brightness, edge emphasis
and white cut-off. The defaults leave darkness unchanged so quality can be measured
against the image itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from stipplr.optionset import OptionSet, option
from stipplr.validate import Flag, Number

LUMA = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)  # Rec. 709 weights


@dataclass(frozen=True)
class Tone(OptionSet):
    """Tone settings (the ``[tone]`` table); every default is the identity.

    gamma: darkness ** gamma (> 1 lightens mid-tones, < 1 darkens them).
    contrast: scales darkness about 0.5; brightness: subtracted from darkness.
    white_cutoff: pixels whose luminance is at or above this get no dots.
    edge: adds this times the normalised gradient magnitude (edge emphasis).
    invert: swap dark and light (white dots on black paper).
    """

    SECTION = "tone"

    gamma: float = option(1.0, "tone: darkness ** gamma", Number(0, above=True), flag=True)
    contrast: float = option(1.0, "tone: contrast about mid-grey", Number(0), flag=True)
    brightness: float = option(0.0, "tone: lightens (+) or darkens (-)", Number(-1, 1), flag=True)
    white_cutoff: float = option(
        1.0,
        "tone: luminance at or above this gets no dots",
        Number(0, 1, above=True),
        flag=True,
    )
    edge: float = option(0.0, "tone: edge emphasis strength", Number(0), flag=True)
    invert: bool = option(False, "tone: invert", Flag(), flag=True)

    def is_identity(self) -> bool:
        """True when these settings leave darkness unchanged."""
        return self == Tone()

    @classmethod
    def from_dict(cls, values: dict) -> Tone:
        """Build from a dict, naming any unknown key in the error."""
        return cls.parse(values)


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
    return shape_tone(1.0 - lum, lum, tone)


def shape_tone(dark: np.ndarray, lum: np.ndarray, tone: Tone) -> np.ndarray:
    """Apply gamma, contrast/brightness, edge emphasis and the white cut-off to a darkness
    (or ink coverage) map; ``lum`` is the image's luminance (edges and the cut-off)."""
    if tone.gamma != 1.0:
        dark = dark**tone.gamma
    if tone.contrast != 1.0 or tone.brightness != 0.0:
        dark = (dark - 0.5) * tone.contrast + 0.5 - tone.brightness
    if tone.edge > 0:
        dark = dark + tone.edge * edge_strength(lum)
    if tone.white_cutoff < 1.0:
        dark = np.where(lum >= tone.white_cutoff, 0.0, dark)
    return np.clip(dark, 0.0, 1.0).astype(np.float32)
