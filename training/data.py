"""Make lloydnet's training data: images -> dither -> weighted-Lloyd teacher, folder format.

``python -m training.data --out datasets/default [--count 1500] [--photos DIR]``

Sources: procedural images (gradients, ramps, smooth fields, soft/hard shapes, text) and
photos (scikit-image's bundled photos except the held-out five, plus ``--photos``) with
random crops, flips, rotations, scale, gamma and colour jitter. Each item is a 128-320 px
crop with N picked so the dither grid has ``cells`` cells across its long side. Writes
``source/``, ``target/``, ``points/`` and ``manifest.json``; finished items are skipped on a
rerun, and every item is a pure function of (seed, split, index).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from multiprocessing import Pool
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage
from skimage import transform

from stipplr.atomic import atomic_path, write_text
from stipplr.engines.cells import cell_colours
from stipplr.images import IMAGE_EXTENSIONS, load_image
from stipplr.tone import Tone, darkness
from training.targets import TEACHER, lloyd_target

HELD_OUT = ("astronaut", "camera", "chelsea", "coffee", "rocket")
"""scikit-image photos exported to examples/photos/: never trained on."""
SKIMAGE_PHOTOS = {
    "brick": "CC0 (cc0textures.com, via scikit-image)",
    "grass": "CC0 (cc0textures.com, via scikit-image)",
    "gravel": "CC0 (cc0textures.com, via scikit-image)",
    "text": "public domain (via scikit-image)",
    "cell": "CC0 (via scikit-image)",
    "microaneurysms": "CC0 (Andreas Maier, via scikit-image)",
    "horse": "CC0 (Andreas Preuss, via scikit-image)",
    "hubble_deep_field": "public domain (NASA, via scikit-image)",
    "retina": "CC0 1.0 (Hardin et al., via scikit-image)",
    "immunohistochemistry": "no known copyright restrictions (via scikit-image)",
}
VAL_PHOTOS = {
    "coins": "no known copyright restrictions (Walters Art Museum, via scikit-image)",
    "clock": "public domain (Stefan van der Walt, via scikit-image)",
}
"""Photos used only for the validation split."""
PROCEDURAL = ("linear", "radial", "field", "shapes", "text", "mix")
PROCEDURAL_LICENCE = "generated (stipplr, MIT)"
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


# --------------------------------------------------------------------- procedural images


def _tones(rng: np.random.Generator, k: int) -> np.ndarray:
    """k random RGB colours, biased to span light to dark."""
    grey = rng.uniform(0.0, 1.0, (k, 1))
    tint = rng.normal(0.0, 0.12, (k, 3))
    return np.clip(grey + tint, 0.0, 1.0)


def _blend(t: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-pixel mix of colours a and b by weights t in [0, 1] -> (H, W, 3)."""
    return a[None, None] * (1 - t[..., None]) + b[None, None] * t[..., None]


