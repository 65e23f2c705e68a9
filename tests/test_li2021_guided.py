"""li2021's ``guided`` selection: column shares from the network, dots placed by the darkness."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from stipplr.checkpoints import load_checkpoint, save_checkpoint
from stipplr.errors import StipplrError
from stipplr.models import build_model
from stipplr.models.li2021 import (
    GUIDED_FLOOR,
    column_mass,
    column_of_pixels,
    guided_darkness,
    guided_points,
)
from training import losses
from training.tasks import li2021 as task

torch.set_num_threads(1)

GRID = 8


@pytest.fixture(scope="module")
def guided(tiny_li2021):
    """The tiny li2021 network with the ``guided`` selection, random weights."""
    torch.manual_seed(0)
    return build_model("li2021", {**tiny_li2021, "selection": "guided"}).eval()


def grids_with_mass(mass: torch.Tensor) -> dict[str, torch.Tensor]:
    """Density logits (1, G, G, G) whose column shares are ``mass`` (G, G), spread evenly."""
    logits = (mass / mass.sum()).log()[None, :, :, None].expand(1, GRID, GRID, GRID)
    return {"density": logits.contiguous(), "offsets": torch.rand(1, 3, GRID, GRID, GRID)}


def column_sums(image: torch.Tensor, grid: int) -> torch.Tensor:
    """Sums (G, G) of an (H, W) map over the columns, index [i, j] with i along x."""
    cx = column_of_pixels(image.shape[1], grid)
    cy = column_of_pixels(image.shape[0], grid)
    index = (cx[None, :] * grid + cy[:, None]).flatten()
    return image.new_zeros(grid * grid).index_add_(0, index, image.flatten()).view(grid, grid)


@pytest.mark.parametrize("n", [1, 37, 600])
def test_guided_predicts_exactly_n_distinct_dots_without_a_cap(guided, n):
    with torch.inference_mode():
        xy, rgb = guided.predict(torch.rand(2, 3, 20, 30), torch.rand(2, 1, 40, 60), n)
    assert xy.shape == (2, n, 2) and rgb is None  # 600 > 8^3 cells: no per-grid cap
    assert xy.min() >= 0 and xy.max() <= 1
    assert all(len(set(map(tuple, row.tolist()))) == n for row in xy)  # never stacked
    assert guided.n_range == (1, None)
    with pytest.raises(StipplrError, match="at least 1"):
        guided.predict(torch.rand(1, 3, 20, 30), torch.rand(1, 1, 20, 30), 0)


def test_guided_darkness_gives_each_column_its_share():
    darkness = torch.rand(1, 24, 40)
    mass = torch.rand(1, GRID, GRID) + 0.1
    scaled = guided_darkness(darkness, mass)
    assert float(scaled.max()) == pytest.approx(1.0)
    sums = column_sums(scaled[0].double(), GRID)
    assert torch.allclose(sums / sums.sum(), (mass / mass.sum())[0].double(), rtol=1e-6)
    # inside a column the ink keeps the image's own pattern
    ratio = scaled[0] / (darkness[0] + GUIDED_FLOOR)
    assert torch.allclose(ratio[:3, :5], ratio[0, 0].expand(3, 5), rtol=1e-5)


def test_guided_dots_follow_the_network_across_columns_and_darkness_inside(guided):
    mass = torch.full((GRID, GRID), 1e-4)
    mass[: GRID // 2] = 1.0  # the network inks the left half (i along x) only
    darkness = torch.ones(1, 32, 32)  # columns are 4 x 4 px; the right half is black too
    darkness[0, 2::4, :16] = darkness[0, 3::4, :16] = 0.0  # left: lower half of each column white
    xy = guided_points(grids_with_mass(mass), darkness, 200)[0]
    left = xy[xy[:, 0] < 0.5]
    assert len(left) > 0.97 * len(xy)  # the network, not the black right half, decides
    rows = (left[:, 1] * 32).long() % 4
    assert float((rows < 2).float().mean()) > 0.8  # inside a column the darkness decides (not 0.5)


def test_column_darkness_is_the_share_that_reproduces_the_image():
    source = torch.rand(2, 3, 32, 32)
    source[0, :, :, :8] = 0.0  # black left quarter of image 0
    target = task.column_darkness(source, GRID)
    assert target.shape == (2, GRID, GRID)
    assert bool((target[0, :2] > target[0, 2:].amax()).all())  # [b, i, j], i along x
    dark = torch.from_numpy(task.darkness(source[0].permute(1, 2, 0).numpy(), task.Tone()))
    scaled = guided_darkness(dark[None], target[:1])[0]
    ink = dark.double() + GUIDED_FLOOR
    assert torch.allclose(scaled, ink / ink.max(), rtol=1e-5)


def test_dihedral_gives_the_eight_symmetries_and_the_target_follows():
    image = torch.rand(1, 3, 6, 6)
    maps = [task.dihedral(image, torch.tensor([k])) for k in range(8)]
    assert torch.equal(maps[0], image)
    assert len({tuple(m.flatten().tolist()) for m in maps}) == 8
    flipped_x = task.column_darkness(maps[1], 3)
    assert torch.allclose(flipped_x, task.column_darkness(image, 3).flip(1))


def test_guided_training_trains_the_columns_only(tiny_li2021):
    torch.manual_seed(1)
    cfg = {"model": {"arch": "li2021", "config": {**tiny_li2021, "selection": "guided"}}}
    model = build_model("li2021", cfg["model"]["config"]).train()
    batch = {"source": torch.rand(2, 3, 24, 24), "dots": torch.rand(2, 50, 5)}
    terms = task.compute_loss(model, batch, cfg)
    assert set(terms) == {"total", "density"} and torch.isfinite(terms["total"])
    terms["total"].backward()
    assert sum(p.grad.abs().sum() for p in model.density_head.parameters()) > 0
    assert all(p.grad is None for p in model.offset_head.parameters())  # the dither places


def test_guided_loss_is_the_squared_error_of_the_column_shares(tiny_li2021):
    model = build_model("li2021", {**tiny_li2021, "selection": "guided"}).eval()
    source = torch.rand(1, 3, 24, 24)
    with torch.no_grad():
        loss = task.compute_loss(model, {"source": source, "dots": torch.rand(1, 9, 5)}, {})
        q = column_mass(model(source)["density"]).flatten()
    p = task.column_darkness(source, GRID).flatten()
    expected = ((q - p / p.sum()) * GRID**2).square().mean()
    assert float(loss["density"]) == pytest.approx(float(expected), rel=1e-4)


def test_share_loss_is_zero_at_the_target_and_bounded_where_it_is_concentrated():
    counts = torch.zeros(1, 16)
    counts[0, 0] = 5.0  # all ink in one cell
    exact = torch.full((1, 16), -30.0)
    exact[0, 0] = 30.0
    assert float(losses.share_loss(exact, counts)) == pytest.approx(0.0, abs=1e-9)
    far = torch.zeros(1, 16)
    far[0, 0] = -30.0  # the network puts no ink where all of it belongs
    assert float(losses.share_loss(far, counts)) < 18.0  # (16^2 + 15 (16/15)^2) / 16
    assert float(losses.density_loss(far, counts)) > 30.0  # the KL's log: unbounded


def test_guided_checkpoint_round_trips(guided, tmp_path):
    path = save_checkpoint(tmp_path / "guided.pt", guided, "li2021", guided.config)
    model, _ = load_checkpoint(path)
    assert dataclasses.asdict(model.config) == dataclasses.asdict(guided.config)
    image, darkness = torch.rand(1, 3, 20, 30), torch.rand(1, 1, 20, 30)
    with torch.inference_mode():
        loaded, _ = model.predict(image, darkness, 50)
        original, _ = guided.predict(image, darkness, 50)
    assert torch.equal(loaded, original)
