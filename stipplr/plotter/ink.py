"""Ink on paper: how much of the picture a plot's dots cover, and how many dots it takes
for the plot to be as dark as the image.

A dot inks a known area: a touch about the nib (pi w^2 / 4 plus the tick's w * t), a
circle the ring of width w inside its diameter, a spiral its whole disc. A stipple puts
dots where the image is dark, in proportion to darkness, so a part of the picture of
darkness g holds N * g / sum(g * area) dots per mm^2 and its *nominal* coverage is that
density times the dot's ink area. Ink overlaps once dots crowd, so the coverage there is
``saturate(nominal)``: equal to the nominal coverage up to the engine's *knee*, then
approaching 1 (measured on flat grey with the preview: dither's blue noise starts to
overlap at 0.40, the Lloyd-like engines at 0.65-0.70; :data:`KNEE`).

:func:`plan_points` (``--points auto``) picks the N whose predicted coverage equals the
image's mean darkness after the tone stage, capped by ``max_dots``, by the engine's range
and by merging: past a nominal coverage of pi / (2 sqrt 3) (hexagonally packed dots just
touching) in the darkest 1 % of the picture, dots there would merge into solid ink, so N
stops there. A cap that leaves the plot more than :data:`SHORTFALL` lighter than the
image is a :class:`ToneWarning` naming the darkest tone the dots reach; an explicit N
whose coverage is more than :data:`FAR_OFF` off the image's is one too.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from stipplr.errors import OptionError
from stipplr.paper import Layout

MERGE = math.pi / (2 * math.sqrt(3))  # nominal coverage of touching hexagonal discs
KNEE = {"dither": 0.40, "voronoi": 0.70, "lbg": 0.70, "neural": 0.65}
"""Nominal coverage at which an engine's dots start to overlap (measured, flat grey)."""
DEFAULT_KNEE = 0.40  # an unknown engine: as irregular as blue noise
FAR_OFF = 0.15  # an explicit N whose coverage is more than 15 % off the image's: a warning
SHORTFALL = 0.05  # a cap that leaves the plot more than 5 % lighter: a warning
DARKEST = 99.0  # percentile of the picture where merging is checked
GRID = 256  # cells on the long side of the tone map


class ToneWarning(UserWarning):
    """The plot's ink will be much lighter or darker than the image."""


def ink_areas(kinds: np.ndarray, diameters: np.ndarray, pen: float, tick: float) -> np.ndarray:
    """mm^2 of paper each dot inks (touch, circle or spiral at its diameter)."""
    d = np.asarray(diameters, dtype=float)
    disc = np.pi * d * d / 4
    ring = disc - np.pi * np.maximum(d / 2 - pen, 0.0) ** 2
    touch = np.pi * pen * pen / 4 + tick * pen
    return np.select([kinds == "touch", kinds == "circle"], [touch, ring], disc)


def knee_of(engine: object) -> float:
    """The knee of the engine that made a stipple (by name; unknown: blue noise's)."""
    return KNEE.get(str(engine), DEFAULT_KNEE)


def saturate(nominal: np.ndarray, knee: float) -> np.ndarray:
    """Covered fraction for a nominal coverage: linear to the knee, then exponentially
    approaching 1 with a continuous slope."""
    c = np.asarray(nominal, dtype=float)
    rest = 1.0 - knee
    return np.where(c <= knee, c, knee + rest * -np.expm1(-(c - knee) / rest))


@dataclass(frozen=True)
class ToneMap:
    """The picture as cells: darkness, area (mm^2) and a dot's ink area in each."""

    darkness: np.ndarray
    area: np.ndarray
    dot_area: np.ndarray
    knee: float

    @property
    def picture(self) -> float:
        """The picture's area in mm^2."""
        return float(self.area.sum())

    @property
    def target(self) -> float:
        """The image's mean darkness (the coverage a plot should reach)."""
        return float((self.darkness * self.area).sum() / self.picture)

    def nominal(self, n: float) -> np.ndarray:
        """Nominal coverage of each cell with ``n`` dots."""
        ink = float((self.darkness * self.area).sum())
        return n * self.darkness * self.dot_area / max(ink, 1e-300)

    def coverage(self, n: float) -> float:
        """Predicted fraction of the picture that ``n`` dots ink."""
        return float((saturate(self.nominal(n), self.knee) * self.area).sum() / self.picture)

    def merge_limit(self) -> float:
        """The N at which the darkest 1 % of the picture reaches :data:`MERGE`."""
        per_dot = self.nominal(1.0)
        order = np.argsort(per_dot)
        share = np.cumsum(self.area[order]) / self.picture
        darkest = per_dot[order][min(np.searchsorted(share, DARKEST / 100), len(order) - 1)]
        return MERGE / darkest if darkest > 0 else math.inf

    def darkest(self, n: float) -> float:
        """The darkest local tone ``n`` dots reach (their coverage in the darkest 1 %)."""
        reached = saturate(self.nominal(n), self.knee)
        return float(np.percentile(reached, DARKEST)) if reached.size else 0.0


