"""The torch backend of :mod:`stipplr.engines.power`: the per-pixel work of the ``ccvt``
engine (local relabelling, the split of cut pixels) as whole-grid tensor operations, on
CUDA or, to test it anywhere, on torch's CPU.

Same model and float64 arithmetic as the numpy path, arranged for a GPU: every local
relabelling pass updates all pixels (not only those next to a change: the same result,
no index bookkeeping), and the dots' claims on the pixels under them are settled by a
scatter-min (the nearest claim wins, ties to the higher index, as the numpy path's ordered
writes give; CUDA does not order writes). The exact labelling (a k-d tree)
stays on the CPU: it runs once every few iterations. Results come back as numpy arrays:
the per-cell sums (a few sequential passes over the pixels, bit-reproducible where GPU
atomics are not), the Newton step and everything after them are the numpy path's.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np
import torch

from stipplr.devices import configure_threads
from stipplr.engines.power import (
    RELABEL_PASSES,
    Boundary,
    PowerGrid,
    power_labels,
)


@dataclass(frozen=True)
class GridTensors:
    """A grid's pixel centres and pixel size on the backend's device."""

    device: torch.device
    centres: torch.Tensor  # (P, 2)
    step: torch.Tensor  # (2,)


_CACHE: weakref.WeakKeyDictionary[PowerGrid, GridTensors] = weakref.WeakKeyDictionary()


def tensors(grid: PowerGrid) -> GridTensors:
    """The grid's arrays on its backend's device (copied once per grid); on the CPU with
    the project's thread cap (:func:`stipplr.devices.configure_threads`: torch threads
    that share their cores spin, 15x slower here on a busy machine)."""
    if grid not in _CACHE:
        device = torch.device(grid.backend)
        if device.type == "cpu":
            configure_threads()
        _CACHE[grid] = GridTensors(
            device=device,
            centres=torch.as_tensor(grid.centres, dtype=torch.float64, device=device),
            step=torch.as_tensor(grid.step, dtype=torch.float64, device=device),
        )
    return _CACHE[grid]


def _neighbour_labels(grid: PowerGrid, labels: torch.Tensor) -> torch.Tensor:
    """(5, P): own, right, left, lower and upper neighbours' labels (own off the grid)."""
    image = labels.reshape(grid.rows, grid.cols)
    out = image.expand(5, grid.rows, grid.cols).clone()
    out[1, :, :-1] = image[:, 1:]
    out[2, :, 1:] = image[:, :-1]
    out[3, :-1, :] = image[1:, :]
    out[4, 1:, :] = image[:-1, :]
    return out.reshape(5, -1)


def _powers(t: GridTensors, pts: torch.Tensor, weights: torch.Tensor, cand: torch.Tensor):
    """|p - x_k|^2 - w_k of every pixel p for its candidate labels k, shape (5, P)."""
    flat = cand.flatten()
    x, y, w = (torch.take(v, flat).view(cand.shape) for v in (pts[:, 0], pts[:, 1], weights))
    dx, dy = t.centres[:, 0] - x, t.centres[:, 1] - y
    return dx * dx + dy * dy - w


def _nearest(cand: torch.Tensor, power: torch.Tensor) -> torch.Tensor:
    """Each pixel's power-nearest candidate, the first of equals (as numpy's argmin; five
    elementwise passes, much faster than an argmin across rows on the CPU)."""
    best, label = power[0], cand[0]
    for k in range(1, len(cand)):
        nearer = power[k] < best
        best = torch.where(nearer, power[k], best)
        label = torch.where(nearer, cand[k], label)
    return label


def _pixel_of(grid: PowerGrid, t: GridTensors, pts: torch.Tensor) -> torch.Tensor:
    """Row-major index of the pixel under each point (clamped to the grid)."""
    col = torch.clamp((pts[:, 0] / t.step[0]).long(), 0, grid.cols - 1)
    row = torch.clamp((pts[:, 1] / t.step[1]).long(), 0, grid.rows - 1)
    return row * grid.cols + col


