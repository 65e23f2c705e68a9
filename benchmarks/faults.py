"""Fault injection on ``stipplr batch``: interrupts, kills, concurrent runs, dying workers
and memory-capped near-white images; prints a markdown table.

    python benchmarks/faults.py [--tries 6] [--images 12] [--only NAME ...]

Each try runs real ``stipplr batch`` processes on generated photos and checks afterwards:
the exit code is the documented one (0, 1 or 130), stderr holds no traceback, the JSON
summary adds up (done + skipped + failed + not run = total) and its "done" files all
exist, no temp file or claim is left once a rerun finished, no worker process outlives
a killed run, and every output present loads as a valid stipple. "data lost" counts
outputs that exist but do not load (half-written or corrupt): it must be 0.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

STIPPLR = [sys.executable, "-m", "stipplr"]


def photos(folder: Path, count: int, size: tuple[int, int] = (160, 120)) -> Path:
    """``count`` random-texture photos in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        rng = np.random.default_rng(i)
        pixels = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"p{i:03d}.png")
    return folder


def start(inputs: Path, out: Path, *args: str) -> subprocess.Popen:
    """A ``stipplr batch`` process with Ctrl-C deliverable (a shell's background job would
    inherit it ignored) in its own process group."""

    def child() -> None:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.setpgrp()

    cmd = [*STIPPLR, "batch", str(inputs), "--out", str(out), "-f", "npz", "--json", *args]
    return subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=child
    )


def finish(proc: subprocess.Popen, timeout: float = 600) -> tuple[int, dict | None, str]:
    """(exit code, JSON summary or None, stderr) of a finished batch process."""
    out, err = proc.communicate(timeout=timeout)
    try:
        summary = json.loads(out)
    except ValueError:
        summary = None
    return proc.returncode, summary, err


VERBOSE = False


def note(what: str, err: str = "") -> None:
    """With ``--verbose``, say why a try did not survive (and the end of its stderr)."""
    if VERBOSE:
        tail = " | ".join(err.strip().splitlines()[-4:])
        print(f"    failed try: {what}: {tail}", file=sys.stderr)


def lost(out: Path) -> int:
    """Outputs that exist but do not load as stipples."""
    from stipplr.dots import Stipple, StippleError

    bad = 0
    for path in out.rglob("*.npz"):
        if path.name.startswith(".") or ".stipplr" in path.parts:
            continue
        try:
            Stipple.load(path)
        except StippleError:
            bad += 1
    return bad


def leftovers(out: Path) -> int:
    """Temp files and claims under ``out``."""
    return sum(1 for p in out.rglob("*") if ".tmp" in p.name or p.name.endswith(".claim"))


def exact(summary: dict | None, out: Path) -> bool:
    """Whether the summary adds up and names only outputs that exist (a run stopped while
    starting prints none and must have written nothing)."""
    if summary is None:
        return not any(p.suffix == ".npz" for p in out.rglob("*"))
    files = summary.get("files", [])
    statuses = [f["status"] for f in files]
    counts = (statuses.count("done"), statuses.count("skipped"), statuses.count("failed"))
    adds_up = counts == (summary["done"], summary["skipped"], len(summary["failed"]))
    total = len(files) == summary["total"]
    present = all(Path(f["output"]).exists() for f in files if f["status"] == "done")
    return adds_up and total and present


def alive(pids: list[int]) -> list[int]:
    """The pids of ``pids`` that still run (zombies reaped)."""
    living = []
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        status = Path(f"/proc/{pid}/status")
        if status.exists() and "zombie" in status.read_text():
            continue
        living.append(pid)
    return living


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def rerun_cleans(inputs: Path, out: Path, *args: str) -> bool:
    """A plain rerun finishes everything and leaves no temp file or claim."""
    code, summary, err = finish(start(inputs, out, "--engine", "dither", "-n", "500", *args))
    return code == 0 and leftovers(out) == 0 and "Traceback" not in err


def interrupt(sig: int, engine: str, jobs: int = 1, late: tuple[float, float] = (0.5, 6.0)):
    """A try: signal ``sig`` at a random moment of a run."""

    def run(inputs: Path, out: Path) -> tuple[bool, int]:
        proc = start(inputs, out, "--engine", engine, "-n", "3000", "--jobs", str(jobs))
        time.sleep(random.uniform(*late))
        proc.send_signal(sig)
        code, summary, err = finish(proc)
        ok = code in (0, 130) and "Traceback" not in err and exact(summary, out)
        ok = ok and leftovers(out) == 0 and not (jobs > 1 and summary and summary["failed"])
        if not ok:
            note(f"rc {code}, exact {exact(summary, out)}, leftovers {leftovers(out)}", err)
        return ok, lost(out)

    return run


def kill_main(overwrite: bool) -> Callable:
    """A try: kill -9 of the main process of a ``--jobs 2`` run; no worker may outlive it."""

    def run(inputs: Path, out: Path) -> tuple[bool, int]:
        if overwrite:
            finish(start(inputs, out, "--engine", "dither", "-n", "500"))
        extra = ["--overwrite"] if overwrite else []
        proc = start(inputs, out, "--engine", "lbg", "-n", "3000", "--jobs", "2", *extra)
        time.sleep(random.uniform(2.0, 8.0))
        kids = children(proc.pid)
        proc.kill()
        proc.communicate()
        time.sleep(3.0)
        orphans = alive(kids)
        broken = lost(out)
        return not orphans and rerun_cleans(inputs, out), broken

    return run


