"""Time and quality of the classical engines on the example photos; prints a markdown table.

    python benchmarks/engines.py [--points 1000 5000 20000] [--photos coffee rocket]

N = 20 000 runs on the photo resized to 1280x854 (the target size for that count; the
default photos are 3:2), smaller counts on the 640 px photos. Quality: :mod:`stipplr.metrics`.
Wall time depends on the machine's load (printed); CPU time (summed over threads) is
the steadier figure on a shared machine.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
from PIL import Image

from stipplr import metrics
from stipplr.engines import engine_names, run_engine
from stipplr.images import load_image
from stipplr.tone import darkness

PHOTOS = Path(__file__).resolve().parent.parent / "examples" / "photos"
LARGE = (1280, 854)  # (width, height) for the 20k row
LARGE_FROM = 20_000


def photo_darkness(name: str, n: int) -> np.ndarray:
    """Darkness of example photo ``name``, resized to 1280x854 for large dot counts."""
    rgb = load_image(PHOTOS / f"{name}.jpg")
    if n >= LARGE_FROM:
        image = Image.fromarray((rgb * 255).round().astype(np.uint8))
        rgb = load_image(image.resize(LARGE, Image.Resampling.LANCZOS))
    return darkness(rgb)


def run(engine: str, dark: np.ndarray, n: int) -> dict[str, float]:
    """Wall and CPU time (all threads) and the metrics of one engine run."""
    start, cpu = time.perf_counter(), time.process_time()
    xy = run_engine(engine, dark, n).xy
    times = {"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu}
    return times | metrics.evaluate(dark, xy)


def main() -> None:
    """Print one table row per photo, dot count and engine."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, nargs="+", default=[1000, 5000, 20000])
    parser.add_argument("--photos", nargs="+", default=["coffee", "rocket", "chelsea"])
    parser.add_argument(
        "--engines", nargs="+", default=[e for e in engine_names() if e != "neural"]
    )
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs\n")
    print(
        "| engine | N | photo | size | wall s | CPU s | tone PSNR dB | SSIM | spacing mean "
        "| spacing p1 | clumped % | capacity CV |"
    )
    print("|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in args.points:
        for photo in args.photos:
            dark = photo_darkness(photo, n)
            size = f"{dark.shape[1]}x{dark.shape[0]}"
            for engine in args.engines:
                s = run(engine, dark, n)
                print(
                    f"| {engine} | {n} | {photo} | {size} | {s['seconds']:.2f} | {s['cpu']:.2f} "
                    f"| {s['psnr_db']:.2f} | {s['ssim']:.3f} | {s['spacing_mean']:.3f} "
                    f"| {s['spacing_p1']:.3f} | {100 * s['clumped']:.2f} "
                    f"| {s['capacity_cv']:.3f} |",
                    flush=True,
                )
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