def tone_map(
    darkness: np.ndarray, layout: Layout, dot_area: object, knee: float, n_hint: float
) -> ToneMap:
    """The tone map of a darkness image fitted by ``layout``; ``dot_area(g)`` is the ink
    area of a dot where the darkness is g. The image is smoothed over about one dot
    spacing at ``n_hint`` dots (finer detail than the dots cannot be drawn)."""
    dark = np.asarray(darkness, dtype=np.float32)
    height, width = dark.shape
    spacing = math.sqrt(height * width / max(n_hint, 1.0))
    if spacing > 1.0:
        dark = ndimage.gaussian_filter(dark, spacing / 2)
    block = max(1, math.ceil(max(height, width) / GRID))
    rows, cols = -(-height // block), -(-width // block)
    padded = np.zeros((rows * block, cols * block), np.float64)
    weight = np.zeros_like(padded)
    padded[:height, :width], weight[:height, :width] = dark, 1.0
    cells = padded.reshape(rows, block, cols, block).sum(axis=(1, 3))
    pixels = weight.reshape(rows, block, cols, block).sum(axis=(1, 3))
    keep = pixels > 0
    g = (cells[keep] / pixels[keep]).astype(float)
    area = pixels[keep] * layout.scale**2
    return ToneMap(g, area, np.asarray(dot_area(g), dtype=float) * np.ones_like(g), knee)


@dataclass(frozen=True)
class InkPlan:
    """A dot count and what it gives: predicted coverage against the image's darkness,
    what capped it (``max-dots``, ``merge``, ``engine`` or None) and the darkest tone."""

    points: int
    coverage: float
    darkness: float
    limit: str | None = None
    wanted: int | None = None
    darkest: float = 1.0
    auto: bool = True
    dot: str | None = None

    def how(self) -> str:
        """How the count was chosen, for the command's report."""
        grown = f"; --dot auto grew them to {self.dot}" if self.dot else ""
        if self.limit:
            return f"auto, capped by {LIMITS[self.limit]}{grown}"
        if self.auto:
            return f"auto: their ink matches the image's mean darkness{grown}"
        return "as given"


LIMITS = {
    "max-dots": "--max-dots",
    "engine": "the engine's largest dot count",
    "merge": "the spacing where dots in the darkest areas merge",
}


ADVICE = {
    "max-dots": "a larger --max-dots, a wider pen or a smaller picture reach darker",
    "engine": "another --engine, a wider pen or a smaller picture reach darker",
    "merge": "darker needs dots that merge in the darkest areas: -n draws more anyway",
}


def plan_points(tones: ToneMap, max_dots: int, n_range: tuple[int, int] = (1, 10**9)) -> InkPlan:
    """The N whose predicted coverage matches the image's mean darkness, within the caps."""
    target = tones.target
    caps = {"max-dots": max_dots, "engine": n_range[1], "merge": tones.merge_limit()}
    limit = min(caps, key=lambda k: caps[k])
    top = max(float(n_range[0]), min(caps.values()))
    wanted = _solve(tones, target, 1, top) if tones.coverage(top) >= target else None
    points = max(n_range[0], min(round(wanted if wanted else top), int(top)))
    uncapped = _solve(tones, target, 1, 1e12) if wanted is None else wanted
    plan = InkPlan(
        points,
        tones.coverage(points),
        target,
        None if wanted else limit,
        round(uncapped) if uncapped else None,
        tones.darkest(points),
    )
    if plan.limit and plan.coverage < (1 - SHORTFALL) * target:
        warnings.warn(capped_message(plan), ToneWarning, stacklevel=2)
    elif points > round(wanted or points):  # the engine's fewest dots are too many
        warn_far_off(plan, f"the engine places at least {n_range[0]:,} dots")
    return plan


def _solve(tones: ToneMap, target: float, low: float, high: float) -> float | None:
    """Bisection (on log N) for the N whose coverage is ``target`` (None if unreachable)."""
    if tones.coverage(high) < target:
        return None
    low = max(low, 1.0)
    for _ in range(60):
        mid = math.sqrt(low * high)
        low, high = (mid, high) if tones.coverage(mid) < target else (low, mid)
        if high / low < 1.0005:
            break
    return high


def percent(fraction: float) -> str:
    """``53 %``, or ``0.4 %`` below 10 %."""
    return f"{100 * fraction:.0f} %" if fraction >= 0.1 else f"{100 * fraction:.1f} %"


def capped_message(plan: InkPlan) -> str:
    """The warning for a capped N: what capped it and the darkest tone reached."""
    wanted = f"; {plan.wanted:,} dots would reach it" if plan.wanted else ""
    return (
        f"{plan.points:,} dots (capped by {LIMITS[plan.limit or 'max-dots']}) ink "
        f"{100 * plan.coverage:.0f} % of the picture, the image's mean darkness is "
        f"{100 * plan.darkness:.0f} %{wanted}; the darkest tone these dots reach is "
        f"{100 * plan.darkest:.0f} % ({ADVICE[plan.limit or 'max-dots']})"
    )


def check_points(tones: ToneMap, n: int) -> InkPlan:
    """An explicit N: a :class:`ToneWarning` when its coverage is far off the image's."""
    plan = InkPlan(n, tones.coverage(n), tones.target, darkest=tones.darkest(n), auto=False)
    warn_far_off(plan)
    return plan


def warn_far_off(plan: object, why: str = "--points auto picks the count that matches") -> None:
    """A :class:`ToneWarning` when ``plan``'s (or a plot's statistics') predicted coverage
    is more than :data:`FAR_OFF` off the image's mean darkness."""
    coverage, dark = getattr(plan, "coverage", None), getattr(plan, "darkness", None)
    n = getattr(plan, "points", None) or getattr(plan, "dots", 0)
    if coverage is None or not dark or abs(coverage - dark) <= FAR_OFF * dark:
        return
    side = "lighter" if coverage < dark else "darker"
    warnings.warn(
        f"{n:,} dots ink {percent(coverage)} of the picture but the image's mean darkness "
        f"is {percent(dark)}: the plot will be much {side} than the image ({why})",
        ToneWarning,
        stacklevel=3,
    )


def check_fits(n: int, dot_area: float, picture: float, what: str) -> None:
    """Refuse (one line) ``n`` dots that cannot all stay separate on the picture even when
    spread evenly: a pen or dot too wide for any dot at that N."""
    fit = int(MERGE * picture / dot_area)
    if n > fit:
        raise OptionError(
            f"{what} is too wide for {n:,} separate dots on a {picture:,.0f} mm^2 picture: at "
            f"most {fit:,} fit without merging (fewer points, a finer pen or larger paper)"
        )


def plot_coverage(
    centres: np.ndarray, areas: np.ndarray, box: tuple[float, float, float, float], knee: float
) -> float:
    """Predicted coverage of the ``box`` (x0, y0, x1, y1 mm) by dots at ``centres``
    (complex mm) inking ``areas`` mm^2, from their local density on a grid of cells
    holding about 16 dots each."""
    x0, y0, x1, y1 = box
    width, height = max(x1 - x0, 1e-9), max(y1 - y0, 1e-9)
    if not len(centres):
        return 0.0
    cells = max(1.0, min(len(centres) / 16, GRID * GRID))
    side = math.sqrt(width * height / cells)
    nx, ny = max(1, round(width / side)), max(1, round(height / side))
    ix = np.clip(((centres.real - x0) / width * nx).astype(np.int64), 0, nx - 1)
    iy = np.clip(((centres.imag - y0) / height * ny).astype(np.int64), 0, ny - 1)
    ink = np.bincount(iy * nx + ix, weights=areas, minlength=nx * ny)
    nominal = ink / (width * height / (nx * ny))
    return float(saturate(nominal, knee).mean())
