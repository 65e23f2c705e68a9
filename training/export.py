"""Export a run as a registry model: ``python -m training.export RUN_DIR [--name default]``.

Takes the run's ``best.pt`` (or ``--checkpoint last``), measures it on held-out photos
(the checkout's ``examples/photos/*.jpg`` at N = 5000 by default, through
``stipplr.stipple`` so the whole pipeline is timed) and writes ``NAME.pt`` with the weights,
the config and meta: description, N range, training data summary, the run's recipe and the
measured metrics. ``--baselines dither,voronoi,lbg`` measures the classical engines the
same way. Without ``--out`` the file goes to this checkout's ``stipplr/weights/NAME.pt``
(see :mod:`training.paths`), never into an installed stipplr.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

import stipplr
from stipplr import metrics
from stipplr.checkpoints import load_checkpoint, read_checkpoint, save_checkpoint
from stipplr.images import load_image
from stipplr.models import make_config
from stipplr.tomlfile import read_toml
from stipplr.tone import Tone, darkness
from training.paths import CHECKOUT_WEIGHTS_DIR, EXAMPLE_PHOTOS

SCORES = ("psnr_db", "ssim", "spacing_mean", "spacing_p1", "clumped", "capacity_cv", "seconds")
DESCRIPTIONS = {
    "lloydnet": "lloydnet: a U-Net on the blue-noise dither's cell grid that moves each "
    "dithered dot where weighted Lloyd relaxation would (one pass, exact N, any size and "
    "aspect).",
    "li2021": "li2021: the network of Li et al. (CGI 2021), ResNet encoder, style MLP and an "
    "AdaIN 3-D grid decoder over (x, y, grey); top-K cells become the dots.",
}


def measure(photos: list[Path], points: int, **engine: Any) -> dict[str, Any]:
    """Metrics and seconds of ``stipplr.stipple(photo, points, **engine)`` per photo + mean."""
    per_photo = {}
    for path in photos:
        dark = darkness(load_image(path), Tone())
        start = time.perf_counter()
        result = stipplr.stipple(path, points, **engine)
        seconds = time.perf_counter() - start
        scores = metrics.evaluate(dark, result.xy)
        per_photo[path.stem] = {k: scores[k] for k in SCORES if k in scores} | {"seconds": seconds}
    mean = {k: float(np.mean([s[k] for s in per_photo.values()])) for k in SCORES}
    return {"points": points, "photos": per_photo, "mean": mean}


def data_summary(run_config: dict[str, Any]) -> dict[str, Any]:
    """Counts of the run's training items by source kind, plus their licences."""
    manifest_path = Path(run_config["data"]["dir"]) / "manifest.json"
    if not manifest_path.exists():
        return {"dataset": str(manifest_path.parent), "note": "manifest not found"}
    items = json.loads(manifest_path.read_text())["items"]
    train = [i for i in items if i["split"] == "train"]
    return {
        "dataset": str(manifest_path.parent),
        "train_items": len(train),
        "val_items": len(items) - len(train),
        "origins": dict(Counter(i["origin"] for i in train).most_common()),
        "licences": sorted({i["licence"] for i in items}),
        "teacher": sorted({i["teacher"] for i in items}),
        "held_out_never_used": [p.stem for p in sorted(EXAMPLE_PHOTOS.glob("*.jpg"))],
    }


def default_out(name: str) -> Path:
    """Where a model is exported without ``--out``: the checkout's ``stipplr/weights/``."""
    return CHECKOUT_WEIGHTS_DIR / f"{name}.pt"


def table(results: dict[str, dict[str, Any]]) -> str:
    """A markdown table of mean scores, one row per engine/model."""
    head = "| engine | " + " | ".join(SCORES) + " |\n|---" + "|---:" * len(SCORES) + "|\n"
    rows = [
        f"| {name} | " + " | ".join(f"{r['mean'][k]:.3f}" for k in SCORES) + " |"
        for name, r in results.items()
    ]
    return head + "\n".join(rows) + "\n"


def export(
    run_dir: Path,
    name: str,
    out: Path | None = None,
    checkpoint: str = "best",
    points: int = 5000,
    baselines: tuple[str, ...] = (),
    evaluate: bool = True,
    description: str | None = None,
) -> dict[str, Any]:
    """Write the run's checkpoint as a registry model with measured metrics; returns its meta."""
    source = run_dir / "checkpoints" / f"{checkpoint}.pt"
    payload = read_checkpoint(source)
    run_config = read_toml(run_dir / "config.toml")
    model, _ = load_checkpoint(source)
    if out is None:
        out = default_out(name)
        print(f"no --out given: writing the checkout's {out}")
    arch = payload["arch"]
    config = make_config(arch, payload["config"])
    log = run_dir / "log.csv"
    meta: dict[str, Any] = {
        "name": name,
        "description": description or DESCRIPTIONS.get(arch, f"{arch} model trained with stipplr"),
        "n_range": list(getattr(model, "n_range", (1, None))),
        "training": {
            "run": str(run_dir),
            "checkpoint": checkpoint,
            "epoch_metrics": (payload.get("meta") or {}).get("metrics", {}),
            "config": run_config,
            "log_csv": log.read_text() if log.exists() else "",
        },
        "data": data_summary(run_config),
    }
    save_checkpoint(out, model, arch, config, meta)
    results = {}
    if evaluate:
        photos = sorted(EXAMPLE_PHOTOS.glob("*.jpg"))
        results[name] = measure(photos, points, engine="neural", model=str(out))
        for engine in baselines:
            results[engine] = measure(photos, points, engine=engine)
        meta["metrics"] = {"held_out": results[name]}
        meta["baselines"] = {k: v for k, v in results.items() if k != name}
        save_checkpoint(out, model, arch, config, meta)
        print(table(results))
    print(f"wrote {out}")
    return meta


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m training.export", description=__doc__)
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--name", default="default", help="model name (file stem)")
    parser.add_argument(
        "--out", type=Path, help=f"output file (default {default_out('NAME')}, in this checkout)"
    )
    parser.add_argument("--checkpoint", default="best", help="best, last or epoch_NNN")
    parser.add_argument("--points", type=int, default=5000)
    parser.add_argument("--baselines", default="", help="comma-separated engines to compare")
    parser.add_argument("--no-eval", action="store_true", help="skip the held-out measurement")
    parser.add_argument("--description", help="one line for `stipplr models` (default per arch)")
    args = parser.parse_args(argv)
    baselines = tuple(b for b in args.baselines.split(",") if b)
    export(
        args.run_dir,
        args.name,
        args.out,
        args.checkpoint,
        args.points,
        baselines,
        not args.no_eval,
        args.description,
    )


if __name__ == "__main__":
    main()
