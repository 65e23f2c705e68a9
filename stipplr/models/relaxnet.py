"""relaxnet: a learned relaxation, unrolled with shared weights, then tone passes.

Three stages, every one re-reading the dots the previous moved:

1. ``passes`` relaxation passes. A pass splats the dots onto a working grid (about
   ``px_per_dot`` grid pixels per dot), takes the difference to the image's ink density
   and turns that charge into a force with one FFT (an isotropic, Gaussian-smoothed 2-D
   Coulomb kernel whose radial profile is learned): dots are pulled to ink they lack and
   pushed apart where there are too many, as in electrostatic halftoning (Schmaltz et al.
   2010). A small CNN, shared by every pass, reads density, dots and force and adds a
   correction; a learned step per pass scales the move. The grid shifts by a random
   sub-pixel offset each pass, so no dot settles on the grid's lattice.
2. ``tone_passes`` steps down the tone metric's own energy (dots and ink blurred by one
   mean spacing h and compared: a Gaussian kernel of sqrt(2) h) on a finer grid
   (``tone_px_per_dot``), with reflecting borders like the metric's, steps preconditioned
   by the local dot density and learned per pass, and a guard that halves an image's steps
   when its error grows. The first ``spacing_passes`` of them first push apart dots closer
   than ``spacing_margin`` of their local hexagonal spacing. Then ``fine_passes`` steps of
   a narrower energy (``fine_width`` h) without pushes balance single cells and fine detail.
   The relaxation sets the spacing but leaves the tone about 8 dB short of a
   capacity-constrained set (its offsets jitter every dot; its long-range force balances
   ink over large areas first); these steps close it.
   Calls of at most ``capacity_max_dots`` dots then run ``capacity_rounds`` rounds of a
   push, a :func:`capacity_step` (Voronoi cells towards equal ink, the capacity constraint
   itself) and fine steps: with few dots a cell is large beside the image's detail and the
   Gaussian energies leave cell inks uneven (capacity CV 0.077 at N = 1 000, 0.055 after).
3. A snap at the image's own resolution (finer than the grid): a dot on a near-white
   pixel moves to the nearest pixel with ink within ``snap_radius`` spacings (at most
   ``MAX_SNAP_PX``), so thin white detail stays white.

The start is the dither engine's dots at the call's ``seed``, scattered off their cell
centres by a smooth random swirl (:func:`~stipplr.engines.dither.scattered_dither`, the
relaxers' start): the seed changes the realisation, and no tile or cell lattice carries
into the passes. Fully convolutional and spectral on the grid: any size, aspect and N.
Colours are left to the engine. Measurements and ablations: ``docs/model-card.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from scipy import ndimage
from scipy.fft import next_fast_len
from scipy.spatial import cKDTree
from torch import Tensor, nn
from torch.nn import functional as F

from stipplr.cells import pixel_voronoi_labels
from stipplr.engines.dither import scattered_dither
from stipplr.errors import OptionError
from stipplr.models import stack_dots


@dataclass(frozen=True)
class Config:
    """relaxnet settings. Defaults: what the recipe trains with; the shipped model runs
    with more and finer tone passes (its file holds its config: the recipe's
    ``[export.config]`` over these)."""

    passes: int = 8
    px_per_dot: float = 12.0
    max_grid_pixels: int = 600_000
    sigma: float = 1.0
    width: int = 16
    kernel_bumps: int = 4
    max_correction: float = 0.3
    tone_passes: int = 22
    tone_steps: int | None = None
    """Learned tone step sizes (the tone passes trained); None: ``tone_passes``. Passes
    beyond the last learned step reuse it, so a model may run more tone passes than it was
    trained with."""
    tone_px_per_dot: float = 12.0
    """The tone passes' own grid, finer than the relaxation's: about this many pixels per
    dot (capped at ``max_grid_pixels`` too)."""
    tone_step: float = 0.19
    """Initial step of the tone passes (learned per pass, at most ``TONE_STEP_MAX``)."""
    spacing_passes: int = 10
    """The first tone passes push apart dots closer than ``spacing_margin`` of their local
    hexagonal spacing (by ``spacing_push`` of the overlap) before their tone step."""
    spacing_margin: float = 0.95
    spacing_push: float = 0.5
    fine_passes: int = 0
    """Then tone passes with a narrower Gaussian, ``fine_width`` h, and no spacing pushes:
    they balance single cells and fine detail, which the sqrt(2) h energy descends slowly."""
    fine_width: float = 1.0
    capacity_rounds: int = 0
    """Then rounds of a spacing push, a step that balances the ink of the dots' Voronoi cells
    (:func:`capacity_step`) and ``capacity_fine_steps`` fine steps; only for calls of at
    most ``capacity_max_dots`` dots, where cells are large beside the image's detail."""
    capacity_fine_steps: int = 4
    capacity_max_dots: int = 0
    snap_radius: float = 0.3
    """Last, a dot on a near-white image pixel moves to the nearest pixel with ink within
    this many mean spacings (at the image's own resolution, finer than the grid); 0: off."""


