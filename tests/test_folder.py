"""Folder-format dataset reader: stored points, dots recovered from target drawings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from stipplr.errors import StipplrError
from training.folder import FolderDataset, exactly_n, recover_dots

SIZE = 64
SUPERSAMPLE = 8


def draw_discs(centres_px: np.ndarray, radius: float, shape: tuple[int, int]) -> np.ndarray:
    """Antialiased black discs on white (H, W, 3) in [0, 1], coverage by 8x8 supersampling."""
    height, width = shape
    offsets = (np.arange(SUPERSAMPLE) + 0.5) / SUPERSAMPLE
    ys = (np.arange(height)[:, None] + offsets).ravel()
    xs = (np.arange(width)[:, None] + offsets).ravel()
    inside = np.zeros((len(ys), len(xs)), bool)
    for cx, cy in centres_px:
        inside |= ((xs[None, :] - cx) ** 2 + (ys[:, None] - cy) ** 2) <= radius**2
    coverage = inside.reshape(height, SUPERSAMPLE, width, SUPERSAMPLE).mean(axis=(1, 3))
    return np.repeat((1 - coverage)[..., None], 3, axis=2)


def known_centres(count: int, seed: int) -> np.ndarray:
    """Sub-pixel centres (count, 2) in pixels on a jittered 8 px lattice (discs never touch)."""
    rng = np.random.default_rng(seed)
    cells = np.stack(np.meshgrid(np.arange(8), np.arange(8)), -1).reshape(-1, 2)
    chosen = cells[rng.choice(len(cells), count, replace=False)]
    return chosen * 8 + 4 + rng.uniform(-1, 1, (count, 2))


def save_png(path: Path, image: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.round(image * 255).astype(np.uint8)).save(path)


def make_source() -> np.ndarray:
    """Red increasing to the right, blue increasing downwards, green 0.5."""
    ys, xs = np.mgrid[0:SIZE, 0:SIZE] / (SIZE - 1)
    return np.stack([xs, np.full_like(xs, 0.5), ys], axis=2)


def test_recovered_centroids_are_exact_one_per_disc():
    centres = known_centres(30, 0)
    found = recover_dots(draw_discs(centres, 2.0, (SIZE, SIZE))) * SIZE
    assert len(found) == 30
    distance = np.linalg.norm(found[:, None] - centres[None], axis=2)
    assert distance.min(axis=1).max() < 0.1
    assert len(set(distance.argmin(axis=1))) == 30


def test_recover_dots_of_a_blank_page_is_empty():
    assert recover_dots(np.ones((8, 8, 3))).shape == (0, 2)


def test_exactly_n_subsamples_without_and_pads_with_duplicates():
    points = np.arange(20, dtype=np.float32).reshape(10, 2)
    rng = np.random.default_rng(0)
    fewer = exactly_n(points, 4, rng)
    assert len(np.unique(fewer, axis=0)) == 4
    more = exactly_n(points, 25, rng)
    assert len(more) == 25 and np.array_equal(more[:10], points)
    assert {tuple(p) for p in more} == {tuple(p) for p in points}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Two items: 'drawn' with only a target drawing, 'stored' with a points file."""
    root = tmp_path / "set"
    source = make_source()
    save_png(root / "source" / "drawn.png", source)
    save_png(root / "target" / "drawn.png", draw_discs(known_centres(25, 1), 2.0, (SIZE, SIZE)))
    save_png(root / "source" / "stored.png", source)
    (root / "points").mkdir()
    xy = np.array([[0.25, 0.5], [0.75, 0.125]], np.float32)
    np.savez(root / "points" / "stored.npz", xy=xy, rgb=np.full((2, 3), 0.2, np.float32))
    return root


def test_folder_items_have_exactly_n_dots_and_resized_sources(folder: Path):
    data = FolderDataset(folder, n_points=40, size=32)
    assert data.names == ["drawn", "stored"]
    source, dots = data[0]
    assert source.shape == (3, 32, 32) and dots.shape == (40, 5)
    assert len(np.unique(dots.numpy(), axis=0)) == 25  # 25 discs padded to 40
    # colours come from the source at each dot: red = x, green = 0.5, blue = y
    x, y, r, g, b = dots.numpy().T
    assert np.allclose(r, (x * SIZE - 0.5) / (SIZE - 1), atol=0.01)
    assert np.allclose(b, (y * SIZE - 0.5) / (SIZE - 1), atol=0.01)
    assert np.allclose(g, 0.5, atol=0.01)
    assert np.array_equal(data[0][1], dots)  # same item every epoch


def test_folder_prefers_stored_points_with_their_colours(folder: Path):
    _, dots = FolderDataset(folder, n_points=1, size=16)[1]
    assert dots.shape == (1, 5)
    assert np.allclose(dots[0, 2:], 0.2)
    assert any(np.allclose(dots[0, :2], p) for p in ([0.25, 0.5], [0.75, 0.125]))


def test_folder_errors_name_the_problem(tmp_path: Path, folder: Path):
    with pytest.raises(StipplrError, match="no source/"):
        FolderDataset(tmp_path / "nowhere", 10, 16)
    save_png(folder / "source" / "orphan.png", make_source())
    with pytest.raises(StipplrError, match="orphan has neither"):
        FolderDataset(folder, 10, 16)
    (folder / "source" / "orphan.png").unlink()
    save_png(folder / "target" / "drawn.png", np.ones((8, 8, 3)))
    with pytest.raises(StipplrError, match="differs from its source"):
        FolderDataset(folder, 10, 16)[0]
