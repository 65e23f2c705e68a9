"""Peak memory (RSS) of stipplr on the inputs that used to exhaust it; prints a markdown table.

    python benchmarks/memory.py [--quick] [--only NAME ...] [--cap-mb 12000]

Every case runs in its own subprocess (``--case NAME``) under an address-space cap
(``resource.setrlimit(RLIMIT_AS)``, a safety net; the neural engine's torch maps about
3.4 GB of address space before it allocates anything), and reports its peak RSS from
``resource.getrusage``. Inputs: near-white pages (one word, a 3x3 black square, one
254-grey pixel), a photo under a huge gamma, a 0-255 float array, a PIL mode-``I`` image
with large values, a normal photo at N = 100 000, a 50-megapixel photo; ``stipplr eval``
on 2M- and 10M-dot stipples; a ``.npz`` claiming 200M dots and a checkpoint holding a
deflated 1 GB tensor (both must be refused before they are decompressed); a 2M-dot PNG
and SVG. ``bound MB`` is the documented ceiling of the case (README, "Memory").
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
PHOTO = ROOT / "examples" / "photos" / "coffee.jpg"
SIZE = (640, 480)


def page(kind: str) -> np.ndarray:
    """A 640x480 near-white test page as 8-bit gray: one word, a 3x3 square, one pixel."""
    image = Image.new("L", SIZE, 255)
    if kind == "word":
        font = ImageFont.load_default(size=28)
        ImageDraw.Draw(image).text((250, 220), "stipple", fill=0, font=font)
    elif kind == "square":
        image.paste(0, (320, 240, 323, 243))
    elif kind == "pixel":
        image.putpixel((320, 240), 254)
    return np.asarray(image)


def photo(size: tuple[int, int] = SIZE) -> np.ndarray:
    """The coffee photo resized to ``size`` as 8-bit RGB."""
    with Image.open(PHOTO) as img:
        return np.asarray(img.convert("RGB").resize(size, Image.Resampling.BILINEAR))


def stipple_case(image: Callable[[], object], engine: str, n: int, **settings: object) -> Callable:
    """A case that stipples ``image()`` with ``engine`` and ``n`` dots."""

    def run(tmp: Path) -> dict[str, object]:
        import warnings

        import stipplr
        from stipplr.errors import StipplrError

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                result = stipplr.stipple(image(), points=n, engine=engine, **settings)
            except StipplrError as exc:  # a one-line refusal is a bounded outcome too
                return {"dots": 0, "note": f"refused: {str(exc)[:60]}"}
        notes = "; ".join(sorted({str(w.message)[:60] for w in caught}))
        return {"dots": len(result), "note": notes}

    return run


def mode_i(scale: float = 65793.0) -> Image.Image:
    """A PIL mode-I image of the photo's gray times ``scale`` (24-bit values by default)."""
    gray = photo().mean(axis=2) * scale
    return Image.fromarray(gray.astype(np.int32), mode="I")


def big_stipple(tmp: Path, n: int) -> Path:
    """A saved stipple of ``n`` random dots for a 4000x3000 image (and its source PNG)."""
    from stipplr.dots import Stipple

    rng = np.random.default_rng(0)
    source = tmp / "source.png"
    Image.fromarray(np.full((3000, 4000), 128, np.uint8)).save(source)
    xy = rng.random((n, 2), dtype=np.float32)
    rgb = np.zeros((n, 3), np.float32)
    path = tmp / f"dots-{n}.npz"
    Stipple(xy, rgb, 4000, 3000, meta={"engine": "random"}).save(path)
    return path


def eval_case(n: int) -> Callable:
    """``stipplr eval`` of an ``n``-dot stipple, in this process."""

    def run(tmp: Path) -> dict[str, object]:
        from typer.testing import CliRunner

        from stipplr.cli import app

        path = big_stipple(tmp, n)
        start = time.perf_counter()
        result = CliRunner().invoke(app, ["eval", str(tmp / "source.png"), str(path), "--json"])
        lines = (result.output.strip() or repr(result.exception)).splitlines()
        note = lines[-1][:70] if result.exit_code else "ok"
        return {
            "dots": n,
            "rc": result.exit_code,
            "note": note,
            "eval_s": time.perf_counter() - start,
        }

    return run