RANGE = (1, 200_000)
MAX_PASSES = 200
FIELD_CHANNELS = 4  # density, dots, force x, force y
BUMP_WIDTH = 0.08  # squared width (in (cycles per h)^2) of the kernel's learned bumps
MAX_MOVE = 3.0  # a dot's force is capped at this many times the median dot's
TONE_WIDTH = math.sqrt(2.0)  # the tone energy's Gaussian, in h: the metric's 1 h blur, twice
TONE_MARGIN = 3.0  # reflected border of the tone passes' grid, in Gaussian widths
GAUSS_CUTOFF = 1e-4  # the tone gradient drops frequencies where its Gaussian is below this
SAMPLES_PER_WIDTH = 2.0  # the coarse tone gradient's grid points per Gaussian width
TONE_STEP_MAX = 0.22  # tone steps of 0.245 diverge on the sample photos, 0.2 do not (measured)
MAX_TONE_MOVE = 0.5  # a tone pass moves a dot at most this many h
GUARD_GROWTH = 1.1  # tone error growth between steps that halves the steps (noise: below)
SPACING_SMOOTHING = 0.5  # the ink that sets the local spacing is blurred by this many h
NEIGHBOURS = 6  # dots each spacing push looks at
MAX_SPACING = 3.0  # the spacing pushes keep at most this many h: on white paper the local
# spacing is unbounded, and a dot that strayed there was pushed far out (text, N = 1 000:
# 74 dots on blank paper; 11 with the cap)
CAPACITY_PX_PER_H = 8.0  # the capacity step labels cells on this many pixels per mean spacing
# (astronaut + coffee, N = 1 000: capacity CV 0.064 at 5 px, 0.058 at 8, 0.055 at 16)
CAPACITY_STEP = 0.2  # of the Gauss-Newton step (five photos, N = 1 000, 8 rounds: CV 0.058 /
# 0.055 and tone 59.0 / 58.7 dB at 0.15 / 0.2)
CAPACITY_MAX_MOVE = 0.3  # a capacity step moves a dot at most this many h
INK = 0.05  # darkness below this is near-white paper for the snap (the leakage metric's)
MAX_SNAP_PX = 3  # the snap looks at most this many image pixels away: farther moves cost
# tone at low N (astronaut, N = 1 000: 54.0 dB with 3 px, 52.0 with 8)
SNAP_INSET = 0.05  # a snapped dot lands this far (px) inside its pixel: on the edge, float
# rounding of x / width * width put 3 of 4 snapped dots back on the white pixel (measured)


def grid_shape(
    height: int, width: int, n: int, config: Config, px_per_dot: float | None = None
) -> tuple[int, int]:
    """A working grid: about ``px_per_dot`` (default: the config's) pixels per dot, capped at
    ``max_grid_pixels``."""
    px_per_dot = config.px_per_dot if px_per_dot is None else px_per_dot
    pixels = min(px_per_dot * n, config.max_grid_pixels)
    scale = math.sqrt(pixels / (height * width))
    return max(8, round(height * scale)), max(8, round(width * scale))


def padded_shape(shape: tuple[int, int]) -> tuple[int, int]:
    """The FFT grid of a working grid: at least twice its size (the force is a linear, not
    a periodic, convolution) and of a size with only small prime factors, which FFTs
    transform fastest (2.7x faster than 2 x 634 rows, for instance)."""
    return next_fast_len(2 * shape[0], real=True), next_fast_len(2 * shape[1], real=True)


def padded_rfft2(field: Tensor, shape: tuple[int, int]) -> Tensor:
    """``rfft2`` of ``field`` (..., rows, cols) zero-padded to ``shape``, without
    transforming the padding's zero rows (with :func:`cropped_irfft2`, 1.7x faster than
    transforming the padded grid both ways)."""
    return torch.fft.fft(torch.fft.rfft(field, n=shape[1], dim=-1), n=shape[0], dim=-2)


def cropped_irfft2(spectrum: Tensor, shape: tuple[int, int], crop: tuple[int, int]) -> Tensor:
    """The top-left ``crop`` (rows, cols) of ``irfft2(spectrum, s=shape)``: the inverse
    along the rows first, then along the columns of the kept rows only."""
    rows = torch.fft.ifft(spectrum, dim=-2)[..., : crop[0], :]
    return torch.fft.irfft(rows, n=shape[1], dim=-1)[..., : crop[1]]


