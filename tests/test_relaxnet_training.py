"""The relaxnet recipe (training/configs/default.toml): a tiny run learns, exports with its
``[export.config]`` and runs through ``stipplr batch``."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from stipplr.checkpoints import read_checkpoint
from stipplr.cli import app
from stipplr.errors import StipplrError
from stipplr.tomlfile import read_toml
from training.export import export
from training.run import main

RECIPE = "training/configs/default.toml"
TINY = [
    "train.epochs=4",
    "train.warmup_steps=0",
    "train.lr=0.01",
    "train.threads=1",
    "data.count=16",
    "data.val_count=2",
    "data.size=48",
    "data.points=128",
    "data.workers=0",
    "val.max_items=2",
    "val.points=[200, 400]",
]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("relaxnet") / "run"
    torch.set_num_threads(1)
    main(["--config", RECIPE, f"run.dir='{folder}'", *TINY])
    return folder


def test_a_tiny_recipe_run_lowers_its_loss(run_dir):
    with open(run_dir / "log.csv", newline="") as log:
        totals = [float(row["train_total"]) for row in csv.DictReader(log)]
    assert len(totals) == 4
    assert totals[-1] < totals[0]


def test_the_export_runs_the_recipes_inference_config_on_the_trained_weights(run_dir, tmp_path):
    out = tmp_path / "tiny.pt"
    export(run_dir, "tiny", out=out, evaluate=False)
    shipped = read_checkpoint(out)
    trained = read_checkpoint(run_dir / "checkpoints" / "best.pt")
    inference = read_toml(RECIPE)["export"]["config"]
    assert {k: shipped["config"][k] for k in inference} == inference
    assert trained["config"]["tone_passes"] == inference["tone_steps"]
    for key, tensor in trained["state_dict"].items():
        assert torch.equal(shipped["state_dict"][key], tensor), key

    folder = tmp_path / "in"
    folder.mkdir()
    ramp = np.tile(np.linspace(0, 255, 80, dtype=np.uint8), (60, 1))
    Image.fromarray(ramp).save(folder / "ramp.png")
    result = CliRunner().invoke(
        app,
        ["batch", str(folder), "--format", "npz", "--out", str(tmp_path / "out")]
        + ["--engine", "neural", "--model", str(out), "--points", "300", "--quiet"],
    )
    assert result.exit_code == 0, result.output
    assert np.load(tmp_path / "out" / "ramp.npz")["xy"].shape == (300, 2)


def test_an_export_config_that_does_not_fit_the_weights_is_one_line(run_dir, tmp_path):
    config = read_toml(run_dir / "config.toml")
    config["export"]["config"]["tone_steps"] = 5
    (run_dir / "config.toml").rename(run_dir / "config.keep")
    try:
        from stipplr.tomlfile import dump_toml

        (run_dir / "config.toml").write_text(dump_toml(config))
        with pytest.raises(StipplrError, match=r"\[export.config\] does not fit") as error:
            export(run_dir, "bad", out=tmp_path / "bad.pt", evaluate=False)
        assert "\n" not in str(error.value)
    finally:
        (run_dir / "config.keep").replace(run_dir / "config.toml")


def test_a_teacher_adds_the_chamfer_distance_to_its_dots():
    from training.config import load_config
    from training.tasks import relaxnet as task

    cfg = load_config("training/configs/default-ccvt-teacher.toml", TINY)
    cfg["data"]["teacher"] = "dither"  # a fast stand-in for ccvt
    dataset = task.make_dataset(cfg, "train")
    batch = task.collate([dataset[0], dataset[1]])
    assert batch["teacher"].shape == batch["start"].shape
    model = task.build_model(cfg)
    terms = task.compute_loss(model, batch, cfg)
    assert float(terms["teacher"].detach()) > 0
    weights = cfg["loss"]
    values = {key: float(value.detach()) for key, value in terms.items()}
    expected = sum(weights[key] * values[key] for key in ("tone", "spacing", "teacher"))
    assert values["total"] == pytest.approx(expected, rel=1e-5)
    cfg["loss"]["teacher"] = 0.0
    assert "teacher" not in task.compute_loss(model, batch, cfg)
