"""Plot tone benchmark: does a default ``stipplr plot`` come out as dark as its photo?

For each sample photo (examples/photos) and each setting (A4 with a 0.3 mm pen, A3 with
a 0.5 mm pen; everything else default: ``--points auto``, ``--dot auto``, the default
engine) it plans N as ``stipplr plot`` does, stipples, plots, draws the anti-aliased
preview at 8 px/mm and prints: N chosen, the dots drawn, the predicted ink coverage of
the picture, the coverage measured on the preview, the image's mean darkness, whether
the preview is within 15 % of it, and the warning ``stipplr plot`` printed, if any.
Run: ``python benchmarks/plot_tone.py [--photos chelsea coffee] [--engine dither]``.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import stipplr
from stipplr.cli.plot import engine_range
from stipplr.images import load_image
from stipplr.plotter import PlotOptions, make_plot
from stipplr.plotter.ink import ToneWarning
from stipplr.plotter.plan import plan_plot
from stipplr.plotter.preview import measured_coverage, preview_image
from stipplr.tone import Tone, darkness

PHOTOS = Path(__file__).resolve().parents[1] / "examples" / "photos"
SETTINGS = {
    "A4 0.3mm": {"paper": "a4", "pen_width": "0.3mm"},
    "A3 0.5mm": {"paper": "a3", "pen_width": "0.5mm"},
}
FLOOR = 0.15


def run(photo: Path, values: dict, engine: str | None) -> dict:
    """One plot of ``photo`` with default settings but ``values``: its tone figures."""
    options = PlotOptions(**values)
    rgb = load_image(photo)
    dark = darkness(rgb, Tone())
    name, n_range = engine_range({"engine": engine})
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ToneWarning)
        plan, options = plan_plot(dark, options, name, "auto", None, n_range)
        stipple = stipplr.stipple(rgb, plan.points, engine=name, seed=0)
        plot = make_plot(stipple, options, "svg", dark)
    image = preview_image(plot.document, 8.0)
    measured = measured_coverage(image, plot.picture, 8.0)
    tone_warnings = [str(w.message) for w in caught if issubclass(w.category, ToneWarning)]
    return {
        "n": plan.points,
        "dot": options.dot_size and f"{options.dot_size:g}mm" or "touch",
        "predicted": plot.stats.coverage,
        "measured": measured,
        "darkness": float(dark.mean()),
        "seconds": time.perf_counter() - start,
        "warning": tone_warnings[0] if tone_warnings else "",
    }


def main() -> None:
    """Print the table, one row per photo and setting."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--photos", nargs="+", default=sorted(p.stem for p in PHOTOS.glob("*.jpg")))
    parser.add_argument("--engine", default=None, help="default: stipplr's default engine")
    args = parser.parse_args()
    print(
        f"{'photo':<10} {'setting':<9} {'N':>7} {'dots':>7} {'predicted':>9} {'preview':>8} "
        f"{'image':>6} {'within 15%':>10}  warning"
    )
    for stem in args.photos:
        for setting, values in SETTINGS.items():
            r = run(PHOTOS / f"{stem}.jpg", values, args.engine)
            ok = abs(r["measured"] - r["darkness"]) <= FLOOR * r["darkness"]
            print(
                f"{stem:<10} {setting:<9} {r['n']:>7} {r['dot']:>7} {100 * r['predicted']:>8.1f}% "
                f"{100 * r['measured']:>7.1f}% {100 * r['darkness']:>5.1f}% "
                f"{'yes' if ok else 'NO':>10}  {r['warning'] or '-'}",
                flush=True,
            )


if __name__ == "__main__":
    main()
