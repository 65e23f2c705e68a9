"""Plotter output: layout, dot shapes, pens, ordering, statistics and the three formats."""

from __future__ import annotations

import json
import re
import warnings
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from stipplr.dots import Stipple
from stipplr.errors import OptionError
from stipplr.inks.nearest import nearest_pens
from stipplr.inks.pensets import parse_pen_set
from stipplr.paper import parse_paper
from stipplr.plotter import PlotOptions, make_plot, write_plot, write_preview
from stipplr.plotter.build import CloseDotsWarning
from stipplr.plotter.order import greedy_order, improve_route, route_length
from stipplr.plotter.shapes import dot_paths
from stipplr.plotter.stats import move_times
from stipplr.units import parse_length

SVG = "{http://www.w3.org/2000/svg}"
INKSCAPE = "{http://www.inkscape.org/namespaces/inkscape}"


def random_stipple(n: int = 400, seed: int = 0, radius: bool = False, size=(64, 48)) -> Stipple:
    rng = np.random.default_rng(seed)
    return Stipple(
        xy=rng.random((n, 2)),
        rgb=rng.random((n, 3)),
        width=size[0],
        height=size[1],
        radius=rng.uniform(0.2, 1.5, n) if radius else None,
    )


def quiet_plot(stipple: Stipple, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CloseDotsWarning)
        return make_plot(stipple, PlotOptions(**options))


# ---- units, paper, bad options ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "mm"),
    [("15mm", 15), ("1.5cm", 15), ("1in", 25.4), ("96px", 25.4), (" .3 mm", 0.3), ("2", 2), (3, 3)],
)
def test_parse_length(text, mm):
    assert parse_length(text) == pytest.approx(mm)


@pytest.mark.parametrize("bad", ["-1mm", "3 parsecs", "abc", "", "nan", True])
def test_parse_length_rejects(bad):
    with pytest.raises(OptionError) as info:
        parse_length(bad, "pen width")
    assert "pen width" in str(info.value) and "\n" not in str(info.value)


def test_paper_sizes():
    assert parse_paper("A4") == (210, 297)
    assert parse_paper("a4", landscape=True) == (297, 210)
    assert parse_paper("300x218mm") == (300, 218)
    assert parse_paper("8x10in") == pytest.approx((203.2, 254))
    assert parse_paper("200x100mm", landscape=False) == (200, 100)


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"paper": "a9x"}, "paper"),
        ({"paper": "b12"}, "unknown paper"),
        ({"pen_width": "-0.3mm"}, "pen width"),
        ({"pens": "black,notacolour"}, "notacolour"),
        ({"dot": "blob"}, "dot kind"),
        ({"margin": "120mm"}, "margin"),
        ({"order": "random"}, "order"),
        ({"spiral_pitch": "1mm"}, "pitch"),
        ({"speed_up": 0}, "speed_up"),
        ({"speed_up": "fast"}, "speed_up"),
        ({"profile": "nope.toml"}, "not found"),
        ({"origin": "centre"}, "origin"),
        # regression: these three raised TypeError; landscape=3 was taken as true
        ({"pens": 3}, "pens must be"),
        ({"profile": 3}, "unknown G-code profile"),
        ({"landscape": 3}, "landscape must be true or false"),
    ],
)
def test_bad_options_give_one_line_errors(options, fragment):
    with pytest.raises(OptionError) as info:
        make_plot(random_stipple(20), PlotOptions(**options))
    message = str(info.value)
    assert fragment in message and "\n" not in message


# ---- layout and dots ----------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"paper": "a5", "landscape": True, "margin": "10mm", "dot": "circle", "dot_size": "1mm"},
        {"paper": "letter", "pen_width": "0.5mm", "dot": "spiral", "dot_size": "2mm"},
    ],
)
@pytest.mark.parametrize("radius", [False, True])
def test_all_ink_inside_the_margins(options, radius):
    plot = quiet_plot(random_stipple(300, radius=radius, size=(30, 90)), **options)
    doc, margin = plot.document, parse_length(options.get("margin", "15mm"))
    half_pen = parse_length(options.get("pen_width", "0.3mm")) / 2
    xmin, ymin, xmax, ymax = doc.bounds()
    assert xmin - half_pen >= margin - 1e-9 and ymin - half_pen >= margin - 1e-9
    assert xmax + half_pen <= doc.width - margin + 1e-9
    assert ymax + half_pen <= doc.height - margin + 1e-9
    assert len(doc.paths()) == 300  # every dot kept, one path each


def test_layout_fills_the_limiting_side_and_centres():
    plot = quiet_plot(random_stipple(50, size=(100, 100)), paper="200x300mm", margin=10)
    assert plot.layout.scale * 100 == pytest.approx(180 - 0.35)  # ink reach (tick + pen) / 2
    assert plot.layout.offset[1] == pytest.approx(150 - plot.layout.scale * 50)


