"""Training recipe: data maker, lloydnet task pieces, config overrides, a tiny run and export."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

import stipplr
from stipplr.cli import app
from stipplr.engines.dither import dither_grid
from stipplr.models.lloydnet import dot_positions
from stipplr.tomlfile import dump_toml, read_toml
from training.config import apply_override, load_config
from training.data import Settings, make_dataset
from training.export import export
from training.run import train
from training.targets import lloyd_target, offset_map
from training.tasks import lloydnet as task

CONFIG = Path(__file__).resolve().parent.parent / "training" / "configs" / "lloydnet.toml"
TINY_DATA = Settings(count=4, val_count=1, seed=3, cells=(10, 14), n_range=(30, 200), iterations=4)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    """Five tiny items (four train, one val), made once for the module."""
    root = tmp_path_factory.mktemp("data") / "set"
    make_dataset(root, TINY_DATA, workers=1)
    return root


def tiny_config(dataset: Path, run_dir: Path, *overrides: str) -> dict:
    base = [
        f"data.dir={json.dumps(str(dataset))}",
        f"run.dir={json.dumps(str(run_dir))}",
        "model.config.widths=[4, 8]",
        "model.config.subcells=2",
        "data.augment=false",
        "train.batch_size=2",
        "train.warmup_steps=1",
        "train.lr=0.01",
        "train.schedule='constant'",
        "train.threads=1",
        "loss.spacing=0.0",
    ]
    return load_config(CONFIG, base + list(overrides))


def test_dataset_folder_format_manifest_and_resume(dataset):
    manifest = json.loads((dataset / "manifest.json").read_text())
    items = manifest["items"]
    assert [i["split"] for i in items] == ["train"] * 4 + ["val"]
    for item in items:
        name = item["name"]
        assert (dataset / "source" / f"{name}.png").is_file()
        assert (dataset / "target" / f"{name}.png").is_file()
        assert item["origin"] and item["licence"] and item["teacher"] == "voronoi"
        with np.load(dataset / "points" / f"{name}.npz") as saved:
            assert saved["xy"].shape == (item["n"], 2) == saved["init"].shape
            assert saved["rgb"].shape == (item["n"], 3)
    assert not any(h in i["origin"] for i in items for h in manifest["held_out_never_used"])
    stamp = (dataset / "points" / "train_00000.npz").stat().st_mtime_ns
    again = make_dataset(dataset, TINY_DATA, workers=1)
    assert again["items"] == items
    assert (dataset / "points" / "train_00000.npz").stat().st_mtime_ns == stamp


def test_items_are_deterministic_per_seed(dataset, tmp_path):
    make_dataset(tmp_path, Settings(**{**TINY_DATA.__dict__, "count": 1, "val_count": 0}), 1)
    with (
        np.load(tmp_path / "points" / "train_00000.npz") as a,
        np.load(dataset / "points" / "train_00000.npz") as b,
    ):
        np.testing.assert_array_equal(a["xy"], b["xy"])


def test_offset_map_round_trips_the_teacher_dots():
    dark = np.tile(np.linspace(0.2, 1.0, 50, dtype=np.float32), (40, 1))
    target = lloyd_target(dark, 150, iterations=5)
    grid = dither_grid(dark, 150)
    np.testing.assert_allclose(dot_positions(grid, offset_map(grid, target.xy)), target.xy, 1e-5)
    assert not np.allclose(target.xy, target.init)


def test_symmetries_keep_the_teacher_spacing(dataset):
    ds = task.LloydDataset(dataset, "train", subcells=2, augment=False)
    ex = ds[0]
    base = task.collate([ex])
    reference = task.spacing_penalty(base["target"], base["coarse"][:, :1], base["spacing"], 1.2, 3)
    for flips in [(True, False, False), (False, True, True), (True, True, True)]:
        moved = task.collate([task.symmetry(ex, *flips)])
        value = task.spacing_penalty(
            moved["target"], moved["coarse"][:, :1], moved["spacing"], 1.2, 3
        )
        assert float(value) == pytest.approx(float(reference), rel=1e-5)
    assert float(reference) > 0


def test_spacing_penalty_pushes_close_dots_apart_and_ignores_padding():
    selected = torch.zeros(2, 1, 5, 6)
    selected[0, 0, 2, 2] = selected[0, 0, 2, 3] = 1
    spacing = torch.zeros(2, 1, 5, 6)
    spacing[0] = 2.0
    offsets = torch.zeros(2, 2, 5, 6, requires_grad=True)
    loss = task.spacing_penalty(offsets, selected, spacing, 0.8, 2)
    loss.backward()
    assert float(loss.detach()) == pytest.approx((1 - 1 / 1.6) ** 2)
    assert torch.isfinite(offsets.grad).all()
    assert offsets.grad[0, 0, 2, 2] > 0 > offsets.grad[0, 0, 2, 3]


def test_crop_weights_zero_the_margins_that_cut_the_image():
    arrays = {
        "fine": np.zeros((1, 40, 60), np.float32),
        "coarse": np.zeros((4, 20, 30), np.float32),
    }
    torch.manual_seed(1)
    for _ in range(20):
        out = task.crop(arrays, 12, 3)
        assert out["fine"].shape == (1, 24, 24) and out["coarse"].shape == (4, 12, 12)
        weight = out["weight"][0]
        assert weight[3:-3, 3:-3].all()
        assert weight.sum() < 144
    whole = task.crop(arrays, 40, 3)
    assert whole["coarse"].shape == (4, 20, 30) and whole["weight"].all()


def test_overrides_parse_types_and_nested_keys(tmp_path):
    cfg = load_config(CONFIG, ["train.epochs=3", "train.lr=5e-4", "data.augment=false"])
    assert (cfg["train"]["epochs"], cfg["train"]["lr"], cfg["data"]["augment"]) == (3, 5e-4, False)
    apply_override(cfg, "model.config.widths=[8, 16]")
    apply_override(cfg, "run.note=hello world")
    assert cfg["model"]["config"]["widths"] == [8, 16]
    assert cfg["run"]["note"] == "hello world"
    with pytest.raises(SystemExit):
        apply_override(cfg, "no-equals-sign")
    (tmp_path / "c.toml").write_text(dump_toml(cfg))
    assert read_toml(tmp_path / "c.toml") == cfg


def test_tiny_run_learns_resumes_exports_and_runs_through_the_api(dataset, tmp_path):
    torch.set_num_threads(1)
    run_dir = tmp_path / "run"
    first = train(tiny_config(dataset, run_dir, "train.epochs=2"))
    rows = (run_dir / "log.csv").read_text().splitlines()
    assert len(rows) == 3 and first["epoch"] == 2
    last = train(tiny_config(dataset, run_dir, "train.epochs=12"), resume=True)
    assert last["epoch"] == 12
    assert last["train_offset"] < 0.9 * first["train_offset"]
    for name in ("best", "last", "epoch_012"):
        assert (run_dir / "checkpoints" / f"{name}.pt").is_file()
    assert len((run_dir / "log.csv").read_text().splitlines()) == 13

    out = tmp_path / "tiny.pt"
    meta = export(run_dir, "tiny", out=out, evaluate=False)
    assert meta["data"]["train_items"] == 4
    photo = np.tile(np.linspace(0.0, 1.0, 80, dtype=np.float32), (60, 1))
    result = stipplr.stipple(np.stack([photo] * 3, -1), 500, engine="neural", model=str(out))
    assert len(result.xy) == 500

    folder = tmp_path / "in"
    folder.mkdir()
    from PIL import Image

    Image.fromarray((photo * 255).astype(np.uint8)).save(folder / "ramp.png")
    cli = CliRunner().invoke(
        app,
        ["batch", str(folder), "--format", "npz", "--out", str(tmp_path / "out")]
        + ["--engine", "neural", "--model", str(out), "--points", "500", "--quiet"],
    )
    assert cli.exit_code == 0, cli.output
    assert stipplr.Stipple.load(tmp_path / "out" / "ramp.npz").xy.shape == (500, 2)
