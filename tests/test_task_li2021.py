"""li2021 training task: dataset split, batch losses with gradients, validation metrics."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from training.tasks import li2021 as task

torch.set_num_threads(2)
N = 24
SIZE = 32


def tiny_cfg(root: Path) -> dict:
    """A 4^3-grid resnet18 model on 32 px inputs (fast), reading the folder ``root``."""
    return {
        "model": {
            "arch": "li2021",
            "config": {
                "encoder": "resnet18",
                "encoder_weights": str(root / "no-weights.pth"),
                "freeze_encoder": False,
                "input_size": SIZE,
                "style_dim": 16,
                "style_layers": 1,
                "grid": 4,
                "channels": (16, 16, 8),
                "density_widths": (4,),
                "offset_widths": (4,),
                "dropout": 0.0,
            },
        },
        "data": {"dir": str(root), "points": N, "size": SIZE},
        "val": {"max_items": 1},
        "loss": {"spectrum": 0.1, "spectrum_size": 16},
    }


def write_item(root: Path, name: str, seed: int) -> dict:
    """A ramp source and N stored dots denser on its dark left side; its manifest entry."""
    rng = np.random.default_rng(seed)
    ramp = np.tile(np.linspace(0, 255, 40, dtype=np.uint8), (30, 1))
    Image.fromarray(np.repeat(ramp[..., None], 3, axis=2)).save(root / "source" / f"{name}.png")
    xy = np.column_stack([rng.uniform(0, 1, N) ** 2, rng.uniform(0, 1, N)]).astype(np.float32)
    np.savez(root / "points" / f"{name}.npz", xy=xy, rgb=np.repeat(xy[:, :1], 3, axis=1))
    return {"name": name, "split": name.split("_")[0]}


@pytest.fixture
def cfg(tmp_path: Path) -> dict:
    for sub in ("source", "points"):
        (tmp_path / sub).mkdir()
    names = ["train_0", "train_1", "train_2", "val_0"]
    items = [write_item(tmp_path, name, i) for i, name in enumerate(names)]
    (tmp_path / "manifest.json").write_text(json.dumps({"items": items}))
    return tiny_cfg(tmp_path)


@pytest.fixture
def model(cfg: dict):
    torch.manual_seed(0)
    with pytest.warns(UserWarning, match="no ImageNet weights"):
        return task.build_model(cfg)


def test_splits_follow_the_manifest(cfg: dict):
    assert task.make_dataset(cfg, "train").names == ["train_0", "train_1", "train_2"]
    assert task.make_dataset(cfg, "val").names == ["val_0"]


def test_collate_stacks_sources_and_dots(cfg: dict):
    data = task.make_dataset(cfg, "train")
    batch = task.collate([data[0], data[1]])
    assert batch["source"].shape == (2, 3, SIZE, SIZE) and batch["dots"].shape == (2, N, 5)


def test_loss_terms_are_finite_and_reach_density_and_offset_heads(cfg: dict, model):
    data = task.make_dataset(cfg, "train")
    out = task.compute_loss(model, task.collate([data[0], data[1]]), cfg)
    assert set(out) == {"total", "chamfer", "spectrum", "colour", "density"}
    assert all(torch.isfinite(v) for v in out.values())
    out["total"].backward()
    for head in (model.density_head, model.offset_head, model.encoder):
        assert sum(p.grad.abs().sum() for p in head.parameters() if p.grad is not None) > 0


def test_training_steps_lower_the_loss_on_one_batch(cfg: dict):
    cfg["model"]["config"]["freeze_encoder"] = True  # a fixed random encoder: fast, decoder learns
    torch.manual_seed(0)
    with pytest.warns(UserWarning):
        model = task.build_model(cfg)
    data = task.make_dataset(cfg, "train")
    batch = task.collate([data[0], data[1]])
    optimiser = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=3e-3)
    values = []
    for _ in range(8):
        loss = task.compute_loss(model, batch, cfg)["total"]
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        values.append(loss.item())
    assert min(values[-3:]) < values[0]


def test_validate_scores_model_and_teacher(cfg: dict, model):
    model.train()
    scores = task.validate(model, cfg)
    assert model.training
    for key in task.VALIDATION_METRICS:
        assert np.isfinite(scores[key]) and np.isfinite(scores["teacher_" + key])


def test_validate_scores_a_guided_model(cfg: dict):
    cfg["model"]["config"]["selection"] = "guided"
    with pytest.warns(UserWarning, match="no ImageNet weights"):
        model = task.build_model(cfg)
    scores = task.validate(model, cfg)
    assert all(np.isfinite(scores[key]) for key in task.VALIDATION_METRICS)
