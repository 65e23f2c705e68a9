"""Make lloydnet's training data: images -> dither -> weighted-Lloyd teacher, folder format.

``python -m training.data --out datasets/default [--count 1500] [--photos DIR]``

Sources: procedural images (gradients, ramps, smooth fields, soft/hard shapes, text; see
:mod:`training.procedural`) and photos (scikit-image's bundled photos except the held-out
five, plus ``--photos``; see :mod:`training.photos`) with random crops, flips, rotations,
scale, gamma and colour jitter. Each item is a 128-320 px crop with N picked so the dither
grid has ``cells`` cells across its long side. Writes ``source/``, ``target/``,
``points/`` and ``manifest.json`` (:mod:`training.layout`); finished items are skipped on
a rerun, and every item is a pure function of (seed, split, index).
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import asdict, dataclass, field
from multiprocessing import Pool
from pathlib import Path

import numpy as np

from stipplr.cells import cell_colours
from stipplr.tone import Tone, darkness
from training.layout import (
    MANIFEST,
    item_paths,
    make_folders,
    read_meta,
    write_images,
    write_manifest,
    write_points,
)
from training.photos import HELD_OUT, load_photo, photo_crop, train_origins, val_origins
from training.procedural import GENERATORS, PROCEDURAL, PROCEDURAL_LICENCE
from training.targets import TEACHER, Target, lloyd_target

CROP_PX = (128, 320)
SPLITS = {"train": 0, "val": 1}


@dataclass(frozen=True)
class Settings:
    """What to make: item counts, seed, photo share, grid size range and teacher steps."""

    count: int = 1500
    val_count: int = 48
    seed: int = 0
    photos: str | None = None
    photo_share: float = 0.5
    cells: tuple[int, int] = (40, 90)
    n_range: tuple[int, int] = (200, 5000)
    iterations: int = 30


@dataclass(frozen=True)
class ItemSpec:
    """One item to make: its name, split, source (procedural kind or photo) and seed."""

    name: str
    split: str
    index: int
    origin: str
    licence: str
    settings: Settings = field(repr=False)


def item_rng(spec: ItemSpec) -> np.random.Generator:
    """The item's own random stream: a pure function of (seed, split, index)."""
    return np.random.default_rng([spec.settings.seed, SPLITS[spec.split], spec.index])


def render_image(spec: ItemSpec, rng: np.random.Generator) -> np.ndarray:
    """The item's source image as uint8 (H, W, 3)."""
    h, w = (int(v) for v in rng.integers(CROP_PX[0], CROP_PX[1] + 1, 2))
    kind, ref = spec.origin.split(":", 1)
    if kind == "procedural":
        rgb = GENERATORS[ref](rng, h, w)
    else:
        rgb = photo_crop(load_photo(spec.origin), rng, h, w)
    return np.round(np.clip(rgb, 0, 1) * 255).astype(np.uint8)


def pick_n(dark: np.ndarray, rng: np.random.Generator, settings: Settings) -> int:
    """N so the dither grid has about ``cells`` cells across the long side."""
    h, w = dark.shape
    cell_px = max(h, w) / rng.uniform(*settings.cells)
    n = round(h * w * float(dark.mean()) / cell_px**2)
    return int(np.clip(n, *settings.n_range))


def item_meta(spec: ItemSpec, dark: np.ndarray, target: Target) -> dict:
    """The item's manifest entry (without its making time)."""
    h, w = dark.shape
    n = target.n
    return {
        "name": spec.name,
        "split": spec.split,
        "origin": spec.origin,
        "licence": spec.licence,
        "n": n,
        "seed": [spec.settings.seed, SPLITS[spec.split], spec.index],
        "teacher": TEACHER,
        "params": {
            "size": [w, h],
            "iterations": target.iterations,
            "init": "dither",
            "dither_offset": list(target.offset),
            "cells_across": round(max(h, w) * np.sqrt(n / (h * w * float(dark.mean()))), 1),
        },
    }


def make_item(job: tuple[ItemSpec, str]) -> dict:
    """Make one item (source, teacher target, points); returns its manifest entry."""
    spec, out = job
    paths = item_paths(Path(out), spec.name)
    if paths["points"].exists():
        return read_meta(paths["points"])
    start = time.perf_counter()
    rng = item_rng(spec)
    pixels = render_image(spec, rng)
    rgb = pixels.astype(np.float32) / 255
    dark = darkness(rgb, Tone())
    n = pick_n(dark, rng, spec.settings)
    offset = tuple(int(v) for v in rng.integers(128, size=2))
    target = lloyd_target(dark, n, offset, spec.settings.iterations)
    meta = item_meta(spec, dark, target)
    write_images(paths, pixels, target.xy)
    meta["seconds"] = round(time.perf_counter() - start, 3)
    arrays = {"xy": target.xy, "rgb": cell_colours(target.xy, rgb), "init": target.init}
    write_points(paths["points"], arrays | {"offset": np.array(offset)}, meta)
    return meta


