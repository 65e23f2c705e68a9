"""Flat-field structure of every engine: RAPS / anisotropy plots, dot crops and a table.

    python benchmarks/spectra.py [--quick] [--out benchmarks/out] [--engines dither lbg]
    python benchmarks/spectra.py --figure docs/images/flat-field-spectra.png   # README's picture

Fields: uniform grey at 10, 30, 50, 80 and 100 % ink and a linear ramp (0 to 100 % ink,
left to right), 512 x 512 px with N = 16 384 dots: a dither cell of exactly 4 px, so solid
ink is the worst case for lattices (every cell selected). ``--quick``: 256 x 256, N = 4 096.
Engines: dither, voronoi, lbg, ccvt (when ``stipplr.engines.ccvt`` exists) called directly,
and neural through ``stipplr.stipple``.

Writes ``spectrum_<field>.png`` (RAPS and anisotropy over frequency in cycles per mean
spacing h), ``dots_<field>.png`` (a 128 px corner of each engine's dots, 4x) and
``spectra.md`` (the table) to the output folder. Columns (``stipplr.metrics``): spacing mean
(nearest-neighbour distance over the hexagonal spacing), main peak height of the RAPS,
low-frequency power (RAPS below 0.5 / h), spike (strongest single frequency over its annulus
mean; random sets ~11-13), repeat (best shift test over shifts of 8 h up to 60 % of the
field; random ~3-4 %, a set on a lattice with fill f ~f), tile (the shift test at the
dither's threshold-tile period, 128 cells: the engine's hexagonal cells for dither, the
square cells the relaxers start from for the others), psi4 local / global and psi6 local
(bond order: square lattice 1 / 1 / 0, hexagonal 0 / 0 / 1, Poisson ~0.42 / 0 / 0.43). The
ramp's spectrum mixes densities: its low-frequency power is the ramp itself, and its spike
is taken above the low band (the ramp's own Fourier series dominates below). Floors (exit
code 1 when broken): voronoi, lbg and ccvt spike <= 25 on every grey field, ccvt spacing
mean >= 0.88. ``--figure PATH`` also writes one compact picture of the 50 % field: per
engine a zoomed patch of its dots and its periodogram (the README's figure). Needs
matplotlib (the benchmark extra).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from stipplr import bluenoise, metrics
from stipplr.engines.dither import dither_grid

LEVELS = (0.1, 0.3, 0.5, 0.8, 1.0)
FULL = (512, 16_384)  # field side (px), dots
QUICK = (256, 4_096)
SPIKE_FLOOR = 25.0
SPACING_FLOOR = {"ccvt": 0.88}
FLOORED = ("voronoi", "lbg", "ccvt")
CROP = 128  # px of the field shown in the dot pictures
ZOOM = 4
FIGURE_FIELD = "50%"
FIGURE_SPACINGS = 12  # the figure's dot patches are this many mean spacings wide
FIGURE_FREQUENCY = 1.5  # its periodograms reach this many cycles per mean spacing
FIGURE_COLOURS = 32  # palette size of the saved figure (keeps the PNG small)

Run = Callable[[np.ndarray, int, int], np.ndarray]


def classical(name: str) -> Run | None:
    """``stipplr.engines.<name>.<name>`` as a run function, or None when it is missing."""
    try:
        engine = getattr(importlib.import_module(f"stipplr.engines.{name}"), name)
    except (ImportError, AttributeError):
        return None
    return lambda dark, n, seed: engine(dark, n, seed=seed)


def neural(dark: np.ndarray, n: int, seed: int) -> np.ndarray:
    """The neural engine through the public API (grey image = 1 - darkness)."""
    import stipplr

    return stipplr.stipple(1.0 - dark, n, "neural", seed=seed).xy


def engines(names: list[str]) -> dict[str, Run]:
    """The requested engines that are available (missing ones are reported and skipped)."""
    found: dict[str, Run] = {}
    for name in names:
        run = neural if name == "neural" else classical(name)
        if run is None:
            print(f"skipping {name}: stipplr.engines.{name} is not importable", file=sys.stderr)
        else:
            found[name] = run
    return found


def fields(side: int) -> dict[str, np.ndarray]:
    """Field name -> darkness map: the grey levels and the ramp."""
    out = {f"{round(100 * level)}%": np.full((side, side), level, np.float32) for level in LEVELS}
    out["ramp"] = np.tile(np.linspace(0.0, 1.0, side, dtype=np.float32), (side, 1))
    return out


@dataclass
class Row:
    """One engine on one field: timing, the table's numbers and the spectrum."""

    engine: str
    field: str
    seconds: float
    spacing: float
    peak: float
    low: float
    spike: float
    repeat: float
    tile: float
    psi4: tuple[float, float]
    psi6: float
    spectrum: metrics.FlatSpectrum
    xy: np.ndarray


