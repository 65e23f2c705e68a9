"""Inference speed: the default model and li2021 alone, and whole ``batch`` runs vs lbg.

Usage (from the repository root): .venv/bin/python -m benchmarks.inference [--repeats 3]

Photos: examples/photos/coffee.jpg and rocket.jpg (640 x 427). Without a shipped
``stipplr/weights/default.pt`` the default architecture runs with untrained weights from a
temporary checkpoint, labelled "architecture only" (speed only, never quality).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from stipplr import neural
from stipplr.batch import Runner, discover, plan
from stipplr.checkpoints import save_checkpoint
from stipplr.devices import configure_threads
from stipplr.images import load_image
from stipplr.models import build_model, make_config
from stipplr.tone import Tone, darkness

PHOTOS = [Path("examples/photos") / name for name in ("coffee.jpg", "rocket.jpg")]
DEFAULT_ARCH = "lloydnet"
UNTRAINED = "architecture only, untrained weights: speed only"


def untrained_checkpoint(folder: Path, arch: str, **config: object) -> Path:
    """A random-weight checkpoint in a temporary folder (speed measurements only)."""
    path = folder / f"{arch}-untrained-{len(list(folder.glob('*.pt')))}.pt"
    torch.manual_seed(0)
    save_checkpoint(path, build_model(arch, config), arch, make_config(arch, config))
    return path


def timed(work: Callable[[], int]) -> tuple[float, float]:
    """(images per wall second, CPU seconds per image) of ``work``, which returns its count."""
    wall, cpu = time.perf_counter(), time.process_time()
    images = work()
    return images / (time.perf_counter() - wall), (time.process_time() - cpu) / images


def network_speed(model: str, n: int, repeats: int, batch: int) -> tuple[float, float]:
    """Speed of the network alone on the photos, ``batch`` images per call."""
    rgbs = np.stack([load_image(p) for p in PHOTOS])
    darks = np.stack([darkness(rgb, Tone()) for rgb in rgbs])
    reps = int(np.ceil(batch / len(rgbs)))
    rgbs, darks = np.tile(rgbs, (reps, 1, 1, 1))[:batch], np.tile(darks, (reps, 1, 1))[:batch]
    neural.predict_batch(rgbs, darks, n, model=model, device="cpu")  # load + warm up

    def work() -> int:
        """Run the batched network ``repeats`` times; the images done."""
        for _ in range(repeats):
            neural.predict_batch(rgbs, darks, n, model=model, device="cpu")
        return repeats * batch

    return timed(work)


def batch_speed(
    folder: Path, n: int, engine: str, model: str | None, copies: int
) -> tuple[float, float]:
    """Speed of a whole ``batch`` run (decode, engine, PNG write) over photo copies."""
    inputs = folder / f"in-{engine}"
    inputs.mkdir()
    for i in range(copies):
        for photo in PHOTOS:
            shutil.copy(photo, inputs / f"{photo.stem}-{i}.jpg")
    out = folder / f"out-{engine}"
    jobs = plan(discover([inputs], out), out, ".png")
    stipple = {"points": n, "engine": engine, **({"model": model} if model else {})}
    runner = Runner(stipple, "png")

    def work() -> int:
        """One batch run over the jobs; the images done."""
        summary = runner.run(jobs, overwrite=True)
        assert summary.done == len(jobs), summary.failed
        return summary.done

    return timed(work)


def main() -> None:
    """Print one row per model, input size and batch: images/s and CPU s/image."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--threads", type=int, default=None, help="torch CPU threads (default: stipplr's choice)"
    )
    parser.add_argument("--points", type=int, default=5000)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    else:
        configure_threads()
    n, reps = args.points, args.repeats
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if neural.default_model_available():
            default, label = str(neural.model_path(None)), "default.pt (trained)"
        else:
            default, label = str(untrained_checkpoint(folder, DEFAULT_ARCH)), UNTRAINED
        rows = [
            (f"{DEFAULT_ARCH} network, batch 1", label, n, network_speed(default, n, reps, 1)),
            (f"{DEFAULT_ARCH} network, batch 2", label, n, network_speed(default, n, reps, 2)),
            ("batch --engine neural (png)", label, n, batch_speed(folder, n, "neural", default, 2)),
            ("batch --engine lbg (png)", "classical", n, batch_speed(folder, n, "lbg", None, 2)),
        ]
        for size in (224, 256):
            li = untrained_checkpoint(folder, "li2021", input_size=size)
            what = f"li2021 network {size}px, batch 2"
            rows.append((what, UNTRAINED, 2500, network_speed(li, 2500, reps, 2)))
    print(f"\n{torch.get_num_threads()} CPU threads, photos 640x427 (coffee, rocket)\n")
    print(f"{'what':32} {'weights':48} {'dots':>5} {'images/s':>9} {'CPU s/image':>12}")
    for what, weights, dots, (rate, cpu) in rows:
        print(f"{what:32} {weights:48} {dots:5d} {rate:9.3f} {cpu:12.2f}")


if __name__ == "__main__":
    main()
