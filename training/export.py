"""Export a run as a registry model: ``python -m training.export RUN_DIR [--name default]``.

Takes the run's ``best.pt`` (or ``--checkpoint last``), measures it on held-out photos
(the checkout's ``examples/photos/*.jpg`` at N = 5000 by default, through
``stipplr.stipple`` so the whole pipeline is timed) and writes ``NAME.pt`` with the weights,
the config (the run's ``[export.config]``, if any, over its training config) and meta:
description, N range, training data summary, the run's recipe and the measured metrics,
and its model card ``NAME.json`` (what ``stipplr models`` lists, read without torch).
``--baselines dither,voronoi,lbg`` measures the classical engines the same way. Without
``--out`` the model goes to the user's model folder
(:func:`stipplr.modelfiles.user_model_dir`), where ``stipplr models`` lists it and
``--model NAME`` finds it. An existing file, a shipped model's file or a shipped model's
name is only replaced (or shadowed) with ``--force``; the command prints where it wrote.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import torch

import stipplr
from stipplr import metrics, modelfiles
from stipplr.checkpoints import read_checkpoint, save_checkpoint
from stipplr.errors import StipplrError, one_line
from stipplr.images import load_image
from stipplr.models import build_model, make_config
from stipplr.tomlfile import read_toml
from stipplr.tone import Tone, darkness
from training.paths import CHECKOUT_WEIGHTS_DIR, EXAMPLE_PHOTOS

SCORES = ("psnr_db", "ssim", "spacing_mean", "spacing_p1", "clumped", "capacity_cv", "seconds")
DESCRIPTIONS = {
    "relaxnet": "relaxnet: a learned relaxation (FFT force field with a learned Coulomb-like "
    "kernel plus a small CNN, shared weights), then steps down the tone metric's own energy "
    "with spacing pushes and a snap off white paper, from the seeded scattered dither "
    "(exact N, 1-200 000 dots, any size and aspect).",
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
    """Counts of the run's training items by source kind, plus their licences (a run whose
    task makes its images on the fly, such as relaxnet, says so)."""
    if "dir" not in run_config["data"]:
        return {"dataset": "made on the fly", **run_config["data"]}
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
    """Where a model is exported without ``--out``: the user's model folder."""
    return modelfiles.user_model_dir() / f"{name}.pt"


def shipped_folders() -> list[Path]:
    """The folders of shipped models: the installed package's and this checkout's."""
    return [modelfiles.SHIPPED_DIR.resolve(), CHECKOUT_WEIGHTS_DIR.resolve()]


def check_target(out: Path, force: bool) -> None:
    """Refuse, unless ``force``, to replace a file or a shipped model, or to shadow one."""
    if force:
        return
    hint = "; add --force to do it anyway"
    if out.resolve().parent in shipped_folders():
        raise StipplrError(f"{out}: would replace a model that ships with stipplr{hint}")
    shipped = modelfiles.shipped_models()
    if out.resolve().parent == modelfiles.user_model_dir().resolve() and out.stem in shipped:
        raise StipplrError(
            f"{out}: a model named {out.stem!r} ships with stipplr and --model {out.stem} "
            f"would pick this one instead (choose another --name){hint}"
        )
    if out.exists():
        raise StipplrError(f"{out}: exists{hint}")


def check_run(run_dir: Path, checkpoint: str) -> Path:
    """The run's checkpoint file, or a one-line error naming what is missing."""
    if not run_dir.is_dir():
        raise StipplrError(f"{run_dir}: no such run folder")
    source = run_dir / "checkpoints" / f"{checkpoint}.pt"
    if not source.is_file():
        found = sorted(p.stem for p in (run_dir / "checkpoints").glob("*.pt"))
        raise StipplrError(
            f"{source}: no such checkpoint (the run has: {', '.join(found) or 'none'})"
        )
    if not (run_dir / "config.toml").is_file():
        raise StipplrError(f"{run_dir}: not a run folder (no config.toml)")
    return source


def with_config(source: Path, state: dict[str, Any], arch: str, config: Any) -> torch.nn.Module:
    """The checkpoint's weights in the network of ``config``: the run's ``[export.config]``
    (settings the shipped model runs with but was not trained with, such as more passes)
    over its training config. Weights that do not fit it are a one-line error."""
    model = build_model(arch, dataclasses.asdict(config))
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise StipplrError(
            f"{source}: [export.config] does not fit the trained weights ({one_line(exc)})"
        ) from None
    return model.eval()


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
    force: bool = False,
) -> dict[str, Any]:
    """Write the run's checkpoint as a model with measured metrics and its model card;
    returns its meta. Refuses (before any work) what :func:`check_target` refuses."""
    source = check_run(run_dir, checkpoint)
    out = default_out(name) if out is None else out
    check_target(out, force)
    payload = read_checkpoint(source)
    run_config = read_toml(run_dir / "config.toml")
    arch = payload["arch"]
    inference = run_config.get("export", {}).get("config", {})
    config = make_config(arch, {**payload["config"], **inference})
    model = with_config(source, payload["state_dict"], arch, config)
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
    card = modelfiles.write_card(out, arch, meta)
    print(f"wrote {out} (model card {card.name}); use it with --model {_model_ref(out, name)}")
    return meta


def _model_ref(out: Path, name: str) -> str:
    """How ``--model`` names the export: by name in the user's folder, else by path."""
    in_user_dir = out.resolve().parent == modelfiles.user_model_dir().resolve()
    return name if in_user_dir and out.stem == name else str(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m training.export", description=__doc__)
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--name", default="default", help="model name (file stem)")
    parser.add_argument(
        "--out", type=Path, help=f"output file (default: {default_out('NAME')}, your models)"
    )
    parser.add_argument(
        "--force", action="store_true", help="replace an existing file or a shipped model"
    )
    parser.add_argument("--checkpoint", default="best", help="best, last or epoch_NNN")
    parser.add_argument("--points", type=int, default=5000)
    parser.add_argument("--baselines", default="", help="comma-separated engines to compare")
    parser.add_argument("--no-eval", action="store_true", help="skip the held-out measurement")
    parser.add_argument("--description", help="one line for `stipplr models` (default per arch)")
    args = parser.parse_args(argv)
    baselines = tuple(b for b in args.baselines.split(",") if b)
    try:
        export(
            args.run_dir,
            args.name,
            args.out,
            args.checkpoint,
            args.points,
            baselines,
            not args.no_eval,
            args.description,
            args.force,
        )
    except StipplrError as exc:
        parser.exit(2, f"{parser.prog}: error: {exc}\n")


if __name__ == "__main__":
    main()
