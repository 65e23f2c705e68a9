"""The shipped default model as it ships: its run-time config is the recipe's, and it
places exactly N dots at both ends of its range."""

from __future__ import annotations

import numpy as np
import pytest

import stipplr
from stipplr import metrics, neural
from stipplr.checkpoints import read_checkpoint
from stipplr.modelfiles import model_path
from stipplr.tomlfile import read_toml
from training.paths import CHECKOUT

pytestmark = pytest.mark.skipif(
    not neural.default_model_available(), reason="no trained default model"
)


def test_the_shipped_file_runs_the_recipes_export_config():
    recipe = read_toml(CHECKOUT / "training" / "configs" / "default.toml")
    shipped = read_checkpoint(model_path("default"))["config"]
    trained = recipe["model"]["config"] | recipe["export"]["config"]
    assert {key: shipped[key] for key in trained} == trained


@pytest.mark.parametrize("n", [100, 200_000])
def test_the_shipped_model_places_exactly_n_spread_dots_at_both_ends(n):
    rng = np.random.default_rng(5)
    dark = np.clip(np.linspace(0.2, 1.0, 640)[None, :] + 0.1 * rng.random((480, 640)), 0, 1)
    rgb = np.repeat(1 - dark[..., None], 3, axis=-1).astype(np.float32)
    xy = stipplr.stipple(rgb, n, "neural", model="default", device="cpu", seed=0).xy
    assert xy.shape == (n, 2) and np.isfinite(xy).all()
    assert xy.min() >= 0 and xy.max() <= 1
    assert metrics.spacing_ratios(dark, xy).mean() > 0.8


def test_the_shipped_model_leaves_blank_paper_blank_around_line_art():
    from PIL import Image, ImageDraw

    img = Image.new("L", (240, 120), 255)
    draw = ImageDraw.Draw(img)
    draw.rectangle([20, 30, 70, 90], fill=0)
    draw.line([(120, 10), (200, 110)], fill=0, width=1)
    draw.line([(150, 10), (150, 110)], fill=0, width=2)
    rgb = np.repeat(np.asarray(img, np.float32)[..., None] / 255, 3, axis=-1)
    for n in (300, 1500):
        xy = stipplr.stipple(rgb, n, "neural", model="default", device="cpu", seed=0).xy
        cols = np.clip((xy[:, 0] * 240).astype(int), 0, 239)
        rows = np.clip((xy[:, 1] * 120).astype(int), 0, 119)
        assert (rgb[rows, cols, 0] < 1).all(), f"{n} dots: some on blank paper"


def test_the_shipped_model_balances_its_cells_at_small_n():
    ys, xs = np.mgrid[0:180, 0:240] / 180
    dark = np.clip(0.1 + 0.7 * xs / 1.33 + 0.4 * (np.hypot(xs - 0.9, ys - 0.5) < 0.3), 0, 1)
    rgb = np.repeat(1 - dark[..., None], 3, axis=-1).astype(np.float32)

    def scores(**options):
        xy = stipplr.stipple(rgb, 800, "neural", model="default", device="cpu", seed=0, **options)
        return metrics.evaluate(dark, xy.xy)

    rounds, without = scores(), scores(capacity_rounds=0)
    assert rounds["capacity_cv"] < without["capacity_cv"] - 0.01
    assert rounds["psnr_db"] > without["psnr_db"] - 0.5
    assert rounds["spacing_mean"] > 0.88
