"""li2021's ``image_skip`` (the decoder sees the image's column darkness at its own grids),
``area_shares`` (column shares per unit area) and ``encoder_width`` (a narrower ResNet)."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from stipplr.checkpoints import load_checkpoint, save_checkpoint
from stipplr.errors import StipplrError
from stipplr.models import build_model
from stipplr.models.li2021 import (
    GUIDED_FLOOR,
    column_areas,
    column_mass,
    grid_darkness,
    guided_darkness,
    guided_mass,
    guided_points,
    init_encoder,
)
from stipplr.tone import Tone, darkness
from training.tasks import li2021 as task

torch.set_num_threads(1)

GRID = 8


@pytest.fixture(scope="module")
def skip_config(tiny_li2021) -> dict:
    return {**tiny_li2021, "selection": "guided", "image_skip": True}


def test_grid_darkness_is_the_training_target_without_the_floor():
    torch.manual_seed(0)
    source = torch.rand(2, 3, 24, 24)
    expected = task.column_darkness(source, GRID) - GUIDED_FLOOR
    assert torch.allclose(grid_darkness(source, GRID), expected, atol=1e-5)


def test_grid_darkness_averages_each_columns_pixels_at_any_size():
    torch.manual_seed(1)
    rgb = torch.rand(1, 3, 21, 35)
    dark = torch.from_numpy(darkness(rgb[0].permute(1, 2, 0).numpy(), Tone()))
    got = grid_darkness(rgb, GRID)[0]
    for i, j in ((0, 0), (3, 5), (7, 7)):  # i along x, j along y
        xs = [x for x in range(35) if x * GRID // 35 == i]
        ys = [y for y in range(21) if y * GRID // 21 == j]
        assert float(got[i, j]) == pytest.approx(float(dark[ys][:, xs].mean()), abs=1e-5)


def test_skip_off_leaves_the_faithful_network_unchanged(tiny_li2021, skip_config):
    plain = build_model("li2021", {**tiny_li2021, "selection": "guided"})
    skip = build_model("li2021", skip_config)
    assert not plain.config.image_skip and "skip_gain" not in plain.state_dict()
    assert plain.blocks[0].conv.in_channels == tiny_li2021["channels"][0]
    assert skip.blocks[0].conv.in_channels == tiny_li2021["channels"][0] + 2
    assert float(skip.skip_gain.detach()) == 0.0  # the network learns to use it


def test_a_unit_gain_alone_gives_the_images_own_column_shares(skip_config):
    model = build_model("li2021", skip_config).eval()
    with torch.no_grad():
        model.skip_gain.fill_(1.0)
        model.density_head[-1].weight.zero_()
        model.density_head[-1].bias.zero_()
        source = torch.rand(1, 3, 24, 24)
        mass = column_mass(model(source)["density"])
    target = task.column_darkness(source, GRID)
    assert torch.allclose(mass, target / target.sum(), atol=1e-5)


def test_skip_training_reaches_the_gain_and_follows_the_flips(skip_config):
    torch.manual_seed(2)
    cfg = {"model": {"arch": "li2021", "config": skip_config}}
    model = build_model("li2021", skip_config).train()
    batch = {"source": torch.rand(2, 3, 24, 24), "dots": torch.rand(2, 50, 5)}
    terms = task.compute_loss(model, batch, cfg)
    assert torch.isfinite(terms["total"])
    terms["total"].backward()
    assert float(model.skip_gain.grad.abs()) > 0
    flipped = task.dihedral(batch["source"], torch.tensor([5, 5]))  # transpose, flip x
    assert torch.allclose(
        grid_darkness(flipped, GRID), grid_darkness(batch["source"], GRID).mT.flip(1)
    )


def test_skip_checkpoint_round_trips(skip_config, tmp_path):
    torch.manual_seed(3)
    model = build_model("li2021", skip_config).eval()
    path = save_checkpoint(tmp_path / "skip.pt", model, "li2021", model.config)
    loaded, _ = load_checkpoint(path)
    assert dataclasses.asdict(loaded.config) == dataclasses.asdict(model.config)
    image, dark = torch.rand(1, 3, 20, 30), torch.rand(1, 1, 20, 30)
    with torch.inference_mode():
        assert torch.equal(loaded.predict(image, dark, 40)[0], model.predict(image, dark, 40)[0])


def test_a_narrow_encoder_keeps_the_resnet_blocks_and_shrinks_the_network(skip_config):
    wide = build_model("li2021", skip_config)
    narrow = build_model("li2021", {**skip_config, "encoder_width": 16})
    assert [len(narrow.encoder.layer1), len(narrow.encoder.layer4)] == [2, 2]  # resnet18
    assert narrow.encoder.layer4[-1].conv2.out_channels == 128
    assert narrow.project.in_features == 128
    sizes = [sum(p.numel() for p in m.encoder.parameters()) for m in (narrow, wide)]
    assert sizes[0] < sizes[1] / 10
    with torch.no_grad():
        out = narrow(torch.rand(2, 3, 40, 30))
    assert out["density"].shape == (2, GRID, GRID, GRID)
    with pytest.warns(UserWarning, match="no ImageNet weights fit"):
        assert init_encoder(narrow, narrow.config) is False
    with pytest.raises(StipplrError, match="encoder_width"):
        build_model("li2021", {**skip_config, "encoder_width": 0})


def test_column_areas_count_each_columns_pixels():
    areas = column_areas(21, 35, GRID)  # [i, j], i along x
    assert float(areas.sum()) == 21 * 35
    assert float(areas[0, 0]) == 5 * 3 and float(areas[1, 0]) == 4 * 3
    assert torch.equal(column_areas(32, 32, GRID), torch.full((GRID, GRID), 16.0).double())


def test_area_shares_make_even_shares_an_even_tone_at_any_size():
    logits = torch.zeros(1, GRID, GRID, GRID)  # the same share for every column
    flat = torch.full((1, 21, 35), 0.5)
    even = guided_darkness(flat, guided_mass(logits, 21, 35, by_area=True))
    assert float(even.amax() - even.amin()) < 1e-9
    uneven = guided_darkness(flat, guided_mass(logits, 21, 35))
    assert float(uneven.amax() / uneven.amin()) > 1.5  # 12-px columns get 15-px columns' ink
    square = torch.full((1, 32, 32), 0.5)
    assert torch.allclose(guided_mass(logits, 32, 32, True).float(), guided_mass(logits, 32, 32))
    grids = {"density": logits, "offsets": torch.rand(1, 3, GRID, GRID, GRID)}
    assert torch.equal(guided_points(grids, square, 60, True), guided_points(grids, square, 60))


def test_the_skip_reads_the_calls_darkness_and_the_default_tone_matches_training(skip_config):
    model = build_model("li2021", skip_config).eval()
    with torch.no_grad():
        model.skip_gain.fill_(1.0)
        rgb = torch.rand(1, 3, 32, 32)
        default = torch.from_numpy(darkness(rgb[0].permute(1, 2, 0).numpy(), Tone()))[None]
        trained_way = model(rgb)["density"]
        assert torch.allclose(model(rgb, default)["density"], trained_way, atol=1e-5)
        other = torch.from_numpy(darkness(rgb[0].permute(1, 2, 0).numpy(), Tone(gamma=2.0)))
        assert not torch.allclose(model(rgb, other[None])["density"], trained_way, atol=1e-3)
