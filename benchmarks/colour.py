"""Colour plots with real pens: coupled vs independent vs nearest-pen (stipplr 0.1) on the
colour sample photos; prints a markdown table.

    python benchmarks/colour.py [--points 5000] [--pens cmyk fineliner-6] [--photos coffee]

Per photo, pen set and mix: colour error (mean / 95th percentile CIEDE2000 of the blurred
composite against the blurred photo, :func:`stipplr.metrics.colour_error`); spacing of
each pen's dots against its own ink map (worst pen's mean, worst pen's clumped share,
among pens with at least 1 % of the dots) and
of all dots against their summed density; the share of dots closer than one pen width
(0.3 mm on an A4 picture 180 mm wide) to a dot of another pen; the largest deviation of a
pen's dot share from its share of the separated ink; wall and CPU time. Every mix uses the
same engine (ccvt) so only the way pens share the dots differs.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

import stipplr
from stipplr import metrics
from stipplr.images import load_image
from stipplr.inks import parse_pen_set, separate

PHOTOS = Path(__file__).resolve().parent.parent / "examples" / "photos"
COLOUR_PHOTOS = ("astronaut", "chelsea", "coffee", "rocket")  # camera is greyscale
MIXES = ("coupled", "independent", "nearest")
PEN_MM, PICTURE_MM = 0.3, 180.0
MIN_SHARE = 0.01  # pens with fewer dots than this share are left out of the worst spacing


def cross_pen_share(px: np.ndarray, pen: np.ndarray, width_px: float) -> float:
    """Share of dots closer than ``width_px`` to a dot of another pen."""
    close = 0
    for p in np.unique(pen):
        others = px[pen != p]
        if len(others):
            distance, _ = cKDTree(others).query(px[pen == p])
            close += int(np.sum(distance < width_px))
    return close / max(len(px), 1)


def spacing(result: stipplr.Stipple, coverage: np.ndarray) -> tuple[float, float, float]:
    """(worst pen's spacing mean, worst pen's clumped %, union spacing mean); pens with
    less than MIN_SHARE of the dots are left out of the worst (a dozen dots have no
    meaningful spacing statistics)."""
    means, clumped = [], []
    counts = np.bincount(result.pen, minlength=len(coverage))
    for p, ink in enumerate(coverage):
        mine = result.xy[result.pen == p]
        if len(mine) >= MIN_SHARE * len(result) and ink.max() > 0:
            ratios = metrics.spacing_ratios(ink, mine)
            means.append(float(ratios.mean()))
            clumped.append(100 * float(np.mean(ratios < 0.5)))
    union = sum(c * m / m.sum() for c, m in zip(counts, coverage, strict=True) if m.sum() > 0)
    return min(means), max(clumped), float(metrics.spacing_ratios(union, result.xy).mean())


def share_error(result: stipplr.Stipple, ink: np.ndarray) -> float:
    """Largest |dot share / ink share - 1| over pens with at least 1 % of the ink."""
    share = np.bincount(result.pen, minlength=len(ink)) / len(result)
    wanted = ink / ink.sum()
    big = wanted >= 0.01
    return float(np.max(np.abs(share[big] / wanted[big] - 1)))


def run(photo: str, pens: str, mix: str, n: int) -> dict[str, float]:
    """One row's figures."""
    rgb = load_image(PHOTOS / f"{photo}.jpg")
    separation = separate(rgb, parse_pen_set(pens))
    wall, cpu = time.perf_counter(), time.process_time()
    result = stipplr.stipple(rgb, n, "ccvt", pens=pens, mix=mix, seed=1)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    error = metrics.colour_error(result, rgb)
    pen_mean, pen_clumped, union = spacing(result, separation.coverage)
    width_px = PEN_MM * rgb.shape[1] / PICTURE_MM
    return {
        "mean": error["mean"],
        "p95": error["p95"],
        "pen_spacing": pen_mean,
        "pen_clumped": pen_clumped,
        "union": union,
        "overlap": 100 * cross_pen_share(result.pixels(), result.pen, width_px),
        "share": 100 * share_error(result, separation.ink),
        "wall": wall,
        "cpu": cpu,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=5000)
    parser.add_argument("--pens", nargs="+", default=["cmyk", "fineliner-6"])
    parser.add_argument("--photos", nargs="+", default=list(COLOUR_PHOTOS))
    args = parser.parse_args()
    print(f"N = {args.points}, engine ccvt, load average {os.getloadavg()[0]:.2f} at start\n")
    print(
        "| photo | pens | mix | CIEDE2000 mean | p95 | pen spacing (worst) | pen clumped % "
        "| union spacing | cross-pen < pen width % | dot share vs ink % | wall s | CPU s |"
    )
    print("|" + "---|" * 12)
    for photo in args.photos:
        for pens in args.pens:
            for mix in MIXES:
                r = run(photo, pens, mix, args.points)
                print(
                    f"| {photo} | {pens} | {mix} | {r['mean']:.2f} | {r['p95']:.2f} "
                    f"| {r['pen_spacing']:.3f} | {r['pen_clumped']:.2f} | {r['union']:.3f} "
                    f"| {r['overlap']:.2f} | {r['share']:.1f} | {r['wall']:.1f} | {r['cpu']:.1f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
