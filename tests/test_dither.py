"""The dither engine's hexagonally packed cells: ink kept, threshold map sheared to fit."""

from __future__ import annotations

import numpy as np
import pytest

from stipplr.engines.dither import HEX_ROW, dither, dither_grid, hex_average, hex_shape, hex_shear


def test_hexagonal_cells_keep_the_ink():
    rng = np.random.default_rng(0)
    dark = rng.random((50, 70))
    rows, cols = hex_shape(50, 70, 3.0)
    cells = hex_average(dark, rows, cols)
    full_cell = (70 / cols) * (50 / rows)  # px area of one full cell
    assert cells.shape == (rows, cols + 1)
    assert np.isclose(cells.sum() * full_cell, dark.sum())
    assert (cells[0::2, -1] == 0).all()  # even rows: cols cells, the last slot empty
    assert abs(70 / cols * HEX_ROW - 50 / rows) < 0.2  # rows sqrt(3)/2 of a cell apart


def test_hex_shear_keeps_map_neighbours_next_to_each_other():
    rows, cols, wide = 9, 12, 40
    column = np.tile(np.arange(wide), (rows, 1))  # each cell holds its map column
    sheared = hex_shear(column, cols)
    for r in range(rows - 1):
        below = [0, 1] if r % 2 == 0 else [-1, 0]  # the two hex neighbours one row down
        for c in range(1, cols - 1):
            offsets = sorted(sheared[r + 1, c + k] - sheared[r, c] for k in below)
            assert offsets == [-1, 0]  # the map's (1, -1) and (1, 0) neighbours


@pytest.mark.parametrize("level", [0.3, 1.0])
def test_dither_dots_sit_on_a_hexagonal_packing(level):
    dark = np.full((96, 96), level)
    grid = dither_grid(dark, 500, seed=1, hexagonal=True)
    xy = dither(dark, 500, seed=1)
    assert len(xy) == 500 and ((xy >= 0) & (xy <= 1)).all()
    np.testing.assert_array_equal(xy, grid.centres())
    pitch = 1 / (grid.cols - 1)
    rows = np.round(xy[:, 1] * grid.rows - 0.5).astype(int)
    shift = (xy[:, 0] / pitch) % 1  # even rows half a cell in, odd rows on whole cells
    assert np.allclose(shift[rows % 2 == 0], 0.5) and np.allclose(shift[rows % 2 == 1] % 1, 0)
