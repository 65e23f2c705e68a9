"""load_image: every readable mode to float RGB in [0, 1], every bad input to one line."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import HEIGHT, WIDTH, ramp
from PIL import Image

from stipplr.errors import ImageError, one_line
from stipplr.images import is_image_path, load_image


def check_rgb(a: np.ndarray, shape: tuple[int, int] = (HEIGHT, WIDTH)) -> np.ndarray:
    assert a.dtype == np.float32 and a.shape == (*shape, 3)
    assert a.min() >= 0 and a.max() <= 1
    return a


def test_rgb_png_is_exact(images):
    a = check_rgb(load_image(images["gradient"]))
    np.testing.assert_allclose(a, ramp() / 255, atol=1e-6)


def test_jpeg_is_close_to_its_source(images):
    a = check_rgb(load_image(images["gradient_jpeg"]))
    assert np.abs(a - ramp() / 255).mean() < 0.02


def test_16_bit_png_is_scaled_by_65535(images):
    a = check_rgb(load_image(images["gray16"]))
    assert a[0, 0, 0] == 0 and a[0, -1, 0] == pytest.approx(1.0)
    np.testing.assert_allclose(a[0, :, 1], np.linspace(0, 1, WIDTH), atol=1e-4)


def test_palette_png_keeps_its_tones(images):
    a = check_rgb(load_image(images["palette"]))
    assert np.abs(a - ramp() / 255).mean() < 0.05


@pytest.mark.parametrize("name", ["rgba", "palette_transparent"])
def test_transparency_is_composited_on_white(images, name):
    a = check_rgb(load_image(images[name]))
    np.testing.assert_allclose(a[:, : WIDTH // 2], 1.0)
    np.testing.assert_allclose(a[:, WIDTH // 2 :], 0.0)


def test_cmyk_jpeg_becomes_rgb(images):
    a = check_rgb(load_image(images["cmyk"]))
    assert a.mean() < 0.05


def test_exif_orientation_is_applied(images):
    a = check_rgb(load_image(images["exif_rotated"]), shape=(WIDTH, HEIGHT))
    assert a[:4, -4:].mean() < 0.1  # the stored top-left corner shows at the top right
    assert a[:4, :4].mean() > 0.9 and a[-4:, -4:].mean() > 0.9


def test_pil_images_and_arrays():
    check_rgb(load_image(Image.fromarray(ramp())))
    gray = load_image(np.linspace(0, 1, WIDTH * HEIGHT).reshape(HEIGHT, WIDTH))
    assert np.all(gray[..., 0] == gray[..., 2])
    wide = load_image(np.full((HEIGHT, WIDTH), 1000, np.uint16))
    assert wide.max() == pytest.approx(1000 / 65535)
    rgba = load_image(np.zeros((HEIGHT, WIDTH, 4), np.float32))
    np.testing.assert_allclose(rgba, 1.0)


def test_plain_integer_arrays_are_scaled_by_their_range():
    np.testing.assert_allclose(load_image(np.array([[0, 51, 255]]))[0, :, 0], [0, 0.2, 1])
    np.testing.assert_allclose(load_image(np.array([[0, 13107, 65535]]))[0, :, 1], [0, 0.2, 1])
    with pytest.raises(ImageError, match="16-bit range"):
        load_image(np.array([[0, 70000]]))


def test_bad_files_raise_one_line_naming_the_file(bad_file):
    path, reason = bad_file
    with pytest.raises(ImageError) as info:
        load_image(path)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message and reason in message
    assert info.value.path == path


def test_a_folder_is_not_an_image(tmp_path):
    with pytest.raises(ImageError, match="folder"):
        load_image(tmp_path)


@pytest.mark.parametrize(
    "array",
    [
        np.zeros((4, 4, 2)),
        np.zeros((0, 4)),
        np.array([[np.nan, 0.0]]),
        np.zeros((4, 4), dtype=np.complex64),
        np.full((4, 4), 2**20, dtype=np.int32),
    ],
)
def test_bad_arrays_raise(array):
    with pytest.raises(ImageError, match="<array>"):
        load_image(array)


def test_unsupported_type_raises():
    with pytest.raises(ImageError, match="expected a path"):
        load_image(42)


def test_is_image_path():
    assert is_image_path("a/B.JPG") and is_image_path("x.tiff")
    assert not is_image_path("notes.txt") and not is_image_path("stipple.npz")


def test_one_line_flattens_and_cuts_third_party_reasons():
    assert one_line(ValueError("bad\n  thing\there")) == "bad thing here"
    assert one_line(KeyError()) == "KeyError"
    cut = one_line(OSError("x" * 500))
    assert len(cut) == 200 and cut.endswith("...")
    assert one_line(OSError("x" * 500), limit=None) == "x" * 500
    assert one_line(PermissionError(13, "Permission denied", "/a b")) == "/a b: Permission denied"
