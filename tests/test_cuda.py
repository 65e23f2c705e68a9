"""Tests that need a CUDA GPU: marked ``cuda`` (``pytest -m cuda``, run by
``scripts/gpu_check.sh``) and skipped, not failed, where torch sees no GPU.

- the default model on CUDA places the dots it places on the CPU (same random offsets,
  full precision), and with AMP (stipplr's default on CUDA) at the CPU's quality;
- AMP inference runs on batches and at 100 000 dots;
- ``ccvt`` with ``device="cuda"`` matches the CPU (numpy) path in quality, through the
  engine and the API;
- a tiny training run on CUDA with AMP finishes, logs finite losses and saves a checkpoint
  that loads with ``weights_only=True``.
"""

from __future__ import annotations

import contextlib
import csv
import math
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
import torch
from PIL import Image

import stipplr
from stipplr import api, neural
from stipplr.checkpoints import save_checkpoint
from stipplr.engines import get_engine, run_engine
from stipplr.images import load_image
from stipplr.metrics import evaluate
from stipplr.models import build_model, make_config
from stipplr.tone import Tone, darkness

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
]

ROOT = Path(__file__).resolve().parent.parent
PHOTO = ROOT / "examples" / "photos" / "coffee.jpg"
N = 2000


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> str:
    """The shipped default model, else an untrained relaxnet (same code paths)."""
    if neural.default_model_available():
        return str(neural.model_path(None))
    path = tmp_path_factory.mktemp("model") / "relaxnet-untrained.pt"
    torch.manual_seed(0)
    save_checkpoint(path, build_model("relaxnet", {}), "relaxnet", make_config("relaxnet", {}))
    return str(path)


@pytest.fixture(scope="module")
def photo() -> tuple[np.ndarray, np.ndarray]:
    """coffee.jpg at 320x213: float RGB and its darkness."""
    with Image.open(PHOTO) as img:
        rgb = load_image(np.asarray(img.convert("RGB").resize((320, 213))))
    return rgb, darkness(rgb, Tone())


@contextlib.contextmanager
def full_precision() -> Iterator[None]:
    """No AMP (stipplr always autocasts on CUDA) and no TF32 convolutions or matmuls."""
    cudnn_tf32, matmul = torch.backends.cudnn.allow_tf32, torch.get_float32_matmul_precision()
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
    try:
        with mock.patch.object(neural, "autocast", lambda _device: contextlib.nullcontext()):
            yield
    finally:
        torch.backends.cudnn.allow_tf32 = cudnn_tf32
        torch.set_float32_matmul_precision(matmul)


