"""Hardening: memory bounded by pixels and N for any content, and files checked from their
headers before anything is decompressed (issue 14). No test allocates more than a few
hundred MB: bounds are checked on the planned sizes or in a subprocess under RLIMIT_AS."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import stipplr
from stipplr import checkpoints, metrics
from stipplr.api import EmptyStippleWarning
from stipplr.dots import MAX_DOTS, Stipple, StippleError
from stipplr.engines.dither import MAX_CELLS_PER_DOT, MAX_GRID_CELLS, dither_grid
from stipplr.errors import ImageError, StipplrError
from stipplr.images import MAX_PIXELS, load_image
from stipplr.metrics.spectrum import SPECTRUM_MAX_POINTS, square_crop
from stipplr.metrics.tone import TONE_MAX_PIXELS, working_shape

HEIGHT, WIDTH = 480, 640


def near_white(kind: str) -> np.ndarray:
    """A 640x480 darkness map: a 3x3 black square, one 254-grey pixel, or one text line."""
    dark = np.zeros((HEIGHT, WIDTH))
    if kind == "square":
        dark[240:243, 320:323] = 1.0
    elif kind == "pixel":
        dark[240, 320] = 1 / 255
    else:
        dark[230:250, 200:440:3] = 1.0
    return dark


@pytest.mark.parametrize("kind", ["square", "pixel", "line"])
@pytest.mark.parametrize("n", [500, 5000, 100_000])
def test_near_white_grid_is_capped_and_never_inks_blank_cells(kind, n):
    grid = dither_grid(near_white(kind), n)
    limit = max(MAX_CELLS_PER_DOT * n, MAX_GRID_CELLS)
    assert grid.rows * grid.cols <= limit * 1.01  # the old grid had n / mean darkness cells
    chosen = int(grid.selected.sum())
    assert 0 < chosen <= n
    assert np.all(grid.darkness[grid.selected] > 0)  # its few dots, none on blank paper


def test_normal_images_keep_exactly_n_dots():
    rng = np.random.default_rng(0)
    for n in (500, 5000):
        assert dither_grid(rng.random((120, 160)), n).selected.sum() == n


RLIMIT_SCRIPT = """
import resource, sys, warnings
cap = 1 << 30
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
import numpy as np, stipplr
warnings.simplefilter("ignore")
page = np.full((480, 640), 255, np.uint8)
page[240:243, 320:323] = 0
faint = np.full((480, 640), 255, np.uint8)
faint[240, 320] = 254
counts = []
for image in (page, faint, np.asarray(page, np.float64) * 1.0):
    for n in (5000, 100_000):
        counts.append(len(stipplr.stipple(image, points=n, engine="dither")))