def plan(settings: Settings) -> list[ItemSpec]:
    """Every item to make: train items from training sources, val items from val photos."""
    specs = []
    sources = {
        "train": train_origins(settings.photos),
        "val": val_origins(),
    }
    counts = {"train": settings.count, "val": settings.val_count}
    for split, count in counts.items():
        photos = sorted(sources[split].items())
        for index in range(count):
            rng = np.random.default_rng([settings.seed, SPLITS[split], index, 7])
            if photos and rng.random() < settings.photo_share:
                origin, licence = photos[rng.integers(len(photos))]
            else:
                origin, licence = f"procedural:{rng.choice(PROCEDURAL)}", PROCEDURAL_LICENCE
            name = f"{split}_{index:05d}"
            specs.append(ItemSpec(name, split, index, origin, licence, settings))
    return specs


def make_dataset(out: str | os.PathLike, settings: Settings, workers: int = 2) -> dict:
    """Make (or finish) the dataset in ``out`` and write its manifest; returns the manifest."""
    from rich.progress import Progress

    out = Path(out)
    make_folders(out)
    specs = plan(settings)
    done = sum(item_paths(out, s.name)["points"].exists() for s in specs)
    start = time.perf_counter()
    items = {}
    jobs = [(spec, str(out)) for spec in specs]
    with Pool(workers) as pool, Progress() as progress:
        task = progress.add_task(f"items ({done} already made)", total=len(specs))
        for meta in pool.imap_unordered(make_item, jobs, chunksize=4):
            items[meta["name"]] = meta
            progress.advance(task)
    manifest = {
        "format": "stipplr-dataset",
        "generator": "training.data",
        "settings": asdict(settings),
        "teacher": {"engine": TEACHER, "iterations": settings.iterations, "init": "dither"},
        "held_out_never_used": list(HELD_OUT),
        "items": [items[s.name] for s in specs],
    }
    write_manifest(out, manifest)
    elapsed = time.perf_counter() - start
    splits = {k: sum(m["split"] == k for m in manifest["items"]) for k in SPLITS}
    print(
        f"{len(specs)} items in {out} ({splits['train']} train, {splits['val']} val); "
        f"{len(specs) - done} made now in {elapsed:.0f} s, {done} already there"
    )
    return manifest


def parse_args(argv: list[str] | None = None) -> tuple[argparse.Namespace, Settings]:
    parser = argparse.ArgumentParser(prog="python -m training.data", description=__doc__)
    d = Settings()
    parser.add_argument("--out", required=True, help="dataset folder (made or resumed)")
    parser.add_argument("--count", type=int, default=d.count, help="training items")
    parser.add_argument("--val-count", type=int, default=d.val_count, help="validation items")
    parser.add_argument("--seed", type=int, default=d.seed)
    parser.add_argument("--photos", help="extra folder of training photos")
    parser.add_argument("--photo-share", type=float, default=d.photo_share)
    parser.add_argument("--cells", type=int, nargs=2, default=d.cells, help="cells across")
    parser.add_argument("--n-range", type=int, nargs=2, default=d.n_range)
    parser.add_argument("--iterations", type=int, default=d.iterations, help="Lloyd steps")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    settings = Settings(
        count=args.count,
        val_count=args.val_count,
        seed=args.seed,
        photos=args.photos,
        photo_share=args.photo_share,
        cells=tuple(args.cells),
        n_range=tuple(args.n_range),
        iterations=args.iterations,
    )
    return args, settings


def ensure_dataset(cfg: dict) -> None:
    """Make a training config's dataset (its ``[data.make]`` settings) in ``data.dir`` when
    that folder has no manifest yet, so one command goes from nothing to a trained model."""
    make = cfg["data"].get("make")
    if make is None:  # e.g. relaxnet makes its images on the fly
        return
    root = Path(cfg["data"]["dir"])
    if (root / MANIFEST).exists():
        return
    settings = Settings(**{k: tuple(v) if isinstance(v, list) else v for k, v in make.items()})
    make_dataset(root, settings, workers=cfg["data"].get("workers", 2))


def main(argv: list[str] | None = None) -> None:
    args, settings = parse_args(argv)
    make_dataset(args.out, settings, args.workers)


if __name__ == "__main__":
    main()
