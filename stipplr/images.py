"""Image loading: any path, PIL image or array to float RGB in [0, 1].

Handles grayscale, RGB, RGBA/LA/La/palette transparency (composited on white), 16-bit and
32-bit integer, float, CMYK, and EXIF orientation. Every failure is an
:class:`~stipplr.errors.ImageError` naming the file and the reason in one line.

Scales: 8-bit pixels are 0-255 and 16-bit ones 0-65535; other integers (plain integer
arrays, PIL mode ``I``) are 0-255 when none exceeds 255, else 0-65535, and a value above
65535 is refused. Floats (arrays, PIL mode ``F``) are 0-1 when none exceeds
FLOAT_ONE_SLACK, else 0-255, else 0-65535, and refused above that; values outside the
scale are clipped. Images of more than MAX_PIXELS pixels are refused before they are
decoded (PIL's own decompression-bomb check never refuses a smaller one).
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
MAX_PIXELS = 100_000_000
"""Images larger than this (100 megapixels) are refused as possible decompression bombs;
the memory a stipple takes grows with the pixels (README, "Memory")."""
FLOAT_ONE_SLACK = 1.01
"""Float pixels up to this are taken as 0-1 (resampling overshoot is clipped)."""


def is_image_path(path: str | os.PathLike[str]) -> bool:
    """True when the file extension is one stipplr reads (case-insensitive)."""
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


def _composite_on_white(rgba: np.ndarray) -> np.ndarray:
    """Blend an (H, W, 4) float image over a white background."""
    alpha = rgba[..., 3:4]
    return rgba[..., :3] * alpha + (1.0 - alpha)


def _full_scale(top: float, name: object, kind: str, one: float) -> float:
    """White level of pixels whose largest value is ``top``: ``one``, 255 or 65535."""
    for scale in (one, 255.0, 65535.0):
        if top <= scale * (FLOAT_ONE_SLACK if scale == 1.0 else 1.0):
            return scale
    shown = f"{top:.0f}" if kind == "integer" else f"{top:g}"
    raise ImageError(name, f"{kind} pixel values up to {shown} exceed the 16-bit range")


def _check_size(height: int, width: int, name: object) -> None:
    """Refuse an empty image or one of more than MAX_PIXELS pixels."""
    if height < 1 or width < 1:
        raise ImageError(name, "image is empty")
    if height * width > MAX_PIXELS:
        raise ImageError(
            name,
            f"image too large ({width}x{height} = {height * width / 1e6:.0f} megapixels; "
            f"at most {MAX_PIXELS // 1_000_000}), refused as a possible decompression bomb",
        )


def _array_to_rgb(array: np.ndarray, name: object = "array") -> np.ndarray:
    """Convert a 2-D or (H, W, 1|3|4) array of any numeric dtype to float32 RGB in [0, 1]."""
    a = np.asarray(array)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)):
        raise ImageError(name, f"unsupported array shape {a.shape}")
    _check_size(a.shape[0], a.shape[1], name)
    if a.dtype == np.bool_:
        out = a.astype(np.float32)
    elif np.issubdtype(a.dtype, np.integer):
        fixed = a.dtype in (np.uint8, np.uint16)
        top = float(np.iinfo(a.dtype).max) if fixed else float(a.max())
        out = a.astype(np.float32)
        out /= _full_scale(top, name, "integer", 255.0)
    elif np.issubdtype(a.dtype, np.floating):
        out = a.astype(np.float32)  # a copy: the caller's array is never changed
        if not np.all(np.isfinite(out)):
            raise ImageError(name, "image contains NaN or infinite values")
        out /= _full_scale(float(out.max()), name, "float", 1.0)
    else:
        raise ImageError(name, f"unsupported dtype {a.dtype}")
    np.clip(out, 0.0, 1.0, out=out)
    if out.ndim == 2:
        return np.repeat(out[..., None], 3, axis=2)
    if out.shape[2] == 4:
        return _composite_on_white(out)
    return out


def _premultiplied_on_white(img: Image.Image, name: object) -> np.ndarray:
    """An ``La`` / ``RGBa`` image (colour already multiplied by alpha) over white."""
    data = np.asarray(img, dtype=np.float32) / 255.0
    colour = data[..., :-1] + (1.0 - data[..., -1:])
    return _array_to_rgb(np.clip(colour, 0.0, 1.0), name)


def _pil_to_rgb(img: Image.Image, name: object) -> np.ndarray:
    """Convert a PIL image of any mode to float32 RGB, honouring EXIF orientation; a closed
    image or a mode PIL cannot convert is a one-line ImageError."""
    try:
        _check_size(img.height, img.width, name)
        img = ImageOps.exif_transpose(img)
        return _pil_pixels(img, name)
    except ImageError:
        raise
    except (ValueError, OSError, AttributeError, KeyError) as exc:
        raise ImageError(name, f"cannot read the image ({one_line(exc)})") from None


def _pil_pixels(img: Image.Image, name: object) -> np.ndarray:
    """The pixels of an open, upright PIL image as float32 RGB (see the module's scales)."""
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        return _array_to_rgb(np.asarray(img, dtype=np.uint16), name)
    if mode == "I":
        return _array_to_rgb(np.asarray(img, dtype=np.int32), name)
    if mode == "F":
        return _array_to_rgb(np.asarray(img, dtype=np.float32), name)
    if mode in ("La", "RGBa"):
        return _premultiplied_on_white(img, name)
    if mode == "P" and "transparency" in img.info or mode in ("RGBA", "LA", "PA"):
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
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # MAX_PIXELS rules
            with Image.open(path) as img:
                _check_size(img.height, img.width, path)  # from the header, before decoding
                img.load()
                return _pil_to_rgb(img, path)
    except ImageError:
        raise
    except UnidentifiedImageError:
        raise ImageError(path, "not an image (unknown or unsupported format)") from None
    except Image.DecompressionBombError:  # PIL's limit is above MAX_PIXELS, so this is too
        raise ImageError(
            path,
            f"image too large (more than {MAX_PIXELS // 1_000_000} megapixels), "
            "refused as a possible decompression bomb",
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