def _claim(t, pts, weights, labels: torch.Tensor, under: torch.Tensor) -> torch.Tensor:
    """``labels`` with each dot given the pixel under it when it is power-nearer there than
    that pixel's label (of several claimants the nearest, ties to the higher index)."""
    spot = t.centres[under]
    own = ((spot - pts) ** 2).sum(1) - weights
    there = ((spot - pts[labels[under]]) ** 2).sum(1) - weights[labels[under]]
    claim = torch.nonzero(own < there).flatten()
    if len(claim) == 0:
        return labels
    pix = under[claim]
    best = torch.full_like(t.centres[:, 0], float("inf")).scatter_reduce(0, pix, own[claim], "amin")
    win = claim[own[claim] == best[pix]]
    owner = torch.full_like(labels, -1).scatter_reduce(0, under[win], win, "amax")
    return torch.where(owner >= 0, owner, labels)


def _label(grid, t, pts, weights, labels: torch.Tensor | None):
    """(labels, candidates, powers) as :func:`stipplr.engines.power.relabel` (or exact when
    ``labels`` is None or local passes do not settle within RELABEL_PASSES)."""
    if labels is not None:
        under = _pixel_of(grid, t, pts)
        for _ in range(RELABEL_PASSES):
            cand = _neighbour_labels(grid, labels)
            power = _powers(t, pts, weights, cand)
            new = _claim(t, pts, weights, _nearest(cand, power), under)
            if torch.equal(new, labels):
                return labels, cand, power
            labels = new
    exact = power_labels(grid, pts.cpu().numpy(), weights.cpu().numpy())
    labels = torch.as_tensor(exact, dtype=torch.int64, device=t.device)
    cand = _neighbour_labels(grid, labels)
    return labels, cand, _powers(t, pts, weights, cand)


def _boundary(t: GridTensors, pts: torch.Tensor, cand: torch.Tensor, power: torch.Tensor):
    """The parts of cut pixels past each distinct neighbouring cell's boundary line, as
    :func:`stipplr.engines.power.boundary` (tensors in Boundary's field order)."""
    labels = cand[0]
    fresh = cand[1:] != labels
    for k in range(1, 4):
        for earlier in range(k):
            fresh[k] &= cand[k + 1] != cand[earlier + 1]
    k, pix = torch.nonzero(fresh, as_tuple=True)
    nb = cand[k + 1, pix]
    own = labels[pix]
    diff = pts[own] - pts[nb]
    dist = torch.clamp(torch.hypot(diff[:, 0], diff[:, 1]), min=1e-12)
    gap = torch.clamp(power[k + 1, pix] - power[0, pix], min=0.0) / (2 * dist)
    normal = diff / dist[:, None]
    a, b = normal[:, 0].abs() * t.step[0], normal[:, 1].abs() * t.step[1]
    lo, hi = torch.minimum(a, b), torch.maximum(a, b)
    v = torch.clamp(0.5 * (lo + hi) - gap, min=0.0)
    wide = v >= lo
    lohi = torch.clamp(lo * hi, min=1e-300)
    share = torch.where(wide, (v - 0.5 * lo) / hi, v * v / (2 * lohi))
    slope = torch.where(wide, 1.0 / hi, v / lohi) / (2 * dist)
    keep = share > 0
    depth = 0.5 * (gap + 0.5 * (lo + hi))
    return tuple(x[keep] for x in (pix, own, nb, share, slope, normal, depth))


def label_and_split(
    grid: PowerGrid, pts: np.ndarray, weights: np.ndarray, labels: np.ndarray | None = None
) -> tuple[np.ndarray, Boundary]:
    """The labels and cut-pixel split of :func:`stipplr.engines.power.cells`, computed on
    the grid's torch device (numpy out)."""
    t = tensors(grid)
    p = torch.as_tensor(pts, dtype=torch.float64, device=t.device)
    w = torch.as_tensor(weights, dtype=torch.float64, device=t.device)
    start = None if labels is None else torch.as_tensor(labels, device=t.device)
    lab, cand, power = _label(grid, t, p, w, start)
    edge = Boundary(*(x.cpu().numpy() for x in _boundary(t, p, cand, power)))
    return lab.cpu().numpy(), edge
