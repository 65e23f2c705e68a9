"""Separation: a photo -> one ink-coverage map per pen, so that the pens' dots, mixed by
the ink model (:mod:`stipplr.inks.model`), reproduce the photo's colours from afar.

- **Grey-component replacement.** When the set has a black pen and no other neutral one
  (cmyk, most fineliner sets), black may take up to ``gcr`` of what it can (the largest
  k with 1 - k (1 - t_k) >= R in every channel) and is preferred up to there: with
  gcr = 1 (the default) a neutral grey is black dots only, with gcr = 0 the chromatic
  pens balance it. For ideal CMYK inks this is the classic C = (C' - K) / (1 - K); with
  real inks the classic split is only a start, and the joint solve below lowers black
  where the other pens could not reach the colour beside it. The photo's black is
  mapped to the black pen's own colour (black-point compensation, as colour management
  does), so black areas are black dots only, not a black pen with all others under it.
- **Non-negative unmixing.** All pens' coverages a in [0, 1] minimise the squared error
  of the mixture in sRGB values plus a small *grain* cost sum_p a_p d_p / (1.05 - d_p)
  (d_p: the pen's darkness against the paper), so that among mixtures of equal colour
  light pens are used first and dark ones added on top: light dots show least, and the
  coverages vary continuously with the colour (a grey pen carries the light greys of
  ``black+grey`` and stays under the black in the dark ones).
- **Fast.** The solve runs once per pen set on a 17^3 lattice of sRGB colours (projected
  Levenberg-Marquardt from several starts, ~1-2 s, cached), and each pixel interpolates
  its colour's coverages tetrahedrally, as colour-management engines do.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from skimage.color import rgb2lab

from stipplr.errors import OptionError
from stipplr.inks.model import composite, pen_reflectance
from stipplr.inks.pensets import PenSet, parse_pen_set

LATTICE = 17  # colour lattice nodes per sRGB axis (ICC tables use 17 too)
GRAIN = 1e-4  # weight of the light-pens-first ink cost (black's reward under GCR)
SPREAD = 1e-4  # weight of sum a^2: equal mixtures share ink, so coverages vary smoothly
NEUTRAL_CHROMA = 12.0  # CIELAB chroma below which a pen is neutral (grey or black)
BLACK_LIGHTNESS = 35.0  # CIE L* below which a neutral pen is the black pen
ITERATIONS = 40  # Levenberg-Marquardt iterations of the unmixing
LUMA = np.array([0.2126, 0.7152, 0.0722])  # Rec. 709 luma weights


@dataclass(frozen=True)
class Separation:
    """A photo's ink maps: ``coverage`` (P, H, W) in [0, 1], one per pen of ``pens``, and
    the black pen's index when grey-component replacement was applied (else None)."""

    coverage: np.ndarray
    pens: PenSet
    black: int | None

    @property
    def ink(self) -> np.ndarray:
        """Each pen's total ink (mean coverage over the picture)."""
        return self.coverage.reshape(len(self.pens), -1).mean(axis=1)

    def preview(self) -> np.ndarray:
        """The photo as the ink model mixes these coverages (H, W, 3 sRGB in [0, 1])."""
        return composite(self.coverage, [ink.rgb for ink in self.pens])


def black_pen(pens: PenSet) -> int | None:
    """The pen grey-component replacement puts neutrals on: the set's one neutral pen,
    when it is dark (None when there is none, or when a grey pen is also in the set)."""
    lab = rgb2lab(np.array([[ink.rgb for ink in pens]], dtype=float) / 255.0)[0]
    neutral = np.flatnonzero(np.hypot(lab[:, 1], lab[:, 2]) < NEUTRAL_CHROMA)
    if len(neutral) != 1 or lab[neutral[0], 0] >= BLACK_LIGHTNESS:
        return None
    return int(neutral[0])