def apart(a: np.ndarray, b: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Distance of each dot of ``a`` from the same dot of ``b`` (relative xy on an image of
    ``shape``), in mean dot spacings h."""
    height, width = shape[:2]
    pixels = np.linalg.norm((a - b) * np.array([width, height]), axis=1)
    return pixels / math.sqrt(height * width / len(a))


def close_quality(ours: dict[str, float], reference: dict[str, float], psnr_db: float) -> None:
    """Tone, capacity and spacing of ``ours`` within tolerances of ``reference``."""
    assert ours["points"] == reference["points"]
    assert ours["psnr_db"] > reference["psnr_db"] - psnr_db
    assert ours["capacity_cv"] < reference["capacity_cv"] + 0.01
    assert abs(ours["spacing_mean"] - reference["spacing_mean"]) < 0.015
    assert ours["clumped"] <= reference["clumped"] + 0.002


def test_default_model_on_cuda_places_the_cpu_dots(model, photo):
    rgb, dark = photo
    cpu, _, _ = neural.predict_dots(rgb, dark, N, model=model, device="cpu", seed=3)
    with full_precision():  # the model draws its random offsets on the CPU for every device
        gpu, _, meta = neural.predict_dots(rgb, dark, N, model=model, device="cuda", seed=3)
    assert meta["device"].startswith("cuda")
    assert gpu.shape == cpu.shape == (N, 2)
    moved = apart(gpu, cpu, dark.shape)
    assert np.median(moved) < 0.01, np.percentile(moved, [50, 99, 100])
    assert np.percentile(moved, 99) < 0.05, np.percentile(moved, [50, 99, 100])


def test_default_model_with_amp_on_cuda_has_the_cpu_quality(model, photo):
    rgb, dark = photo
    kwargs = {"points": N, "engine": "neural", "model": model, "seed": 3}
    cpu = stipplr.stipple(rgb, device="cpu", **kwargs)
    gpu = stipplr.stipple(rgb, device="cuda", **kwargs)  # AMP: stipplr's default on CUDA
    assert gpu.meta["model"]["device"].startswith("cuda")
    assert np.isfinite(gpu.xy).all() and np.isfinite(gpu.rgb).all()
    close_quality(evaluate(dark, gpu.xy), evaluate(dark, cpu.xy), psnr_db=0.5)
    # the same seed on the same GPU: the same realisation (to float rounding of atomics)
    again = stipplr.stipple(rgb, device="cuda", **kwargs)
    assert apart(again.xy, gpu.xy, dark.shape).max() < 1e-3


@pytest.mark.parametrize(("n", "batch"), [(5000, 3), (100_000, 1)])
def test_amp_inference_runs_on_batches_and_many_dots(model, photo, n, batch):
    rgb, dark = photo
    rgbs, darks = np.stack([rgb] * batch), np.stack([dark] * batch)
    out = neural.predict_batch(rgbs, darks, n, model=model, device="cuda", seed=1)
    assert len(out) == batch
    for xy, _, meta in out:
        assert meta["device"].startswith("cuda")
        assert xy.shape == (n, 2) and xy.dtype == np.float32
        assert np.isfinite(xy).all() and xy.min() >= 0 and xy.max() <= 1


def ccvt_has_devices() -> bool:
    """Whether the ccvt engine takes a ``device`` option (its torch/CUDA backend)."""
    return "device" in get_engine("ccvt").options()


@pytest.mark.skipif(not ccvt_has_devices(), reason="ccvt has no device option (no CUDA backend)")
def test_ccvt_on_cuda_matches_the_cpu(photo):
    _, dark = photo
    cpu = run_engine("ccvt", dark, 1000, seed=1, device="cpu").xy
    gpu = run_engine("ccvt", dark, 1000, seed=1, device="cuda").xy
    assert gpu.shape == cpu.shape == (1000, 2)
    close_quality(evaluate(dark, gpu), evaluate(dark, cpu), psnr_db=0.5)


@pytest.mark.skipif(not ccvt_has_devices(), reason="ccvt has no device option (no CUDA backend)")
def test_ccvt_on_cuda_through_the_api_gives_coloured_stipples(photo):
    rgb, dark = photo
    request = api.make_request(
        1000,
        "ccvt",
        seed=1,
        tone=None,
        model=None,
        device="auto",
        radius=None,
        options={"device": "cuda"},
    )
    (stipple,) = api.run_request(request, [rgb])
    assert stipple.xy.shape == (1000, 2) and stipple.rgb.shape == (1000, 3)
    reference = run_engine("ccvt", dark, 1000, seed=1, device="cpu").xy
    close_quality(evaluate(dark, stipple.xy), evaluate(dark, reference), psnr_db=0.5)


def test_tiny_training_run_with_amp_on_cuda(tmp_path):
    from training.run import main

    overrides = [
        f"run.dir='{tmp_path / 'run'}'",
        "train.device='cuda'",
        "train.amp=true",
        "train.epochs=2",
        "data.count=16",
        "data.val_count=2",
        "data.size=48",
        "data.points=128",
        "val.max_items=2",
        "val.points=[200, 400]",
    ]
    main(["--config", "training/configs/default.toml", *overrides])
    with open(tmp_path / "run" / "log.csv", newline="") as log:
        rows = list(csv.DictReader(log))
    assert len(rows) == 2
    assert all(math.isfinite(float(row["train_total"])) for row in rows)
    checkpoint = tmp_path / "run" / "checkpoints" / "last.pt"
    assert torch.load(checkpoint, map_location="cpu", weights_only=True)
