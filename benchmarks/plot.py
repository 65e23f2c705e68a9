"""Plot ordering benchmark: pen-up travel and time of stipplr's orders against vpype's
``linesort`` (greedy, and ``--two-opt``) and, where the ``elkai`` package (LKH-3)
installs, a near-optimal tour.

Dots are importance-sampled from a held-out photo's darkness (a stipple-like density),
laid out on A4 with 15 mm margins and drawn as touch ticks (0.05 mm), so reversing a
path matters as it does in a real plot. Pen-up travel is measured as vpype does: between
paths, without the legs from and back to home. Run:
``python benchmarks/plot.py [--sizes 2000 5000 20000 50000] [--seconds 10]``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from stipplr.dots import Stipple
from stipplr.images import load_image
from stipplr.plotter import PlotOptions
from stipplr.plotter.build import plot_layout, route
from stipplr.plotter.document import Paths
from stipplr.plotter.order import orient
from stipplr.plotter.shapes import dot_paths
from stipplr.tone import Tone, darkness

PHOTO = Path(__file__).resolve().parents[1] / "examples" / "photos" / "coffee.jpg"
TWO_OPT_UP_TO = 20_000  # vpype's 2-opt is quadratic-ish: skip it beyond
LKH_SIZES = (2000,)  # elkai builds a full distance matrix: minutes at 2 000 dots here


def sample_dots(n: int, seed: int = 0) -> Stipple:
    """``n`` dots with density proportional to the photo's darkness (random order)."""
    dark = darkness(load_image(PHOTO), Tone())
    height, width = dark.shape
    rng = np.random.default_rng(seed)
    index = rng.choice(dark.size, n, p=dark.ravel() / dark.sum())
    xy = np.column_stack([index % width, index // width]) + rng.random((n, 2))
    xy /= np.array([width, height])
    return Stipple(np.clip(xy, 0, 1), np.zeros((n, 3)), width, height)


def tick_paths(n: int) -> Paths:
    """The dots as touch ticks on the default A4 page."""
    stipple, options = sample_dots(n), PlotOptions()
    layout = plot_layout((stipple.width, stipple.height), options, "fixed")
    xy = stipple.pixels().astype(float) * layout.scale + np.array(layout.offset)
    centres = xy[:, 0] + 1j * xy[:, 1]
    return dot_paths(centres, options.pen_width, "touch", options.pen_width, options.tick, 0.24)


def between(paths: Paths, order: np.ndarray, flip: np.ndarray) -> float:
    """Pen-up travel between paths in metres (vpype's measure)."""
    drawn = paths.take(order, flip)
    return float(np.abs(drawn.starts()[1:] - drawn.ends()[:-1]).sum()) / 1000


def vpype_rows(paths: Paths, n: int) -> list[tuple[str, float, float]]:
    """vpype linesort (and --two-opt up to TWO_OPT_UP_TO dots): (name, seconds, metres)."""
    try:
        import vpype as vp
        import vpype_cli
    except ImportError:
        return []
    rows = []
    for name, command in (("vpype linesort", "linesort"), ("vpype --two-opt", "linesort -t")):
        if "-t" in command and n > TWO_OPT_UP_TO:
            continue
        document = vp.Document()
        document.add(vp.LineCollection(list(paths)), 1)
        wall = time.perf_counter()
        result = vpype_cli.execute(command, document)
        seconds = time.perf_counter() - wall
        rows.append((name, seconds, result.layers[1].pen_up_length()[0] / 1000))
    return rows


def lkh_row(paths: Paths, home: complex) -> list[tuple[str, float, float]]:
    """A near-optimal tour of the dot centres through home (elkai's LKH-3), then the best
    direction of each tick; [] when elkai is not installed."""
    try:
        import elkai
    except ImportError:
        return []
    centres = (paths.starts() + paths.ends()) / 2
    cities = {str(i): (float(p.real), float(p.imag)) for i, p in enumerate(centres)}
    cities["home"] = (home.real, home.imag)
    wall = time.perf_counter()
    tour = elkai.Coordinates2D(cities).solve_tsp(runs=1)
    seconds = time.perf_counter() - wall
    at = tour.index("home")
    order = np.array([int(c) for c in tour[at + 1 :] + tour[:at] if c != "home"])
    flip = orient(paths.starts(), paths.ends(), order, home)
    return [("LKH-3 (elkai)", seconds, between(paths, order, flip))]


def stipplr_rows(paths: Paths, seconds: float, home: complex) -> list[tuple[str, float, float]]:
    """stipplr's default order (greedy over path ends, its longest jumps repaired, each
    path's best direction) and the same plus ``seconds`` of 2-opt/Or-opt and kicks."""
    rows = []
    for name, budget in (
        ("stipplr greedy", 0.0),
        (f"stipplr + 2-opt/Or-opt {seconds:g}s", seconds),
    ):
        options = PlotOptions(optimize_seconds=budget)
        wall = time.perf_counter()
        order, flip = route(paths, options, budget, home)
        rows.append((name, time.perf_counter() - wall, between(paths, order, flip)))
    return rows


def main() -> None:
    """Print one row per dot count and ordering: wall time and pen-up travel."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 5000, 20_000, 50_000])
    parser.add_argument("--seconds", type=float, default=10.0, help="ordering budget in all")
    parser.add_argument("--lkh-sizes", type=int, nargs="*", default=list(LKH_SIZES))
    args = parser.parse_args()
    home = complex(PlotOptions().page[0], 0)  # AxiDraw's home on a portrait page
    print(
        f"{'dots':>7}  {'ordering':<28} {'wall (s)':>9}  {'pen-up (m)':>10}  {'vs best vpype':>13}"
    )
    for n in args.sizes:
        paths = tick_paths(n)
        rows = [("input order", 0.0, between(paths, np.arange(n), np.zeros(n, bool)))]
        rows += vpype_rows(paths, n)
        rows += stipplr_rows(paths, args.seconds, home)
        rows += lkh_row(paths, home) if n in args.lkh_sizes else []
        best = min((m for name, _, m in rows if name.startswith("vpype")), default=None)
        for name, wall, metres in rows:
            versus = f"{100 * (metres / best - 1):+.1f} %" if best else ""
            print(f"{n:>7}  {name:<28} {wall:>9.2f}  {metres:>10.2f}  {versus:>13}", flush=True)


if __name__ == "__main__":
    main()
