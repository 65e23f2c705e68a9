"""Benchmark of the capacity-constrained engine against voronoi and lbg (markdown tables).

    python benchmarks/ccvt.py            # photos at N = 1000, 5000, 20000; speed; N up to 100 000
    python benchmarks/ccvt.py --quick    # two photos, N = 1000 and 5000, short time series
    python benchmarks/ccvt.py --device cpu torch-cpu   # ccvt's numpy and torch paths side by side

Table 1: every sample photo at each N, the three engines side by side, measured with
``stipplr.metrics.evaluate`` (tone PSNR at blur sigma = 1 h, capacity CV, adaptive spacing
mean / 1st percentile, clumped = ratio < 0.5) and the issue's floors for ccvt (capacity CV
<= 0.06, PSNR >= voronoi + 3 dB and >= lbg + 4 dB, spacing mean >= 0.88, p1 >= 0.65,
clumped <= 0.1 %). Table 2: the speed cases (640x427 at N = 5000, a photo upscaled to
1280x854 at N = 20000). Table 3: time against N on the upscaled photo. "wall s" is what the
floors are about; "cpu s" (process time, all threads) shows how much of it was other work
on a shared machine. ``--device`` runs ccvt once per device (``-E device=``: cpu is the
numpy path, torch-cpu the torch code on the CPU, cuda), as rows "ccvt" (the first device)
and "ccvt <device>"; each ccvt row is checked against the floors.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
from skimage.transform import resize

from stipplr.engines.ccvt import ccvt
from stipplr.engines.lbg import lbg
from stipplr.engines.voronoi import voronoi
from stipplr.images import load_image
from stipplr.metrics import evaluate
from stipplr.tone import Tone, darkness

PHOTOS = Path(__file__).resolve().parent.parent / "examples" / "photos"
SEED = 1
Engines = dict[str, Callable[..., np.ndarray]]


def engines(devices: list[str]) -> Engines:
    """ccvt once per device ("ccvt", then "ccvt <device>"), then voronoi and lbg; each ccvt
    is warmed up once so that importing torch is not timed."""
    table: Engines = {}
    for index, device in enumerate(devices):
        engine = partial(ccvt, device=device)
        engine(np.ones((16, 16)), 4, iterations=2)
        table["ccvt" if index == 0 else f"ccvt {device}"] = engine
    return table | {"voronoi": voronoi, "lbg": lbg}


def photo_darkness(path: Path, size: tuple[int, int] | None = None) -> np.ndarray:
    """The photo's darkness map (default tone), optionally resized to (height, width)."""
    dark = darkness(load_image(path), Tone())
    if size is not None:
        dark = resize(dark, size, order=1, mode="edge", anti_aliasing=False)
    return np.clip(dark, 0.0, 1.0)


def run(engine: Callable[..., np.ndarray], dark: np.ndarray, n: int, score: bool = True) -> dict:
    """One engine run: wall and cpu seconds, plus the metrics when ``score``."""
    wall, cpu = time.perf_counter(), time.process_time()
    xy = engine(dark, n, seed=SEED)
    result = {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}
    assert xy.shape == (n, 2), f"{engine} returned {xy.shape} for N = {n}"
    return result | (evaluate(dark, xy) if score else {})


def floors(ours: dict, voro: dict, lbg_: dict) -> str:
    """The issue's quality floors for ccvt that this row misses ('ok' when none)."""
    misses = []
    if ours["capacity_cv"] > 0.06:
        misses.append("cv")
    if ours["psnr_db"] < voro["psnr_db"] + 3 or ours["psnr_db"] < lbg_["psnr_db"] + 4:
        misses.append("psnr")
    if ours["spacing_mean"] < 0.88:
        misses.append("mean")
    if ours["spacing_p1"] < 0.65:
        misses.append("p1")
    if ours["clumped"] > 0.001:
        misses.append("clumped")
    return "ok" if not misses else "MISS " + ",".join(misses)


def quality_table(table: Engines, photos: list[Path], counts: list[int]) -> None:
    print(
        "| photo | size | N | engine | wall s | cpu s | PSNR dB | capacity CV | spacing mean"
        " | spacing p1 | clumped % | ccvt floors |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for path in photos:
        dark = photo_darkness(path)
        size = f"{dark.shape[1]}x{dark.shape[0]}"
        for n in counts:
            rows = {name: run(engine, dark, n) for name, engine in table.items()}
            for name, r in rows.items():
                verdict = floors(r, rows["voronoi"], rows["lbg"])
                print(
                    f"| {path.stem} | {size} | {n} | {name} | {r['wall']:.2f} | {r['cpu']:.2f}"
                    f" | {r['psnr_db']:.2f} | {r['capacity_cv']:.3f} | {r['spacing_mean']:.3f}"
                    f" | {r['spacing_p1']:.3f} | {100 * r['clumped']:.2f}"
                    f" | {verdict if name.startswith('ccvt') else ''} |",
                    flush=True,
                )


def speed_table(table: Engines, photo: Path) -> None:
    print("\n| case | engine | wall s | cpu s | limit s | PSNR dB | capacity CV | spacing mean |")
    print("|---|---|---|---|---|---|---|---|")
    cases = [
        ("640x427, N=5000", (427, 640), 5000, 5.0),
        ("1280x854, N=20000", (854, 1280), 20000, 20.0),
    ]
    for label, size, n, limit in cases:
        dark = photo_darkness(photo, size)
        for name, engine in table.items():
            r = run(engine, dark, n)
            print(
                f"| {label} | {name} | {r['wall']:.2f} | {r['cpu']:.2f}"
                f" | {limit if name.startswith('ccvt') else ''} | {r['psnr_db']:.2f}"
                f" | {r['capacity_cv']:.3f} | {r['spacing_mean']:.3f} |",
                flush=True,
            )


def scaling_table(table: Engines, photo: Path, counts: list[int]) -> None:
    dark = photo_darkness(photo, (854, 1280))
    print("\n| N (1280x854) | " + " | ".join(f"{e} wall s (cpu s)" for e in table) + " |")
    print("|---|" + "---|" * len(table))
    for n in counts:
        cells = []
        for engine in table.values():
            r = run(engine, dark, n, score=False)
            cells.append(f"{r['wall']:.2f} ({r['cpu']:.2f})")
        print(f"| {n} | " + " | ".join(cells) + " |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short version")
    parser.add_argument(
        "--device", nargs="+", default=["cpu"], help="ccvt devices: cpu torch-cpu cuda auto"
    )
    args = parser.parse_args()
    table = engines(args.device)
    photos = sorted(PHOTOS.glob("*.jpg"))
    if args.quick:
        quality_table(table, photos[:2], [1000, 5000])
        scaling_table(table, PHOTOS / "coffee.jpg", [1000, 5000, 20000])
        return
    quality_table(table, photos, [1000, 5000, 20000])
    speed_table(table, PHOTOS / "coffee.jpg")
    scaling_table(table, PHOTOS / "coffee.jpg", [1000, 5000, 20000, 50000, 100000])


if __name__ == "__main__":
    main()
