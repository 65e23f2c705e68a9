"""lloydnet: grid inputs, output shapes and bounds, exact N, the dither as the zero-offset start."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from stipplr.engines.dither import dither_grid
from stipplr.errors import OptionError
from stipplr.models import build_model
from stipplr.models.lloydnet import Config, build, dot_positions, grid_inputs, hex_spacing

TINY = {"widths": (4, 8, 8), "subcells": 2, "max_offset": 3.0}


def ramp(height: int, width: int) -> np.ndarray:
    """A darkness ramp from 0.1 to 0.9 across the width."""
    return np.tile(np.linspace(0.1, 0.9, width, dtype=np.float32), (height, 1))


def test_grid_inputs_are_normalised_dot_densities():
    dark = ramp(60, 90)
    inputs = grid_inputs(dark, 400, subcells=2)
    rows, cols = inputs.grid.rows, inputs.grid.cols
    assert inputs.coarse.shape == (4, rows, cols)
    assert inputs.fine.shape == (2 * rows, 2 * cols)
    assert inputs.coarse[0].sum() == 400
    assert inputs.coarse[2].sum() == pytest.approx(400, rel=1e-4)
    assert inputs.fine.mean() == pytest.approx(inputs.coarse[2].mean(), rel=1e-3)


def test_forward_shapes_and_bounds_on_odd_grids():
    torch.manual_seed(0)
    model = build(Config(**TINY))
    torch.nn.init.normal_(model.head.weight, std=50.0)
    out = model(torch.rand(2, 1, 26, 42), torch.rand(2, 4, 13, 21))
    assert out.shape == (2, 2, 13, 21)
    assert out.abs().max() <= 3.0
    assert out.abs().max() > 1.0


@pytest.mark.parametrize(("shape", "n"), [((64, 64), 500), ((40, 120), 700), ((150, 50), 900)])
def test_predict_gives_exactly_n_dots_in_the_image(shape, n):
    model = build_model("lloydnet", TINY).eval()
    torch.nn.init.normal_(model.head.weight, std=1.0)
    dark = torch.from_numpy(ramp(*shape))[None, None]
    with torch.inference_mode():
        xy, rgb = model.predict(torch.zeros(1, 3, *shape), dark, n)
    assert rgb is None
    assert xy.shape == (1, n, 2)
    assert float(xy.min()) >= 0 and float(xy.max()) <= 1


def test_untrained_model_returns_the_dither_and_polish_moves_it():
    model = build(Config(**TINY)).eval()
    dark = ramp(48, 64)
    with torch.inference_mode():
        xy, _ = model.predict(None, torch.from_numpy(dark)[None, None], 300)
        polished, _ = model.predict(None, torch.from_numpy(dark)[None, None], 300, polish=2)
    np.testing.assert_allclose(xy[0].numpy(), dither_grid(dark, 300).centres(), atol=1e-6)
    assert not np.allclose(polished[0].numpy(), xy[0].numpy())
    with pytest.raises(OptionError):
        model.predict(None, torch.from_numpy(dark)[None, None], 300, polish=-1)


def test_dot_positions_apply_offsets_in_cell_units():
    grid = dither_grid(np.ones((40, 40), np.float32), 16 * 16)
    offsets = np.zeros((2, grid.rows, grid.cols), np.float32)
    offsets[0] = 0.25
    xy = dot_positions(grid, offsets)
    np.testing.assert_allclose(xy[:, 0] - grid.centres()[:, 0], 0.25 / grid.cols, atol=1e-6)
    np.testing.assert_allclose(xy[:, 1], grid.centres()[:, 1], atol=1e-6)


def test_hex_spacing_of_one_dot_per_cell():
    density = np.ones((30, 30), np.float32)
    spacing = hex_spacing(density, 900)
    assert spacing == pytest.approx(np.sqrt(2 / np.sqrt(3)), rel=1e-4)
