"""The torch backend of ccvt's power diagrams: same cells as numpy, same-quality stipples,
torch imported only when used. Tests marked ``cuda`` need a CUDA GPU (skipped without)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

from stipplr.engines.ccvt import ccvt
from stipplr.engines.power import cells, power_grid
from stipplr.errors import OptionError
from stipplr.metrics import capacity_cv, spacing_ratios
from tests.test_ccvt import portrait


def same_cells(a, b) -> None:
    """Equal labels and cut-pixel rows; masses and centroids equal to float rounding."""
    np.testing.assert_array_equal(a.labels, b.labels)
    for name in ("pixel", "owner", "other"):
        np.testing.assert_array_equal(getattr(a.edge, name), getattr(b.edge, name))
    np.testing.assert_allclose(a.edge.share, b.edge.share, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(a.mass, b.mass, rtol=1e-12, atol=1e-12 * a.mass.max())
    np.testing.assert_allclose(a.centroid, b.centroid, rtol=0, atol=1e-10)


def scene(seed: int, n: int, shape=(30, 40), grid=(60, 80)):
    """A random density grid (numpy and torch-cpu backends), dots and weights."""
    rng = np.random.default_rng(seed)
    dark = rng.random(shape) * 0.5 + 0.3
    grids = power_grid(dark, *grid), power_grid(dark, *grid, "cpu")
    pts = rng.random((n, 2)) * grids[0].size
    return grids, pts, rng.random(n) * 10, rng


@pytest.mark.parametrize(("seed", "n", "jump"), [(0, 20, 0.3), (1, 60, 1.0), (2, 60, 8.0)])
def test_torch_cells_match_numpy_exact_and_relabelled(seed, n, jump):
    # jump 8 px moves dots far: local relabelling gives up and both fall back to exact.
    (numpy_grid, torch_grid), pts, weights, rng = scene(seed, n)
    first = cells(numpy_grid, pts, weights)
    same_cells(first, cells(torch_grid, pts, weights))
    moved = pts + rng.normal(0, jump, pts.shape)
    heavier = weights + rng.normal(0, jump, n)
    same_cells(
        cells(numpy_grid, moved, heavier, first.labels),
        cells(torch_grid, moved, heavier, first.labels),
    )


def test_torch_claims_match_numpy_with_many_dots_per_pixel():
    # 500 dots on 48 pixels: most pixels are claimed by several dots at once.
    (numpy_grid, torch_grid), pts, weights, rng = scene(3, 500, shape=(6, 8), grid=(6, 8))
    first = cells(numpy_grid, pts, np.zeros(500))
    moved = np.clip(pts + rng.normal(0, 0.2, pts.shape), 0, numpy_grid.size)
    same_cells(
        cells(numpy_grid, moved, weights * 0.01, first.labels),
        cells(torch_grid, moved, weights * 0.01, first.labels),
    )


def test_torch_cpu_stipples_as_well_as_numpy_and_reproducibly():
    dark = portrait()
    ours = ccvt(dark, 400, seed=3, device="torch-cpu")
    reference = ccvt(dark, 400, seed=3, device="cpu")
    np.testing.assert_array_equal(ours, ccvt(dark, 400, seed=3, device="torch-cpu"))
    assert ours.shape == (400, 2)
    assert capacity_cv(dark, ours) < 1.1 * capacity_cv(dark, reference)
    spacing = spacing_ratios(dark, ours)
    assert spacing.mean() > spacing_ratios(dark, reference).mean() - 0.01
    assert np.percentile(spacing, 1) > 0.6


def test_numpy_path_does_not_import_torch():
    code = (
        "import sys, numpy as np\n"
        "import stipplr.engines\n"
        "from stipplr.engines.ccvt import ccvt\n"
        "ccvt(np.ones((20, 20)), 10, iterations=3, device='auto')\n"
        "ccvt(np.ones((20, 20)), 10, iterations=3, device='cpu')\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    expected = "True" if torch.cuda.is_available() else "False"  # auto uses CUDA if there
    assert out.stdout.strip() == expected


@pytest.mark.parametrize("device", ["gpu", "", 3, "CUDA-ish"])
def test_unknown_devices_are_one_line_errors(device):
    with pytest.raises(OptionError, match="ccvt option device"):
        ccvt(portrait(32), 20, device=device)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal without CUDA")
def test_cuda_without_a_gpu_is_refused():
    with pytest.raises(OptionError, match="no CUDA GPU"):
        ccvt(portrait(32), 20, device="cuda")


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_cells_and_stipples_match_numpy():
    (numpy_grid, _), pts, weights, _ = scene(4, 60)
    cuda_grid = power_grid(numpy_grid.mass.reshape(60, 80) / numpy_grid.step.prod(), 60, 80, "cuda")
    same_cells(cells(numpy_grid, pts, weights), cells(cuda_grid, pts, weights))
    dark = portrait()
    ours, reference = ccvt(dark, 400, seed=3, device="cuda"), ccvt(dark, 400, seed=3)
    assert capacity_cv(dark, ours) < 1.1 * capacity_cv(dark, reference)
    assert spacing_ratios(dark, ours).mean() > spacing_ratios(dark, reference).mean() - 0.01