def separate(rgb: np.ndarray, pens: PenSet | str, gcr: float = 1.0) -> Separation:
    """Separate an (H, W, 3) sRGB image in [0, 1] into the coverage map of each pen."""
    pens = parse_pen_set(pens)
    if not 0.0 <= gcr <= 1.0:
        raise OptionError(f"gcr must be a number from 0 to 1, got {gcr!r}")
    image = np.asarray(rgb, dtype=np.float64)
    if image.ndim != 3 or image.shape[2] != 3:
        raise OptionError(f"separation needs an RGB image, got shape {image.shape}")
    black = black_pen(pens)
    table = coverage_table(tuple(ink.rgb for ink in pens), float(gcr), black)
    maps = tetrahedral(table.reshape(len(pens), -1), image.reshape(-1, 3))
    maps = maps.reshape((len(pens),) + image.shape[:2])
    return Separation(np.clip(maps, 0.0, 1.0).astype(np.float32), pens, black)


def tetrahedral(table: np.ndarray, colours: np.ndarray) -> np.ndarray:
    """(P, M) values of a (P, L^3) lattice table at (M, 3) sRGB colours, interpolated in
    the tetrahedron of the colour's lattice cube (as colour-management engines do: greys
    interpolate along the grey axis only, so a grey never picks up coloured ink)."""
    scaled = np.clip(colours, 0.0, 1.0) * (LATTICE - 1)
    base = np.minimum(scaled.astype(np.int64), LATTICE - 2)
    frac = scaled - base
    order = np.argsort(-frac, axis=1, kind="stable")
    sorted_frac = np.take_along_axis(frac, order, axis=1)
    strides = np.array([LATTICE * LATTICE, LATTICE, 1])
    index = base @ strides
    weights = np.column_stack(
        [1 - sorted_frac[:, 0], -np.diff(sorted_frac, axis=1), sorted_frac[:, 2]]
    )
    out = table[:, index] * weights[:, 0]
    for step in range(3):
        index = index + strides[order[:, step]]
        out += table[:, index] * weights[:, step + 1]
    return out


def lattice_colours() -> np.ndarray:
    """The (LATTICE^3, 3) sRGB colours of the lookup lattice (r slowest)."""
    axis = np.linspace(0.0, 1.0, LATTICE)
    return np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), axis=-1).reshape(-1, 3)


@functools.lru_cache(maxsize=16)
def coverage_table(
    colours: tuple[tuple[int, int, int], ...], gcr: float, black: int | None
) -> np.ndarray:
    """(P, L, L, L) coverage of each pen (0-255 sRGB ``colours``) for the lattice colours
    (cached: a batch with one pen set solves once)."""
    target = lattice_colours()
    reflect = pen_reflectance(colours)
    upper = np.ones((len(target), len(colours)))
    cost = grain_cost(reflect)
    first = np.zeros_like(upper)
    if black is not None:
        target = black_point(target, reflect[black])
        k_absorb = 1.0 - reflect[black]
        k = gcr * np.clip(np.min((1.0 - target) / k_absorb, axis=1), 0.0, 1.0)
        upper[:, black], cost[black] = k, -GRAIN  # black up to its GCR share, and preferred
        kept = np.maximum(1.0 - k[:, None] * k_absorb, 1e-12)  # what black lets through
        rest = np.flatnonzero(np.arange(len(colours)) != black)
        first[:, black] = k
        if len(rest):
            alone = unmix(np.clip(target / kept, 0, 1), reflect[rest], cost[rest])
            first[:, rest] = alone  # the classic GCR separation: a start the joint solve keeps
    cover = unmix(target, reflect, cost, upper, extra=[first])
    table = cover.T.reshape(len(colours), LATTICE, LATTICE, LATTICE)
    table.flags.writeable = False
    return table


def black_point(colours: np.ndarray, black: np.ndarray) -> np.ndarray:
    """Colours mapped so that the photo's black is the black pen's colour ``black`` and
    white stays the paper (black-point compensation): the colours the pens aim for."""
    return black + (1.0 - black) * colours


def grain_cost(reflect: np.ndarray) -> np.ndarray:
    """Each pen's ink cost (see the module docstring): dark pens' ink costs most."""
    dark = 1.0 - reflect @ LUMA
    return GRAIN * dark / (1.0 - dark + 0.05)


