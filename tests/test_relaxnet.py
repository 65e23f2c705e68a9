"""relaxnet: the unrolled relaxation's pieces, exact N at any size, seeds, no lattice."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import stipplr
from stipplr import metrics
from stipplr.checkpoints import save_checkpoint
from stipplr.engines.dither import scattered_dither
from stipplr.metrics.structure import bond_order
from stipplr.models import build_model, make_config
from stipplr.models.relaxnet import ForceKernel, ink_density, sample, splat


@pytest.fixture(scope="module")
def physics():
    """An untrained relaxnet (zero CNN head): the plain unrolled physics, 8 passes."""
    torch.set_num_threads(2)
    return build_model("relaxnet", {"passes": 8}).eval()


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory, physics):
    path = tmp_path_factory.mktemp("models") / "relax.pt"
    return save_checkpoint(path, physics, "relaxnet", make_config("relaxnet", {"passes": 8}))


def predict(model, dark: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    torch.manual_seed(seed)
    with torch.inference_mode():
        xy, colours = model.predict(None, torch.from_numpy(dark).float()[None, None], n)
    assert colours is None
    return xy[0].numpy()


def test_splat_keeps_every_dot_and_sample_is_bilinear():
    pts = torch.tensor([[[2.3, 4.6], [7.9, 1.2], [0.1, 9.9]]])
    assert float(splat(pts, (10, 10)).sum()) == pytest.approx(3.0)
    ys, xs = torch.meshgrid(torch.arange(10.0), torch.arange(10.0), indexing="ij")
    field = torch.stack([xs + 0.5, 2 * (ys + 0.5)])[None]  # linear in x and y
    got = sample(field, torch.tensor([[[3.25, 4.75]]]))
    assert torch.allclose(got, torch.tensor([[[3.25, 9.5]]]))


def test_the_force_of_one_charge_is_radial_and_isotropic():
    with torch.no_grad():
        kernel = ForceKernel(make_config("relaxnet", {}))(shape=(64, 64), h=4.0, device="cpu")
    charge = torch.zeros(128, 128)
    charge[32, 32] = 1.0
    force = torch.fft.irfft2(torch.fft.rfft2(charge) * kernel, s=(128, 128))
    right, down = force[0, 32, 42], force[1, 42, 32]  # 10 px to the right / below
    assert right < 0 and down < 0  # a move of -force is away from the (excess) charge
    assert float(right) == pytest.approx(float(down), rel=1e-4)
    diagonal = math.hypot(float(force[0, 39, 39]), float(force[1, 39, 39]))  # 9.9 px away
    assert diagonal == pytest.approx(abs(float(right)), rel=0.1)


def test_ink_density_sums_to_n_up_and_down():
    dark = torch.rand(1, 1, 30, 40)
    for shape in ((12, 16), (90, 120)):
        assert float(ink_density(dark, shape, 77).sum()) == pytest.approx(77.0, rel=1e-5)


@pytest.mark.parametrize("n", [1, 100, 3000])
def test_exact_count_on_any_size_and_aspect(physics, n):
    for shape in ((8, 6), (40, 90), (120, 30)):
        dark = np.random.default_rng(1).random(shape)
        xy = predict(physics, dark, n)
        assert xy.shape == (n, 2) and np.isfinite(xy).all()
        assert xy.min() >= 0 and xy.max() <= 1


def test_the_physics_already_beats_the_dither_start(physics):
    ys, xs = np.mgrid[0:96, 0:128] / 96
    dark = np.clip(0.15 + 0.8 * xs / 1.33 + 0.3 * (np.hypot(xs - 0.8, ys - 0.5) < 0.25), 0, 1)
    relaxed = metrics.evaluate(dark, predict(physics, dark, 1500))
    start = metrics.evaluate(dark, scattered_dither(dark, 1500, seed=0))  # its own start
    assert relaxed["psnr_db"] > start["psnr_db"] + 5
    assert relaxed["capacity_cv"] < start["capacity_cv"] - 0.03
    assert relaxed["spacing_mean"] > start["spacing_mean"] + 0.03


def test_black_gives_no_square_lattice(physics):
    xy = predict(physics, np.ones((128, 128)), 4000)
    local4, global4 = bond_order(xy, 4)
    # a square grid scores (1, 1); relaxed sets ~0.3-0.4 locally and ~0 globally. The
    # global score is the lattice detector: an axis-aligned grid anywhere in the field
    # lifts it, while 4000 unordered dots keep it near 1/sqrt(4000) ~ 0.02.
    assert global4 < 0.08 and local4 < 0.6


def test_seed_changes_the_realisation_and_reproduces_it_exactly(checkpoint):
    image = np.random.default_rng(3).random((40, 60, 3))
    kwargs = {"engine": "neural", "model": str(checkpoint), "device": "cpu"}
    a = stipplr.stipple(image, 400, seed=1, **kwargs).xy
    assert np.array_equal(a, stipplr.stipple(image, 400, seed=1, **kwargs).xy)
    assert not np.allclose(a, stipplr.stipple(image, 400, seed=2, **kwargs).xy)


def test_a_batch_with_an_image_too_sparse_for_n_runs_each_image_alone(checkpoint):
    sparse = np.ones((60, 80, 3))
    sparse[30, 40] = 0.0  # one black pixel: the dither gives fewer cells than dots
    dense = np.random.default_rng(0).random((60, 80, 3))
    kwargs = {"engine": "neural", "model": str(checkpoint), "device": "cpu"}
    with pytest.warns(UserWarning, match="too sparse"):
        out = stipplr.stipple_many([dense, sparse], 3000, **kwargs)
    assert len(out[0]) == 3000 and 0 < len(out[1]) < 3000
    assert np.array_equal(out[0].xy, stipplr.stipple(dense, 3000, **kwargs).xy)
