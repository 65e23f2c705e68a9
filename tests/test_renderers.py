"""PNG and SVG renderers: coverage, colours, page size, SVG structure, SVG == PNG, errors."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import resvg_py
from PIL import Image
from skimage.color import deltaE_ciede2000, rgb2lab
from typer.testing import CliRunner

import stipplr.renderers.png as png_module
from stipplr import renderers
from stipplr.cli import app
from stipplr.dots import Stipple
from stipplr.errors import OptionError
from stipplr.renderers.png import rasterise
from stipplr.renderers.style import FALLBACK_DOT_SIZE, DotStyle, page_layout
from stipplr.renderers.svg import SvgOptions, build_svg, quantise_colours

SVG = "{http://www.w3.org/2000/svg}"


def grid_stipple(nx: int, ny: int, width: int, height: int, **kw) -> Stipple:
    """Dots on a regular nx x ny grid, one per cell centre."""
    xs, ys = np.meshgrid((np.arange(nx) + 0.5) / nx, (np.arange(ny) + 0.5) / ny)
    xy = np.column_stack([xs.ravel(), ys.ravel()])
    return Stipple(xy, np.zeros((len(xy), 3)), width, height, **kw)


def random_stipple(n: int = 600, seed: int = 0, colours: np.ndarray | None = None) -> Stipple:
    """Uniform random dots; colours picked from ``colours`` (default: random RGB)."""
    rng = np.random.default_rng(seed)
    rgb = rng.random((n, 3)) if colours is None else colours[rng.integers(0, len(colours), n)]
    meta = {"engine": "lbg", "model": {"name": "tiny-net"}, "points": n}
    return Stipple(rng.random((n, 2)), rgb, 300, 200, meta=meta)


def ink_fraction(image: np.ndarray) -> float:
    """Mean darkness of a grey (black-on-white) image."""
    return float(1 - image.astype(np.float64).mean() / 255)


def flatten(image: Image.Image | np.ndarray) -> np.ndarray:
    """RGB floats in [0, 1] of an image composited over white."""
    image = Image.fromarray(image) if isinstance(image, np.ndarray) else image
    page = Image.new("RGBA", image.size, "white")
    page.alpha_composite(image.convert("RGBA"))
    return np.asarray(page.convert("RGB"), dtype=np.float64) / 255


def rasterise_svg(text: str, width: int, height: int, dpi: float = 96.0) -> np.ndarray:
    """The SVG drawn by resvg at width x height, flattened over white."""
    png = resvg_py.svg_to_bytes(svg_string=text, width=width, height=height, dpi=dpi)
    return flatten(Image.open(io.BytesIO(bytes(png))))


# ---- PNG -----------------------------------------------------------------------------


@pytest.mark.parametrize("diameter", [1.5, 4.0, 9.0])
def test_png_ink_matches_dot_area(diameter: float) -> None:
    s = grid_stipple(20, 15, 400, 300)
    image = rasterise(s, DotStyle(dot_px=diameter))
    expected = len(s) * np.pi * (diameter / 2) ** 2 / (400 * 300)
    assert image.shape == (300, 400)
    assert ink_fraction(image) == pytest.approx(expected, rel=0.03)


def test_png_single_dot_centre_is_ink_far_is_paper() -> None:
    s = Stipple(np.array([[0.5, 0.5]]), np.zeros((1, 3)), 64, 64)
    image = rasterise(s, DotStyle(dot_px=8))
    assert image[32, 32] == 0 and image[31, 31] == 0
    assert image[32, 32 + 6] == 255 and image[0, 0] == 255 and image[63, 63] == 255


def test_png_dot_size_scales_with_mean_spacing_and_radius() -> None:
    s = grid_stipple(10, 10, 200, 200)
    h = s.mean_spacing()
    for size in (0.3, 0.6):
        area = len(s) * np.pi * (size * h / 2) ** 2 / 200**2
        assert ink_fraction(rasterise(s, DotStyle(dot_size=size))) == pytest.approx(area, rel=0.03)
    sized = s.replace(radius=np.full(len(s), 3.0))
    doubled = rasterise(sized, DotStyle(width=400))  # radius in source px, page is 2x
    assert ink_fraction(doubled) == pytest.approx(len(s) * np.pi * 6**2 / 400**2, rel=0.03)
    ignored = rasterise(sized, DotStyle(use_radius=False))
    assert ink_fraction(ignored) == pytest.approx(ink_fraction(rasterise(s, DotStyle())))


def test_default_dot_size_lays_down_the_recorded_mean_darkness() -> None:
    s = grid_stipple(12, 8, 240, 160)
    toned = s.replace(meta={"mean_darkness": 0.3})
    assert ink_fraction(rasterise(toned, DotStyle())) == pytest.approx(0.3, rel=0.03)
    fallback = np.pi * (FALLBACK_DOT_SIZE / 2) ** 2  # grid cells are h x h
    assert ink_fraction(rasterise(s, DotStyle())) == pytest.approx(fallback, rel=0.03)


def test_png_strips_and_chunks_do_not_change_the_image(monkeypatch: pytest.MonkeyPatch) -> None:
    s = random_stipple(300)
    s = s.replace(radius=np.random.default_rng(2).uniform(0.5, 6, len(s)))
    style = DotStyle(color="dots", width=450)
    whole = rasterise(s, style)
    monkeypatch.setattr(png_module, "STRIP_PIXELS", 450 * 7)
    monkeypatch.setattr(png_module, "CHUNK_CELLS", 500)
    assert np.abs(rasterise(s, style).astype(int) - whole).max() <= 1  # summation order only


def test_png_colour_modes() -> None:
    colours = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    xy = np.array([[0.25, 0.5], [0.75, 0.5]])
    s = Stipple(xy, colours, 80, 40)
    mono = rasterise(s, DotStyle(dot_px=10, ink="#00ff00", paper="navy"))
    assert mono.shape == (40, 80, 3)
    assert tuple(mono[20, 20]) == (0, 255, 0) and tuple(mono[20, 60]) == (0, 255, 0)
    assert tuple(mono[2, 2]) == (0, 0, 128)
    dots = rasterise(s, DotStyle(dot_px=10, color="dots"))
    assert tuple(dots[20, 20]) == (255, 0, 0) and tuple(dots[20, 60]) == (0, 0, 255)
    assert tuple(dots[2, 2]) == (255, 255, 255)


def test_png_transparent_has_alpha(tmp_path: Path) -> None:
    s = random_stipple(50)
    path = renderers.render(s, tmp_path / "t.png", transparent=True, ink="crimson")
    with Image.open(path) as image:
        assert image.mode == "RGBA"
        pixels = np.asarray(image)
    centre = np.rint(s.pixels()[0] - 0.5).astype(int)
    assert pixels[centre[1], centre[0], 3] == 255
    assert (pixels[..., 3] == 0).mean() > 0.5
    grey = renderers.render(s, tmp_path / "g.png", transparent=True)
    with Image.open(grey) as image:
        assert image.mode == "LA"


def test_png_page_size_options(tmp_path: Path) -> None:
    s = random_stipple(20)  # 300 x 200 source
    assert rasterise(s, DotStyle()).shape == (200, 300)
    assert rasterise(s, DotStyle(width=600)).shape == (400, 600)
    assert rasterise(s, DotStyle(height=50)).shape == (50, 75)
    page = page_layout(s, DotStyle(width=300, height=300))  # letterboxed, centred
    assert page.scale == 1 and page.offset == (0, 50)
    path = renderers.render(s, tmp_path / "a.png", size_mm="100x50", dpi=254)
    with Image.open(path) as image:
        assert image.size == (1000, 500)
        assert image.info["dpi"] == pytest.approx((254, 254), abs=0.1)
        assert "lbg" in image.info["Description"]
    assert page_layout(s, DotStyle(width_mm=25.4, dpi=100)).width == 100


def test_empty_stipple_is_blank_paper() -> None:
    empty = Stipple(np.zeros((0, 2)), np.zeros((0, 3)), 30, 20)
    assert (rasterise(empty, DotStyle()) == 255).all()
    root = ET.fromstring(build_svg(empty, SvgOptions(color="dots")))
    assert not root.findall(f".//{SVG}circle")


# ---- SVG -----------------------------------------------------------------------------


def test_svg_structure_circles_colours_viewbox(tmp_path: Path) -> None:
    palette = np.array([[1.0, 0.0, 0.0], [0.0, 0.5, 0.0], [0.2, 0.4, 1.0]])
    s = random_stipple(400, colours=palette)
    path = renderers.render(s, tmp_path / "d.svg", color="dots")
    root = ET.parse(path).getroot()
    circles = root.findall(f".//{SVG}circle")
    assert len(circles) == len(s)
    _, _, vw, vh = (float(v) for v in root.get("viewBox").split())
    assert vw / vh == pytest.approx(s.aspect, rel=1e-3)
    assert (root.get("width"), root.get("height")) == ("300", "200")
    groups = root.findall(f"{SVG}g")
    assert len(groups) == 3
    expected = {"#{:02x}{:02x}{:02x}".format(*np.rint(c * 255).astype(int)) for c in palette}
    assert {g.get("fill") for g in groups} == expected
    drawn = [(g.get("fill"), c) for g in groups for c in g.findall(f"{SVG}circle")]
    centres = np.array([[float(c.get("cx")), float(c.get("cy"))] for _, c in drawn])
    for i in range(0, len(s), 37):
        nearest = np.argmin(np.hypot(*(centres - s.xy[i] * [vw, vh]).T))
        assert np.hypot(*(centres[nearest] - s.xy[i] * [vw, vh])) <= 1
        assert drawn[nearest][0] == "#{:02x}{:02x}{:02x}".format(
            *np.rint(s.rgb[i] * 255).astype(int)
        )
    text = root.find(f"{SVG}title").text + root.find(f"{SVG}desc").text
    assert "400 dots" in text and "lbg" in text and "tiny-net" in text
    meta = json.loads(root.find(f"{SVG}metadata")[0].text)
    assert meta["points"] == 400


def test_svg_palette_quantisation_bounds_groups_and_error() -> None:
    rgb = np.random.default_rng(1).random((3000, 3))
    table, index = quantise_colours(rgb, 32)
    assert len(table) <= 32 and index.shape == (3000,)
    quantised = rgb2lab(table[index][None] / 255)
    assert deltaE_ciede2000(rgb2lab(rgb[None]), quantised).mean() < 10  # k-means: 8.5
    exact, exact_index = quantise_colours(rgb, 0)
    assert np.abs(exact[exact_index] / 255 - rgb).max() <= 0.5 / 255 + 1e-6
    root = ET.fromstring(build_svg(random_stipple(500), SvgOptions(color="dots", palette=8)))
    assert len(root.findall(f"{SVG}g")) <= 8
    assert len(root.findall(f".//{SVG}circle")) == 500


def test_svg_physical_size_in_mm() -> None:
    root = ET.fromstring(build_svg(random_stipple(10), SvgOptions(size_mm="a4")))
    assert (root.get("width"), root.get("height")) == ("210mm", "297mm")
    _, _, vw, vh = (float(v) for v in root.get("viewBox").split())
    assert vw / vh == pytest.approx(210 / 297, rel=1e-3)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"color": "dots", "palette": 0},
        {"color": "dots", "dot_size": 1.0},
        {"ink": "#336699", "transparent": True},
        {"size_mm": "60x60", "dpi": 150, "paper": "ivory"},
        {"dot_px": 5, "width": 600},
        {"width": 250, "height": 250, "color": "dots"},
    ],
)
def test_svg_looks_like_png(options: dict) -> None:
    s = random_stipple(700, seed=3)
    if options.get("dot_size"):  # big, overlapping dots: colours vary smoothly as in photos
        s = s.replace(rgb=np.column_stack([s.xy, 1 - s.xy[:, :1]]))
    style = SvgOptions(**options)
    png = flatten(rasterise(s, style))
    page = page_layout(s, style)
    svg = rasterise_svg(build_svg(s, style), page.width, page.height, page.dpi or 96.0)
    assert svg.shape == png.shape
    assert np.abs(svg - png).mean() < 0.02


def test_darker_dots_lie_on_top_in_png_and_svg() -> None:
    dark, light = [0.1, 0.1, 0.6], [1.0, 0.8, 0.2]
    for rgb in ([dark, light], [light, dark]):
        s = Stipple(np.array([[0.4, 0.5], [0.6, 0.5]]), np.array(rgb), 100, 50)
        style = SvgOptions(color="dots", dot_px=30)
        png = flatten(rasterise(s, style))
        svg = rasterise_svg(build_svg(s, style), 100, 50)
        for image in (png, svg):
            assert np.abs(image[25, 50] - dark).max() < 0.01  # the overlap's middle
            assert np.abs(image[25, 30] - rgb[0]).max() < 0.01


def test_svg_png_comparison_detects_a_different_colour() -> None:
    s = random_stipple(700, seed=3)
    png = flatten(rasterise(s, SvgOptions()))
    other = rasterise_svg(build_svg(s, SvgOptions(ink="red")), 300, 200)
    assert np.abs(other - png).mean() > 0.02


# ---- interface, errors, files, CLI ----------------------------------------------------


@pytest.mark.parametrize(
    ("options", "names"),
    [
        ({"dot_colour": "red"}, "dot_colour"),
        ({"dot_size": -1}, "dot_size"),
        ({"dot_px": 0}, "dot_px"),
        ({"ink": "reddish"}, "ink"),
        ({"paper": 7}, "paper"),
        ({"color": "rainbow"}, "color"),
        ({"width": 10.5}, "width"),
        ({"size_mm": "A4-ish"}, "size_mm"),
        ({"size_mm": "a4", "width": 100}, "width"),
        ({"dpi": 300}, "dpi"),
        ({"transparent": "maybe"}, "transparent"),
    ],
)
def test_bad_options_give_one_line_errors(tmp_path: Path, options: dict, names: str) -> None:
    for ext in ("png", "svg"):
        with pytest.raises(OptionError) as caught:
            renderers.render(random_stipple(5), tmp_path / f"x.{ext}", **options)
        message = str(caught.value)
        assert "\n" not in message and names in message
    assert not list(tmp_path.iterdir())


def test_png_refuses_giant_dots(tmp_path: Path) -> None:
    with pytest.raises(OptionError, match="too large"):
        renderers.render(random_stipple(3), tmp_path / "x.png", dot_px=2000)
    renderers.render(random_stipple(3), tmp_path / "x.svg", dot_px=2000)


def test_svg_palette_option_is_checked() -> None:
    with pytest.raises(OptionError, match="palette"):
        SvgOptions(palette=5000)
    with pytest.raises(OptionError, match="palette"):
        renderers.get("png").make_options(palette=8)


def test_render_picks_renderer_by_extension(tmp_path: Path) -> None:
    s = random_stipple(30)
    png = renderers.render(s, tmp_path / "a.PNG")
    svg = renderers.render(s, tmp_path / "b.svg")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert ET.parse(svg).getroot().tag == f"{SVG}svg"
    assert renderers.for_path("c.png").name == "png" and renderers.for_path("c.svg").name == "svg"
    forced = renderers.render(s, tmp_path / "c.img", renderer="svg")
    assert forced.read_text().startswith("<?xml")


@pytest.mark.parametrize("name", ["out.png", "out.svg"])
def test_writes_are_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    s = random_stipple(40)
    renderers.render(s, tmp_path / name)
    assert [p.name for p in tmp_path.iterdir()] == [name]

    def half_then_fail(self: Path, data: bytes) -> int:
        with open(self, "wb") as f:
            f.write(data[: len(data) // 2])
        raise OSError("disk full")

    monkeypatch.setattr(Path, "write_bytes", half_then_fail)
    target = tmp_path / "sub" / name
    with pytest.raises(OSError, match="disk full"):
        renderers.render(s, target)
    assert not target.exists() and not list(target.parent.iterdir())


def test_cli_lists_renderers() -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["renderers"], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    for text in ("png", "svg", ".png", ".svg", "dot_size", "palette", "transparent"):
        assert text in result.output
    listed = json.loads(runner.invoke(app, ["renderers", "--json"]).output)
    by_name = {row["name"]: row for row in listed}
    assert {"png", "svg"} <= set(by_name)
    assert by_name["svg"]["extensions"] == [".svg"]
    assert "palette" in {o["name"] for o in by_name["svg"]["options"]}
