"""Plot ordering benchmark: time and pen-up travel of greedy vs greedy then 2-opt/Or-opt.

Dots are importance-sampled from a held-out photo's darkness (a stipple-like density),
laid out on A4 with 15 mm margins. Run: ``.venv/bin/python benchmarks/plot.py``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from stipplr.dots import Stipple
from stipplr.images import load_image
from stipplr.paper import fit
from stipplr.plotter import PlotOptions
from stipplr.plotter.build import place
from stipplr.plotter.order import greedy_order, improve_route, route_length
from stipplr.tone import Tone, darkness

PHOTO = Path(__file__).resolve().parents[1] / "examples" / "photos" / "coffee.jpg"


def sample_dots(n: int, seed: int = 0) -> Stipple:
    """``n`` dots with density proportional to the photo's darkness (random order)."""
    dark = darkness(load_image(PHOTO), Tone())
    height, width = dark.shape
    rng = np.random.default_rng(seed)
    index = rng.choice(dark.size, n, p=dark.ravel() / dark.sum())
    xy = np.column_stack([index % width, index // width]) + rng.random((n, 2))
    xy /= np.array([width, height])
    return Stipple(np.clip(xy, 0, 1), np.zeros((n, 3)), width, height)


def main() -> None:
    """Print one row per dot count and ordering: time and pen-up travel."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000])
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    page = PlotOptions().page
    home = np.zeros(2)
    rows = []
    for n in args.sizes:
        stipple = sample_dots(n)
        layout = fit((stipple.width, stipple.height), page, 15.0, 0.0, 0.175)
        centres = place(stipple, layout)
        points = np.column_stack([centres.real, centres.imag])
        rows.append((n, "input order", 0.0, 0.0, route_length(points, np.arange(n), home)))
        wall, cpu = time.perf_counter(), time.process_time()
        greedy = greedy_order(points, home)
        greedy_wall, greedy_cpu = time.perf_counter() - wall, time.process_time() - cpu
        rows.append(
            (n, "greedy (KD-tree)", greedy_wall, greedy_cpu, route_length(points, greedy, home))
        )
        wall, cpu = time.perf_counter(), time.process_time()
        improved = improve_route(points, greedy, home, args.seconds)
        rows.append(
            (
                n,
                "+ 2-opt/Or-opt",
                greedy_wall + time.perf_counter() - wall,
                greedy_cpu + time.process_time() - cpu,
                route_length(points, improved, home),
            )
        )
    print(f"{'dots':>7}  {'ordering':<18} {'wall (s)':>9} {'cpu (s)':>8}  {'pen-up (m)':>10}")
    for n, name, wall, cpu, length in rows:
        print(f"{n:>7}  {name:<18} {wall:>9.2f} {cpu:>8.2f}  {length / 1000:>10.2f}")


if __name__ == "__main__":
    main()
