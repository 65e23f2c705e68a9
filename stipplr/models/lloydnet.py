"""lloydnet: stipplr's default model, a small U-Net that relaxes a blue-noise dither in one pass.

The ``dither`` engine cuts the image into cells and picks exactly N of them. The net sees
that grid (per cell: darkness at ``subcells`` x ``subcells`` sub-cell resolution, the
selected mask, the threshold texture, an inside-the-image mask) and predicts, for every
cell, an offset (dx, dy) in cell units bounded by ``max_offset``; the selected cells'
centres plus their offsets are the dots. It is trained to reproduce weighted Lloyd
relaxation started from the same dither, so it keeps the dither's exact N and tone and
gains Lloyd's even spacing. Fully convolutional on the cell grid: any size, aspect and N.
Colours are left to the API (Voronoi-cell means).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy import ndimage
from torch import Tensor, nn
from torch.nn import functional as F

from stipplr.engines import run_engine
from stipplr.engines.dither import DitherGrid, cell_average, dither_grid
from stipplr.errors import OptionError
from stipplr.models import stack_dots


@dataclass
class Config:
    """lloydnet settings; the defaults are the shipped model's."""

    widths: tuple[int, ...] = (32, 48, 64, 96)
    """Channels at full cell resolution and after each x2 downsampling."""
    subcells: int = 4
    """Darkness is fed at subcells x subcells samples per cell (detail inside cells)."""
    max_offset: float = 4.0
    """Bound on the predicted offsets, in cells (max_offset * tanh)."""


COARSE_CHANNELS = 4  # selected, threshold, cell density, inside


@dataclass(frozen=True)
class GridInputs:
    """The dither grid and the net's inputs for one image (numpy, float32)."""

    grid: DitherGrid
    fine: np.ndarray
    """(subcells * rows, subcells * cols) dot density (expected dots per cell)."""
    coarse: np.ndarray
    """(COARSE_CHANNELS, rows, cols): selected, threshold, density, inside."""


def grid_inputs(
    darkness: np.ndarray, n: int, subcells: int, offset: tuple[int, int] = (0, 0)
) -> GridInputs:
    """Dither ``darkness`` into exactly ``n`` cells and build the net's input maps.

    Darkness is rescaled to expected dots per cell (it sums to n over the grid), which
    makes the inputs independent of image size and N.
    """
    grid = dither_grid(darkness, n, offset=offset)
    scale = n / max(float(grid.darkness.sum()), 1e-12)
    fine = cell_average(np.clip(darkness, 0.0, 1.0), grid.rows * subcells, grid.cols * subcells)
    coarse = np.stack(
        [
            grid.selected.astype(np.float32),
            grid.threshold.astype(np.float32),
            grid.darkness * scale,
            np.ones(grid.selected.shape, np.float32),
        ]
    )
    return GridInputs(grid, (fine * scale).astype(np.float32), coarse.astype(np.float32))


def hex_spacing(density: np.ndarray, n: int) -> np.ndarray:
    """Hexagonal-packing spacing (in cells) for a map of expected dots per cell.

    Smoothed by half the mean spacing and floored like the project's spacing metric.
    """
    h = float(np.sqrt(density.size / max(n, 1)))
    rho = ndimage.gaussian_filter(density.astype(np.float64), h / 2, mode="reflect")
    rho = np.maximum(rho, 1e-3 * rho.mean())
    per_cell = n * rho / rho.sum()
    return np.sqrt(2.0 / (np.sqrt(3.0) * per_cell)).astype(np.float32)


def dot_positions(grid: DitherGrid, offsets: np.ndarray) -> np.ndarray:
    """Selected cell centres moved by ``offsets`` (2, rows, cols) -> (N, 2) xy in [0, 1]."""
    ys, xs = np.nonzero(grid.selected)
    x = (xs + 0.5 + offsets[0, ys, xs]) / grid.cols
    y = (ys + 0.5 + offsets[1, ys, xs]) / grid.rows
    return np.clip(np.column_stack([x, y]), 0.0, 1.0)


def conv_block(c_in: int, c_out: int) -> nn.Sequential:
    """Two 3x3 convolutions with SiLU."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1),
        nn.SiLU(),
        nn.Conv2d(c_out, c_out, 3, padding=1),
        nn.SiLU(),
    )


class LloydNet(nn.Module):
    """U-Net on the dither's cell grid predicting per-cell offsets in cell units."""

    def __init__(self, config: Config) -> None:
        super().__init__()
        self.config = config
        widths = config.widths
        self.stem = conv_block(config.subcells**2 + COARSE_CHANNELS, widths[0])
        self.down = nn.ModuleList(
            conv_block(a, b) for a, b in zip(widths[:-1], widths[1:], strict=True)
        )
        self.up = nn.ModuleList(
            conv_block(a + b, a) for a, b in zip(widths[:-1], widths[1:], strict=True)
        )
        self.head = nn.Conv2d(widths[0], 2, 1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)
        self.n_range = (500, 100_000)
        self.fixed_n = None

    def forward(self, fine: Tensor, coarse: Tensor) -> Tensor:
        """fine (B,1,s*R,s*C), coarse (B,4,R,C) -> offsets (B,2,R,C): dx (columns), dy (rows)."""
        rows, cols = coarse.shape[-2:]
        x = torch.cat([F.pixel_unshuffle(fine, self.config.subcells), coarse], dim=1)
        multiple = 2 ** (len(self.config.widths) - 1)
        x = F.pad(x, (0, -cols % multiple, 0, -rows % multiple))
        x = x.contiguous(memory_format=torch.channels_last)  # ~1.5x faster narrow CPU convs
        skips = [self.stem(x)]
        for block in self.down:
            skips.append(block(F.avg_pool2d(skips[-1], 2)))
        x = skips.pop()
        for block in reversed(self.up):
            skip = skips.pop()
            x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            x = block(torch.cat([skip, x], dim=1))
        bound = self.config.max_offset
        return (bound * torch.tanh(self.head(x) / bound))[..., :rows, :cols]

    def offsets(self, inputs: GridInputs) -> np.ndarray:
        """Predicted offsets (2, rows, cols) for one image's grid inputs."""
        device = self.head.weight.device
        fine = torch.from_numpy(inputs.fine)[None, None].to(device)
        coarse = torch.from_numpy(inputs.coarse)[None].to(device)
        return self(fine, coarse)[0].float().cpu().numpy()

    def predict(
        self, rgb: Tensor, darkness: Tensor, n: int, *, polish: int = 0
    ) -> tuple[Tensor, None]:
        """Exactly ``n`` dots per image: (B, n, 2) xy in [0, 1]; colours left to the API.

        polish: optional weighted Lloyd steps (the ``voronoi`` engine) after the one pass.
        """
        if polish < 0:
            raise OptionError(f"polish must be >= 0 Lloyd steps, got {polish}")
        dots = []
        for dark in darkness[:, 0].float().cpu().numpy():
            inputs = grid_inputs(dark, n, self.config.subcells)
            xy = dot_positions(inputs.grid, self.offsets(inputs))
            if polish:
                xy = run_engine("voronoi", dark, n, iterations=polish, tol=0.0, init=xy).xy
            dots.append(torch.from_numpy(xy))
        return stack_dots(dots).float().to(darkness.device), None


def build(config: Config) -> LloydNet:
    """An untrained lloydnet (zero head: it starts out returning the dither itself)."""
    return LloydNet(config)