def unmix(
    target: np.ndarray,
    reflect: np.ndarray,
    cost: np.ndarray,
    upper: np.ndarray | None = None,
    extra: list[np.ndarray] = (),
) -> np.ndarray:
    """Coverages (M, P) in [0, ``upper``] whose ink-model mixture is nearest each colour
    (M, 3), plus ``cost`` per unit of each pen's ink; the best of several starts (the
    mixture model is not convex)."""
    upper = np.ones((len(target), len(reflect))) if upper is None else upper
    absorb = 1.0 - reflect  # (P, 3)
    best, best_loss = None, None
    for a in [*starts(target, reflect), *extra]:
        a, loss = _descend(np.minimum(a, upper), upper, absorb, target, cost)
        if best is None:
            best, best_loss = a, loss
        else:
            better = loss < best_loss
            best = np.where(better[:, None], a, best)
            best_loss = np.where(better, loss, best_loss)
    return best


def starts(target: np.ndarray, reflect: np.ndarray) -> list[np.ndarray]:
    """Starting coverages (M, P): no ink, every pen at half, and each pen alone at the
    coverage that matches the colour's mean."""
    m, p = len(target), len(reflect)
    out = [np.zeros((m, p)), np.full((m, p), 0.5)]
    need = 1.0 - target.mean(axis=1)
    for i in range(p):
        a = np.zeros((m, p))
        a[:, i] = np.clip(need / max(1.0 - float(reflect[i].mean()), 1e-6), 0.0, 1.0)
        out.append(a)
    return out


def _descend(a: np.ndarray, upper: np.ndarray, absorb: np.ndarray, goal: np.ndarray, cost):
    """Projected Levenberg-Marquardt from ``a``, every colour at once: each iteration
    solves the damped Gauss-Newton system of each colour (P x P) over the pens not held at
    a bound; a colour whose error rises takes the step back and raises its damping.
    Returns (coverages, loss) per colour."""
    m, p = a.shape
    loss, residual, jac = _fit(a, absorb, goal, cost)
    damping = np.full(m, 1e-3)
    eye = np.eye(p)
    for _ in range(ITERATIONS):
        grad = 2 * np.einsum("mcp,mc->mp", jac, residual) + cost + 2 * SPREAD * a
        free = ~(((a <= 0) & (grad > 0)) | ((a >= upper) & (grad < 0)))
        hess = 2 * np.einsum("mcp,mcq->mpq", jac, jac) + 2 * SPREAD * eye
        hess = hess * (free[:, :, None] & free[:, None, :]) + eye * (
            damping[:, None, None] + (~free)[:, :, None]
        )
        step = -np.linalg.solve(hess, (grad * free)[:, :, None])[:, :, 0]
        trial = np.clip(a + step, 0.0, upper)
        t_loss, t_residual, t_jac = _fit(trial, absorb, goal, cost)
        better = t_loss <= loss
        a = np.where(better[:, None], trial, a)
        loss = np.where(better, t_loss, loss)
        residual = np.where(better[:, None], t_residual, residual)
        jac = np.where(better[:, None, None], t_jac, jac)
        damping = np.clip(np.where(better, damping * 0.3, damping * 10.0), 1e-9, 1e6)
    return a, loss


def _fit(a: np.ndarray, absorb: np.ndarray, goal: np.ndarray, cost: np.ndarray):
    """(loss (M,), residual (M, 3), Jacobian (M, 3, P)) of coverages ``a`` (M, P)."""
    factors = 1.0 - a[:, :, None] * absorb[None]  # (M, P, 3)
    light = np.prod(factors, axis=1)  # (M, 3)
    residual = light - goal
    others = light[:, None, :] / np.maximum(factors, 1e-12)  # product over the other pens
    jac = -(others * absorb[None]).transpose(0, 2, 1)
    loss = np.sum(residual**2, axis=1) + a @ cost + SPREAD * np.sum(a * a, axis=1)
    return loss, residual, jac
