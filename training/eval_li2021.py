"""Held-out tone/spacing of li2021 checkpoints on fresh procedural images.

``python -m training.eval_li2021 CHECKPOINT... [--dither] [--ns 1024 2048 2500]``: the
val split of :mod:`training.data` with seed 12345 (24 procedural images, never trained
on), each scored by :func:`stipplr.metrics.evaluate` against its own darkness; the
``dither`` engine at the same N with ``--dither``. Means over the images, one line per
(engine, N). One CPU thread.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time

import numpy as np
import torch

from stipplr.checkpoints import load_checkpoint
from stipplr.engines.dither import dither
from stipplr.metrics import evaluate
from stipplr.tone import Tone, darkness
from training.data import Settings, item_rng, plan, render_image

KEYS = ("clumped", "spacing_mean", "spacing_p1", "psnr_db")


def fresh_images(count: int = 24, seed: int = 12345) -> list[tuple[np.ndarray, np.ndarray]]:
    """(rgb, darkness) of the ``count`` procedural val images of ``training.data`` ``seed``."""
    settings = Settings(count=0, val_count=count, seed=seed, photo_share=0.0)
    out = []
    for spec in plan(settings):
        rgb = render_image(spec, item_rng(spec)).astype(np.float32) / 255
        out.append((rgb, darkness(rgb, Tone())))
    return out


def model_engine(path: str, overrides: dict | None = None):
    """A function (rgb, darkness, n) -> (n, 2) dots of the checkpoint's ``predict``, with
    prediction-time config ``overrides`` (e.g. ``area_shares``)."""
    model, _ = load_checkpoint(path)
    model.config = dataclasses.replace(model.config, **(overrides or {}))

    def run(rgb: np.ndarray, dark: np.ndarray, n: int) -> np.ndarray:
        image = torch.from_numpy(rgb).permute(2, 0, 1)[None]
        with torch.inference_mode():
            xy, _ = model.predict(image, torch.from_numpy(dark)[None, None], n)
        return xy[0].numpy()

    return run


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m training.eval_li2021", description=__doc__)
    parser.add_argument("checkpoints", nargs="*", help="li2021 checkpoints (.pt)")
    parser.add_argument("--dither", action="store_true", help="also score the dither engine")
    parser.add_argument("--ns", type=int, nargs="+", default=[1024, 2048, 2500])
    parser.add_argument("--count", type=int, default=24)
    parser.add_argument(
        "--set", action="append", default=[], help="config KEY=JSON at prediction time"
    )
    args = parser.parse_args(argv)
    overrides = {k: json.loads(v) for k, v in (item.split("=", 1) for item in args.set)}
    torch.set_num_threads(1)
    images = fresh_images(args.count)
    engines = {path: model_engine(path, overrides) for path in args.checkpoints}
    if args.dither:
        engines["dither"] = lambda rgb, dark, n: dither(dark, n)
    for name, run in engines.items():
        for n in args.ns:
            start = time.perf_counter()
            rows = np.array([[evaluate(d, run(rgb, d, n))[k] for k in KEYS] for rgb, d in images])
            mean = rows.mean(0)
            print(
                f"{name} N={n}: clumped {100 * mean[0]:.2f} % spacing mean {mean[1]:.3f} "
                f"p1 {mean[2]:.3f} tone {mean[3]:.2f} dB (min {rows[:, 3].min():.2f}) "
                f"[{time.perf_counter() - start:.0f} s]",
                flush=True,
            )


if __name__ == "__main__":
    main()