def kill_worker(inputs: Path, out: Path) -> tuple[bool, int]:
    """A try: one worker of a ``--jobs 2`` run is killed (as the OOM killer would)."""
    proc = start(inputs, out, "--engine", "lbg", "-n", "3000", "--jobs", "2")
    time.sleep(random.uniform(3.0, 8.0))
    kids = children(proc.pid)
    workers = [k for k in kids if "spawn_main" in Path(f"/proc/{k}/cmdline").read_text()]
    if workers:
        os.kill(random.choice(workers), signal.SIGKILL)
    code, summary, err = finish(proc)
    failed = len(summary["failed"]) if summary else 99
    ok = code in (0, 1) and failed <= 1 and exact(summary, out) and "Traceback" not in err
    return ok and leftovers(out) == 0, lost(out)


def concurrent(inputs: Path, out: Path) -> tuple[bool, int]:
    """A try: three runs on the same inputs and --out at once; the work is done once."""
    procs = [start(inputs, out, "--engine", "lbg", "-n", "3000") for _ in range(3)]
    results = [finish(p) for p in procs]
    done = sum(s["done"] for _, s, _ in results if s)
    total = results[0][1]["total"] if results[0][1] else -1
    clean = all(c == 0 and "Traceback" not in e and exact(s, out) for c, s, e in results)
    return clean and done == total and leftovers(out) == 0, lost(out)


def near_white(inputs: Path, out: Path) -> tuple[bool, int]:
    """A try: near-white pages (one 3x3 square, one 254-grey pixel) under a 1 GB address
    space cap with the dither engine: each gives its few dots, none runs out of memory."""
    page = np.full((480, 640), 255, np.uint8)
    folder = inputs.parent / "white"
    folder.mkdir(exist_ok=True)
    square = page.copy()
    square[240:243, 320:323] = 0
    Image.fromarray(square).save(folder / "square.png")
    pixel = page.copy()
    pixel[240, 320] = 254
    Image.fromarray(pixel).save(folder / "pixel.png")
    cap = 1 << 30
    n = str(random.choice([5000, 50_000, 500_000]))
    proc = subprocess.run(
        [*STIPPLR, "batch", str(folder), "--out", str(out), "-f", "npz", "--json"]
        + ["--engine", "dither", "-n", n],
        capture_output=True,
        text=True,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (cap, cap)),
    )
    summary = json.loads(proc.stdout) if proc.returncode == 0 else None
    return bool(summary) and summary["done"] == 2 and "Memory" not in proc.stderr, lost(out)


CASES: dict[str, Callable] = {
    "SIGINT, lbg": interrupt(signal.SIGINT, "lbg"),
    "SIGINT, voronoi": interrupt(signal.SIGINT, "voronoi"),
    "SIGTERM, lbg": interrupt(signal.SIGTERM, "lbg"),
    "SIGINT while importing": interrupt(signal.SIGINT, "lbg", late=(0.15, 1.5)),
    "SIGTERM while importing": interrupt(signal.SIGTERM, "lbg", late=(0.15, 1.5)),
    "SIGINT, --jobs 2 start-up": interrupt(signal.SIGINT, "lbg", jobs=2, late=(2.0, 4.0)),
    "SIGINT, --jobs 2": interrupt(signal.SIGINT, "lbg", jobs=2),
    "kill -9 main, --jobs 2": kill_main(overwrite=False),
    "kill -9 during --overwrite": kill_main(overwrite=True),
    "worker killed, --jobs 2": kill_worker,
    "3 concurrent runs": concurrent,
    "near-white, 1 GB cap": near_white,
}


def main() -> None:
    """Run every case ``--tries`` times and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=6)
    parser.add_argument("--images", type=int, default=12)
    parser.add_argument("--only", nargs="+", help="case names (substrings)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", action="store_true", help="say why tries failed")
    args = parser.parse_args()
    global VERBOSE
    VERBOSE = args.verbose
    random.seed(args.seed)
    print("| case | tried | survived | data lost |")
    print("|---|---:|---:|---:|")
    totals = [0, 0, 0]
    for name, case in CASES.items():
        if args.only and not any(s in name for s in args.only):
            continue
        survived = broken = 0
        for _ in range(args.tries):
            work = Path(tempfile.mkdtemp(prefix="stipplr-faults-"))
            try:
                ok, bad = case(photos(work / "in", args.images), work / "out")
            finally:
                shutil.rmtree(work, ignore_errors=True)
            survived += ok
            broken += bad
        totals = [totals[0] + args.tries, totals[1] + survived, totals[2] + broken]
        print(f"| {name} | {args.tries} | {survived} | {broken} |", flush=True)
    print(f"| **all** | {totals[0]} | {totals[1]} | {totals[2]} |")
    sys.exit(0 if totals[0] == totals[1] and totals[2] == 0 else 1)


if __name__ == "__main__":
    main()
