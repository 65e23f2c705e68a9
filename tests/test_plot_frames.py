"""Each plotter's frame and what its file contains: the HP 7475A's P1/P2 window, HPGL's
origin, G-code time estimates that count only the dwells written, estimate-only options,
pen-up distance reported as vpype does, and orders that scale."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from typer.testing import CliRunner

from stipplr.cli import app
from stipplr.dots import Stipple
from stipplr.errors import OptionError
from stipplr.plotter import PlotOptions, make_plot, write_plot
from stipplr.plotter import build as build_module
from stipplr.plotter.files import estimate_only
from stipplr.plotter.frame import HP7475A
from stipplr.plotter.order import greedy_order, greedy_paths, improve_route, orient, route_length
from stipplr.plotter.tour import repair

runner = CliRunner()


def stipple(n: int = 400, size=(64, 48), seed: int = 0) -> Stipple:
    rng = np.random.default_rng(seed)
    return Stipple(rng.random((n, 2)), np.zeros((n, 3)), *size)


def plot(s: Stipple, fmt: str = "svg", **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make_plot(s, PlotOptions(**options), fmt)


def hpgl_units(text: str) -> np.ndarray:
    """Every PU/PD coordinate pair of an HPGL file."""
    pairs = []
    for command in text.replace("\n", "").split(";"):
        if command[:2] in ("PU", "PD") and len(command) > 2:
            values = [int(v) for v in command[2:].split(",")]
            pairs += list(zip(values[::2], values[1::2], strict=True))
    return np.array(pairs)


@pytest.mark.parametrize("paper", ["a4", "a3", "letter"])
@pytest.mark.parametrize("landscape", [False, True])
@pytest.mark.parametrize("size", [(64, 48), (30, 90)])
def test_hpgl_coordinates_stay_inside_p1_p2(tmp_path, paper, landscape, size):
    made = plot(stipple(300, size), "hpgl", paper=paper, landscape=landscape, margin="5mm")
    units = hpgl_units(write_plot(made, tmp_path / "p.hpgl").read_text())
    frame = HP7475A[paper]
    assert len(units) == 600  # every tick kept
    assert (units >= np.array(frame.p1)).all() and (units <= np.array(frame.p2)).all()
    assert units[:, 1].max() <= frame.limits[1]  # nothing above the hard-clip limit


def test_hpgl_turns_a_portrait_page_onto_the_landscape_sheet(tmp_path):
    tall = Stipple(np.array([[0.5, 0.02], [0.5, 0.98]]), np.zeros((2, 3)), 50, 100)
    made = plot(tall, "hpgl", paper="a4")
    units = hpgl_units(write_plot(made, tmp_path / "p.hpgl").read_text())
    top, bottom = units[0:2].mean(axis=0), units[2:4].mean(axis=0)
    if made.document.layers[0].paths[0][0].imag > made.document.height / 2:
        top, bottom = bottom, top  # drawn bottom dot first
    assert top[0] < bottom[0] and abs(top[1] - bottom[1]) <= 2  # page top at the sheet's left


def test_hpgl_refuses_a_top_left_origin(tmp_path):
    made = plot(stipple(20), "hpgl", origin="top-left")
    with pytest.raises(OptionError, match="origin must be bottom-left for HPGL"):
        write_plot(made, tmp_path / "p.hpgl")
    saved = tmp_path / "dots.npz"
    stipple(20).save(saved)
    result = runner.invoke(
        app, ["plot", str(saved), "-o", str(tmp_path / "x.hpgl"), "-O", "origin=top-left"]
    )
    assert result.exit_code == 2 and "mirror" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not (tmp_path / "x.hpgl").exists()


def gcode_dwell_seconds(text: str, unit: float) -> float:
    return sum(float(v) * unit for v in re.findall(r"^G4 P([\d.]+)", text, flags=re.M))


@pytest.mark.parametrize(
    ("profile", "unit"), [("grbl-servo", 1.0), ("marlin", 0.001), ("grbl-z", 1.0)]
)
def test_gcode_estimate_counts_exactly_the_dwell_the_file_writes(tmp_path, profile, unit):
    made = plot(stipple(200), "gcode", profile=profile, paper="a5")
    text = write_plot(made, tmp_path / "p.gcode").read_text()
    dwell = gcode_dwell_seconds(text, unit)
    travel_only = plot(
        stipple(200), "gcode", profile=profile, paper="a5", drop_time=0, raise_time=0
    )
    counted = made.stats.time_s - travel_only.stats.time_s
    assert counted == pytest.approx(dwell, abs=1e-6)
    if profile == "grbl-z":
        assert dwell == 0 and made.stats.lift_s > 0  # Z moves take time, no dwell
        assert "no pen dwell" not in made.stats.lines()[-1]
    else:
        assert dwell == pytest.approx(200 * 0.24 + 0.12)  # and the first lift


def test_estimate_only_options_are_named():
    gcode = estimate_only(PlotOptions(profile="grbl-servo"), "gcode")
    assert "speed_up" in gcode and "speed_down" not in gcode and "drop_time" not in gcode
    assert "drop_time" in estimate_only(PlotOptions(profile="grbl-z"), "gcode")
    assert "speed_up" not in estimate_only(PlotOptions(profile="marlin"), "gcode")
    assert set(estimate_only(PlotOptions(), "svg")) >= {"speed_down", "drop_time"}
    assert "speed_down" not in estimate_only(PlotOptions(), "hpgl")  # written as VS


def test_cli_says_which_options_change_only_the_estimate(tmp_path):
    saved = tmp_path / "dots.npz"
    stipple(50).save(saved)
    result = runner.invoke(
        app, ["plot", str(saved), "-o", str(tmp_path / "p.gcode"), "--speed-up", "100"]
    )
    assert result.exit_code == 0, result.output
    assert "--speed-up changes only the time estimate" in result.stderr
    result = runner.invoke(
        app,
        [
            "plot",
            str(saved),
            "-o",
            str(tmp_path / "p.gcode"),
            "--profile",
            "grbl-z",
            "-O",
            "drop_time=0.3",
        ],
    )
    assert "drop_time has no effect" in result.stderr


def test_pen_up_is_reported_between_paths_and_home_legs_apart():
    made = plot(stipple(300))
    layer = made.document.layers[0]
    between = np.abs(layer.starts()[1:] - layer.ends()[:-1]).sum()
    assert made.stats.pen_up_mm == pytest.approx(between)
    home = complex(made.document.width, 0)  # portrait page: AxiDraw's home is top-right
    legs = abs(layer.starts()[0] - home) + abs(layer.ends()[-1] - home)
    assert made.stats.home_mm == pytest.approx(legs)
    assert "top-right" in made.stats.home
    assert "top-left" in plot(stipple(30), landscape=True).stats.home
    assert "bottom-left" in plot(stipple(30), "gcode").stats.home


def test_greedy_reverses_ticks_when_their_far_end_is_nearer():
    # a zig-zag of vertical strokes: drawing every other one backwards saves their length
    x = np.arange(20.0)
    starts, ends = x + 0j, x + 5j
    order, flip = greedy_paths(starts, ends, 0j)
    assert order.tolist() == list(range(20)) and flip[1::2].all() and not flip[::2].any()
    best = orient(starts, ends, order, 0j)
    assert (best == flip).all()


def test_huge_layers_use_the_hilbert_order(monkeypatch):
    monkeypatch.setattr(build_module, "GREEDY_LIMIT", 100)
    hilbert = plot(stipple(2000)).stats
    monkeypatch.setattr(build_module, "GREEDY_LIMIT", 10**9)
    greedy = plot(stipple(2000)).stats
    assert hilbert.pen_lifts == 2000
    assert hilbert.pen_up_mm < 0.1 * hilbert.pen_up_mm_input_order
    assert hilbert.pen_up_mm < 1.6 * greedy.pen_up_mm


@pytest.mark.parametrize("seed", [3, 4])
def test_repair_and_kicks_never_make_the_greedy_route_longer(seed):
    rng = np.random.default_rng(seed)
    points = np.vstack([rng.random((600, 2)) * 100, rng.random((300, 2)) * 3 + 40])  # a clump
    home = np.zeros(2)
    greedy = greedy_order(points, home)
    length = route_length(points, greedy, home)
    repaired = repair(points, greedy, home)
    assert sorted(repaired.tolist()) == list(range(900))
    assert route_length(points, repaired, home) <= length + 1e-9
    improved = improve_route(points, repaired, home, seconds=1.0)  # settles, then kicks
    assert sorted(improved.tolist()) == list(range(900))
    assert route_length(points, improved, home) < 0.97 * length
