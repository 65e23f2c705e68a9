"""Hardening: one clear line for every bad value (issue 14)."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

import stipplr
from stipplr.api import MAX_SEED
from stipplr.cli import app
from stipplr.engines.lloyd import MAX_ITERATIONS
from stipplr.errors import OptionError
from stipplr.tomlfile import read_toml

GREY = np.full((12, 16), 0.5)


@pytest.mark.parametrize("seed", [-1, MAX_SEED + 1, 2**80])
def test_seeds_out_of_range_are_refused_before_any_image(seed):
    with pytest.raises(OptionError, match=f"seed must be a whole number from 0 to {MAX_SEED}"):
        stipplr.stipple(GREY, points=10, engine="dither", seed=seed)


def test_the_largest_seed_works():
    assert len(stipplr.stipple(GREY, points=10, engine="dither", seed=MAX_SEED)) == 10


def test_a_bad_seed_in_a_batch_is_one_error_not_one_per_image(tmp_path):
    from PIL import Image

    for i in range(3):
        Image.new("L", (8, 8), 100).save(tmp_path / f"{i}.png")
    result = CliRunner().invoke(
        app,
        ["batch", str(tmp_path), "--out", str(tmp_path / "o"), "--engine", "dither"]
        + ["--seed", "-1"],
    )
    assert result.exit_code == 2
    assert result.stderr.count("seed must be") == 1 and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("engine", "option"), [("voronoi", "iterations"), ("lbg", "iterations"), ("lbg", "polish")]
)
def test_iterative_engines_cap_their_step_counts(engine, option):
    with pytest.raises(OptionError, match=f"from 0 to {MAX_ITERATIONS}"):
        stipplr.stipple(GREY, points=10, engine=engine, **{option: 10**12, "tol": 0})


def test_a_deeply_nested_toml_file_is_one_line(tmp_path):
    path = tmp_path / "deep.toml"
    path.write_text("a = " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(OptionError, match="deep.toml: not a readable TOML file .nested too deeply"):
        read_toml(path)
