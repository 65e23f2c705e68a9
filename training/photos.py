"""Photo sources of the training data: scikit-image's photos, a user's folder, random crops.

The five scikit-image photos in ``examples/photos/`` are held out: never trained on.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
from skimage import transform

from stipplr.images import IMAGE_EXTENSIONS, load_image

HELD_OUT = ("astronaut", "camera", "chelsea", "coffee", "rocket")
"""scikit-image photos exported to examples/photos/: never trained on."""
SKIMAGE_PHOTOS = {
    "brick": "CC0 (cc0textures.com, via scikit-image)",
    "grass": "CC0 (cc0textures.com, via scikit-image)",
    "gravel": "CC0 (cc0textures.com, via scikit-image)",
    "text": "public domain (via scikit-image)",
    "cell": "CC0 (via scikit-image)",
    "microaneurysms": "CC0 (Andreas Maier, via scikit-image)",
    "horse": "CC0 (Andreas Preuss, via scikit-image)",
    "hubble_deep_field": "public domain (NASA, via scikit-image)",
    "retina": "CC0 1.0 (Hardin et al., via scikit-image)",
    "immunohistochemistry": "no known copyright restrictions (via scikit-image)",
}
VAL_PHOTOS = {
    "coins": "no known copyright restrictions (Walters Art Museum, via scikit-image)",
    "clock": "public domain (Stefan van der Walt, via scikit-image)",
}
"""Photos used only for the validation split."""


def train_origins(folder: str | None) -> dict[str, str]:
    """Training photos: origin -> licence (scikit-image's plus those in ``folder``)."""
    origins = {f"skimage:{name}": licence for name, licence in SKIMAGE_PHOTOS.items()}
    if folder:
        for path in sorted(Path(folder).iterdir()):
            if path.suffix.lower() in IMAGE_EXTENSIONS and path.stem not in HELD_OUT:
                origins[f"file:{path}"] = "user-supplied (see the folder's own terms)"
    return origins


def val_origins() -> dict[str, str]:
    """Validation photos: origin -> licence."""
    return {f"skimage:{name}": licence for name, licence in VAL_PHOTOS.items()}


@lru_cache(maxsize=32)
def load_photo(origin: str) -> np.ndarray:
    """A photo as float (H, W, 3): ``skimage:NAME`` or ``file:PATH``."""
    kind, ref = origin.split(":", 1)
    if kind == "skimage":
        import skimage.data

        return load_image(np.asarray(getattr(skimage.data, ref)()))
    return load_image(ref)


def photo_crop(photo: np.ndarray, rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """An h x w crop at a random scale, rotation and flip, with gamma and colour jitter."""
    fit = max(h / photo.shape[0], w / photo.shape[1])
    scale = fit * rng.uniform(1.0, max(1.0, 1.0 / fit))
    img = transform.rescale(photo, scale, channel_axis=-1, anti_aliasing=scale < 1)
    if rng.random() < 0.3:
        img = transform.rotate(img, rng.uniform(-30, 30), mode="reflect")
    img = np.rot90(img, rng.integers(4))
    if rng.random() < 0.5:
        img = img[:, ::-1]
    if img.shape[0] < h or img.shape[1] < w:
        img = transform.resize(img, (max(h, img.shape[0]), max(w, img.shape[1])))
    y0 = rng.integers(img.shape[0] - h + 1)
    x0 = rng.integers(img.shape[1] - w + 1)
    img = np.clip(img[y0 : y0 + h, x0 : x0 + w], 0, 1)
    img = img ** rng.uniform(0.6, 1.6)
    gains = rng.uniform(0.8, 1.2, 3)
    return np.clip(img * gains, 0, 1)
