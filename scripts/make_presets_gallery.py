"""Render ``docs/presets.md``: one picture per shipped preset, so users choose by looking.

    python scripts/make_presets_gallery.py            # all presets, docs/presets/*.png
    python scripts/make_presets_gallery.py --only portrait,bold --out /tmp/try

Each picture preset (one meant for ``stipplr stipple``) is drawn from a sample photo with
the default engine, as ``stipplr stipple PHOTO -o NAME.png --preset NAME`` would; each
plot preset as the true-pen-width preview of ``stipplr plot PHOTO -o x.svg --preset NAME
--preview NAME.png``. The page also lists each preset's tone PSNR on the five sample photos,
against its own tone-mapped target (the darkness its tone settings ask for), beside the
default settings' (a preset should not be worse than the default by more than 1 dB).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

import stipplr
from stipplr import metrics
from stipplr.cli import app
from stipplr.images import load_image
from stipplr.presets import SHIPPED_DIR, load_preset
from stipplr.settings import resolve_settings
from stipplr.tone import Tone, darkness

ROOT = Path(__file__).resolve().parent.parent
PHOTOS = sorted((ROOT / "examples" / "photos").glob("*.jpg"))
SHOWN = {"color": "chelsea", "cmyk-pens": "chelsea", "newsprint": "coffee"}
"""The sample photo each preset is shown on, when not :data:`DEFAULT_PHOTO`."""
DEFAULT_PHOTO = "astronaut"
WIDTH = 480
"""Width of the gallery pictures in px."""


def shown_photo(name: str) -> Path:
    """The sample photo preset ``name`` is shown on."""
    stem = SHOWN.get(name, DEFAULT_PHOTO)
    return next(p for p in PHOTOS if p.stem == stem)


def command_of(name: str) -> str:
    """``stipple`` for a picture preset, else ``plot``."""
    return "stipple" if "stipple" in load_preset(name).commands else "plot"


def tone_psnr(photo: Path, kwargs: dict) -> float:
    """Tone PSNR of ``stipplr.stipple(photo, **kwargs)`` against its own tone target."""
    result = stipplr.stipple(photo, **kwargs)
    dark = darkness(load_image(photo), Tone.parse(kwargs.get("tone") or {}))
    return float(metrics.evaluate(dark, result.xy)["psnr_db"])


def mean_psnr(name: str | None, photos: list[Path]) -> float | None:
    """Mean tone PSNR over ``photos`` (default settings when ``name`` is None); None for a
    plot preset that leaves the dot count to the plot (``points = "auto"``)."""
    command = "stipple" if name is None else command_of(name)
    kwargs = resolve_settings(command, name).stipple_kwargs()
    if kwargs.get("points") == "auto":
        return None
    return float(np.mean([tone_psnr(photo, kwargs) for photo in photos]))


def shown_command(name: str) -> str:
    """The command a gallery picture shows (as a user would type it)."""
    photo = shown_photo(name).name
    if command_of(name) == "stipple":
        return f"stipplr stipple {photo} -o {name}.png --preset {name}"
    return f"stipplr plot {photo} -o {name}.svg --preset {name} --preview {name}.png"


def render(name: str, out: Path) -> Path:
    """Draw preset ``name``'s picture into ``out`` (the CLI, in this process)."""
    picture = out / f"{name}.png"
    photo = shown_photo(name)
    if command_of(name) == "stipple":
        args = ["stipple", str(photo), "-o", str(picture), "--preset", name]
        args += ["-O", f"width={WIDTH}"]
    else:
        plot_file = Path(tempfile.mkdtemp()) / f"{name}.svg"
        args = ["plot", str(photo), "-o", str(plot_file), "--preset", name]
        args += ["--preview", str(picture), "--preview-scale", f"{WIDTH}px"]
    result = CliRunner().invoke(app, args)
    if result.exit_code != 0:
        raise SystemExit(f"{name}: {result.output}")
    return picture


def psnr_cells(psnr: float | None, default: float) -> str:
    """The PSNR and difference cells of the table."""
    if psnr is None:
        return "(dots chosen by the plot) | |"
    return f"{psnr:.2f} | {psnr - default:+.2f} |"


def page(rows: list[tuple[str, str, str, float | None]], default: float) -> str:
    """The markdown gallery: one section per preset, then the PSNR table."""
    lines = [
        "# Presets",
        "",
        "One picture per shipped preset (`stipplr presets` lists them, `stipplr presets show",
        "NAME` prints the settings). Made by `python scripts/make_presets_gallery.py`.",
        "",
    ]
    for name, description, command, _ in rows:
        lines += [f"## {name}", "", description, "", f"`{command}`", ""]
        lines += [f"![{name}](presets/{name}.png)", ""]
    lines += [
        "## Tone PSNR",
        "",
        "Mean over the five sample photos, each stipple against its own tone-mapped target",
        f"(default settings: {default:.2f} dB; a preset should stay within 1 dB of it).",
        "",
        "| preset | tone PSNR (dB) | vs default |",
        "|---|---:|---:|",
    ]
    lines += [f"| {n} | {psnr_cells(p, default)}" for n, _, _, p in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated presets (default: all shipped)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "presets")
    parser.add_argument("--no-psnr", action="store_true", help="skip the PSNR measurement")
    args = parser.parse_args(argv)
    names = (
        args.only.split(",") if args.only else sorted(p.stem for p in SHIPPED_DIR.glob("*.toml"))
    )
    args.out.mkdir(parents=True, exist_ok=True)
    default = 0.0 if args.no_psnr else mean_psnr(None, PHOTOS)
    rows = []
    for name in names:
        render(name, args.out)
        preset = load_preset(name)
        command = shown_command(name)
        psnr = None if args.no_psnr else mean_psnr(name, PHOTOS)
        print(f"{name}: tone PSNR {psnr_cells(psnr, default)}")
        rows.append((name, preset.description, command, psnr))
    if not args.only:
        (args.out.parent / "presets.md").write_text(page(rows, default))
        print(f"wrote {args.out.parent / 'presets.md'}")


if __name__ == "__main__":
    main()
