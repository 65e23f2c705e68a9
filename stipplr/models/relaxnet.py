"""relaxnet: a learned relaxation, unrolled a few times with shared weights.

Each pass re-reads the dots it moved: it splats them onto a working grid (about
``px_per_dot`` grid pixels per dot, so edges are seen at sub-cell resolution), takes the
difference to the image's ink density, and turns that charge into a force field with one
FFT (an isotropic, Gaussian-smoothed 2-D Coulomb kernel whose radial profile is learned):
dots are pulled to ink they lack and pushed apart where there are too many, as in
electrostatic halftoning (Schmaltz et al. 2010) and Gaussian blue noise (Ahmed et al.
2022). A small CNN, shared by every pass, reads the density, the dots and the force and
adds a correction; a learned step size per pass scales the move. The start is the
dither engine's dots at the call's ``seed``, scattered off their cell centres by a smooth
random swirl (:func:`~stipplr.engines.dither.scattered_dither`, the relaxers' start): the
seed changes the realisation, and no tile or cell lattice carries into the passes.
Fully convolutional and spectral on the grid: any size, aspect and N. Colours are left
to the engine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from scipy.fft import next_fast_len
from torch import Tensor, nn
from torch.nn import functional as F

from stipplr.engines.dither import scattered_dither
from stipplr.errors import OptionError
from stipplr.models import stack_dots


@dataclass(frozen=True)
class Config:
    """relaxnet settings (defaults = the shipped model)."""

    passes: int = 12
    px_per_dot: float = 12.0
    max_grid_pixels: int = 600_000
    sigma: float = 1.0
    width: int = 16
    kernel_bumps: int = 4
    max_correction: float = 0.3


RANGE = (1, 200_000)
MAX_PASSES = 200
FIELD_CHANNELS = 4  # density, dots, force x, force y
BUMP_WIDTH = 0.08  # squared width (in (cycles per h)^2) of the kernel's learned bumps
MAX_MOVE = 3.0  # a dot's force is capped at this many times the median dot's


def grid_shape(height: int, width: int, n: int, config: Config) -> tuple[int, int]:
    """The working grid: about ``px_per_dot`` pixels per dot, capped at ``max_grid_pixels``."""
    pixels = min(config.px_per_dot * n, config.max_grid_pixels)
    scale = math.sqrt(pixels / (height * width))
    return max(8, round(height * scale)), max(8, round(width * scale))


def padded_shape(shape: tuple[int, int]) -> tuple[int, int]:
    """The FFT grid of a working grid: at least twice its size (the force is a linear, not
    a periodic, convolution) and of a size with only small prime factors, which FFTs
    transform fastest (2.7x faster than 2 x 634 rows, for instance)."""
    return next_fast_len(2 * shape[0], real=True), next_fast_len(2 * shape[1], real=True)


def ink_density(darkness: Tensor, shape: tuple[int, int], n: int) -> Tensor:
    """Darkness (B, 1, H, W) resampled to ``shape`` and scaled to ``n`` dots per image."""
    smaller = shape[0] <= darkness.shape[-2] and shape[1] <= darkness.shape[-1]
    if smaller:
        rho = F.interpolate(darkness, size=shape, mode="area")
    else:
        rho = F.interpolate(darkness, size=shape, mode="bilinear", align_corners=False)
    rho = rho.clamp_min(0)
    return rho * (n / rho.sum(dim=(-2, -1), keepdim=True).clamp_min(1e-12))


def _corners(pts: Tensor, shape: tuple[int, int]) -> tuple[Tensor, Tensor]:
    """Flat indices (B, n, 4) and bilinear weights (B, n, 4) of points (B, n, 2) in grid px."""
    rows, cols = shape
    x = (pts[..., 0] - 0.5).clamp(0, cols - 1.001)
    y = (pts[..., 1] - 0.5).clamp(0, rows - 1.001)
    x0, y0 = x.floor(), y.floor()
    fx, fy = x - x0, y - y0
    x0, y0 = x0.long(), y0.long()
    base = y0 * cols + x0
    index = torch.stack([base, base + 1, base + cols, base + cols + 1], dim=-1)
    weight = torch.stack([(1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy], dim=-1)
    return index, weight


def splat(pts: Tensor, shape: tuple[int, int]) -> Tensor:
    """Dots per grid pixel (B, 1, rows, cols), bilinear (differentiable in the positions)."""
    index, weight = _corners(pts, shape)
    flat = pts.new_zeros(pts.shape[0], shape[0] * shape[1])
    flat = flat.scatter_add(1, index.flatten(1), weight.flatten(1))
    return flat.view(-1, 1, *shape)


def sample(field: Tensor, pts: Tensor) -> Tensor:
    """Bilinear samples (B, n, C) of a field (B, C, rows, cols) at points in grid px."""
    index, weight = _corners(pts, field.shape[-2:])
    flat = field.flatten(2)
    gathered = flat.gather(2, index.flatten(1)[:, None].expand(-1, flat.shape[1], -1))
    gathered = gathered.view(*flat.shape[:2], *index.shape[1:])
    return (gathered * weight[:, None]).sum(-1).transpose(1, 2)


class ForceKernel(nn.Module):
    """The Fourier multipliers that turn charge into force: -grad of a smoothed Coulomb
    potential, its radial profile modulated by learned Gaussian bumps (in units of h)."""

    def __init__(self, config: Config) -> None:
        super().__init__()
        self.sigma = config.sigma
        self.bumps = nn.Parameter(torch.zeros(config.kernel_bumps))
        self.register_buffer("centres", torch.linspace(0.25, 1.5, config.kernel_bumps))

    def forward(self, shape: tuple[int, int], h: float, device: torch.device) -> Tensor:
        """Complex multipliers (2, R, C // 2 + 1) for the x and y force on the padded grid
        (R, C) = :func:`padded_shape`."""
        rows, cols = padded_shape(shape)
        ky = torch.fft.fftfreq(rows, device=device)[:, None]
        kx = torch.fft.rfftfreq(cols, device=device)[None, :]
        k2 = (kx**2 + ky**2).clamp_min(1.0 / (rows * cols) ** 2)
        profile = torch.exp(-2 * math.pi**2 * self.sigma**2 * k2) / k2
        distance = k2.sqrt() * h - self.centres[:, None, None]
        bumps = self.bumps[:, None, None] * torch.exp(-(distance**2) / BUMP_WIDTH)
        profile = profile * torch.exp(bumps.sum(0))
        profile = profile * (k2 > 1.0 / (rows * cols) ** 2)
        return torch.stack([1j * kx * profile, 1j * ky * profile])


class Correction(nn.Module):
    """A small CNN shared by every pass: (density, dots, force) -> a move correction."""

    def __init__(self, config: Config) -> None:
        super().__init__()
        w = config.width
        self.body = nn.Sequential(
            nn.Conv2d(FIELD_CHANNELS, w, 3, padding=1),
            nn.GELU(),
            nn.Conv2d(w, w, 3, padding=2, dilation=2),
            nn.GELU(),
            nn.Conv2d(w, w, 3, padding=1),
            nn.GELU(),
        )
        self.head = nn.Conv2d(w, 2, 1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)
        self.bound = config.max_correction

    def forward(self, fields: Tensor) -> Tensor:
        """(B, 4, rows, cols) -> (B, 2, rows, cols), in mean spacings, at most ``bound``."""
        small = F.avg_pool2d(fields, 2, ceil_mode=True)
        out = self.head(self.body(small))
        out = F.interpolate(out, size=fields.shape[-2:], mode="bilinear", align_corners=False)
        return self.bound * torch.tanh(out / self.bound)


class RelaxNet(nn.Module):
    """The unrolled relaxation: ``passes`` steps with one kernel and one CNN."""

    def __init__(self, config: Config) -> None:
        super().__init__()
        self.config = config
        self.kernel = ForceKernel(config)
        self.correction = Correction(config)
        schedule = [0.1 * (1 - k / config.passes) + 0.02 for k in range(config.passes)]
        self.log_steps = nn.Parameter(torch.tensor(schedule).log())
        self.n_range = RANGE
        self.fixed_n = None

    def step(
        self, pts: Tensor, rho: Tensor, step: Tensor, kernel: Tensor, h: float, offset: Tensor
    ) -> Tensor:
        """One pass: splat, force field, CNN correction, move (points in grid px).

        The grid is shifted by a random sub-pixel ``offset`` each pass, so no dot settles
        on the grid's own lattice."""
        shape = rho.shape[-2:]
        moved = pts + offset
        dots = splat(moved, shape)
        rows, cols = padded_shape(shape)
        charge = F.pad(dots - rho, (0, cols - shape[1], 0, rows - shape[0]))
        spectrum = torch.fft.rfft2(charge[:, 0])
        force = torch.fft.irfft2(spectrum[:, None] * kernel, s=charge.shape[-2:])
        force = force[..., : shape[0], : shape[1]]
        move = sample(force, moved)
        scale = move.norm(dim=-1).median(dim=1).values.clamp_min(1e-12)[:, None, None]
        move = move / scale
        move = move * (MAX_MOVE / move.norm(dim=-1, keepdim=True).clamp_min(1e-12)).clamp(max=1)
        fields = torch.cat([rho * h * h, dots * h * h, force / scale[..., None]], dim=1)
        correction = sample(self.correction(fields), moved)
        return pts - h * (step * move + correction)

    def forward(self, rho: Tensor, pts: Tensor) -> Tensor:
        """Training entry: every pass from ``pts`` (B, n, 2) in grid px."""
        return self.relax(rho, pts)

    def relax(
        self,
        rho: Tensor,
        pts: Tensor,
        generator: torch.Generator | None = None,
        passes: int | None = None,
    ) -> Tensor:
        """Run the passes from ``pts`` (B, n, 2) in grid px; returns the moved points.
        More passes than trained reuse the last step size."""
        shape = rho.shape[-2:]
        h = math.sqrt(shape[0] * shape[1] / pts.shape[1])
        kernel = self.kernel(shape, h, rho.device)
        limit = pts.new_tensor([shape[1], shape[0]])
        steps = self.log_steps.exp()
        for k in range(self.config.passes if passes is None else passes):
            offset = torch.rand(2, generator=generator, device=pts.device) - 0.5
            step = steps[min(k, len(steps) - 1)]
            pts = torch.minimum(self.step(pts, rho, step, kernel, h, offset).clamp_min(0), limit)
        return pts

    def predict(
        self, rgb: Tensor, darkness: Tensor, n: int, *, passes: int | None = None
    ) -> tuple[Tensor, None]:
        """Exactly ``n`` dots per image: (B, n, 2) xy in [0, 1]; colours left to the engine.

        passes: run fewer (or more, reusing the last step size) passes than trained.
        The start is the scattered dither at torch's current seed (the engine seeds it).
        """
        if passes is not None and not 0 <= passes <= MAX_PASSES:
            raise OptionError(f"passes must be a whole number from 0 to {MAX_PASSES}, got {passes}")
        height, width = darkness.shape[-2:]
        shape = grid_shape(height, width, n, self.config)
        rho = ink_density(darkness.float(), shape, n)
        seed = int(torch.randint(0, 2**31 - 1, (1,)).item())
        starts = [
            scattered_dither(dark, n, seed=seed + i)
            for i, dark in enumerate(darkness[:, 0].float().cpu().numpy())
        ]
        size = np.array([shape[1], shape[0]], dtype=np.float32)
        starts = [torch.from_numpy(s.astype(np.float32)) for s in starts]
        pts = (stack_dots(starts) * torch.from_numpy(size)).to(rho.device)
        generator = torch.Generator(device=rho.device).manual_seed(seed)
        relaxed = self.relax(rho, pts, generator, passes)
        return relaxed / pts.new_tensor(size), None


def build(config: Config) -> RelaxNet:
    """An untrained relaxnet: the plain physics (zero CNN head, schedule step sizes)."""
    return RelaxNet(config)