def npy_bytes(array: np.ndarray) -> bytes:
    """``array`` in the ``.npy`` format."""
    import io

    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def npz_bomb(tmp: Path) -> dict[str, object]:
    """A stipple .npz of about 1.5 MB whose xy member inflates to 200M dots (1.6 GB)."""
    from stipplr.dots import Stipple, StippleError

    path = tmp / "bomb.npz"
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (200000000, 2), }"
    header = header.ljust(117) + "\n"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        with z.open("xy.npy", "w", force_zip64=True) as f:
            f.write(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode())
            chunk = bytes(1 << 24)
            for _ in range(1_600_000_000 // len(chunk)):
                f.write(chunk)
            f.write(bytes(1_600_000_000 % len(chunk)))
        z.writestr("rgb.npy", npy_bytes(np.zeros((200_000_000, 3), np.float32)[:1]))
        z.writestr("size.npy", npy_bytes(np.array([640, 480])))
        z.writestr("meta.npy", npy_bytes(np.array("{}")))
    size_mb = path.stat().st_size / 1e6
    try:
        Stipple.load(path)
    except StippleError as exc:
        return {"dots": 0, "note": f"{size_mb:.1f} MB {str(exc)[len(str(path)) + 2 :][:70]}"}
    return {"dots": -1, "note": f"{size_mb:.1f} MB file ACCEPTED"}


def make_checkpoint_bomb(path: Path) -> None:
    """Write a checkpoint holding a 1 GB tensor of zeros, its members deflated."""
    import torch

    plain = path.with_suffix(".plain")
    payload = {"format": "stipplr-model", "format_version": 1, "arch": "lloydnet"}
    torch.save({**payload, "config": {}, "state_dict": {"w": torch.zeros(1 << 28)}}, plain)
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            with src.open(info) as f, dst.open(info.filename, "w", force_zip64=True) as g:
                while block := f.read(1 << 24):
                    g.write(block)
    plain.unlink()


def checkpoint_bomb(tmp: Path) -> dict[str, object]:
    """A checkpoint with a deflated 1 GB tensor (made in another process): refused unread."""
    from stipplr.checkpoints import read_checkpoint
    from stipplr.errors import StipplrError

    path = tmp / "bomb.pt"
    subprocess.run([sys.executable, __file__, "--make-bomb", str(path)], check=True)
    size_mb = path.stat().st_size / 1e6
    try:
        read_checkpoint(path)
    except StipplrError as exc:
        return {"dots": 0, "note": f"{size_mb:.1f} MB {str(exc)[len(str(path)) + 2 :][:70]}"}
    return {"dots": -1, "note": f"{size_mb:.1f} MB file ACCEPTED"}


def render_case(extension: str, n: int) -> Callable:
    """Render an ``n``-dot stipple of a 4000x3000 image to ``extension``."""

    def run(tmp: Path) -> dict[str, object]:
        from stipplr import renderers
        from stipplr.dots import Stipple

        stipple = Stipple.load(big_stipple(tmp, n))
        out = tmp / f"out{extension}"
        renderers.render(stipple, out)
        return {"dots": n, "note": f"{out.stat().st_size / 1e6:.0f} MB file"}

    return run


def photo_50mp() -> np.ndarray:
    """The photo resized to 8160x6120 (50 megapixels)."""
    return photo((8160, 6120))


CASES: dict[str, tuple[Callable, int, bool]] = {}
"""name -> (run(tmp) -> dict, documented bound in MB, in the --quick set)."""


def _add(name: str, run: Callable, bound: int, quick: bool = False) -> None:
    CASES[name] = (run, bound, quick)


for _engine, _bound in (("dither", 400), ("lbg", 600), ("neural", 1500)):
    _quick = _engine != "lbg"
    _add(f"word {_engine} 5k", stipple_case(lambda: page("word"), _engine, 5000), _bound, _quick)
    _add(
        f"3x3 square {_engine} 5k",
        stipple_case(lambda: page("square"), _engine, 5000),
        _bound,
        _quick,
    )
    _add(f"254 pixel {_engine} 5k", stipple_case(lambda: page("pixel"), _engine, 5000), _bound)
    _add(f"gamma 1e6 {_engine} 5k", stipple_case(photo, _engine, 5000, tone={"gamma": 1e6}), _bound)
    _add(
        f"float 0-255 {_engine} 5k",
        stipple_case(lambda: photo().astype(np.float64), _engine, 5000),
        _bound,
    )
    _add(f"mode I 24-bit {_engine} 5k", stipple_case(mode_i, _engine, 5000), _bound)
    _add(f"mode I 16-bit {_engine} 5k", stipple_case(lambda: mode_i(257.0), _engine, 5000), _bound)
_add("3x3 square neural 100k", stipple_case(lambda: page("square"), "neural", 100_000), 1500, True)
_add("word neural 100k", stipple_case(lambda: page("word"), "neural", 100_000), 1500)
_add("photo neural 100k", stipple_case(photo, "neural", 100_000), 1500, True)
_add("photo dither 100k", stipple_case(photo, "dither", 100_000), 400)
_add("word dither 2M", stipple_case(lambda: page("word"), "dither", 2_000_000), 1500)
_add("50 MP photo dither 5k", stipple_case(photo_50mp, "dither", 5000), 6000)
_add("50 MP photo neural 20k", stipple_case(photo_50mp, "neural", 20_000), 6000)
_add("eval 2M dots", eval_case(2_000_000), 2000)
_add("eval 10M dots", eval_case(10_000_000), 2500)
_add(".npz claiming 200M dots", npz_bomb, 400, True)
_add("checkpoint, deflated 1 GB", checkpoint_bomb, 1000, True)
_add("png 2M dots", render_case(".png", 2_000_000), 1000)
_add("svg 2M dots", render_case(".svg", 2_000_000), 1000)


def run_case(name: str, cap_mb: int) -> None:
    """Run one case in this process and print its JSON result."""
    cap = cap_mb << 20
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    run, _, _ = CASES[name]
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        try:
            result = run(Path(tmp))
        except MemoryError:
            result = {"dots": -1, "note": "MemoryError"}
    result["seconds"] = time.perf_counter() - start
    result["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def main() -> None:
    """Run the cases, one subprocess each, and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the fast cases")
    parser.add_argument("--only", nargs="+", help="case names (substrings)")
    parser.add_argument("--cap-mb", type=int, default=12_000, help="address-space cap per case")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--make-bomb", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make_bomb:
        make_checkpoint_bomb(args.make_bomb)
        return
    if args.case:
        run_case(args.case, args.cap_mb)
        return
    names = [
        name
        for name, (_, _, quick) in CASES.items()
        if (not args.quick or quick) and (not args.only or any(s in name for s in args.only))
    ]
    print("| case | dots | seconds | peak RSS MB | bound MB | ok | note |")
    print("|---|---:|---:|---:|---:|---|---|")
    failures = 0
    for name in names:
        cmd = [sys.executable, __file__, "--case", name, "--cap-mb", str(args.cap_mb)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        bound = CASES[name][1]
        try:
            r = json.loads(proc.stdout.strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError):
            tail = (proc.stderr.strip().splitlines() or ["no output"])[-1][:70]
            r = {"dots": -1, "seconds": float("nan"), "rss_mb": float("nan"), "note": tail}
        ok = proc.returncode == 0 and r["rss_mb"] <= bound and r["dots"] >= 0
        failures += not ok
        print(
            f"| {name} | {r['dots']} | {r['seconds']:.1f} | {r['rss_mb']:.0f} | {bound} "
            f"| {'yes' if ok else 'NO'} | {r.get('note', '')} |",
            flush=True,
        )
    print(f"\n{len(names) - failures} of {len(names)} cases within their bound")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