def ink_density(darkness: Tensor, shape: tuple[int, int], n: int) -> Tensor:
    """Darkness (B, 1, H, W) resampled to ``shape`` and scaled to ``n`` dots per image.

    Bilinear, anti-aliased when shrinking (like the tone metric's resampling). Not torch's
    ``area`` mode: at non-integer ratios its windows overlap unevenly, which weights pixels
    unequally in a beat pattern (measured at N = 20 000 on 640 px photos: 47.3 / 51.5 dB
    tone on coffee / chelsea, 51.1 / 58.6 dB anti-aliased)."""
    rho = F.interpolate(darkness, size=shape, mode="bilinear", align_corners=False, antialias=True)
    rho = rho.clamp_min(0)
    return rho * (n / rho.sum(dim=(-2, -1), keepdim=True).clamp_min(1e-12))


def _corners(pts: Tensor, shape: tuple[int, int]) -> tuple[Tensor, Tensor]:
    """Flat indices (B, n, 4) and bilinear weights (B, n, 4) of points (B, n, 2) in grid px."""
    rows, cols = shape
    x = (pts[..., 0] - 0.5).clamp(0, cols - 1.001)
    y = (pts[..., 1] - 0.5).clamp(0, rows - 1.001)
    x0, y0 = x.floor(), y.floor()
    fx, fy = x - x0, y - y0
    base = y0.to(torch.int32) * cols + x0.to(torch.int32)  # int32 math: 25 % faster here
    index = torch.stack([base, base + 1, base + cols, base + cols + 1], dim=-1).long()
    gx, gy = 1 - fx, 1 - fy
    return index, torch.stack([gx * gy, fx * gy, gx * fy, fx * fy], dim=-1)


Corners = tuple[Tensor, Tensor]


def splat(pts: Tensor, shape: tuple[int, int], corners: Corners | None = None) -> Tensor:
    """Dots per grid pixel (B, 1, rows, cols), bilinear (differentiable in the positions);
    ``corners``: :func:`_corners` of the points on this grid, if already computed."""
    index, weight = _corners(pts, shape) if corners is None else corners
    flat = pts.new_zeros(pts.shape[0], shape[0] * shape[1])
    flat = flat.scatter_add(1, index.flatten(1), weight.flatten(1))
    return flat.view(-1, 1, *shape)


def sample(field: Tensor, pts: Tensor, corners: Corners | None = None) -> Tensor:
    """Bilinear samples (B, n, C) of a field (B, C, rows, cols) at points in grid px;
    ``corners``: :func:`_corners` of the points on the field's grid, if already computed."""
    index, weight = _corners(pts, field.shape[-2:]) if corners is None else corners
    flat = field.flatten(2)
    gathered = flat.gather(2, index.flatten(1)[:, None].expand(-1, flat.shape[1], -1))
    gathered = gathered.view(*flat.shape[:2], *index.shape[1:])
    return (gathered * weight[:, None]).sum(-1).transpose(1, 2)


def mirror_pad(field: Tensor, margin: int) -> Tensor:
    """``field`` (..., rows, cols) with ``margin`` pixels reflected onto each side (the edge
    pixel repeated, like scipy's ``reflect``), at most the field's own size."""
    top = min(margin, field.shape[-2])
    field = torch.cat([field[..., :top, :].flip(-2), field, field[..., -top:, :].flip(-2)], -2)
    side = min(margin, field.shape[-1])
    return torch.cat([field[..., :side].flip(-1), field, field[..., -side:].flip(-1)], -1)


def decimation(width: float) -> int:
    """How many times coarser than the tone grid (per axis) the tone gradient may be
    computed: a Gaussian of ``width`` grid px keeps no frequency above ``GAUSS_CUTOFF`` of
    its peak beyond that coarse grid's Nyquist, and the grid samples the Gaussian at least
    ``SAMPLES_PER_WIDTH`` times per width (the dots read it bilinearly; at 5 px for a
    6.9 px Gaussian tone fell 0.4 dB, at 2-3 px it stayed within run-to-run noise)."""
    band = math.sqrt(math.log(1 / GAUSS_CUTOFF) / (2 * math.pi**2 * width**2))
    return max(1, min(math.floor(0.5 / band), math.floor(width / SAMPLES_PER_WIDTH)))


