"""Shared fixtures: small synthetic images (good and broken) written to tmp_path."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

WIDTH, HEIGHT = 24, 16
EXIF_ORIENTATION = 0x0112


def ramp(height: int = HEIGHT, width: int = WIDTH) -> np.ndarray:
    """uint8 RGB image: black on the left to white on the right, equal in R, G and B."""
    row = np.linspace(0, 255, width).round().astype(np.uint8)
    return np.repeat(np.tile(row, (height, 1))[..., None], 3, axis=2)


def importance_sample(darkness: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """Random dots with density proportional to darkness (the quality floor)."""
    rng = np.random.default_rng(seed)
    height, width = darkness.shape
    index = rng.choice(darkness.size, n, p=darkness.ravel() / darkness.sum())
    jitter = rng.random((n, 2))
    return np.column_stack(
        [(index % width + jitter[:, 0]) / width, (index // width + jitter[:, 1]) / height]
    )


def _save(path: Path, image: Image.Image, **kwargs) -> Path:
    image.save(path, **kwargs)
    return path


def _rgba(path: Path) -> Path:
    """Left half transparent black (shows as white), right half opaque black."""
    rgba = np.zeros((HEIGHT, WIDTH, 4), np.uint8)
    rgba[:, WIDTH // 2 :, 3] = 255
    return _save(path, Image.fromarray(rgba, "RGBA"))


def _gray16(path: Path) -> Path:
    """16-bit gray ramp from 0 to 65535."""
    row = np.linspace(0, 65535, WIDTH).round().astype(np.uint16)
    return _save(path, Image.fromarray(np.tile(row, (HEIGHT, 1))))


def _palette_transparent(path: Path) -> Path:
    """Palette image whose index 0 (black) is transparent and index 1 is black."""
    index = np.zeros((HEIGHT, WIDTH), np.uint8)
    index[:, WIDTH // 2 :] = 1
    image = Image.fromarray(index, "P")
    image.putpalette([0, 0, 0, 0, 0, 0] + [255] * 762)
    return _save(path, image, transparency=0)


def _exif_rotated(path: Path) -> Path:
    """A landscape JPEG stored with a black top-left corner and EXIF orientation 6.

    Orientation 6 means "rotate 90 degrees clockwise to display": the image shows as
    portrait and the stored top-left corner appears at the top right.
    """
    pixels = np.full((HEIGHT, WIDTH, 3), 255, np.uint8)
    pixels[:6, :6] = 0
    image = Image.fromarray(pixels)
    exif = image.getexif()
    exif[EXIF_ORIENTATION] = 6
    return _save(path, image, exif=exif.tobytes(), quality=95)


def _truncated_jpeg(path: Path) -> Path:
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)).save(
        buffer, "JPEG"
    )
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    return path


@pytest.fixture
def images(tmp_path: Path) -> dict[str, Path]:
    """Paths of small image files of every mode stipplr reads, plus broken ones."""
    folder = tmp_path / "images"
    folder.mkdir()
    gradient = Image.fromarray(ramp())
    files = {
        "gradient": _save(folder / "gradient.png", gradient),
        "gradient_jpeg": _save(folder / "gradient.jpg", gradient, quality=95),
        "flat_gray": _save(folder / "flat.png", Image.new("L", (64, 64), 128)),
        "gray16": _gray16(folder / "gray16.png"),
        "palette": _save(folder / "palette.png", gradient.quantize(16)),
        "palette_transparent": _palette_transparent(folder / "palette_alpha.png"),
        "rgba": _rgba(folder / "rgba.png"),
        "cmyk": _save(folder / "cmyk.jpg", Image.new("CMYK", (WIDTH, HEIGHT), (0, 0, 0, 255))),
        "exif_rotated": _exif_rotated(folder / "rotated.jpg"),
        "white": _save(folder / "white.png", Image.new("RGB", (WIDTH, HEIGHT), "white")),
        "truncated": _truncated_jpeg(folder / "truncated.jpg"),
        "empty": folder / "empty.png",
        "text": folder / "notes.png",
        "missing": folder / "missing.png",
    }
    files["empty"].write_bytes(b"")
    files["text"].write_text("this is not an image\n")
    return files


BAD_FILES = {
    "missing": "no such file",
    "empty": "0 bytes",
    "text": "not an image",
    "truncated": "cannot decode",
}


@pytest.fixture(params=sorted(BAD_FILES))
def bad_file(request: pytest.FixtureRequest, images: dict[str, Path]) -> tuple[Path, str]:
    """Each broken input (missing, empty, not an image, truncated) and the reason it gives."""
    return images[request.param], BAD_FILES[request.param]


@pytest.fixture(scope="session")
def tiny_li2021() -> dict:
    """A li2021 config small enough for CPU tests (resnet18, 8^3 grid, 8 channels)."""
    return {
        "encoder": "resnet18",
        "input_size": 32,
        "style_dim": 16,
        "style_layers": 1,
        "grid": 8,
        "channels": (8, 8, 8, 8, 8),
        "density_widths": (4,),
        "offset_widths": (4,),
    }