def _coords(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    ys, xs = np.mgrid[0:h, 0:w]
    return xs / max(h, w), ys / max(h, w)


def linear(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A ramp at a random angle with a random tone curve."""
    x, y = _coords(h, w)
    angle = rng.uniform(0, 2 * np.pi)
    t = x * np.cos(angle) + y * np.sin(angle)
    t = (t - t.min()) / max(np.ptp(t), 1e-9)
    a, b = _tones(rng, 2)
    return _blend(t ** rng.uniform(0.4, 2.5), a, b)


def radial(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A radial gradient around a random centre."""
    x, y = _coords(h, w)
    cx, cy = rng.uniform(-0.2, 1.2, 2) * np.array([w, h]) / max(h, w)
    r = np.hypot(x - cx, y - cy)
    t = np.clip(r / rng.uniform(0.2, 1.2), 0, 1)
    a, b = _tones(rng, 2)
    return _blend(t ** rng.uniform(0.5, 2.0), a, b)


def field_(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A smooth random field (Gaussian-filtered noise at a random scale)."""
    sigma = rng.uniform(2, 40)
    noise = ndimage.gaussian_filter(rng.normal(size=(h, w)), sigma, mode="wrap")
    t = (noise - noise.min()) / max(np.ptp(noise), 1e-9)
    a, b = _tones(rng, 2)
    return _blend(t, a, b)


def shapes(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Random ellipses, rectangles and polygons with hard or soft edges on a ramp."""
    image = linear(rng, h, w) if rng.random() < 0.5 else np.broadcast_to(_tones(rng, 1), (h, w, 3))
    image = np.array(image)
    for _ in range(rng.integers(1, 8)):
        mask = Image.new("L", (w, h), 0)
        draw = ImageDraw.Draw(mask)
        x0, x1 = sorted(rng.uniform(-0.1, 1.1, 2) * w)
        y0, y1 = sorted(rng.uniform(-0.1, 1.1, 2) * h)
        kind = rng.integers(3)
        if kind == 0:
            draw.ellipse([x0, y0, x1 + 4, y1 + 4], fill=255)
        elif kind == 1:
            draw.rectangle([x0, y0, x1 + 4, y1 + 4], fill=255)
        else:
            pts = rng.uniform(0, 1, (rng.integers(3, 7), 2)) * [w, h]
            draw.polygon([tuple(p) for p in pts], fill=255)
        m = np.asarray(mask, np.float64) / 255
        if rng.random() < 0.5:
            m = ndimage.gaussian_filter(m, rng.uniform(1, 12))
        image = image * (1 - m[..., None]) + _tones(rng, 1)[0] * m[..., None]
    return image


WORDS = ("stipple", "dots", "blue noise", "Lloyd", "Voronoi", "ink", "pen", "ABC", "0123", "R&D")


def text(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Words in PIL's default font at random sizes and places, sometimes blurred."""
    bg, fg = _tones(rng, 2)
    mask = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(mask)
    for _ in range(rng.integers(2, 10)):
        font = ImageFont.load_default(size=float(rng.uniform(10, 70)))
        xy = (float(rng.uniform(-20, w)), float(rng.uniform(-20, h)))
        draw.text(xy, str(rng.choice(WORDS)), fill=255, font=font)
    m = np.asarray(mask, np.float64) / 255
    if rng.random() < 0.3:
        m = ndimage.gaussian_filter(m, rng.uniform(0.5, 2))
    return _blend(m, bg, fg)


def mix(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Two procedural images multiplied (overlapping tone structure)."""
    first, second = rng.choice(PROCEDURAL[:-1], 2)
    return GENERATORS[first](rng, h, w) * GENERATORS[second](rng, h, w)


GENERATORS = {
    "linear": linear,
    "radial": radial,
    "field": field_,
    "shapes": shapes,
    "text": text,
    "mix": mix,
}


# --------------------------------------------------------------------------------- photos


@lru_cache(maxsize=32)
def load_photo(origin: str) -> np.ndarray:
    """A photo as float (H, W, 3): ``skimage:NAME`` or ``file:PATH``."""
    kind, ref = origin.split(":", 1)
    if kind == "skimage":
        import skimage.data

        return load_image(np.asarray(getattr(skimage.data, ref)()))
    return load_image(ref)


def photo_crop(photo: np.ndarray, rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """An h x w crop at a random scale, rotation and flip, with gamma and colour jitter."""
    fit = max(h / photo.shape[0], w / photo.shape[1])
    scale = fit * rng.uniform(1.0, max(1.0, 1.0 / fit))
    img = transform.rescale(photo, scale, channel_axis=-1, anti_aliasing=scale < 1)
    if rng.random() < 0.3:
        img = transform.rotate(img, rng.uniform(-30, 30), mode="reflect")
    img = np.rot90(img, rng.integers(4))
    if rng.random() < 0.5:
        img = img[:, ::-1]
    if img.shape[0] < h or img.shape[1] < w:
        img = transform.resize(img, (max(h, img.shape[0]), max(w, img.shape[1])))
    y0 = rng.integers(img.shape[0] - h + 1)
    x0 = rng.integers(img.shape[1] - w + 1)
    img = np.clip(img[y0 : y0 + h, x0 : x0 + w], 0, 1)
    img = img ** rng.uniform(0.6, 1.6)
    gains = rng.uniform(0.8, 1.2, 3)
    return np.clip(img * gains, 0, 1)


# ----------------------------------------------------------------------------------- items


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


def render_dots(xy: np.ndarray, h: int, w: int) -> Image.Image:
    """Black dots (radius 0.35 mean spacing) on white, the folder format's target image."""
    image = Image.new("L", (w, h), 255)
    draw = ImageDraw.Draw(image)
    r = max(0.6, 0.35 * np.sqrt(h * w / max(len(xy), 1)))
    for x, y in xy * [w, h]:
        draw.ellipse([x - r, y - r, x + r, y + r], fill=0)
    return image.convert("RGB")


def item_paths(out: Path, name: str) -> dict[str, Path]:
    return {
        "source": out / "source" / f"{name}.png",
        "target": out / "target" / f"{name}.png",
        "points": out / "points" / f"{name}.npz",
    }


def make_item(job: tuple[ItemSpec, str]) -> dict:
    """Make one item (source, teacher target, points); returns its manifest entry."""
    spec, out = job
    paths = item_paths(Path(out), spec.name)
    if paths["points"].exists():
        with np.load(paths["points"]) as saved:
            return json.loads(str(saved["meta"]))
    start = time.perf_counter()
    rng = item_rng(spec)
    pixels = render_image(spec, rng)
    rgb = pixels.astype(np.float32) / 255
    dark = darkness(rgb, Tone())
    n = pick_n(dark, rng, spec.settings)
    offset = tuple(int(v) for v in rng.integers(128, size=2))
    target = lloyd_target(dark, n, offset, spec.settings.iterations)
    h, w = dark.shape
    meta = {
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
            "dither_offset": list(offset),
            "cells_across": round(max(h, w) * np.sqrt(n / (h * w * float(dark.mean()))), 1),
        },
    }
    for key in ("source", "target"):
        with atomic_path(paths[key]) as tmp:
            image = Image.fromarray(pixels) if key == "source" else render_dots(target.xy, h, w)
            image.save(tmp, format="PNG")
    meta["seconds"] = round(time.perf_counter() - start, 3)
    with atomic_path(paths["points"]) as tmp:
        np.savez(
            tmp,
            xy=target.xy,
            rgb=cell_colours(target.xy, rgb),
            init=target.init,
            offset=np.array(offset),
            meta=np.array(json.dumps(meta)),
        )
    return meta


def photo_origins(settings: Settings) -> dict[str, str]:
    """Training photos: origin -> licence (scikit-image's plus the user's folder)."""
    origins = {f"skimage:{name}": licence for name, licence in SKIMAGE_PHOTOS.items()}
    if settings.photos:
        folder = Path(settings.photos)
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() in IMAGE_EXTENSIONS and path.stem not in HELD_OUT:
                origins[f"file:{path}"] = "user-supplied (see the folder's own terms)"
    return origins


def plan(settings: Settings) -> list[ItemSpec]:
    """Every item to make: train items from training sources, val items from val photos."""
    specs = []
    sources = {
        "train": photo_origins(settings),
        "val": {f"skimage:{name}": licence for name, licence in VAL_PHOTOS.items()},
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
    for sub in ("source", "target", "points"):
        (out / sub).mkdir(parents=True, exist_ok=True)
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
    write_text(out / "manifest.json", json.dumps(manifest, indent=1))
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
    root = Path(cfg["data"]["dir"])
    make = cfg["data"].get("make")
    if make is None or (root / "manifest.json").exists():
        return
    settings = Settings(**{k: tuple(v) if isinstance(v, list) else v for k, v in make.items()})
    make_dataset(root, settings, workers=cfg["data"].get("workers", 2))


def main(argv: list[str] | None = None) -> None:
    args, settings = parse_args(argv)
    make_dataset(args.out, settings, args.workers)


if __name__ == "__main__":
    main()
