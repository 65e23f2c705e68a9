"""The shipped network against the classical engines on the held-out photos (issue 11's
quality table), per photo and N, plus its gap to ``ccvt``.

    python benchmarks/network.py [--counts 1000,5000,20000,50000] [--photos a.jpg ...]
        [--engines neural,ccvt,voronoi,lbg,dither] [--model default] [--seed 0]
        [--cache benchmarks/out/network-cache.json] [--json OUT.json] [--quick]

Photos: ``examples/photos`` (never trained on). Engines are called as the engine table
does (``stipplr.stipple`` on the darkness, colours off); metrics are ``stipplr.metrics``.
Classical results are cached by (engine, photo, N, seed) in ``--cache`` because ``ccvt``
takes minutes at 50 000 dots; the network is always rerun. Prints one markdown table per
N (every engine: means over the photos; the network and ccvt: per-photo tone PSNR) and the
targets' check: tone within 1 dB of ccvt, capacity CV <= ccvt + 0.02, spacing mean >= 0.88,
1st percentile >= 0.65, clumped <= 0.1 %, highlight leakage <= 2x ccvt's. ``--quick``:
N = 1000 on two photos, for a smoke test.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

import stipplr
from stipplr import metrics
from stipplr.images import load_image
from stipplr.tone import darkness

PHOTOS = Path(__file__).resolve().parent.parent / "examples" / "photos"
COLUMNS = ("psnr_db", "capacity_cv", "spacing_mean", "spacing_p1", "clumped", "leakage")


def scores(dark: np.ndarray, engine: str, n: int, seed: int, model: str) -> dict[str, float]:
    """Metrics and wall seconds of one engine run on a darkness map."""
    rgb = np.repeat(1 - dark[..., None], 3, axis=-1)
    extra = {"model": model, "device": "cpu"} if engine == "neural" else {}
    start = time.perf_counter()
    dots = stipplr.stipple(rgb, n, engine, seed=seed, **extra)
    seconds = time.perf_counter() - start
    found = metrics.evaluate(dark, dots.xy)
    found["leakage"] = found.pop("highlight_leakage", float("nan"))
    return {key: float(found[key]) for key in COLUMNS} | {"seconds": seconds}


def load_cache(path: Path) -> dict[str, dict[str, float]]:
    return json.loads(path.read_text()) if path.is_file() else {}


def save_cache(path: Path, cache: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(cache, indent=1))
    os.replace(partial, path)


def mean(rows: list[dict[str, float]], key: str) -> float:
    values = [r[key] for r in rows if np.isfinite(r[key])]
    return float(np.mean(values)) if values else float("nan")


def table(n: int, results: dict[str, dict[str, dict]], photos: list[str]) -> list[str]:
    """Markdown lines for one N: per engine means, per-photo PSNR of neural and ccvt."""
    head = "| engine | tone dB | capacity CV | spacing | p1 | clumped % | leakage | s/img |"
    lines = [f"\n### N = {n}\n", head, "|---" + "|---:" * 7 + "|"]
    for engine, per_photo in results.items():
        rows = list(per_photo.values())
        lines.append(
            f"| {engine} | {mean(rows, 'psnr_db'):.2f} | {mean(rows, 'capacity_cv'):.3f} | "
            f"{mean(rows, 'spacing_mean'):.3f} | {min(r['spacing_p1'] for r in rows):.3f} | "
            f"{100 * max(r['clumped'] for r in rows):.3f} | {mean(rows, 'leakage'):.2f} | "
            f"{mean(rows, 'seconds'):.2f} |"
        )
    for engine in ("neural", "ccvt"):
        if engine in results:
            psnr = ", ".join(f"{p} {results[engine][p]['psnr_db']:.2f}" for p in photos)
            lines.append(f"\n{engine} tone dB per photo: {psnr}")
    return lines


def checks(results: dict[str, dict[str, dict]], photos: list[str]) -> list[str]:
    """Issue 11's targets, network against ccvt, photo by photo."""
    if not {"neural", "ccvt"} <= set(results):
        return []
    ours, ref = results["neural"], results["ccvt"]
    gaps = [ref[p]["psnr_db"] - ours[p]["psnr_db"] for p in photos]
    cv = [ours[p]["capacity_cv"] - ref[p]["capacity_cv"] for p in photos]
    leak = [(ours[p]["leakage"], ref[p]["leakage"]) for p in photos]
    leak_ok = all(not np.isfinite(a) or a <= max(2 * b, 0) for a, b in leak)
    rows = list(ours.values())
    return [
        f"\ntone gap to ccvt: worst {max(gaps):.2f} dB, mean {np.mean(gaps):.2f} dB"
        f" ({'met' if max(gaps) <= 1 else 'missed'}: <= 1 dB)",
        f"capacity CV over ccvt: worst +{max(cv):.3f} ({'met' if max(cv) <= 0.02 else 'missed'})",
        f"spacing mean {mean(rows, 'spacing_mean'):.3f} (worst photo "
        f"{min(r['spacing_mean'] for r in rows):.3f}; target 0.88), p1 "
        f"{min(r['spacing_p1'] for r in rows):.3f} (0.65), clumped "
        f"{100 * max(r['clumped'] for r in rows):.3f} % (0.1 %)",
        "leakage (network / ccvt): "
        + ", ".join(f"{p} {a:.2f}/{b:.2f}" for p, (a, b) in zip(photos, leak, strict=True))
        + f" ({'met' if leak_ok else 'missed'}: <= 2x)",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", default="1000,5000,20000,50000")
    parser.add_argument("--photos", nargs="*", type=Path)
    parser.add_argument("--engines", default="neural,ccvt,voronoi,lbg,dither")
    parser.add_argument("--model", default="default")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache", type=Path, default=Path("benchmarks/out/network-cache.json"))
    parser.add_argument("--json", type=Path)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    photos = args.photos or sorted(PHOTOS.glob("*.jpg"))
    counts = [int(c) for c in args.counts.split(",")]
    if args.quick:
        photos, counts = photos[:2], [1000]
    cache = load_cache(args.cache)
    names = [p.stem for p in photos]
    report: dict[str, dict] = {}
    for n in counts:
        results: dict[str, dict[str, dict]] = {}
        for engine in args.engines.split(","):
            results[engine] = {}
            for photo in photos:
                key = f"{engine}/{photo.stem}/{n}/{args.seed}"
                if engine == "neural" or key not in cache:
                    dark = darkness(load_image(photo))
                    cache[key] = scores(dark, engine, n, args.seed, args.model)
                    if engine != "neural":
                        save_cache(args.cache, cache)
                results[engine][photo.stem] = cache[key]
        print("\n".join(table(n, results, names) + checks(results, names)), flush=True)
        report[str(n)] = results
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
