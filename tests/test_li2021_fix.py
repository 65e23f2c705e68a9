"""li2021's stacked-dots fix (``selection = "subcell"``): spread columns, old configs, gradients."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from stipplr.checkpoints import load_checkpoint, save_checkpoint
from stipplr.errors import StipplrError
from stipplr.models import build_model, make_config
from stipplr.models.li2021 import (
    SUBCELL_SPREAD,
    column_counts,
    dispersed_order,
    select_points,
    slot_histogram,
    slot_index,
    subgrid,
)

torch.set_num_threads(1)

GRID = 8


@pytest.fixture(scope="module")
def nets(tiny_li2021):
    """The tiny li2021 network twice, same random weights, paper and subcell selection."""
    torch.manual_seed(0)
    paper = build_model("li2021", tiny_li2021).eval()
    fixed = build_model("li2021", {**tiny_li2021, "selection": "subcell"}).eval()
    fixed.load_state_dict(paper.state_dict())
    return paper, fixed


def column_min_distance(points: torch.Tensor) -> float:
    """Smallest distance between two dots of the same (x, y) grid column, over all columns."""
    xy = points[0, :, :2]
    column = (xy * GRID).floor().long().clamp(max=GRID - 1)
    same = (column[:, None] == column[None, :]).all(-1) & ~torch.eye(len(xy), dtype=torch.bool)
    return float(torch.cdist(xy, xy)[same].min())


def test_subcell_never_stacks_a_column_and_paper_does(nets):
    paper, fixed = nets
    image = torch.rand(1, 3, 24, 24)
    bound = (1 - SUBCELL_SPREAD) / (max(subgrid(GRID)) * GRID)
    with torch.no_grad():
        grids = paper(image)
        stacked, _ = select_points(grids, 300, paper.config)
        spread, _ = select_points(grids, 300, fixed.config)
    assert column_min_distance(spread) >= bound - 1e-6
    assert column_min_distance(stacked) < bound / 4  # the published selection stacks dots
    # and no two of the fix's dots at all are closer than half a sub-cell
    xy = spread[0, :, :2]
    assert float((torch.cdist(xy, xy) + torch.eye(len(xy))).min()) >= bound - 1e-6


@pytest.mark.parametrize("n", [1, 64, 300, 512])
def test_subcell_predicts_exactly_n_dots_in_range(nets, n):
    _, fixed = nets
    with torch.inference_mode():
        xy, rgb = fixed.predict(torch.rand(2, 3, 20, 30), torch.rand(2, 1, 20, 30), n)
    assert xy.shape == (2, n, 2) and rgb is None  # colour comes from the photo
    assert xy.min() >= 0 and xy.max() <= 1
    slots = slot_index(xy, GRID)
    assert all(len(set(row.tolist())) == n for row in slots)  # one dot per slot
    with pytest.raises(StipplrError, match="1 to 512"):
        fixed.predict(torch.rand(1, 3, 20, 30), torch.rand(1, 1, 20, 30), 513)


def test_column_counts_are_capped_and_exact():
    mass = torch.tensor([[10.0, 1.0, 1.0, 0.0], [0.25, 0.25, 0.25, 0.25]])
    counts = column_counts(mass, 9, cap=4)
    assert counts.sum(1).tolist() == [9, 9]
    assert counts.max() <= 4 and counts[0, 0] == 4
    assert counts[1].tolist() in ([3, 2, 2, 2], [2, 3, 2, 2], [2, 2, 3, 2], [2, 2, 2, 3])


def test_dispersed_order_spreads_the_first_slots():
    rank = dispersed_order(4, 4).view(4, 4)
    assert sorted(rank.flatten().tolist()) == list(range(16))
    first = (rank < 4).nonzero()  # the first four slots: one per 2 x 2 quarter of the cell
    assert len({(int(r) // 2, int(c) // 2) for r, c in first}) == 4


def test_slot_histogram_counts_each_dot_in_its_slot():
    xy = torch.rand(2, 100, 2)
    counts = slot_histogram(xy, GRID)
    assert counts.shape == (2, GRID, GRID, GRID) and counts.sum().item() == 200
    flat = slot_index(xy, GRID)
    assert torch.equal(counts.flatten(1).gather(1, flat) > 0, torch.ones_like(flat, dtype=bool))


def test_old_config_without_selection_loads_as_paper(nets, tiny_li2021, tmp_path):
    paper, _ = nets
    old = dataclasses.asdict(make_config("li2021", tiny_li2021))
    del old["selection"]  # a checkpoint written before the fix
    path = save_checkpoint(tmp_path / "old.pt", paper, "li2021", old)
    assert "selection" not in torch.load(path, weights_only=True)["config"]
    model, _ = load_checkpoint(path)
    assert model.config.selection == "paper"
    with torch.inference_mode():
        xy, rgb = model.predict(torch.rand(1, 3, 20, 30), torch.rand(1, 1, 20, 30), 40)
    assert xy.shape == (1, 40, 2) and rgb.shape == (1, 40, 3)


def test_subcell_checkpoint_round_trips(nets, tmp_path):
    _, fixed = nets
    path = save_checkpoint(tmp_path / "fix.pt", fixed, "li2021", fixed.config)
    assert torch.load(path, weights_only=True)["config"]["selection"] == "subcell"
    model, _ = load_checkpoint(path)
    assert model.config.selection == "subcell"


def test_unknown_selection_refused(tiny_li2021):
    with pytest.raises(StipplrError, match="selection must be one of"):
        build_model("li2021", {**tiny_li2021, "selection": "bogus"})


def test_subcell_training_step_gives_finite_density_gradients(tiny_li2021):
    from training.tasks import li2021 as task

    torch.manual_seed(1)
    cfg = {"model": {"arch": "li2021", "config": {**tiny_li2021, "selection": "subcell"}}}
    model = build_model("li2021", cfg["model"]["config"]).train()
    batch = {"source": torch.rand(2, 3, 24, 24), "dots": torch.rand(2, 200, 5)}
    terms = task.compute_loss(model, batch, {**cfg, "loss": {"spectrum_size": 32}})
    terms["total"].backward()
    assert all(torch.isfinite(v) for v in terms.values())
    grads = [p.grad for p in model.density_head.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert sum(g.abs().sum() for g in grads) > 0
    assert model.offset_head[0].weight.grad.abs().sum() > 0  # the dots' losses move them
