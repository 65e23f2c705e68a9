"""Image loading: any path, PIL image or array to float RGB in [0, 1].

Handles grayscale, RGB, RGBA/LA/palette transparency (composited on white), 16-bit and
32-bit integer, float, CMYK, and EXIF orientation. Every failure is an
:class:`~stipplr.errors.ImageError` naming the file and the reason in one line.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from stipplr.errors import ImageError, one_line

ImageLike = str | os.PathLike | Image.Image | np.ndarray

IMAGE_EXTENSIONS = frozenset(
    {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp", ".ppm", ".pgm", ".pbm"}
)
MAX_PIXELS = 200_000_000
"""Images larger than this are refused as possible decompression bombs."""


def is_image_path(path: str | os.PathLike[str]) -> bool:
    """True when the file extension is one stipplr reads (case-insensitive)."""
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


def _composite_on_white(rgba: np.ndarray) -> np.ndarray:
    """Blend an (H, W, 4) float image over a white background."""
    alpha = rgba[..., 3:4]
    return rgba[..., :3] * alpha + (1.0 - alpha)


def _integer_full_scale(a: np.ndarray, name: object) -> float:
    """White level of integer pixels: 255 for uint8, 65535 for uint16, else from the range."""
    if a.dtype in (np.uint8, np.uint16):
        return float(np.iinfo(a.dtype).max)
    top = int(a.max())
    if top > 65535:
        raise ImageError(name, f"integer pixel values up to {top} exceed the 16-bit range")
    return 255.0 if top <= 255 else 65535.0


def _array_to_rgb(array: np.ndarray, name: object = "array") -> np.ndarray:
    """Convert a 2-D or (H, W, 1|3|4) array of any numeric dtype to float32 RGB in [0, 1]."""
    a = np.asarray(array)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)):
        raise ImageError(name, f"unsupported array shape {a.shape}")
    if a.shape[0] < 1 or a.shape[1] < 1:
        raise ImageError(name, "image is empty")
    if a.dtype == np.bool_:
        a = a.astype(np.float32)
    elif np.issubdtype(a.dtype, np.integer):
        a = a.astype(np.float32) / _integer_full_scale(a, name)
    elif np.issubdtype(a.dtype, np.floating):
        a = a.astype(np.float32)
        if not np.all(np.isfinite(a)):
            raise ImageError(name, "image contains NaN or infinite values")
    else:
        raise ImageError(name, f"unsupported dtype {a.dtype}")
    a = np.clip(a, 0.0, 1.0)
    if a.ndim == 2:
        return np.repeat(a[..., None], 3, axis=2)
    if a.shape[2] == 4:
        return _composite_on_white(a)
    return a


def _pil_to_rgb(img: Image.Image, name: object) -> np.ndarray:
    """Convert a PIL image of any mode to float32 RGB, honouring EXIF orientation."""
    img = ImageOps.exif_transpose(img)
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        return _array_to_rgb(np.asarray(img, dtype=np.uint16), name)
    if mode == "I":
        data = np.asarray(img, dtype=np.int64)
        top = 65535.0 if data.max() > 255 else 255.0
        return _array_to_rgb(np.clip(data / top, 0, 1).astype(np.float32), name)
    if mode == "F":
        data = np.asarray(img, dtype=np.float32)
        return _array_to_rgb(data / 255.0 if data.max() > 1.0 else data, name)
    if mode == "P" and "transparency" in img.info or mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        return _array_to_rgb(np.asarray(img.convert("RGBA")), name)
    if mode in ("1", "L"):
        return _array_to_rgb(np.asarray(img.convert("L")), name)
    return _array_to_rgb(np.asarray(img.convert("RGB")), name)


def _open_path(path: Path) -> np.ndarray:
    """Read an image file, turning every PIL failure into a one-line ImageError."""
    if not path.exists():
        raise ImageError(path, "no such file")
    if path.is_dir():
        raise ImageError(path, "is a folder, not an image")
    if path.stat().st_size == 0:
        raise ImageError(path, "file is empty (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                if img.width * img.height > MAX_PIXELS:
                    raise ImageError(
                        path, f"image too large ({img.width}x{img.height}), possible bomb"
                    )
                img.load()
                return _pil_to_rgb(img, path)
    except ImageError:
        raise
    except UnidentifiedImageError:
        raise ImageError(path, "not an image (unknown or unsupported format)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(
            path, "image too large, refused as a possible decompression bomb"
        ) from None
    except PermissionError:
        raise ImageError(path, "permission denied") from None
    except (OSError, SyntaxError, ValueError) as exc:
        reason = one_line(exc)
        raise ImageError(path, f"cannot decode image ({reason})") from None


def load_image(image: ImageLike) -> np.ndarray:
    """Return ``image`` as a float32 (H, W, 3) RGB array in [0, 1].

    ``image`` may be a file path, a PIL image or a numpy array (2-D gray, or H x W x 3/4,
    integer or float). Transparent pixels are composited on white.
    """
    if isinstance(image, (str, os.PathLike)):
        return _open_path(Path(image))
    if isinstance(image, Image.Image):
        return _pil_to_rgb(image, "<PIL image>")
    if isinstance(image, np.ndarray):
        return _array_to_rgb(image, "<array>")
    raise ImageError(repr(type(image).__name__), "expected a path, a PIL image or an array")