def low_band(spectrum: Tensor, shape: tuple[int, int]) -> Tensor:
    """The rfft2 coefficients (..., R, C // 2 + 1) of a grid that a grid of ``shape`` (r, c)
    represents: its first r rows from both ends (positive and negative frequencies) and its
    first c // 2 + 1 columns."""
    rows, cols = shape
    top, bottom = (rows + 1) // 2, rows - (rows + 1) // 2
    kept = spectrum[..., : cols // 2 + 1]
    return torch.cat([kept[..., :top, :], kept[..., kept.shape[-2] - bottom :, :]], dim=-2)


class ToneGrid:
    """The tone passes' FFT grid for one ink density (B, 1, rows, cols): the reflected and
    padded ink spectrum and the gradient multipliers of the Gaussian (``width`` mean
    spacings h), computed once. Dots are splatted and transformed at the grid's resolution;
    the gradient comes back on a grid :func:`decimation` times coarser, which the Gaussian
    makes exact to ``GAUSS_CUTOFF`` (the inverse transform was 5x the forward's cost)."""

    def __init__(self, rho: Tensor, h: float, width: float = TONE_WIDTH) -> None:
        self.rho, self.h = rho, h
        width = width * h
        self.margin = math.ceil(TONE_MARGIN * width)
        self.factor = decimation(width)
        rows, cols = rho.shape[-2:]
        self.coarse = (
            next_fast_len(math.ceil((rows + 2 * self.margin) / self.factor), real=True),
            next_fast_len(math.ceil((cols + 2 * self.margin) / self.factor), real=True),
        )
        self.fft_shape = (self.coarse[0] * self.factor, self.coarse[1] * self.factor)
        self.rho_hat = torch.fft.rfft2(self._padded(rho)[:, 0])
        ky = torch.fft.fftfreq(self.fft_shape[0], device=rho.device)[:, None]
        kx = torch.fft.rfftfreq(self.fft_shape[1], device=rho.device)[None, :]
        k2 = kx**2 + ky**2
        # Gradient of a unit-mass Gaussian, scaled by its inverse curvature at the centre
        # (2 pi width^4) so a step of 1 moves a lone displaced dot back about that far.
        gauss = torch.exp(-2 * math.pi**2 * width**2 * k2)
        scaled = gauss * 2 * math.pi * width**4
        multipliers = torch.stack([2j * math.pi * kx * scaled, 2j * math.pi * ky * scaled])
        self.gauss = low_band(gauss, self.coarse)
        self.multipliers = low_band(multipliers, self.coarse) / self.factor**2
        self.rho_low = low_band(self.rho_hat, self.coarse)
        top, side = min(self.margin, rows), min(self.margin, cols)
        self.origin = rho.new_tensor([side, top])
        self.energy = torch.full((rho.shape[0],), float("inf"), device=rho.device)
        self.damping = torch.ones(rho.shape[0], device=rho.device)
        smooth = torch.exp(-2 * math.pi**2 * (SPACING_SMOOTHING * h) ** 2 * k2)
        smoothed = self._crop(torch.fft.irfft2(self.rho_hat * smooth, s=self.fft_shape)[:, None])
        floor = 1e-3 * rho.mean(dim=(-2, -1), keepdim=True)
        spacing = torch.sqrt(2.0 / (math.sqrt(3.0) * torch.maximum(smoothed, floor)))
        self.hex_spacing = spacing.clamp(max=MAX_SPACING * h)

    def _padded(self, field: Tensor) -> Tensor:
        reflected = mirror_pad(field, self.margin)
        rows, cols = self.fft_shape
        return F.pad(reflected, (0, cols - reflected.shape[-1], 0, rows - reflected.shape[-2]))

    def _crop(self, field: Tensor) -> Tensor:
        """The image part of a field on the padded grid."""
        rows, cols = self.rho.shape[-2:]
        top, side = min(self.margin, rows), min(self.margin, cols)
        return field[..., top : top + rows, side : side + cols]

    def step(self, pts: Tensor, step: Tensor, guard: bool = True) -> Tensor:
        """One descent step of the blurred squared tone error (points in grid px). With
        ``guard``, an image whose error grew since its last step halves its steps from then
        on: against the oscillation that too long a step starts in dark areas (a spacing
        push between two steps raises the error by itself, so such steps pass no guard)."""
        corners = _corners(pts, self.rho.shape[-2:])
        spectrum = torch.fft.rfft2(self._padded(splat(pts, self.rho.shape[-2:], corners))[:, 0])
        spectrum = low_band(spectrum, self.coarse) - self.rho_low
        with torch.no_grad():
            energy = (torch.view_as_real(spectrum).square().sum(-1) * self.gauss).sum(dim=(-2, -1))
            grew = (energy > GUARD_GROWTH * self.energy) & guard
            self.damping = torch.where(grew, self.damping / 2, self.damping)
            self.energy = energy
        grad = torch.fft.irfft2(spectrum[:, None] * self.multipliers, s=self.coarse)
        at = (pts - 0.5 + self.origin) / self.factor + 0.5  # the dots on the coarse grid
        density = (sample(self.rho, pts, corners) * self.h * self.h).clamp_min(1.0)
        step = step * self.damping[:, None, None] / density
        move = (step * sample(grad, at)).clamp(-MAX_TONE_MOVE * self.h, MAX_TONE_MOVE * self.h)
        return pts - move


def length(v: Tensor, floor: float) -> Tensor:
    """Euclidean length (...) of vectors (..., 2), smoothly at least ``floor``: 2.4x faster
    than ``norm`` on these (100 000 dots: 0.6 vs 1.5 ms), with a finite gradient at 0."""
    return (v[..., 0].square() + v[..., 1].square() + floor * floor).sqrt()


def neighbours(pts: Tensor) -> Tensor:
    """Indices (B, n, k) of each dot's ``NEIGHBOURS`` nearest other dots (a k-d tree)."""
    k = min(NEIGHBOURS + 1, pts.shape[1])
    cloud = pts.detach().float().cpu().numpy()
    index = np.stack([cKDTree(c).query(c, k=k)[1][:, 1:] for c in cloud])
    return torch.from_numpy(index).to(pts.device)


def spacing_push(
    pts: Tensor, index: Tensor, hex_spacing: Tensor, margin: float, strength: float
) -> Tensor:
    """Move dots apart that are closer than ``margin`` times their (pair-averaged) local
    hexagonal spacing, each by ``strength`` of the overlap per neighbour in ``index``
    (from :func:`neighbours`; the distances and moves are differentiable)."""
    flat = index.flatten(1)
    others = pts.gather(1, flat[..., None].expand(-1, -1, 2)).view(*index.shape, 2)
    apart = pts[:, :, None, :] - others
    distance = length(apart, 1e-6)
    spacing = sample(hex_spacing, pts)[..., 0]
    wanted = margin * 0.5 * (spacing[..., None] + spacing.gather(1, flat).view(index.shape))
    overlap = (wanted - distance).clamp_min(0)
    return pts + strength * (overlap[..., None] * apart / distance[..., None]).sum(2)


def capacity_step(pts: Tensor, rho: Tensor, step: float = CAPACITY_STEP) -> Tensor:
    """One step (points (n, 2) in the px of ``rho`` (rows, cols)) towards Voronoi cells that
    hold equal ink: descent of the summed squared capacity deviations, preconditioned per
    dot (Gauss-Newton, diagonal).

    A dot's move changes its neighbours' cells through the borders it shares: dc_i/dx_i =
    sum over neighbours j of the integral over border ij of rho(y) (y - x_i) / |x_j - x_i|.
    The cells are labelled on the grid (one distance transform); each pair of adjacent
    pixels of two cells is a piece of their border, of length 1 / (|n_x| + |n_y|) for the
    border's normal n."""
    rows, cols = rho.shape
    n = pts.shape[0]
    size = pts.new_tensor([cols, rows])
    xy = (pts / size).detach().double().cpu().numpy()
    labels = torch.from_numpy(pixel_voronoi_labels(xy, rows, cols)).to(pts.device)
    mass = torch.zeros(n, dtype=rho.dtype, device=rho.device)
    ink = rho.flatten()
    mass.index_add_(0, labels, ink)
    mean = mass.mean().clamp_min(1e-12)
    share = mass / mean
    grad = torch.zeros_like(pts)
    pairs, pieces = [], []
    grid = labels.view(rows, cols)
    for dim, offset in ((0, cols), (1, 1)):  # pixel pairs one row apart, one column apart
        last = grid.shape[dim] - 1
        row, col = (grid.narrow(dim, 0, last) != grid.narrow(dim, 1, last)).nonzero(as_tuple=True)
        first = row * cols + col
        i, j = labels[first], labels[first + offset]
        where = torch.stack([col + 0.5 + 0.5 * dim, row + 1.0 - 0.5 * dim], -1).to(pts)
        apart = pts[j] - pts[i]
        weight = (ink[first] + ink[first + offset]) / (
            2 * mean * apart.abs().sum(-1).clamp_min(1e-6)
        )
        pull = ((share[i] - share[j]) * weight)[:, None]
        grad.index_add_(0, i, pull * (where - pts[i]))
        grad.index_add_(0, j, -pull * (where - pts[j]))
        pairs.append(torch.minimum(i, j) * n + torch.maximum(i, j))
        pieces.append(0.5 * weight * length(apart, 1e-6))
    pair, which = torch.unique(torch.cat(pairs), return_inverse=True)
    border = torch.zeros(len(pair), dtype=pts.dtype, device=pts.device)
    border.index_add_(0, which, torch.cat(pieces))
    sensitivity = torch.zeros(n, dtype=pts.dtype, device=pts.device)
    sensitivity.index_add_(0, pair // n, border.square())
    sensitivity.index_add_(0, pair % n, border.square())
    # Diagonal Gauss-Newton: moving a dot by 1 across border ij changes c_j by the border's
    # ink / 2 (over the mean cell's); its curvature is the sum of those squared.
    move = -step * grad / sensitivity.clamp_min(1e-12)[:, None]
    # Damped on light ink, by sqrt(ink under the dot / mean ink): beside white paper the
    # cells' inks and the blurred tone disagree (coffee's light cup at N = 3 000, 8 rounds:
    # 50.1 dB undamped, 53.0 damped, 54.2 without rounds).
    under = ink[pts[:, 1].long().clamp(0, rows - 1) * cols + pts[:, 0].long().clamp(0, cols - 1)]
    move = move * (under / ink.mean().clamp_min(1e-12)).clamp(max=1).sqrt()[:, None]
    h = math.sqrt(rows * cols / n)
    move = move * (CAPACITY_MAX_MOVE * h / length(move, 1e-12)).clamp(max=1)[:, None]
    return torch.minimum((pts + move).clamp_min(0), size - 1e-3)


def snap_to_ink(xy: Tensor, darkness: Tensor, radius: float) -> Tensor:
    """Dots (B, n, 2) in [0, 1] whose image pixel is near-white (darkness below ``INK``)
    move to the closest point of the nearest pixel with ink within ``radius`` pixels; the
    rest stay. The relaxation sees the image at its grid's resolution, coarser than the
    image's: this keeps thin white detail (highlights, collars, glyph interiors) white."""
    height, width = darkness.shape[-2:]
    reach = min(MAX_SNAP_PX, math.floor(radius))
    if reach < 1:
        return xy
    size = xy.new_tensor([width, height])
    pos = xy * size
    pixel = torch.stack(
        [pos[..., 0].floor().clamp(0, width - 1), pos[..., 1].floor().clamp(0, height - 1)], -1
    ).long()
    flat = darkness[:, 0].flatten(1)
    white = flat.gather(1, pixel[..., 1] * width + pixel[..., 0]) < INK
    image, dot = white.nonzero(as_tuple=True)  # only these dots look around
    steps = torch.arange(-reach, reach + 1, device=xy.device)
    offsets = torch.cartesian_prod(steps, steps)  # (K, 2) as (dx, dy)
    offsets = offsets[(offsets**2).sum(dim=1) <= reach**2]
    cand = pixel[image, dot][:, None, :] + offsets  # (M, K, 2)
    inside = (cand >= 0).all(-1) & (cand[..., 0] < width) & (cand[..., 1] < height)
    cand_x, cand_y = cand[..., 0].clamp(0, width - 1), cand[..., 1].clamp(0, height - 1)
    ink = flat[image[:, None], cand_y * width + cand_x] >= INK
    here = pos[image, dot][:, None, :]
    corner = torch.stack([cand_x, cand_y], -1).to(pos.dtype)
    closest = inside_pixel(here, corner)
    distance = (closest - here).norm(dim=-1).masked_fill(~(inside & ink), float("inf"))
    best = distance.argmin(dim=-1)
    found = torch.isfinite(distance.gather(1, best[:, None]))[:, 0]
    target = closest[torch.arange(len(best), device=xy.device), best]
    moved = pos.clone()
    moved[image[found], dot[found]] = target[found]
    blank = flat.gather(1, pixel[..., 1] * width + pixel[..., 0]) <= 0
    blank[image[found], dot[found]] = False
    if blank.any():
        moved[blank] = to_nearest_ink(moved, darkness, blank)
    return moved / size


def inside_pixel(pos: Tensor, corner: Tensor) -> Tensor:
    """The point of the pixel at ``corner`` (its top-left, image px) nearest to ``pos``,
    ``SNAP_INSET`` inside its edges."""
    return torch.maximum(torch.minimum(pos, corner + 1 - SNAP_INSET), corner + SNAP_INSET)


def to_nearest_ink(pos: Tensor, darkness: Tensor, stray: Tensor) -> Tensor:
    """The ``stray`` dots (B, n) of ``pos`` (B, n, 2, image px), which sit on blank paper with
    no ink within the snap's reach, moved just inside the nearest pixel with ink (a
    distance transform per image; rare, so done on the CPU)."""
    targets = []
    for image in stray.any(dim=1).nonzero()[:, 0].tolist():
        here = pos[image][stray[image]]
        paper = darkness[image, 0].cpu().numpy() < INK
        if paper.all():
            targets.append(here)
            continue
        _, (rows, cols) = ndimage.distance_transform_edt(paper, return_indices=True)
        x = here[:, 0].floor().long().clamp(0, paper.shape[1] - 1).cpu().numpy()
        y = here[:, 1].floor().long().clamp(0, paper.shape[0] - 1).cpu().numpy()
        corner = torch.from_numpy(np.stack([cols[y, x], rows[y, x]], -1)).to(pos)
        targets.append(inside_pixel(here, corner))
    return torch.cat(targets)


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
        share = config.tone_step / TONE_STEP_MAX
        learned = config.tone_passes if config.tone_steps is None else config.tone_steps
        self.tone_logits = nn.Parameter(torch.full((learned,), math.log(share / (1 - share))))
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
        padded = padded_shape(shape)
        spectrum = padded_rfft2((dots - rho)[:, 0], padded)
        force = cropped_irfft2(spectrum[:, None] * kernel, padded, shape)
        move = sample(force, moved)
        size = length(move, 1e-12)
        scale = size.median(dim=1).values[:, None, None]
        move = move / scale
        move = move * (MAX_MOVE * scale / size[..., None]).clamp(max=1)
        fields = torch.cat([rho * h * h, dots * h * h, force / scale[..., None]], dim=1)
        correction = sample(self.correction(fields), moved)
        return pts - h * (step * move + correction)

    def forward(self, rho: Tensor, pts: Tensor, tone_rho: Tensor | None = None) -> Tensor:
        """Training entry: every pass from ``pts`` (B, n, 2) in grid px."""
        return self.relax(rho, pts, tone_rho=tone_rho)

    def relax(
        self,
        rho: Tensor,
        pts: Tensor,
        generator: torch.Generator | None = None,
        passes: int | None = None,
        tone_passes: int | None = None,
        tone_rho: Tensor | None = None,
    ) -> Tensor:
        """Run the relaxation on ``rho``, then the tone passes on ``tone_rho`` (the same ink on
        the tone grid; default ``rho``), from ``pts`` (B, n, 2) in ``rho``'s grid px; returns
        the moved points there. More passes than trained reuse the last step size.
        The grid offsets come from ``generator`` (a CPU one), so every device draws the same."""
        shape = rho.shape[-2:]
        h = math.sqrt(shape[0] * shape[1] / pts.shape[1])
        kernel = self.kernel(shape, h, rho.device)
        limit = pts.new_tensor([shape[1], shape[0]])
        steps = self.log_steps.exp()
        for k in range(self.config.passes if passes is None else passes):
            offset = (torch.rand(2, generator=generator) - 0.5).to(pts.device)
            step = steps[min(k, len(steps) - 1)]
            pts = torch.minimum(self.step(pts, rho, step, kernel, h, offset).clamp_min(0), limit)
        tone_passes = self.config.tone_passes if tone_passes is None else tone_passes
        if tone_passes and len(self.tone_logits):
            tone_rho = rho if tone_rho is None else tone_rho
            scale = pts.new_tensor([tone_rho.shape[-1], tone_rho.shape[-2]]) / limit
            pts = self.tone(tone_rho, pts * scale, tone_passes) / scale
        return pts

    def tone(self, rho: Tensor, pts: Tensor, tone_passes: int) -> Tensor:
        """The tone passes (the first ``spacing_passes`` with spacing pushes), then the
        ``fine_passes``, on the ink density ``rho``, points in its grid px."""
        shape = rho.shape[-2:]
        limit = pts.new_tensor([shape[1], shape[0]])
        grid = ToneGrid(rho, math.sqrt(shape[0] * shape[1] / pts.shape[1]))
        tone_steps = TONE_STEP_MAX * torch.sigmoid(self.tone_logits)
        config = self.config
        pushes = min(config.spacing_passes, tone_passes) if pts.shape[1] > 1 else 0
        index = neighbours(pts) if pushes else None  # dots move little: found once
        for k in range(tone_passes):
            if k < pushes:
                pts = spacing_push(
                    pts, index, grid.hex_spacing, config.spacing_margin, config.spacing_push
                )
            step = tone_steps[min(k, len(tone_steps) - 1)]
            pts = torch.minimum(grid.step(pts, step, guard=k > pushes).clamp_min(0), limit)
        if config.fine_passes:
            fine = ToneGrid(rho, grid.h, config.fine_width)
            for k in range(config.fine_passes):
                pts = torch.minimum(fine.step(pts, tone_steps[-1], guard=k > 0).clamp_min(0), limit)
        return pts

    def balance(self, rho: Tensor, pts: Tensor, capacity_rho: Tensor, rounds: int) -> Tensor:
        """The capacity rounds on the tone passes' ink density ``rho`` (points in its grid
        px): each a spacing push, a :func:`capacity_step` on ``capacity_rho`` (the same ink
        on a grid of ``CAPACITY_PX_PER_H`` px per h) and fine steps to restore the tone."""
        shape = rho.shape[-2:]
        limit = pts.new_tensor([shape[1], shape[0]])
        scale = pts.new_tensor([capacity_rho.shape[-1], capacity_rho.shape[-2]]) / limit
        fine = ToneGrid(rho, math.sqrt(shape[0] * shape[1] / pts.shape[1]), self.config.fine_width)
        step = TONE_STEP_MAX * torch.sigmoid(self.tone_logits[-1])
        config = self.config
        for _ in range(rounds):
            pts = spacing_push(
                pts, neighbours(pts), fine.hex_spacing, config.spacing_margin, config.spacing_push
            )
            pts = torch.stack(
                [
                    capacity_step(p * scale, r[0]) / scale
                    for p, r in zip(pts, capacity_rho, strict=True)
                ]
            )
            for k in range(config.capacity_fine_steps):
                pts = torch.minimum(fine.step(pts, step, guard=k > 0).clamp_min(0), limit)
        return pts

    def predict(
        self,
        rgb: Tensor,
        darkness: Tensor,
        n: int,
        *,
        passes: int | None = None,
        tone_passes: int | None = None,
        capacity_rounds: int | None = None,
    ) -> tuple[Tensor, None]:
        """Exactly ``n`` dots per image: (B, n, 2) xy in [0, 1]; colours left to the engine.

        passes, tone_passes: run fewer (or more, reusing the last step size) relaxation or
        tone passes than trained. capacity_rounds: run this many capacity rounds at any N
        (default: the config's, up to ``capacity_max_dots`` dots). The start is the
        scattered dither at torch's current seed (the engine seeds it).
        """
        checked = (
            ("passes", passes),
            ("tone_passes", tone_passes),
            ("capacity_rounds", capacity_rounds),
        )
        for name, value in checked:
            if value is not None and not 0 <= value <= MAX_PASSES:
                raise OptionError(
                    f"{name} must be a whole number from 0 to {MAX_PASSES}, got {value}"
                )
        height, width = darkness.shape[-2:]
        shape = grid_shape(height, width, n, self.config)
        rho = ink_density(darkness.float(), shape, n)
        tone_shape = grid_shape(height, width, n, self.config, self.config.tone_px_per_dot)
        tone_rho = rho if tone_shape == shape else ink_density(darkness.float(), tone_shape, n)
        seed = int(torch.randint(0, 2**31 - 1, (1,)).item())
        starts = [
            scattered_dither(dark, n, seed=seed + i)
            for i, dark in enumerate(darkness[:, 0].float().cpu().numpy())
        ]
        size = np.array([shape[1], shape[0]], dtype=np.float32)
        starts = [torch.from_numpy(s.astype(np.float32)) for s in starts]
        pts = (stack_dots(starts) * torch.from_numpy(size)).to(rho.device)
        generator = torch.Generator().manual_seed(seed)
        relaxed = self.relax(rho, pts, generator, passes, tone_passes, tone_rho)
        if capacity_rounds is None:
            small = n <= self.config.capacity_max_dots
            capacity_rounds = self.config.capacity_rounds if small else 0
        if capacity_rounds and n > 1:
            capacity_shape = grid_shape(height, width, n, self.config, CAPACITY_PX_PER_H**2)
            capacity_rho = ink_density(darkness.float(), capacity_shape, n)
            scale = pts.new_tensor([tone_rho.shape[-1], tone_rho.shape[-2]]) / pts.new_tensor(size)
            relaxed = self.balance(tone_rho, relaxed * scale, capacity_rho, capacity_rounds) / scale
        relaxed = relaxed / pts.new_tensor(size)
        spacing = math.sqrt(height * width / n)
        return snap_to_ink(relaxed, darkness.float(), self.config.snap_radius * spacing), None


def build(config: Config) -> RelaxNet:
    """An untrained relaxnet: the plain physics (zero CNN head, schedule step sizes)."""
    return RelaxNet(config)