print(counts)
"""


def test_near_white_pages_stipple_under_a_1_gb_address_space_cap():
    """The old dither asked for 10^9 - 10^12 cells here and died with MemoryError."""
    proc = subprocess.run(
        [sys.executable, "-c", RLIMIT_SCRIPT], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    counts = json.loads(proc.stdout.strip().splitlines()[-1])
    assert all(0 < c <= 100 for c in counts)  # a few dots each


@pytest.mark.parametrize("engine", ["dither", "voronoi", "lbg"])
def test_a_near_empty_image_gives_its_few_dots_and_says_so(engine):
    page = np.full((HEIGHT, WIDTH), 255, np.uint8)
    page[240:243, 320:323] = 0
    options = {} if engine == "dither" else {"iterations": 5}
    with pytest.warns(EmptyStippleWarning, match="too sparse for 5000 dots"):
        result = stipplr.stipple(page, points=5000, engine=engine, **options)
    assert 0 < len(result) < 100
    px = result.pixels()
    assert np.all(np.abs(px - [321.5, 241.5]) < 30)  # all of them on the square


def test_huge_gamma_gives_the_empty_stipple_warning():
    rgb = np.random.default_rng(1).uniform(0.3, 1.0, (60, 80, 3))
    with pytest.warns(EmptyStippleWarning, match="no dark pixels"):
        assert len(stipplr.stipple(rgb, points=500, engine="dither", tone={"gamma": 1e6})) == 0


# ---- input scales -------------------------------------------------------------------


def test_float_arrays_in_0_255_are_scaled_not_clipped_white():
    grey = np.full((8, 8), 127.5)
    np.testing.assert_allclose(load_image(grey), 0.5)
    np.testing.assert_allclose(load_image(np.full((8, 8), 1.005)), 1.0)  # overshoot of 0-1
    np.testing.assert_allclose(load_image(np.full((8, 8), 32767.5)), 0.5, atol=1e-6)
    with pytest.raises(ImageError, match="float pixel values up to 1e\\+06 exceed"):
        load_image(np.full((8, 8), 1e6))


def test_pil_mode_i_is_scaled_or_refused_never_clipped_white():
    sixteen = Image.fromarray(np.full((8, 8), 30000, np.int32), mode="I")
    np.testing.assert_allclose(load_image(sixteen), 30000 / 65535, rtol=1e-6)
    eight = Image.fromarray(np.full((8, 8), 51, np.int32), mode="I")
    np.testing.assert_allclose(load_image(eight), 0.2, rtol=1e-6)
    big = Image.fromarray(np.full((8, 8), 1 << 24, np.int32), mode="I")
    with pytest.raises(ImageError, match="integer pixel values up to 16777216"):
        load_image(big)


@pytest.mark.parametrize("mode", ["La", "RGBa"])
def test_premultiplied_modes_composite_on_white(mode):
    clear = Image.new(mode, (4, 4))  # alpha 0: white paper
    np.testing.assert_allclose(load_image(clear), 1.0)


def test_a_closed_pil_image_is_a_one_line_error():
    image = Image.new("RGB", (4, 4))
    image.close()
    with pytest.raises(ImageError, match="closed image"):
        load_image(image)


def test_more_pixels_than_max_pixels_are_refused_before_any_copy():
    side = int(np.sqrt(MAX_PIXELS)) + 1
    view = np.broadcast_to(np.uint8(0), (side, side))  # no memory behind it
    with pytest.raises(ImageError, match="megapixels"):
        load_image(view)


def _png_header(path: Path, width: int, height: int) -> Path:
    """A PNG with a valid header for ``width`` x ``height`` and no pixel data."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    data = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + data)
    return path


def test_the_bomb_limit_is_max_pixels(tmp_path):
    """PIL's own check (a warning from 89 MP) no longer refuses images below MAX_PIXELS."""
    below = _png_header(tmp_path / "below.png", 10_000, 9_500)  # 95 MP
    with pytest.raises(ImageError) as info:
        load_image(below)
    assert "too large" not in str(info.value)  # refused for its missing pixels, not its size
    above = _png_header(tmp_path / "above.png", 12_000, 9_000)  # 108 MP
    with pytest.raises(ImageError, match="megapixels"):
        load_image(above)


# ---- saved stipples and checkpoints -------------------------------------------------


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _npz(path: Path, **members: bytes) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(f"{name}.npy", data)
    return path


def _claim(shape: tuple[int, ...], payload: int) -> bytes:
    """An .npy header claiming ``shape`` (float32) followed by ``payload`` zero bytes."""
    header = f"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}".ljust(117)
    return (
        b"\x93NUMPY\x01\x00"
        + (118).to_bytes(2, "little")
        + (header + "\n").encode()
        + bytes(payload)
    )


def _base() -> dict[str, bytes]:
    return {
        "rgb": _npy(np.zeros((4, 3), np.float32)),
        "size": _npy(np.array([640, 480])),
        "meta": _npy(np.array("{}")),
    }


def test_an_npz_claiming_too_many_dots_is_refused_unread(tmp_path, monkeypatch):
    from stipplr import dots

    monkeypatch.setattr(dots, "MAX_DOTS", 1000)  # a 10M-dot file in miniature
    n = 10_000
    base = {**_base(), "rgb": _claim((n, 3), 12 * n)}
    path = _npz(tmp_path / "bomb.npz", xy=_claim((n, 2), 8 * n), **base)
    assert path.stat().st_size < 2000
    monkeypatch.setattr(np, "load", lambda *a, **k: pytest.fail("decompressed"))
    with pytest.raises(StippleError, match="refused: member xy.npy would inflate to 80,128"):
        Stipple.load(path)
    assert MAX_DOTS == 10_000_000


def test_an_npz_member_larger_than_its_header_says_is_refused(tmp_path):
    path = _npz(tmp_path / "lie.npz", xy=_claim((4, 2), 10_000), **_base())
    with pytest.raises(StippleError, match="holds 10,128 bytes but its header claims 160"):
        Stipple.load(path)