def measure(engine: str, run: Run, name: str, dark: np.ndarray, n: int, seed: int) -> Row:
    """Run ``engine`` on field ``dark`` and measure its dots."""
    start = time.perf_counter()
    xy = np.asarray(run(dark, n, seed), dtype=np.float64)
    seconds = time.perf_counter() - start
    shape = dark.shape
    spectrum = metrics.flat_spectrum(xy)
    hexagonal = engine == "dither"  # the engine packs its cells hexagonally
    period = dither_grid(dark, n, hexagonal=hexagonal).cell_px * bluenoise.DEFAULT_SIZE
    return Row(
        engine=engine,
        field=name,
        seconds=seconds,
        spacing=float(metrics.spacing_ratios(dark, xy).mean()),
        peak=spectrum.peak[0],
        low=spectrum.low_power,
        spike=spectrum.max_spike(metrics.LOW_FREQUENCY if name == "ramp" else 0.0),
        repeat=metrics.find_repetition(xy, shape)[0],
        tile=metrics.tile_repetition(xy, period, shape),
        psi4=metrics.bond_order(xy, 4, shape),
        psi6=metrics.bond_order(xy, 6, shape)[0],
        spectrum=spectrum,
        xy=xy,
    )


def percent(value: float) -> str:
    """A fraction as a percentage cell, ``-`` when undefined."""
    return "-" if not np.isfinite(value) else f"{100 * value:.1f}"


HEADER = (
    "| field | engine | s | spacing mean | peak | low power | spike | repeat % | tile % "
    "| psi4 local | psi4 global | psi6 local |\n"
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def table_row(row: Row) -> str:
    """One markdown table line."""
    return (
        f"| {row.field} | {row.engine} | {row.seconds:.1f} | {row.spacing:.3f} | {row.peak:.2f} "
        f"| {row.low:.4f} | {row.spike:.1f} | {percent(row.repeat)} | {percent(row.tile)} "
        f"| {row.psi4[0]:.2f} | {row.psi4[1]:.2f} | {row.psi6:.2f} |"
    )


def floor_failures(rows: list[Row]) -> list[str]:
    """The quality floors the rows break, one line each."""
    failures = []
    for row in rows:
        if row.field == "ramp" or row.engine not in FLOORED:
            continue
        if row.spike > SPIKE_FLOOR:
            failures.append(f"{row.engine} {row.field}: spike {row.spike:.1f} > {SPIKE_FLOOR:g}")
        floor = SPACING_FLOOR.get(row.engine)
        if floor is not None and row.spacing < floor:
            failures.append(f"{row.engine} {row.field}: spacing {row.spacing:.3f} < {floor}")
    return failures


def plot_spectra(rows: list[Row], name: str, out: Path) -> None:
    """RAPS and anisotropy of every engine on one field, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, (raps, aniso) = plt.subplots(1, 2, figsize=(11, 4))
    for row in rows:
        raps.plot(row.spectrum.frequency, row.spectrum.raps, label=row.engine, lw=1)
        aniso.plot(row.spectrum.frequency, row.spectrum.anisotropy, label=row.engine, lw=1)
    raps.set(title=f"RAPS, {name}", xlabel="frequency (cycles / h)", ylabel="power", yscale="log")
    raps.set_ylim(1e-3, 1e3)  # a lattice's empty annuli would reach 1e-30
    raps.axhline(1.0, color="grey", lw=0.5)
    aniso.set(title=f"anisotropy, {name}", xlabel="frequency (cycles / h)", ylabel="dB")
    aniso.axhline(0.0, color="grey", lw=0.5)
    raps.legend()
    fig.tight_layout()
    fig.savefig(out / f"spectrum_{name.rstrip('%')}.png", dpi=110)
    plt.close(fig)


def dot_picture(rows: list[Row], name: str, side: int, out: Path) -> None:
    """The top-left CROP px of every engine's dots side by side (ZOOM x), as a PNG."""
    tile = CROP * ZOOM
    canvas = Image.new("L", (len(rows) * (tile + 8), tile + 16), 160)
    radius = 0.3 * np.sqrt(side * side / len(rows[0].xy)) * ZOOM
    for i, row in enumerate(rows):
        panel = Image.new("L", (tile, tile), 255)
        draw = ImageDraw.Draw(panel)
        for x, y in row.xy[np.all(row.xy * side < CROP, axis=1)] * side * ZOOM:
            draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=0)
        canvas.paste(panel, (i * (tile + 8), 16))
        ImageDraw.Draw(canvas).text((i * (tile + 8) + 4, 2), row.engine, fill=0)
    canvas.save(out / f"dots_{name.rstrip('%')}.png")


