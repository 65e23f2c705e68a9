"""Time the PNG and SVG renderers on a photo-like stipple and print a table.

The stipple is drawn straight from a photo's darkness (independent of the engines), with
each dot coloured by its pixel. Target: 20 000 dots into a 2048 px PNG in <= 1 s.

    .venv/bin/python benchmarks/renderers.py [--points 20000] [--size 2048] [--repeat 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from stipplr import renderers
from stipplr.dots import Stipple
from stipplr.images import load_image
from stipplr.tone import Tone, darkness

HERE = Path(__file__).resolve().parent

PHOTO = HERE.parent / "examples" / "photos" / "coffee.jpg"
CASES = [
    ("png", {}),
    ("png", {"color": "dots"}),
    ("png", {"transparent": True}),
    ("png", {"color": "dots", "dot_size": 1.0}),
    ("svg", {}),
    ("svg", {"color": "dots"}),
    ("svg", {"color": "dots", "palette": 0}),
]


def photo_stipple(points: int, seed: int = 0) -> Stipple:
    """``points`` dots sampled with probability proportional to the photo's darkness."""
    rgb = load_image(PHOTO)
    height, width = rgb.shape[:2]
    dark = darkness(rgb, Tone()).ravel().astype(np.float64)
    rng = np.random.default_rng(seed)
    pixel = rng.choice(dark.size, size=points, p=dark / dark.sum())
    rows, cols = np.divmod(pixel, width)
    xy = (np.column_stack([cols, rows]) + rng.random((points, 2))) / [width, height]
    meta = {"engine": "benchmark-sampler", "points": points}
    return Stipple(np.clip(xy, 0, 1), rgb.reshape(-1, 3)[pixel], width, height, meta=meta)


def time_case(stipple: Stipple, name: str, options: dict, folder: Path, repeat: int) -> tuple:
    """(best wall seconds, best CPU seconds, file bytes) over ``repeat`` renders to a file.

    CPU time is reported too because wall time on a shared machine depends on its load."""
    path = folder / f"bench.{name}"
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        renderers.render(stipple, path, name, **options)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return min(wall), min(cpu), path.stat().st_size


def main() -> None:
    """Print one row per renderer and options: wall and CPU time, file size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=20_000)
    parser.add_argument("--size", type=int, default=2048, help="page long side in px")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    stipple = photo_stipple(args.points)
    side = "width" if stipple.width >= stipple.height else "height"
    renderers.render(stipple, Path(tempfile.gettempdir()) / "warmup.png", width=64)
    print(
        f"{args.points} dots from {PHOTO.name}, page {side}={args.size} px, best of {args.repeat}"
    )
    print(f"{'renderer':8} {'options':34} {'wall s':>8} {'CPU s':>8} {'file KB':>9}")
    with tempfile.TemporaryDirectory() as folder:
        for name, options in CASES:
            wall, cpu, size = time_case(
                stipple, name, {side: args.size, **options}, Path(folder), args.repeat
            )
            shown = " ".join(f"{k}={v}" for k, v in options.items()) or "(defaults)"
            print(f"{name:8} {shown:34} {wall:8.3f} {cpu:8.3f} {size / 1024:9.0f}")


if __name__ == "__main__":
    main()