def test_dot_shapes():
    centres, pen = np.array([10 + 10j, 20 + 20j, 30 + 30j]), 0.3
    touch, ring, spiral = dot_paths(
        centres, np.array([0.3, 0.5, 2.0]), "auto", pen, tick_length=0.05, pitch=0.24
    )
    assert len(touch) == 2 and abs(touch[1] - touch[0]) == pytest.approx(0.05)
    assert np.abs(ring - centres[1]) == pytest.approx(0.1)  # (d - w) / 2
    assert ring[0] == pytest.approx(ring[-1])  # closed
    radii = np.abs(spiral - centres[2])
    assert radii[0] == pytest.approx(0) and radii.max() == pytest.approx(0.85)
    angle = np.unwrap(np.angle(spiral[1:] - centres[2]))
    turn = np.flatnonzero(angle - angle[0] >= 2 * np.pi)[0] + 1  # one turn out
    assert radii[turn] - radii[0] <= pen  # pitch <= pen width: no gaps
    forced = dot_paths(centres[:1], np.array([0.3]), "circle", pen, 0.05, 0.24)[0]
    assert len(forced) == 2  # a circle smaller than the tick is drawn as a touch


def test_close_dots_are_counted_in_a_warning():
    xy = np.array([[0.1, 0.1], [0.1001, 0.1], [0.9, 0.9]])
    stipple = Stipple(xy, np.zeros((3, 3)), 100, 100)
    with pytest.warns(CloseDotsWarning, match=r"^2 of 3 dots"):
        make_plot(stipple)


# ---- pens ---------------------------------------------------------------------------


def test_one_layer_per_pen_and_colours_go_to_the_right_pen():
    rgb = np.array([[0.9, 0.1, 0.1], [0.1, 0.1, 0.9], [0.5, 0.5, 0.5], [0.05, 0.05, 0.05]])
    stipple = Stipple(np.array([[0.1, 0.1], [0.5, 0.5], [0.9, 0.1], [0.1, 0.9]]), rgb, 10, 10)
    options = PlotOptions(pens="red,#0000ff,black,yellow", pen_order="as-given")
    plot = make_plot(stipple, options)
    # the yellow pen gets no dot, so it gets no layer (the plotter never pauses for it)
    assert [layer.pen.name for layer in plot.document.layers] == ["red", "#0000ff", "black"]
    assert [len(layer.paths) for layer in plot.document.layers] == [1, 1, 2]
    light_first = make_plot(stipple, PlotOptions(pens="red,#0000ff,black,yellow"))
    assert [layer.pen.name for layer in light_first.document.layers] == [
        "red",
        "#0000ff",
        "black",
    ]


def test_light_grey_goes_to_black_not_to_a_pale_pen():
    colours = [ink.rgb for ink in parse_pen_set("cyan,magenta,yellow,black")]
    grey = np.array([[0.8, 0.8, 0.8], [0.3, 0.3, 0.3], [0.95, 0.95, 0.5], [0.4, 0.9, 0.9]])
    assert nearest_pens(grey, colours).tolist() == [3, 3, 2, 0]


# ---- ordering and time -------------------------------------------------------------


def test_greedy_route_beats_raster_and_input_order_and_2opt_oropt_improve_it():
    rng = np.random.default_rng(1)
    points, home = rng.random((2000, 2)) * 100, np.zeros(2)
    greedy = greedy_order(points, home)
    assert sorted(greedy.tolist()) == list(range(2000))
    raster = np.lexsort((points[:, 0], np.floor(points[:, 1] / 5)))
    length = route_length(points, greedy, home)
    assert length < 0.8 * route_length(points, raster, home)
    assert length < 0.1 * route_length(points, np.arange(2000), home)
    improved = improve_route(points, greedy, home, seconds=2.0)
    assert sorted(improved.tolist()) == list(range(2000))
    assert route_length(points, improved, home) < 0.97 * length


