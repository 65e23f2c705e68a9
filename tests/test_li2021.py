"""li2021 network: a tiny variant's shapes, ranges, exact dot count and density gradient."""

from __future__ import annotations

import pytest
import torch

from stipplr.errors import StipplrError
from stipplr.models import build_model, make_config
from stipplr.models.li2021 import extract_points, init_encoder

torch.set_num_threads(2)


@pytest.fixture(scope="module")
def tiny(tiny_li2021):
    torch.manual_seed(0)
    return build_model("li2021", tiny_li2021)


def test_forward_shapes_and_ranges(tiny):
    grids = tiny(torch.rand(2, 3, 20, 30))
    assert grids["density"].shape == (2, 8, 8, 8)
    assert grids["offsets"].shape == (2, 3, 8, 8, 8)
    assert grids["offsets"].min() >= 0 and grids["offsets"].max() <= 1


@pytest.mark.parametrize("n", [1, 37, 512])
def test_predict_gives_exactly_n_dots_in_range(tiny, n):
    tiny.eval()
    with torch.inference_mode():
        xy, rgb = tiny.predict(torch.rand(2, 3, 20, 30), torch.rand(2, 1, 20, 30), n)
    assert xy.shape == (2, n, 2) and rgb.shape == (2, n, 3)
    assert xy.min() >= 0 and xy.max() <= 1
    assert torch.equal(rgb[..., 0], rgb[..., 2])  # grey level mapped to RGB grey


def test_points_lie_in_their_top_k_cells(tiny):
    tiny.eval()
    with torch.no_grad():
        grids = tiny(torch.rand(1, 3, 16, 16))
        points, weights = extract_points(grids, 20)
    cells = (points[0] * 8).floor().long().clamp(max=7)
    chosen = grids["density"][0][cells[:, 0], cells[:, 1], cells[:, 2]]
    threshold = grids["density"].flatten().topk(20).values[-1]
    assert torch.all(chosen >= threshold)
    assert len({tuple(c) for c in cells.tolist()}) == 20  # one dot per distinct cell
    assert torch.allclose(weights, torch.ones_like(weights))


def test_too_many_dots_refused(tiny):
    with pytest.raises(StipplrError, match="1 to 512"):
        extract_points(tiny(torch.rand(1, 3, 16, 16)), 513)


def test_density_head_gets_gradient_through_top_k(tiny):
    tiny.train()
    tiny.zero_grad()
    points, weights = extract_points(tiny(torch.rand(2, 3, 16, 16)), 50)
    loss = (weights * ((points[..., :2] - 0.5) ** 2).sum(-1)).mean()
    loss.backward()
    density_grad = sum(p.grad.abs().sum() for p in tiny.density_head.parameters())
    assert density_grad > 0
    assert tiny.offset_head[0].weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in tiny.encoder.parameters())  # frozen


def test_frozen_encoder_stays_in_eval_mode(tiny):
    tiny.train()
    assert not tiny.encoder.training and tiny.blocks.training


def test_config_round_trips_json_lists(tiny_li2021):
    config = make_config("li2021", {**tiny_li2021, "channels": [16, 16, 8, 8, 8]})
    assert config.channels == (16, 16, 8, 8, 8)
    with pytest.raises(StipplrError, match="no config field"):
        make_config("li2021", {"bogus": 1})


def test_bad_grid_refused(tiny_li2021):
    with pytest.raises(StipplrError, match="decoder channels"):
        build_model("li2021", {**tiny_li2021, "grid": 16})


def test_missing_imagenet_weights_warn_in_one_line(tiny, tiny_li2021, tmp_path):
    config = make_config("li2021", {**tiny_li2021, "encoder_weights": str(tmp_path / "none.pth")})
    with pytest.warns(UserWarning, match="no ImageNet weights for resnet18"):
        assert init_encoder(tiny, config) is False


def test_local_imagenet_weights_load(tiny_li2021, tmp_path):
    tiny = build_model("li2021", tiny_li2021)
    state = {k: torch.full_like(v, 0.5) for k, v in tiny.encoder.state_dict().items()}
    state["fc.weight"] = torch.zeros(1000, 512)
    torch.save(state, tmp_path / "resnet18-test.pth")
    config = make_config(
        "li2021", {**tiny_li2021, "encoder_weights": str(tmp_path / "resnet18-test.pth")}
    )
    assert init_encoder(tiny, config) is True
    assert torch.all(tiny.encoder.conv1.weight == 0.5)
