"""Inference speed of the neural engine: network batches per device and AMP, issue 11's
speed figure (a batch of 50 photos against ccvt), process start and peak memory.

Usage (from the repository root; every part prints a markdown table):

    python benchmarks/inference.py [--device auto|cpu|cuda] [--points 5000,100000]
        [--batch-sizes 1,2,4,8,16,32] [--amp both|on|off] [--batch-images 50]
        [--ccvt-images 5] [--quick] [--extras] [--json OUT.json]

Parts:

- **network batches**: ``stipplr.neural.predict_batch`` (the network alone) and the API
  path after decoding (tone, network, colours: ``stipplr.api.run_request``, what
  ``stipplr.stipple_many`` runs) on B equal-size images per call, images/s at each N and
  B; on CUDA with AMP on (stipplr's default there) and off (the network alone: the
  colours are CPU work), plus the CPU figure at B = 1. Each cell runs once to warm up,
  then at most ``--repeats`` times, stopping after ``--min-seconds``. AMP is CUDA-only in
  stipplr (:func:`stipplr.devices.autocast`); on other devices ``--amp`` is ignored and
  the rows say so.
- **speed figure** (issue 11): ``--batch-images`` (50) copies of the sample photos
  (flips and gamma changes, all cropped/resized to 640x427) at N = 5 000, the model
  loaded and warmed up first (marginal rate, process start excluded): the ``stipplr
  batch`` path (:class:`stipplr.batch.Runner`, JPEG in, ``.npz`` out) and one
  ``stipplr.stipple_many`` call, against ``ccvt`` per image (through the same API path,
  colours included) on the first ``--ccvt-images`` of them, on the CPU and, when the
  engine has a CUDA backend and the device is CUDA, on CUDA.
- **process start**: wall time of fresh interpreters (median of ``--start-repeats``):
  bare Python, ``import stipplr``, importing the neural engine and loading the model, and
  that plus a first 5 000-dot stipple.
- **memory**: peak RSS of a fresh subprocess (the kernel's ``VmHWM``; ``resource``'s
  ``ru_maxrss`` where there is no ``/proc``: on Linux it is inherited from the parent
  across fork and exec, so it would report this benchmark's own peak) that loads the
  model and calls ``stipplr.stipple`` twice at 100 000 dots on coffee.jpg, and both calls'
  times (the second is warm); on CUDA also torch's peak allocated GPU memory.

Without a trained ``default`` model the default architecture runs with untrained weights
from a temporary checkpoint, labelled "architecture only" (speed only, never quality).
The default run takes about 3-5 minutes on a 2-core CPU; ``--quick`` (tiny sizes, seconds
to a minute) checks that everything runs. ``--extras`` adds the older rows: a whole
``stipplr batch`` to PNG with ``lbg`` and the li2021 architecture (untrained) at 224/256 px.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from stipplr import api, neural
from stipplr.batch import Runner, discover, plan
from stipplr.checkpoints import save_checkpoint
from stipplr.devices import configure_threads, select_device
from stipplr.engines import get_engine, run_engine
from stipplr.images import load_image
from stipplr.models import build_model, make_config
from stipplr.tone import Tone, darkness

ROOT = Path(__file__).resolve().parent.parent
PHOTOS = sorted((ROOT / "examples" / "photos").glob("*.jpg"))
COFFEE = ROOT / "examples" / "photos" / "coffee.jpg"
SIZE = (640, 427)  # width, height: the photo size
DEFAULT_ARCH = "relaxnet"
UNTRAINED = "architecture only, untrained weights: speed only"
GAMMAS = (1.0, 0.8, 1.25, 0.9, 1.1, 0.7, 1.4, 0.95, 1.05, 1.2, 0.85, 1.3, 0.75)
CUDA_BATCHES = (1, 2, 4, 8, 16, 32)
CPU_BATCHES = (1, 2, 4)
CPU_MAX_DOTS_PER_CALL = 200_000
"""Default cap on N x B per call on the CPU (100 000 dots at B > 2 take minutes and GBs)."""
FIGURE_POINTS = 5000


# ---------------------------------------------------------------- inputs and helpers


def untrained_checkpoint(folder: Path, arch: str, **config: object) -> Path:
    """A random-weight checkpoint in a temporary folder (speed measurements only)."""
    path = folder / f"{arch}-untrained-{len(list(folder.glob('*.pt')))}.pt"
    torch.manual_seed(0)
    save_checkpoint(path, build_model(arch, config), arch, make_config(arch, config))
    return path


def model_under_test(folder: Path, model: str | None) -> tuple[str, str]:
    """(checkpoint path, label): ``--model``, else the trained default, else an untrained
    default architecture."""
    if model:
        return str(neural.model_path(model)), f"{model} (given)"
    if neural.default_model_available():
        arch = neural.load_model(None, "cpu").meta.get("arch", "?")
        return str(neural.model_path(None)), f"default.pt ({arch}, trained)"
    return str(untrained_checkpoint(folder, DEFAULT_ARCH)), UNTRAINED


def fit_photo(path: Path, size: tuple[int, int] = SIZE) -> Image.Image:
    """The photo centre-cropped to the aspect of ``size`` and resized to it, as RGB."""
    with Image.open(path) as img:
        img = img.convert("RGB")
    width, height = img.size
    aspect = size[0] / size[1]
    if width / height > aspect:
        crop = round(height * aspect)
        box = ((width - crop) // 2, 0, (width - crop) // 2 + crop, height)
    else:
        crop = round(width / aspect)
        box = (0, (height - crop) // 2, width, (height - crop) // 2 + crop)
    return img.crop(box).resize(size, Image.Resampling.LANCZOS)


def variant(image: Image.Image, k: int) -> np.ndarray:
    """Copy ``k`` of a photo as 8-bit RGB: flipped by k % 4, gamma from GAMMAS by k // 4."""
    rgb = np.asarray(image, dtype=np.float32) / 255.0
    if k % 2:
        rgb = rgb[:, ::-1]
    if (k // 2) % 2:
        rgb = rgb[::-1]
    rgb = rgb ** GAMMAS[(k // 4) % len(GAMMAS)]
    return np.ascontiguousarray(np.round(rgb * 255), dtype=np.uint8)


def sample_images(count: int, size: tuple[int, int] = SIZE) -> list[np.ndarray]:
    """``count`` equal-size 8-bit RGB images: the sample photos in turn, then their variants."""
    fitted = [fit_photo(path, size) for path in PHOTOS]
    return [variant(fitted[i % len(fitted)], i // len(fitted)) for i in range(count)]


def decoded(images: Sequence[np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(float RGB, darkness) per image, as the API decodes and tones them."""
    rgbs = [load_image(image) for image in images]
    return rgbs, [darkness(rgb, Tone()) for rgb in rgbs]


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work (timings end when the work has finished)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(work: Callable[[], int], device: torch.device) -> dict[str, float]:
    """Images/s, wall and CPU seconds per image of ``work`` (which returns its image count)."""
    synchronize(device)
    wall, cpu = time.perf_counter(), time.process_time()
    images = work()
    synchronize(device)
    seconds = time.perf_counter() - wall
    return {
        "images_per_s": images / seconds,
        "s_per_image": seconds / images,
        "cpu_s_per_image": (time.process_time() - cpu) / images,
    }


@contextlib.contextmanager
def amp_setting(device: torch.device, amp: bool) -> Iterator[None]:
    """Run the block with stipplr's CUDA autocast (``amp``) or without it.

    stipplr always uses AMP on CUDA (:func:`stipplr.devices.autocast`, called by
    :func:`stipplr.neural.predict_batch`) and has no switch for it, so "off" swaps that
    function for a no-op for the duration of the block; elsewhere nothing changes.
    """
    if amp or device.type != "cuda":
        yield
        return
    original = neural.autocast
    neural.autocast = lambda _device: contextlib.nullcontext()
    try:
        yield
    finally:
        neural.autocast = original


def cuda_peak_mb(device: torch.device) -> float | None:
    """Peak memory torch allocated on the GPU since the last reset, in MB."""
    if device.type != "cuda":
        return None
    return torch.cuda.max_memory_allocated(device) / 2**20


def reset_peak(device: torch.device) -> None:
    """Start a new peak-memory window on the GPU."""
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)


def load_now() -> str:
    """The 1/5/15-minute load averages, as text."""
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def markdown(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A markdown table; numeric columns right-aligned, columns with no values left out."""
    keep = [i for i in range(len(headers)) if any(row[i] != "" for row in rows)]
    headers, rows = [headers[i] for i in keep], [[row[i] for i in keep] for row in rows]
    right = [
        all(isinstance(r[i], (int, float)) for r in rows if r[i] != "") for i in range(len(headers))
    ]
    lines = ["| " + " | ".join(headers) + " |"]
    lines.append("|" + "|".join("---:" if r else "---" for r in right) + "|")
    for row in rows:
        lines.append("| " + " | ".join(fmt(value) for value in row) + " |")
    return "\n".join(lines)


def fmt(value: object) -> str:
    """A table cell: floats to 3 significant figures (at least 2 decimals below 10)."""
    if isinstance(value, float):
        if value >= 100:
            return f"{value:.0f}"
        return f"{value:.3g}" if value >= 10 else f"{value:.2f}" if value >= 0.1 else f"{value:.3f}"
    return str(value)


# ---------------------------------------------------------------- network batches


def repeated(call: Callable[[], object], images: int, repeats: int, least: float):
    """Work for :func:`timed`: ``call`` (``images`` images each) at most ``repeats`` times,
    stopping once ``least`` seconds have passed; returns the images done."""

    def work() -> int:
        """The calls; the images done."""
        start, done = time.perf_counter(), 0
        while done < repeats:
            call()
            done += 1
            if time.perf_counter() - start >= least:
                break
        return done * images

    return work


def network_cell(
    model: str, device: torch.device, n: int, batch: int, amp: bool, inputs, args
) -> dict[str, Any]:
    """One (N, B, AMP) cell: the network alone and (AMP on, or off the GPU) the API path,
    images/s; running out of GPU memory is a result, not an error."""
    rgbs, darks = inputs
    pick = [i % len(rgbs) for i in range(batch)]
    rgb_b, dark_b = np.stack([rgbs[i] for i in pick]), np.stack([darks[i] for i in pick])
    request = api.make_request(
        n, "neural", seed=0, tone=None, model=model, device=str(device), radius=None, options={}
    )

    def network() -> None:
        """One network call on the batch."""
        neural.predict_batch(rgb_b, dark_b, n, model=model, device=str(device))

    def with_colours() -> None:
        """One API run (tone, network, colours) on the batch."""
        api.run_request(request, [rgbs[i] for i in pick])

    reset_peak(device)
    try:
        with amp_setting(device, amp):
            network()  # warm-up
            row = {
                "network": timed(repeated(network, batch, args.repeats, args.min_seconds), device)
            }
            if amp or device.type != "cuda":  # colours are CPU work: AMP off changes little
                work = repeated(with_colours, batch, args.repeats, args.min_seconds)
                row["api"] = timed(work, device)
    except torch.cuda.OutOfMemoryError:
        reset_peak(device)
        return {"error": "out of GPU memory"}
    row["cuda_peak_mb"] = cuda_peak_mb(device)
    return row


def network_table(args, model: str, device: torch.device, inputs) -> list[dict[str, Any]]:
    """Every (device, N, B, AMP) cell asked for, plus the CPU figure at B = 1 on a GPU."""
    plans = [(device, batch_sizes(args, device), amp_modes(args, device))]
    if device.type != "cpu" and args.cpu_reference:
        plans.append((torch.device("cpu"), [1], [False]))
    rows = []
    for dev, batches, amps in plans:
        for n in args.points:
            for batch in batches:
                limit = max_dots(args, dev)
                for amp in amps:
                    row = {"device": str(dev), "n": n, "batch": batch, "amp": amp}
                    if limit and n * batch > limit:
                        row["error"] = f"skipped: N x B > {limit} (--max-dots-per-call)"
                    else:
                        row |= network_cell(model, dev, n, batch, amp, inputs, args)
                    rows.append(row)
                    progress(f"network {dev} N={n} B={batch} amp={amp}: {short(row)}")
    return rows


def batch_sizes(args, device: torch.device) -> list[int]:
    """``--batch-sizes``, else 1-32 on a GPU and 1-4 on the CPU."""
    if args.batch_sizes:
        return args.batch_sizes
    return list(CUDA_BATCHES if device.type != "cpu" else CPU_BATCHES)


def amp_modes(args, device: torch.device) -> list[bool]:
    """AMP on/off per ``--amp`` on CUDA; elsewhere only "off" (stipplr uses AMP on CUDA only)."""
    if device.type != "cuda":
        return [False]
    return {"both": [True, False], "on": [True], "off": [False]}[args.amp]


def max_dots(args, device: torch.device) -> int | None:
    """The N x B cap per call: ``--max-dots-per-call``, else CPU_MAX_DOTS_PER_CALL on the CPU."""
    if args.max_dots_per_call is not None:
        return args.max_dots_per_call or None
    return CPU_MAX_DOTS_PER_CALL if device.type == "cpu" else None


def short(row: dict[str, Any]) -> str:
    """A progress line's summary of a result row."""
    if "error" in row:
        return row["error"]
    return ", ".join(
        f"{key} {row[key]['images_per_s']:.2f} img/s" for key in ("network", "api") if key in row
    )


def amp_label(row: dict[str, Any]) -> str:
    """The AMP column: on/off on CUDA, "n/a" elsewhere."""
    if not row["device"].startswith("cuda"):
        return "n/a"
    return "on" if row["amp"] else "off"


def print_network(rows: list[dict[str, Any]]) -> None:
    """The network-batch table."""
    table = []
    for r in rows:
        head = [r["device"], r["n"], r["batch"], amp_label(r)]
        if "error" in r:
            table.append(head + [r["error"], "", "", "", ""])
            continue
        net, full = r["network"], r.get("api")
        peak = "" if r.get("cuda_peak_mb") is None else f"{r['cuda_peak_mb']:.0f}"
        both = [full["images_per_s"], full["s_per_image"]] if full else ["(not timed)", ""]
        table.append(head + [net["images_per_s"], net["s_per_image"], *both, peak])
    headers = ["device", "N", "batch", "AMP", "network img/s", "network s/img"]
    headers += ["with tone + colours img/s", "s/img", "GPU peak MB"]
    print("\n### Network batches (model loaded and warmed up)\n")
    print(markdown(headers, table))


# ---------------------------------------------------------------- issue 11's speed figure


def write_jpegs(images: Sequence[np.ndarray], folder: Path) -> Path:
    """The images as JPEG files (quality 95) in ``folder``."""
    folder.mkdir(parents=True)
    for i, image in enumerate(images):
        Image.fromarray(image).save(folder / f"photo-{i:03d}.jpg", quality=95)
    return folder


def batch_path_rate(folder: Path, model: str, device: torch.device, n: int) -> dict[str, float]:
    """``stipplr batch``'s path (Runner, .npz out) over the JPEGs in ``folder``, after a
    warm-up run on two of them (model loaded: process start excluded)."""
    out = folder.parent / "out"
    jobs = plan(discover([folder], out), out, ".npz")
    stipple = {"points": n, "engine": "neural", "model": model, "device": str(device)}
    runner = Runner(stipple, "npz")
    runner.run(jobs[:2], overwrite=True)

    def work() -> int:
        """One batch run over every job; the images done."""
        summary = runner.run(jobs, overwrite=True)
        assert summary.done == len(jobs), summary.failed
        return summary.done

    return timed(work, device)


def many_rate(images, model: str, device: torch.device, n: int) -> dict[str, float]:
    """One ``stipplr.stipple_many`` call on all images (model loaded and warmed up first)."""
    import stipplr

    stipplr.stipple_many(images[:2], n, "neural", model=model, device=str(device))

    def work() -> int:
        """The call; the images done."""
        return len(stipplr.stipple_many(images, n, "neural", model=model, device=str(device)))

    return timed(work, device)


def ccvt_devices(device: torch.device) -> list[str]:
    """ccvt's ``device`` values to time: the CPU (numpy) and, on CUDA, "cuda" when the engine
    has a ``device`` option (else only the engine's own default)."""
    options = get_engine("ccvt").options()
    if "device" not in options:
        return ["default (no device option)"]
    return ["cpu", "cuda"] if device.type == "cuda" else ["cpu"]


def ccvt_rate(images, device_option: str, n: int) -> dict[str, float]:
    """ccvt per image through the API path (tone, engine, colours), on ``images``."""
    options = {} if device_option.startswith("default") else {"device": device_option}
    request = api.make_request(
        n, "ccvt", seed=0, tone=None, model=None, device="auto", radius=None, options=options
    )
    rgbs = [load_image(image) for image in images]
    where = torch.device("cuda") if device_option.startswith("cuda") else torch.device("cpu")
    if where.type == "cuda":  # kernels loaded outside the timing
        dark = darkness(rgbs[0], Tone())
        run_engine("ccvt", dark, 200, seed=0, iterations=3, device=device_option)
    return timed(lambda: len(api.run_request(request, rgbs)), where)


def figure(args, model: str, device: torch.device, folder: Path) -> dict[str, Any]:
    """Issue 11's speed figure: the network path with colours vs ccvt per image."""
    n = FIGURE_POINTS if not args.quick else args.points[0]
    images = sample_images(args.batch_images)
    files = write_jpegs(images, folder / "figure" / "in")
    rows = []
    rate = batch_path_rate(files, model, device, n)
    rows.append({"what": f"`stipplr batch` path (Runner, .npz), {device}", **rate})
    progress(f"figure: batch path {rate['images_per_s']:.2f} img/s")
    rate = many_rate(images, model, device, n)
    rows.append({"what": f"`stipple_many`, one call, {device}", **rate})
    progress(f"figure: stipple_many {rate['images_per_s']:.2f} img/s")
    for option in ccvt_devices(device):
        rate = ccvt_rate(images[: args.ccvt_images], option, n)
        rows.append({"what": f"ccvt, device {option}", "images": args.ccvt_images, **rate})
        progress(f"figure: ccvt {option} {rate['s_per_image']:.2f} s/img")
    reference = next(r for r in rows if r["what"].startswith("ccvt"))["s_per_image"]
    for row in rows:
        row.setdefault("images", args.batch_images)
        row["ccvt_cpu_over_this"] = reference / row["s_per_image"]
    return {"n": n, "size": f"{SIZE[0]}x{SIZE[1]}", "rows": rows}


def print_figure(fig: dict[str, Any]) -> None:
    """The speed-figure table."""
    table = [
        [r["what"], r["images"], r["images_per_s"], r["s_per_image"], r["cpu_s_per_image"]]
        + [f"{r['ccvt_cpu_over_this']:.1f}x"]
        for r in fig["rows"]
    ]
    headers = ["path", "images", "img/s", "s/img", "CPU s/img", "ccvt (1st row) s/img ÷ this"]
    print(f"\n### Speed figure: {fig['size']}, N = {fig['n']}, marginal rate\n")
    print(markdown(headers, table))


# ---------------------------------------------------------------- process start, memory


def wall_of(code: str, repeats: int) -> float:
    """Median wall seconds of a fresh ``python -c code`` (from the repository root)."""
    times = []
    for _ in range(repeats):
        tick = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True)
        times.append(time.perf_counter() - tick)
    return statistics.median(times)


def start_costs(model: str, device: torch.device, repeats: int) -> list[dict[str, Any]]:
    """Wall time of fresh processes that import stipplr, load the model, stipple once."""
    load = f"import stipplr, stipplr.neural; stipplr.neural.load_model({model!r}, {str(device)!r})"
    first = (
        f"{load}; stipplr.stipple({str(COFFEE)!r}, {FIGURE_POINTS}, 'neural', "
        f"model={model!r}, device={str(device)!r})"
    )
    cases = [
        ("python -c pass", "pass"),
        ("import stipplr", "import stipplr"),
        (f"import + load_model (torch, checkpoint, {device})", load),
        (f"... + first stipple of coffee.jpg, N = {FIGURE_POINTS}", first),
    ]
    rows = []
    for what, code in cases:
        rows.append({"what": what, "seconds": wall_of(code, repeats)})
        progress(f"start: {what} {rows[-1]['seconds']:.2f} s")
    return rows


MEMORY_CODE = """
import json, resource, sys, time
import torch, stipplr, stipplr.neural
from stipplr.images import load_image

def peak_mb():
    # VmHWM: this process's own peak RSS. ru_maxrss is not: Linux carries it over from the
    # parent across fork and exec, so a child of a big benchmark process reports the parent's.
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if sys.platform == "darwin" else rss / 1024

model, device, n, photo = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
rgb = load_image(photo)
stipplr.neural.load_model(model, device)
loaded = peak_mb()
times = []
for _ in range(2):
    tick = time.perf_counter()
    s = stipplr.stipple(rgb, n, "neural", model=model, device=device)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    times.append(time.perf_counter() - tick)
gpu = torch.cuda.max_memory_allocated() / 2**20 if device.startswith("cuda") else None
print(json.dumps({"dots": len(s.xy), "rss_after_load_mb": loaded, "peak_rss_mb": peak_mb(),
                  "first_s": times[0], "second_s": times[1], "cuda_peak_mb": gpu}))
"""


def memory(model: str, device: torch.device, n: int) -> dict[str, Any]:
    """Peak RSS and time of ``stipplr.stipple`` at ``n`` dots on coffee.jpg, in a subprocess."""
    argv = [sys.executable, "-c", MEMORY_CODE, model, str(device), str(n), str(COFFEE)]
    out = subprocess.run(argv, cwd=ROOT, check=True, capture_output=True, text=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    progress(f"memory: N={n} peak RSS {result['peak_rss_mb']:.0f} MB")
    return {"n": n, "device": str(device), **result}


def print_start(start: list[dict[str, Any]]) -> None:
    """The process-start table."""
    print("\n### Process start (fresh interpreter, median wall s)\n")
    print(markdown(["process", "wall s"], [[r["what"], r["seconds"]] for r in start]))


def print_memory(mem: dict[str, Any]) -> None:
    """The memory table."""
    gpu = "" if mem["cuda_peak_mb"] is None else f"{mem['cuda_peak_mb']:.0f}"
    print(f"\n### Memory and time at N = {mem['n']} (coffee.jpg, {mem['device']}, subprocess)\n")
    headers = ["dots", "RSS after load MB", "peak RSS MB", "1st call s", "2nd call s", "GPU MB"]
    row = [mem["dots"], mem["rss_after_load_mb"], mem["peak_rss_mb"], mem["first_s"]]
    print(markdown(headers, [row + [mem["second_s"], gpu]]))


# ---------------------------------------------------------------- the older rows (--extras)


def png_batch_rate(files: Path, out: Path, engine: str, model: str, n: int) -> dict[str, float]:
    """A whole batch run to PNG on the CPU (model load excluded: done in the Runner)."""
    jobs = plan(discover([files], out), out, ".png")
    stipple = {"points": n, "engine": engine, "device": "cpu"}
    runner = Runner(stipple | ({"model": model} if engine == "neural" else {}), "png")
    return timed(lambda: runner.run(jobs, overwrite=True).done, torch.device("cpu"))


def extras(folder: Path, model: str, n: int, repeats: int) -> list[list[object]]:
    """A whole ``stipplr batch`` to PNG (neural vs lbg) and li2021 (untrained) on the CPU."""
    images = sample_images(4)
    files = write_jpegs(images, folder / "extras" / "in")
    rows = []
    for engine in ("neural", "lbg"):
        rate = png_batch_rate(files, folder / "extras" / f"out-{engine}", engine, model, n)
        rows.append([f"`stipplr batch --engine {engine}` to PNG", n, rate["images_per_s"]])
    rgbs, darks = decoded(images[:2])
    for size in (224, 256):
        li = str(untrained_checkpoint(folder, "li2021", input_size=size))
        neural.predict_batch(np.stack(rgbs), np.stack(darks), 2500, model=li, device="cpu")

        def li_call(path: str = li) -> None:
            """One li2021 call on two images."""
            neural.predict_batch(np.stack(rgbs), np.stack(darks), 2500, model=path, device="cpu")

        rate = timed(repeated(li_call, 2, repeats, 1.0), torch.device("cpu"))
        rows.append([f"li2021 network {size}px, batch 2 ({UNTRAINED})", 2500, rate["images_per_s"]])
    return rows


# ---------------------------------------------------------------- command line


def int_list(text: str) -> list[int]:
    """``"1,2,4"`` -> [1, 2, 4] (whole numbers >= 1)."""
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        message = f"expected whole numbers like 1,2,4, got {text!r}"
        raise argparse.ArgumentTypeError(message) from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected whole numbers >= 1, got {text!r}")
    return values


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N | mps")
    parser.add_argument("--points", type=int_list, default=[5000, 100_000])
    parser.add_argument(
        "--batch-sizes", type=int_list, default=None, help="default: 1-32 GPU, 1-4 CPU"
    )
    parser.add_argument("--amp", choices=("both", "on", "off"), default="both", help="CUDA only")
    parser.add_argument("--max-dots-per-call", type=int, default=None, help="N x B cap; 0: none")
    parser.add_argument("--no-cpu-reference", dest="cpu_reference", action="store_false")
    parser.add_argument("--repeats", type=int, default=5, help="at most this many timed calls")
    parser.add_argument("--min-seconds", type=float, default=1.0, help="... stopping after this")
    parser.add_argument("--batch-images", type=int, default=50, help="speed figure's batch")
    parser.add_argument("--ccvt-images", type=int, default=5, help="ccvt images per device")
    parser.add_argument("--start-repeats", type=int, default=3)
    parser.add_argument("--memory-points", type=int, default=100_000)
    parser.add_argument("--model", default=None, help="a model name or checkpoint (default model)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--skip", default="", help="comma list of: network,figure,start,memory")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: check that it runs")
    parser.add_argument("--extras", action="store_true", help="also lbg batch and li2021 rows")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)
    if args.quick:
        quick(args, parser)
    return args


def quick(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """Tiny sizes for options left at their defaults (``--quick``)."""
    small = {
        "points": [1000],
        "batch_sizes": [1, 2],
        "repeats": 1,
        "batch_images": 4,
        "ccvt_images": 1,
        "start_repeats": 1,
        "memory_points": 5000,
    }
    for key, value in small.items():
        if getattr(args, key) == parser.get_default(key):
            setattr(args, key, value)


def progress(message: str) -> None:
    """A progress line on stderr (the tables go to stdout)."""
    print(f"[inference] {message}", file=sys.stderr, flush=True)


def header(args, device: torch.device, label: str) -> dict[str, Any]:
    """What was measured where: device, threads, torch, load, model."""
    gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else None
    return {
        "device": str(device),
        "gpu": gpu,
        "cpu_threads": torch.get_num_threads(),
        "cpu_cores": os.cpu_count(),
        "torch": torch.__version__,
        "model": label,
        "load_start": load_now(),
        "quick": args.quick,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Measure the parts asked for, print their tables, optionally write JSON."""
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    else:
        configure_threads()
    device = select_device(args.device)
    skip = {part.strip() for part in args.skip.split(",") if part.strip()}
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        model, label = model_under_test(folder, args.model)
        results["meta"] = header(args, device, label)
        if "network" not in skip:
            inputs = decoded(sample_images(max(batch_sizes(args, device))))
            results["network"] = network_table(args, model, device, inputs)
        if "figure" not in skip:
            results["figure"] = figure(args, model, device, folder)
        if "start" not in skip:
            results["start"] = start_costs(model, device, args.start_repeats)
        if "memory" not in skip:
            results["memory"] = memory(model, device, args.memory_points)
        if args.extras:
            results["extras"] = extras(folder, model, FIGURE_POINTS, args.repeats)
        results["meta"]["load_end"] = load_now()
        shutil.rmtree(folder / "figure", ignore_errors=True)
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    return results


def report(results: dict[str, Any]) -> None:
    """Every table measured, under one line saying where and under what load."""
    meta = results["meta"]
    where = meta["device"] + (f" ({meta['gpu']})" if meta["gpu"] else "")
    print(
        f"\n## benchmarks/inference.py: {where}, {meta['cpu_threads']} torch CPU threads of "
        f"{meta['cpu_cores']} cores, torch {meta['torch']}, model {meta['model']}; load "
        f"average (1/5/15 min) {meta['load_start']} at start, {meta['load_end']} at end"
        + (" (--quick: tiny sizes)" if meta["quick"] else "")
    )
    if not meta["device"].startswith("cuda"):
        print("\nAMP: stipplr uses mixed precision on CUDA only; not applicable here.")
    if "network" in results:
        print_network(results["network"])
    if "figure" in results:
        print_figure(results["figure"])
    if "start" in results:
        print_start(results["start"])
    if "memory" in results:
        print_memory(results["memory"])
    if "extras" in results:
        print("\n### Older rows (CPU)\n")
        print(markdown(["what", "dots", "img/s"], results["extras"]))


if __name__ == "__main__":
    main()