def figure(rows: list[Row], side: int, path: Path) -> None:
    """One engine per column: a patch of its dots over its periodogram (log power, centre:
    zero frequency, axes in cycles per mean spacing h), titled with its spike ratio; saved
    as a small palette PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, axes = plt.subplots(2, len(rows), figsize=(1.9 * len(rows), 4.0), squeeze=False)
    for (top, bottom), row in zip(axes.T, rows, strict=True):
        n = len(row.xy)
        patch = FIGURE_SPACINGS / np.sqrt(n)
        inside = np.all(row.xy < patch, axis=1)
        top.scatter(*(row.xy[inside] / patch).T, s=6, c="k", linewidths=0)
        top.set(xlim=(0, 1), ylim=(1, 0), aspect="equal", xticks=[], yticks=[])
        top.set_title(f"{row.engine}\nspike {row.spike:.0f}x", fontsize=9)
        k_max = int(round(FIGURE_FREQUENCY * np.sqrt(n)))
        power = metrics.periodogram(row.xy, k_max)
        reach = k_max / np.sqrt(n)
        bottom.imshow(
            np.log10(np.maximum(power.T, 1e-2)),
            cmap="gray_r",
            vmin=-1,
            vmax=1.5,
            extent=(-reach, reach, -reach, reach),
            interpolation="antialiased",
        )
        bottom.set_xticks([-1, 0, 1])
        bottom.set_yticks([-1, 0, 1] if row is rows[0] else [])
        bottom.tick_params(labelsize=7)
    axes[1, 0].set_ylabel("cycles / h", fontsize=8)
    fig.suptitle(f"{FIGURE_FIELD} grey, {side} x {side} px, N = {len(rows[0].xy)}", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    image = Image.open(path).convert("RGB").quantize(FIGURE_COLOURS)
    image.save(path, optimize=True)


def main() -> int:
    """Run every engine on every field; write plots, pictures and the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="256 px fields, N = 4 096")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out")
    parser.add_argument(
        "--engines", nargs="+", default=["dither", "voronoi", "lbg", "ccvt", "neural"]
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--points", type=int, help="dots per field (default: the size's)")
    field = FIGURE_FIELD.replace("%", "%%")  # argparse formats help strings with %
    parser.add_argument("--figure", type=Path, help=f"also write the {field} figure here")
    args = parser.parse_args()
    side, n = QUICK if args.quick else FULL
    n = args.points or n
    args.out.mkdir(parents=True, exist_ok=True)
    runs = engines(args.engines)
    lines = [f"{side} x {side} px, N = {n}, seed {args.seed}\n", HEADER]
    print("\n".join(lines), flush=True)
    everything: list[Row] = []
    for name, dark in fields(side).items():
        rows = [measure(e, run, name, dark, n, args.seed) for e, run in runs.items()]
        for row in rows:
            lines.append(table_row(row))
            print(lines[-1], flush=True)
        plot_spectra(rows, name, args.out)
        dot_picture(rows, name, side, args.out)
        if args.figure is not None and name == FIGURE_FIELD:
            figure(rows, side, args.figure)
        everything += rows
    failures = floor_failures(everything)
    lines.append("\nFloors: " + ("; ".join(failures) if failures else "all met"))
    print(lines[-1])
    (args.out / "spectra.md").write_text("\n".join(lines) + "\n")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
