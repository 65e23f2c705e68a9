"""Losses for point-set stippling networks (batched torch, differentiable in the points).

Conventions: point sets are (B, N, 2) positions in [0, 1] (x right, y down); each loss
returns one value per batch item, shape (B,), so a task can weight or average them.

- Chamfer: symmetric mean of squared nearest-neighbour distances,
  ``(mean_i min_j |p_i - t_j|^2 + mean_j min_i |p_i - t_j|^2) / 2`` (the average, not the
  sum, of the two directions, so two copies of a set shifted by s are s^2 apart).
- Spectrum: L1 distance between the log radially averaged power spectra of the two sets,
  splatted bilinearly into a density raster.
- Colour: L1 between each predicted dot's colour and the colour of the nearest target dot.
- Density: KL divergence between the normalised histogram of the target points over the
  model's (x, y, colour) grid and the softmax of the density logits over all cells. The
  published design picks the top-K cells, which passes no gradient to the density head;
  this term supervises every cell directly.
- Share: squared error between the same softmax and the normalised target, in relative
  density (li2021 ``guided``, whose dots follow the column shares; see :func:`share_loss`).

The nearest neighbours are searched without gradient (chunked ``torch.cdist``); distances
are then recomputed from the gathered points, so gradients follow the matched pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

LOG_EPS = 1e-3
"""Added to the radial power before the log (RAPS of a Poisson set is about 1)."""


@dataclass
class LossWeights:
    """Weights of the loss terms; chamfer, spectrum and colour are the paper's values.

    ``density`` is ours (the paper has no density term; see the module docstring).
    """

    chamfer: float = 1.0
    spectrum: float = 0.1
    colour: float = 1.0
    density: float = 1.0


def weighted_total(terms: dict[str, Tensor], weights: LossWeights) -> Tensor:
    """Sum of the batch means of ``terms`` times their weights (terms missing count 0)."""
    total = sum(getattr(weights, name) * value.mean() for name, value in terms.items())
    return torch.as_tensor(total)


@torch.no_grad()
def nearest_indices(a: Tensor, b: Tensor, chunk: int = 1024) -> Tensor:
    """Index (B, N) of the nearest point in ``b`` (B, M, D) of each point of ``a`` (B, N, D)."""
    parts = [torch.cdist(a[:, i : i + chunk], b).argmin(dim=2) for i in range(0, a.shape[1], chunk)]
    return torch.cat(parts, dim=1)


def gather(points: Tensor, index: Tensor) -> Tensor:
    """Rows ``index`` (B, K) of ``points`` (B, M, D) -> (B, K, D)."""
    return points.gather(1, index[..., None].expand(-1, -1, points.shape[-1]))


def _weighted_mean(values: Tensor, weights: Tensor | None) -> Tensor:
    """Mean over dim 1 of ``values`` (B, N), each multiplied by ``weights`` (B, N) if given."""
    return (values if weights is None else values * weights).mean(dim=1)


def chamfer(pred: Tensor, target: Tensor, weights: Tensor | None = None) -> Tensor:
    """Symmetric Chamfer distance (B,) between (B, N, 2) and (B, M, 2), in squared units.

    ``weights`` (B, N) multiply the predicted points' terms (e.g. straight-through weights
    that carry a gradient to a point-selection score).
    """
    to_target = (pred - gather(target, nearest_indices(pred, target))).square().sum(-1)
    to_pred = (target - gather(pred, nearest_indices(target, pred))).square().sum(-1)
    return (_weighted_mean(to_target, weights) + to_pred.mean(dim=1)) / 2


def colour_loss(
    pred_xy: Tensor,
    pred_colour: Tensor,
    target_xy: Tensor,
    target_colour: Tensor,
    weights: Tensor | None = None,
) -> Tensor:
    """Mean L1 (B,) between each predicted colour (B, N, C) and its nearest target dot's (B, M, C).

    Nearest is by position; the gradient reaches the colours, not the positions.
    """
    matched = gather(target_colour, nearest_indices(pred_xy.detach(), target_xy))
    return _weighted_mean((pred_colour - matched).abs().mean(-1), weights)


def splat(xy: Tensor, size: int, weights: Tensor | None = None) -> Tensor:
    """Bilinear splat of (B, N, 2) points in [0, 1] into (B, size, size) counts, wrapping at edges.

    Differentiable in the positions (and in ``weights`` (B, N), the mass of each point).
    """
    batch, n = xy.shape[:2]
    mass = xy.new_ones(batch, n) if weights is None else weights
    u = xy * size - 0.5
    corner = torch.floor(u)
    frac = u - corner
    corner = corner.long()
    out = xy.new_zeros(batch, size * size)
    for dx in (0, 1):
        for dy in (0, 1):
            wx = frac[..., 0] if dx else 1 - frac[..., 0]
            wy = frac[..., 1] if dy else 1 - frac[..., 1]
            col = (corner[..., 0] + dx) % size
            row = (corner[..., 1] + dy) % size
            out = out.scatter_add(1, row * size + col, mass * wx * wy)
    return out.view(batch, size, size)


def radial_bins(size: int, device: torch.device | None = None) -> Tensor:
    """Integer frequency radius (size * size,) of each FFT coefficient of a size x size raster."""
    k = torch.fft.fftfreq(size, d=1.0 / size, device=device)
    return torch.hypot(k[:, None], k[None, :]).round().long().flatten()


def radial_power(density: Tensor, n: Tensor | float) -> Tensor:
    """Radially averaged power |FFT|^2 / n of (B, S, S) rasters at radii 1 .. S // 2, (B, S // 2).

    ``n`` is the number (or mass) of points, so a Poisson set has power about 1.
    """
    size = density.shape[-1]
    power = torch.fft.fft2(density).abs().square().flatten(1)
    power = power / torch.as_tensor(n, dtype=power.dtype).reshape(-1, 1)
    radius = radial_bins(size, density.device)
    keep = (radius >= 1) & (radius <= size // 2)
    radius, power = radius[keep], power[:, keep]
    sums = power.new_zeros(power.shape[0], size // 2 + 1).index_add(1, radius, power)
    counts = torch.bincount(radius, minlength=size // 2 + 1)
    return (sums / counts.clamp(min=1))[:, 1:]


def spectrum_loss(
    pred: Tensor, target: Tensor, size: int = 128, weights: Tensor | None = None
) -> Tensor:
    """Mean L1 (B,) between log radial power spectra of (B, N, 2) and (B, M, 2) point sets.

    Both are splatted into size x size rasters (radii up to size / 2 cycles per unit).
    """
    pred_raster = splat(pred, size, weights)
    target_raster = splat(target, size)
    pred_raps = radial_power(pred_raster, pred_raster.sum(dim=(1, 2)))
    target_raps = radial_power(target_raster, target.shape[1])
    return (torch.log(pred_raps + LOG_EPS) - torch.log(target_raps + LOG_EPS)).abs().mean(dim=1)


def histogram(points: Tensor, grid: int) -> Tensor:
    """Counts (B, G, ..., G) of (B, N, D) points in [0, 1]^D on a G^D grid (axes: coordinates)."""
    batch, n, dims = points.shape
    cell = (points.clamp(0, 1) * grid).long().clamp(max=grid - 1)
    flat = torch.zeros_like(cell[..., 0])
    for axis in range(dims):
        flat = flat * grid + cell[..., axis]
    counts = points.new_zeros(batch, grid**dims).scatter_add(1, flat, points.new_ones(batch, n))
    return counts.view(batch, *(grid,) * dims)


def density_loss(logits: Tensor, counts: Tensor) -> Tensor:
    """KL divergence (B,) from the normalised ``counts`` to softmax(``logits``) over all cells.

    Zero exactly when the softmax equals the target histogram; every cell gets a gradient.
    """
    log_q = torch.log_softmax(logits.flatten(1), dim=1)
    p = counts.flatten(1) / counts.flatten(1).sum(dim=1, keepdim=True)
    return (torch.xlogy(p, p) - p * log_q).sum(dim=1)


def share_loss(logits: Tensor, counts: Tensor) -> Tensor:
    """Mean squared error (B,) between softmax(``logits``) and the normalised ``counts``,
    both times the number of cells (relative ink density, 1 = even).

    The tone error the dots will show, per cell; its gradient stays bounded where a target
    is concentrated on a few cells, where the KL's log dominates a batch (li2021 ``guided``).
    """
    q = torch.softmax(logits.flatten(1), dim=1)
    p = counts.flatten(1) / counts.flatten(1).sum(dim=1, keepdim=True)
    return ((q - p) * q.shape[1]).square().mean(dim=1)
