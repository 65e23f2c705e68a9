"""The engine table: one calling convention, declared ranges and options, plug-in engines."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import stipplr
from stipplr.cli import app
from stipplr.engines import ENGINES, Engine, EngineResult, get_engine, register, run_engine
from stipplr.errors import OptionError


def ramp(height: int = 24, width: int = 32) -> np.ndarray:
    return np.tile(np.linspace(0.1, 1.0, width), (height, 1))


def corner_dots(darkness, n, *, seed=None, rgb=None, progress=None, spread: float = 0.5):
    """A toy plug-in engine: reports progress and colours every dot red."""
    for step in range(3):
        if progress:
            progress(step + 1, 3)
    xy = np.random.default_rng(seed).random((n, 2)) * spread
    return EngineResult(xy, np.tile([1.0, 0.0, 0.0], (n, 1)), {"toy": True})


@pytest.fixture
def toy():
    engine = register(Engine("toy", "test engine", f"{__name__}:corner_dots", n_range=(2, 50)))
    yield engine
    ENGINES.pop("toy")


def test_every_engine_declares_options_and_a_range():
    for name in ("dither", "voronoi", "lbg", "neural"):
        engine = get_engine(name)
        low, high = engine.n_range
        assert 1 <= low <= high and isinstance(engine.options(), dict)
    assert "iterations" in get_engine("voronoi").options()
    assert {"model", "device"} <= set(get_engine("neural").options())


def test_a_registered_engine_runs_through_the_api_with_progress_and_colours(toy):
    calls = []
    image = np.full((24, 32, 3), 0.3)
    progress = lambda done, total: calls.append((done, total))  # noqa: E731
    s = stipplr.stipple(image, 10, "toy", seed=1, progress=progress, spread=0.25)
    assert len(s) == 10 and s.xy.max() <= 0.25
    assert np.allclose(s.rgb, [1.0, 0.0, 0.0]) and s.meta["toy"] is True
    assert calls == [(1, 3), (2, 3), (3, 3)]


def test_a_count_outside_the_range_names_engines_that_can(toy):
    with pytest.raises(OptionError, match=r"places 2 to 50 dots, not 60 \(--engine dither\|"):
        run_engine("toy", ramp(), 60)


def test_unknown_options_are_refused_naming_the_known_ones(toy):
    with pytest.raises(
        OptionError, match=r"engine 'toy' has no option\(s\) sprad \(it has: spread\)"
    ):
        run_engine("toy", ramp(), 5, sprad=1.0)


def test_unknown_engine_lists_the_table():
    with pytest.raises(OptionError, match="unknown engine 'crayon' .*dither, voronoi, lbg"):
        get_engine("crayon")


def test_below_a_models_range_is_a_one_line_error():
    with pytest.raises(OptionError, match="places 500 to .* dots, not 300 .*lbg") as caught:
        stipplr.stipple(np.full((40, 60, 3), 0.5), 300, model="lloydnet")
    assert "\n" not in str(caught.value)


def test_engines_command_lists_the_table():
    rows = json.loads(CliRunner().invoke(app, ["engines", "--json"]).stdout)
    by_name = {r["name"]: r for r in rows}
    assert {"dither", "voronoi", "lbg", "neural"} <= set(by_name)
    assert by_name["voronoi"]["options"]["iterations"] == 50
    table = CliRunner().invoke(app, ["engines"], terminal_width=120)
    assert table.exit_code == 0 and "voronoi" in table.stdout
