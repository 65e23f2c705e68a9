"""Point-set losses on sets whose answer is known."""

from __future__ import annotations

import math

import pytest
import torch

from training import losses

torch.set_num_threads(2)


def jittered_grid(side: int, seed: int, batch: int = 1) -> torch.Tensor:
    """(batch, side^2, 2): one uniform point in each cell of a side x side grid."""
    g = torch.Generator().manual_seed(seed)
    ij = torch.stack(torch.meshgrid(torch.arange(side), torch.arange(side), indexing="xy"), -1)
    cells = ij.reshape(1, -1, 2).float()
    return (cells + torch.rand(batch, side * side, 2, generator=g)) / side


def uniform(n: int, seed: int, batch: int = 1) -> torch.Tensor:
    return torch.rand(batch, n, 2, generator=torch.Generator().manual_seed(seed))


def test_chamfer_of_a_set_with_itself_is_zero():
    points = uniform(500, 0, batch=3)
    assert torch.allclose(losses.chamfer(points, points), torch.zeros(3))


def test_chamfer_of_shifted_sets_is_shift_squared():
    side = torch.arange(20.0) / 20
    points = torch.stack(torch.meshgrid(side, side, indexing="xy"), -1).reshape(1, -1, 2)
    shift = torch.tensor([0.003, -0.004])
    assert losses.chamfer(points + shift, points).item() == pytest.approx(25e-6, rel=1e-4)


def test_chamfer_is_symmetric_and_batched_with_different_sizes():
    a, b = uniform(300, 2, batch=4), uniform(170, 3, batch=4)
    ab, ba = losses.chamfer(a, b), losses.chamfer(b, a)
    assert ab.shape == (4,)
    assert torch.allclose(ab, ba)
    assert (ab > 0).all()


def test_chamfer_matches_brute_force():
    a, b = uniform(40, 4, batch=2), uniform(55, 5, batch=2)
    d = ((a[:, :, None] - b[:, None]) ** 2).sum(-1)
    expected = (d.min(2).values.mean(1) + d.min(1).values.mean(1)) / 2
    assert torch.allclose(losses.chamfer(a, b), expected)


def test_chamfer_chunks_agree():
    a, b = uniform(300, 6), uniform(280, 7)
    assert torch.equal(losses.nearest_indices(a, b, chunk=7), losses.nearest_indices(a, b))


def test_chamfer_gradients_reach_both_sets_and_the_weights():
    a = uniform(100, 8).requires_grad_()
    b = uniform(120, 9).requires_grad_()
    w = torch.ones(1, 100, requires_grad=True)
    losses.chamfer(a, b, w).sum().backward()
    assert a.grad.abs().sum() > 0 and b.grad.abs().sum() > 0 and w.grad.abs().sum() > 0


def test_splat_keeps_mass_and_places_a_centred_point_in_one_pixel():
    raster = losses.splat(torch.tensor([[[0.5 + 0.5 / 8, 0.25 + 0.5 / 8]]]), 8)
    assert raster.sum().item() == pytest.approx(1.0)
    assert raster[0, 2, 4].item() == pytest.approx(1.0)
    assert losses.splat(uniform(1000, 10, batch=2), 32).sum((1, 2)).allclose(torch.tensor(1000.0))


def test_radial_power_of_a_random_set_is_about_one():
    raps = losses.radial_power(losses.splat(uniform(20_000, 11), 64), 20_000)
    # Low radii: bilinear splatting barely attenuates; a Poisson set has power 1 there.
    assert raps.shape == (1, 32)
    assert raps[0, 2:10].mean().item() == pytest.approx(1.0, abs=0.15)


def test_spectrum_loss_zero_for_identical_sets_and_larger_for_random_than_jittered():
    grid_a, grid_b = jittered_grid(32, 12), jittered_grid(32, 13)
    same = losses.spectrum_loss(grid_a, grid_a)
    jittered = losses.spectrum_loss(grid_b, grid_a).item()
    random = losses.spectrum_loss(uniform(1024, 14), grid_a).item()
    assert same.item() == pytest.approx(0.0, abs=1e-6)
    assert random > 1.5 * jittered > 0


def test_spectrum_loss_gradient_reaches_positions():
    pred = uniform(256, 15, batch=2).requires_grad_()
    loss = losses.spectrum_loss(pred, jittered_grid(16, 16, batch=2), size=32)
    assert loss.shape == (2,)
    loss.sum().backward()
    assert pred.grad.abs().sum() > 0


def test_colour_loss_uses_the_nearest_target_dot():
    target_xy = torch.tensor([[[0.1, 0.1], [0.9, 0.9]]])
    target_rgb = torch.tensor([[[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]])
    pred_xy = torch.tensor([[[0.12, 0.1], [0.85, 0.9], [0.2, 0.1]]])
    pred_rgb = torch.tensor([[[0.0, 0.0, 0.0], [0.7, 0.7, 0.7], [0.3, 0.3, 0.3]]])
    pred_rgb.requires_grad_()
    loss = losses.colour_loss(pred_xy, pred_rgb, target_xy, target_rgb)
    assert loss.item() == pytest.approx((0.0 + 0.3 + 0.3) / 3)
    loss.sum().backward()
    assert pred_rgb.grad.abs().sum() > 0


def test_histogram_counts_points_per_cell_along_coordinate_axes():
    points = torch.tensor([[[0.1, 0.6, 0.0], [0.1, 0.6, 0.2], [0.9, 0.1, 1.0]]])
    counts = losses.histogram(points, 2)
    assert counts.shape == (1, 2, 2, 2)
    assert counts[0, 0, 1, 0] == 2 and counts[0, 1, 0, 1] == 1 and counts.sum() == 3


def test_density_loss_zero_at_the_histogram_and_positive_elsewhere():
    counts = losses.histogram(torch.rand(2, 400, 3, generator=torch.Generator().manual_seed(17)), 4)
    counts = counts + 1  # every cell occupied so log(counts) is finite
    exact = losses.density_loss(torch.log(counts), counts)
    assert torch.allclose(exact, torch.zeros(2), atol=1e-6)
    logits = torch.zeros_like(counts, requires_grad=True)
    loss = losses.density_loss(logits, counts)
    assert (loss > 0).all()
    loss.sum().backward()
    assert (logits.grad != 0).float().mean() > 0.9


def test_weighted_total_uses_the_paper_weights_by_default():
    terms = {"chamfer": torch.tensor([1.0, 3.0]), "spectrum": torch.tensor([10.0])}
    total = losses.weighted_total(terms, losses.LossWeights())
    assert total.item() == pytest.approx(2.0 + 1.0)
    assert math.isclose(losses.LossWeights().colour, 1.0)