def test_route_improvement_keeps_every_dot_on_tiny_and_clustered_inputs():
    rng = np.random.default_rng(2)
    for n in (1, 3, 4, 5, 7, 12, 40):
        points = np.vstack([rng.random((n, 2)), rng.random((n // 2, 2)) * 0.01])  # clusters
        home = np.zeros(2)
        start = rng.permutation(len(points))
        improved = improve_route(points, start, home, seconds=1.0)
        assert sorted(improved.tolist()) == list(range(len(points)))
        assert route_length(points, improved, home) <= route_length(points, start, home) + 1e-9


def test_plot_reports_shorter_travel_than_input_order():
    stats = quiet_plot(random_stipple(1500)).stats
    assert stats.pen_up_mm < 0.2 * stats.pen_up_mm_input_order
    kept = quiet_plot(random_stipple(1500), order="input").stats
    assert kept.pen_up_mm == pytest.approx(kept.pen_up_mm_input_order)


def test_move_times_trapezoid_and_triangle():
    speed, accel = 100.0, 400.0  # full speed after 12.5 mm, 25 mm to speed up and stop
    t = move_times(np.array([0.0, 25.0, 100.0, 4.0]), speed, accel)
    assert t[0] == 0 and t[1] == pytest.approx(0.5) and t[2] == pytest.approx(1.25)
    assert t[3] == pytest.approx(2 * np.sqrt(4 / 400))


def test_time_estimate_is_consistent_with_the_distances():
    plot = quiet_plot(random_stipple(500, radius=True), dot="auto")
    s, m = plot.stats, plot.options.machine
    moves = s.pen_lifts + (s.pen_lifts + 1)  # pen-down paths + pen-up moves (one layer)
    floor = (
        s.pen_lifts * (m.drop_time + m.raise_time)
        + s.pen_down_mm / m.speed_down
        + s.pen_up_mm / m.speed_up
    )
    ceiling = floor + moves * max(m.speed_down / m.accel_down, m.speed_up / m.accel_up)
    assert floor < s.time_s <= ceiling
    assert s.dots == 500 and s.pen_lifts == 500


# ---- file formats ------------------------------------------------------------------


def test_svg_layers_units_and_metadata(tmp_path):
    plot = quiet_plot(random_stipple(200), pens="black,red", pen_width="0.5mm")
    root = ET.parse(write_plot(plot, tmp_path / "p.svg")).getroot()
    assert root.get("width") == "210mm" and root.get("height") == "297mm"
    assert root.get("viewBox") == "0 0 210 297"
    layers = root.findall(f"{SVG}g")
    assert [g.get(f"{INKSCAPE}groupmode") for g in layers] == ["layer", "layer"]
    # light inks first (dark ink on top); AxiDraw pauses before every later layer
    assert [g.get(f"{INKSCAPE}label") for g in layers] == ["1 red", "!2 black"]
    assert [g.get("stroke") for g in layers] == ["#ff0000", "#000000"]
    assert all(g.get("fill") == "none" and g.get("stroke-width") == "0.5" for g in layers)
    assert sum(len(g.findall(f"{SVG}path")) for g in layers) == 200
    meta = json.loads(root.find(f"{SVG}metadata").text)
    assert meta["stats"] == plot.stats.to_dict()


def parse_hpgl(text: str):
    """(pen, pen_down, [(x, y), ...]) per PU/PD command, plus all pens selected."""
    strokes, pens, pen = [], [], None
    for command in filter(None, (c.strip() for c in text.split(";"))):
        op, args = command[:2], command[2:]
        numbers = [int(v) for v in args.split(",")] if args else []
        if op == "SP":
            pen = numbers[0]
            pens.append(pen)
        elif op in ("PU", "PD"):
            strokes.append((pen, op == "PD", list(zip(numbers[::2], numbers[1::2], strict=True))))
        else:
            assert op in ("IN", "IP", "SC", "VS"), command
    return strokes, pens


def test_hpgl_reads_back(tmp_path):
    plot = quiet_plot(random_stipple(300), pens="black,blue", paper="a5")
    text = write_plot(plot, tmp_path / "p.hpgl").read_text()
    assert text.startswith("IN;") and text.rstrip().endswith("SP0;")
    strokes, pens = parse_hpgl(text)
    assert pens == [1, 2, 0]
    downs = [s for s in strokes if s[1]]
    ups = [s for s in strokes if not s[1]]
    assert len(downs) == 300 and len(ups) == 301  # every tick between a PU and the last PU
    pairs = list(zip(strokes[:-1:2], strokes[1::2], strict=True))
    assert all(not up[1] and down[1] for up, down in pairs)
    xy = np.array([p for s in strokes for p in s[2]])
    assert xy.min() >= 15 * 40 and xy[:, 0].max() <= (148 - 15) * 40
    assert xy[:, 1].max() <= (210 - 15) * 40
    ticks = [np.subtract(down[2][-1], up[2][0]) for up, down in pairs]
    assert all(abs(t).tolist() == [2, 0] for t in ticks)  # 0.05 mm at 40 units per mm, either way


def parse_gcode(text: str, up: str, down: str):
    """Pen state machine over G-code lines: (pen-down strokes, XY points, pen changes)."""
    pen_down, strokes, points = False, [], []
    for line in text.splitlines():
        code = line.split(";")[0].strip()
        if not code:
            continue
        if code.startswith(down):
            assert not pen_down
            pen_down = True
            strokes.append([])
        elif code.startswith(up):
            pen_down = False
        match = re.match(r"G[01] X(-?[\d.]+) Y(-?[\d.]+)", code)
        if match:
            xy = (float(match.group(1)), float(match.group(2)))
            points.append(xy)
            if pen_down:
                strokes[-1].append(xy)
    assert not pen_down
    return strokes, np.array(points)


@pytest.mark.parametrize(
    ("profile", "up", "down", "dwell"),
    [
        ("grbl-servo", "M3 S60", "M3 S30", "G4 P0.120"),
        ("marlin", "M280 P0 S60", "M280 P0 S30", "G4 P120"),
        ("grbl-z", "G0 Z5", "G1 Z0", None),
    ],
)
def test_gcode_profiles_read_back(tmp_path, profile, up, down, dwell):
    stipple = random_stipple(250)
    plot = quiet_plot(stipple, profile=profile, paper="a5")
    text = write_plot(plot, tmp_path / "p.gcode").read_text()
    strokes, points = parse_gcode(text, up, down)
    assert len(strokes) == 250 and all(len(s) == 1 for s in strokes)
    assert points[-1].tolist() == [0, 0]  # the footer parks at the machine origin
    points = points[:-1]
    assert points[:, 0].min() >= 15 and points[:, 0].max() <= 148 - 15
    assert points[:, 1].min() >= 15 and points[:, 1].max() <= 210 - 15
    assert (dwell in text) if dwell else ("G4" not in text)
    assert "; estimated time:" in text and "G21" in text
    assert "M300" not in text
    # y axis: bottom-left origin flips the page's y-down coordinates
    first = plot.document.layers[0].paths[0][0]
    assert points[0] == pytest.approx((first.real, 210 - first.imag), abs=1e-3)


def test_gcode_template_and_overrides(tmp_path):
    template = tmp_path / "mine.toml"
    template.write_text(
        'header = "G21 ; {width:g}x{height:g}"\nfooter = "M2"\n'
        'pen_up = "SERVO {up:g}"\npen_down = "SERVO {down:g}"\n'
        'move = "G0 X{x} Y{y}"\ndraw = "G1 X{x} Y{y} F{feed_down:.0f}"\nup = 90\n'
    )
    plot = quiet_plot(random_stipple(40), profile=str(template), pen_down_value=12)
    text = write_plot(plot, tmp_path / "p.nc").read_text()
    strokes, _ = parse_gcode(text, "SERVO 90", "SERVO 12")
    assert len(strokes) == 40 and text.rstrip().endswith("M2") and "G21 ; 210x297" in text
    template.write_text('pen_up = "{nope}"\npen_down = ""\nmove = ""\ndraw = ""\n')
    with pytest.raises(OptionError, match="nope"):
        PlotOptions(profile=str(template))
    template.write_text('pen_up = "x"\n')
    with pytest.raises(OptionError, match="missing key"):
        PlotOptions(profile=str(template))


def test_multi_pen_gcode_pauses_between_pens(tmp_path):
    rgb = np.array([[0, 0, 0], [1, 0, 0], [0, 0, 0]], dtype=float)
    stipple = Stipple(np.array([[0.1, 0.1], [0.5, 0.5], [0.9, 0.9]]), rgb, 10, 10)
    options = PlotOptions(pens="black,red", pen_order="as-given")
    text = write_plot(make_plot(stipple, options), tmp_path / "p.gcode")
    lines = text.read_text().splitlines()
    assert lines.count("M0") == 1
    assert lines.index("M0") > lines.index("; layer 2: pen red")


def test_unknown_extension_is_refused(tmp_path):
    with pytest.raises(OptionError, match="plot files"):
        write_plot(quiet_plot(random_stipple(5)), tmp_path / "p.pdf")


def test_preview_draws_at_pen_width(tmp_path):
    stipple = Stipple(np.array([[0.5, 0.5]]), np.zeros((1, 3)), 10, 10)
    plot = make_plot(stipple, PlotOptions(paper="100x100mm", margin=10, pen_width="1mm"))
    path = tmp_path / "preview.png"
    write_preview(plot.document, path, pixels_per_mm=10, travel=True)
    from PIL import Image

    image = np.asarray(Image.open(path).convert("L"))
    assert image.shape == (1000, 1000)
    ink = image < 128
    assert 60 <= ink.sum() <= 110  # a 1 mm round dot at 10 px/mm: about pi * 5^2 pixels
    assert ink[500, 500] and not ink[500, 520]


def test_plot_renderer_by_extension_and_by_name(tmp_path):
    from stipplr import renderers

    stipple = random_stipple(30)
    assert renderers.for_path(tmp_path / "p.hpgl").name == "plot"
    renderers.render(stipple, tmp_path / "p.plt", pens="red")
    assert (tmp_path / "p.plt").read_text().count("PD") == 30
    renderers.render(stipple, tmp_path / "p.svg", "plot", paper="a5")
    assert 'inkscape:label="1 black"' in (tmp_path / "p.svg").read_text()
