"""Plot scaling benchmark: huge stipples plot in bounded time and memory.

Random dots (a stipple of N dots, random order) are plotted as touch dots on A3 and
written as SVG, HPGL or G-code; it prints wall time for the plot (layout, paths, order,
statistics) and for writing, the file size and the process's peak memory. Past
``GREEDY_LIMIT`` dots per layer the order is a Hilbert curve. Run:
``python benchmarks/plot_scale.py [--sizes 1000000 10000000] [--format svg]``.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from stipplr.dots import Stipple
from stipplr.plotter import PlotOptions, make_plot, write_plot


def peak_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux: ru_maxrss is in kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    """Print one row per dot count."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--format", default="svg", choices=["svg", "hpgl", "gcode"])
    args = parser.parse_args()
    options = PlotOptions(paper="a3", pen_width="0.05mm", tick="0.01mm")
    print(
        f"{'dots':>10}  {'plot (s)':>8}  {'write (s)':>9}  {'file (MB)':>9}  {'peak RSS (MB)':>13}"
    )
    for n in args.sizes:
        rng = np.random.default_rng(0)
        stipple = Stipple(
            rng.random((n, 2), dtype=np.float32), np.zeros((n, 3), np.float32), 4000, 5600
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = time.perf_counter()
            plot = make_plot(stipple, options, args.format)
            made = time.perf_counter() - start
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"plot.{args.format}"
            start = time.perf_counter()
            write_plot(plot, path)
            written = time.perf_counter() - start
            size = path.stat().st_size / 1e6
        print(
            f"{n:>10}  {made:>8.1f}  {written:>9.1f}  {size:>9.0f}  {peak_mb():>13.0f}", flush=True
        )
        del plot, stipple


if __name__ == "__main__":
    main()