@pytest.mark.parametrize(
    ("member", "data", "message"),
    [
        ("size", _npy(np.array([1e300, 1.0])), "member size is float64"),
        ("xy", _npy(np.zeros((3, 2), np.float32)), "disagree on the number of dots"),
        ("meta", _npy(np.array([1, 2])), "member meta is int64"),
    ],
)
def test_npz_members_of_the_wrong_kind_are_refused(tmp_path, member, data, message):
    members = {"xy": _npy(np.zeros((4, 2), np.float32)), **_base(), member: data}
    with pytest.raises(StippleError, match=message) as info:
        Stipple.load(_npz(tmp_path / "bad.npz", **members))
    assert "\n" not in str(info.value)


def test_a_checkpoint_whose_contents_exceed_the_budget_is_refused_unread(tmp_path, monkeypatch):
    plain = tmp_path / "plain.pt"
    payload = {"format": "stipplr-model", "format_version": 1, "arch": "lloydnet"}
    torch.save({**payload, "config": {}, "state_dict": {"w": torch.zeros(1 << 20)}}, plain)
    deflated = tmp_path / "deflated.pt"
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(deflated, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
    assert deflated.stat().st_size < 100_000  # 4 MB of tensor in a few KB
    monkeypatch.setattr(checkpoints, "MAX_CHECKPOINT_BYTES", 1 << 20)
    monkeypatch.setattr(torch, "load", lambda *a, **k: pytest.fail("decompressed"))
    with pytest.raises(StipplrError, match="contents would inflate to 4,194,"):
        checkpoints.read_checkpoint(deflated)


def test_a_checkpoint_tensor_larger_than_its_shape_is_refused(tmp_path):
    plain = tmp_path / "plain.pt"
    payload = {"format": "stipplr-model", "format_version": 1, "arch": "lloydnet"}
    torch.save({**payload, "config": {}, "state_dict": {"w": torch.zeros(16)}}, plain)
    grown = tmp_path / "grown.pt"
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(grown, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(
                info.filename, data + bytes(1000) if info.filename.endswith("/0") else data
            )
    with pytest.raises(StipplrError, match="holds 1,064 bytes but its header claims 64"):
        checkpoints.read_checkpoint(grown)


def test_the_shipped_model_passes_the_checks():
    from stipplr.neural import model_path

    checkpoints.check_archive(model_path(None))


# ---- eval and renderers -------------------------------------------------------------


def test_eval_grids_are_capped_for_huge_stipples():
    rows, cols = working_shape((3000, 4000), 10_000_000, 8.0)
    assert rows * cols <= TONE_MAX_PIXELS * 1.01
    xy = np.random.default_rng(0).random((200_000, 2))
    assert len(square_crop(xy, 4 / 3)) <= SPECTRUM_MAX_POINTS * 1.05
    assert metrics.working_shape((480, 640), 5000, 8.0) == (490, 653)  # usual sizes unchanged


def test_a_page_too_large_is_one_line_before_any_file(tmp_path):
    from stipplr import renderers
    from stipplr.batch import Runner
    from stipplr.errors import OptionError

    with pytest.raises(OptionError, match="too large"):
        Runner({"engine": "dither"}, "png", {"size_mm": (2000, 2000), "dpi": 1200})
    with pytest.raises(OptionError, match="too large for the png renderer"):
        Runner({"engine": "dither"}, "png", {"dot_px": 5000})
    dots = Stipple(np.full((1, 2), 0.5), np.zeros((1, 3)), 100, 100)
    with pytest.raises(OptionError, match="too large"):
        renderers.render(dots, tmp_path / "big.png", size_mm=(2000, 2000), dpi=1200)
    assert not list(tmp_path.iterdir())


def test_svg_and_csv_of_many_dots_are_written_in_chunks(tmp_path, monkeypatch):
    from stipplr import dots as dots_module
    from stipplr import renderers
    from stipplr.renderers import svg

    monkeypatch.setattr(svg, "CIRCLE_CHUNK", 7)
    monkeypatch.setattr(dots_module, "CSV_CHUNK", 7)
    rng = np.random.default_rng(0)
    many = Stipple(rng.random((50, 2)), rng.random((50, 3)), 64, 48)
    renderers.render(many, tmp_path / "a.svg")
    assert (tmp_path / "a.svg").read_text().count("<circle") == 50
    many.to_csv(tmp_path / "a.csv")
    rows = (tmp_path / "a.csv").read_text().splitlines()
    assert len(rows) == 51 and rows[0].startswith("x,y")
    table = np.loadtxt(tmp_path / "a.csv", delimiter=",", skiprows=1)
    np.testing.assert_allclose(table[:, :2], many.xy, atol=1e-5)
