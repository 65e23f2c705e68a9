"""Stipple -> plot: lay the dots out on the page, size them, give each to a pen, draw and
order them, and predict the ink they lay down.

Dot sizes: ``dot_size`` when given; else the stipple's radii (``--radius-min/max``); else,
for ``circle`` and ``spiral`` dots, their local tone (:func:`~shapes.tone_diameters`:
the darkness map when the caller has it, else the dot's colour through the stipple's
tone settings); else the pen width (a touch).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.spatial import cKDTree

from stipplr.dots import Stipple
from stipplr.inks.nearest import dot_pens
from stipplr.paper import Layout, fit
from stipplr.plotter.document import Layer, Paths, Pen, PlotDocument
from stipplr.plotter.frame import hpgl_frame
from stipplr.plotter.ink import check_fits, ink_areas, knee_of, plot_coverage
from stipplr.plotter.options import PlotOptions
from stipplr.plotter.order import GREEDY_LIMIT, greedy_paths, hilbert_order, orient
from stipplr.plotter.pens import make_pens
from stipplr.plotter.shapes import SIZED_UP_TO, dot_kinds, dot_paths, tone_diameters
from stipplr.plotter.stats import PlotStats, pen_up_distance, plot_stats
from stipplr.plotter.tour import improve_route, repair
from stipplr.tone import Tone, darkness
from stipplr.units import format_length


class CloseDotsWarning(UserWarning):
    """Some dots are closer than half the pen width: their ink runs together on paper."""


@dataclass(frozen=True)
class Plot:
    """A plot ready to write: the document, its statistics, the page layout (source px ->
    page mm), the options it was made with and the format it was ordered for."""

    document: PlotDocument
    stats: PlotStats
    layout: Layout
    options: PlotOptions
    fmt: str = "svg"

    @property
    def picture(self) -> tuple[float, float, float, float]:
        """The picture's box on the page (x0, y0, x1, y1 mm)."""
        x0, y0 = self.layout.offset
        width, height = self.layout.size
        return (x0, y0, x0 + width * self.layout.scale, y0 + height * self.layout.scale)


def sizing(options: PlotOptions, has_radius: bool) -> str:
    """How dots are sized: ``fixed`` (dot_size or pen), ``radius`` (the stipple's) or
    ``tone`` (circle/spiral dots without a size)."""
    if options.dot_size is not None:
        return "fixed"
    if has_radius:
        return "radius"
    return "tone" if options.dot in SIZED_UP_TO else "fixed"


def dot_noun(options: PlotOptions) -> str:
    """What draws the smallest dot, for errors: ``a 0.3mm pen`` or ``a 1mm dot``."""
    if options.dot_size:
        return f"a {format_length(options.dot_size)} dot"
    return f"a {format_length(options.pen_width)} pen"


def plot_layout(
    size: tuple[int, int], options: PlotOptions, how: str, reach_px: float = 0.0, fmt: str = "svg"
) -> Layout:
    """The picture (``size`` px) fitted on the page with every dot's ink inside the margins
    (and, for HPGL, every pen position inside the plotter's P1/P2 window)."""
    fixed = options.pen_width if options.dot_size is None else options.dot_size
    biggest = SIZED_UP_TO[options.dot] * options.pen_width if how == "tone" else fixed
    reach_mm = max((options.tick + options.pen_width) / 2, 0.0 if how == "radius" else biggest / 2)
    window = hpgl_frame(options.page).window(options.page) if fmt == "hpgl" else None
    if window is not None:  # the window bounds pen positions: ink reaches w/2 past them
        half = options.pen_width / 2
        window = (window[0] - half, window[1] - half, window[2] + half, window[3] + half)
    px = reach_px if how == "radius" else 0
    return fit(size, options.page, options.margin, px, reach_mm, window)


def dot_darkness(stipple: Stipple, dark: np.ndarray | None = None) -> np.ndarray:
    """Each dot's darkness: the (smoothed) darkness map at the dot when given, else its
    colour through the stipple's tone settings (edge emphasis aside)."""
    if dark is not None:
        smooth = ndimage.gaussian_filter(np.asarray(dark, np.float32), 2.0)
        height, width = smooth.shape
        px = np.clip((stipple.xy[:, 0] * width).astype(int), 0, width - 1)
        py = np.clip((stipple.xy[:, 1] * height).astype(int), 0, height - 1)
        return smooth[py, px].astype(float)
    tone = dict(stipple.meta.get("tone") or {})
    tone = Tone.parse({**{k: v for k, v in tone.items() if k in Tone.option_names()}, "edge": 0})
    return darkness(stipple.rgb[None].astype(float), tone)[0].astype(float)


def home_of(fmt: str, page: tuple[float, float], origin: str) -> tuple[complex, str]:
    """Where the pen starts for a file of ``fmt``, in page mm, and how to call it."""
    width, height = page
    if fmt == "hpgl":
        frame = hpgl_frame(page)
        name = f"{frame.device} origin" if frame.device else "bottom-left corner"
        return frame.home(page), name
    if fmt == "gcode":
        corner = origin == "bottom-left"
        return complex(0, height if corner else 0), f"{origin} corner, the machine origin"
    if width < height:
        return complex(width, 0), "the page's top-right corner: AxiDraw turns portrait pages"
    return 0j, "top-left corner"


def route(paths: Paths, options: PlotOptions, seconds: float, home: complex):
    """(order, flip) of ``paths`` from ``home``: greedy with a quick repair of its longest
    jumps (a Hilbert curve past GREEDY_LIMIT), then 2-opt/Or-opt and kicks until
    ``seconds`` (in all) have passed, then each path's best direction."""
    n, starts, ends = len(paths), paths.starts(), paths.ends()
    if options.order == "input" or n < 2:
        return np.arange(n), np.zeros(n, dtype=bool)
    centres = (starts + ends) / 2
    xy = np.column_stack([centres.real, centres.imag])
    origin, began = np.array([home.real, home.imag]), time.perf_counter()
    if n > GREEDY_LIMIT:
        order = hilbert_order(xy)
    else:
        order = repair(xy, greedy_paths(starts, ends, home)[0], origin)
    left = seconds - (time.perf_counter() - began)  # the budget covers the greedy part too
    if seconds > 0 and left > 0:
        order = improve_route(xy, order, origin, left)
    return order, orient(starts, ends, order, home)


def close_dots(centres: np.ndarray, distance: float) -> tuple[int, bool]:
    """How many dots have another within ``distance`` mm, and whether that is estimated
    (from a sample of :data:`SAMPLE` dots, when crowds would make the pairs too many)."""
    points = np.column_stack([centres.real, centres.imag])
    tree = cKDTree(points, balanced_tree=False, compact_nodes=False)  # builds fast
    sample = np.random.default_rng(0).choice(len(points), min(SAMPLE, len(points)), False)
    near = tree.query_ball_point(points[sample], distance, return_length=True) - 1
    if near.mean() * len(points) > 20 * len(points):  # too many pairs to list
        return round((near > 0).mean() * len(points)), True
    return len(np.unique(tree.query_pairs(distance, output_type="ndarray"))), False


SAMPLE = 10_000


def warn_close_dots(centres: np.ndarray, pen_width: float) -> int:
    """Count (and warn about) dots nearer another than half the pen width."""
    if len(centres) < 2:
        return 0
    count, estimated = close_dots(centres, pen_width / 2)
    if count:
        warnings.warn(
            f"{'about ' if estimated else ''}{count} of {len(centres)} dots are closer than "
            f"half the pen width ({pen_width / 2:g} mm) to another dot: their ink runs "
            "together on paper (fewer points, larger paper or a finer pen)",
            CloseDotsWarning,
            stacklevel=3,
        )
    return count


def make_plot(
    stipple: Stipple,
    options: PlotOptions | None = None,
    fmt: str = "svg",
    darkness_map: np.ndarray | None = None,
) -> Plot:
    """Turn ``stipple`` into a :class:`Plot` for a ``fmt`` file (svg, hpgl or gcode: it
    sets where the pen starts and what the time estimate counts): one layer per pen,
    dots ordered per layer. ``darkness_map`` (the image after the tone stage) sizes
    tone-sized dots and gives the image's mean darkness; else the stipple's meta does."""
    options = options or PlotOptions()
    how = sizing(options, stipple.radius is not None)
    reach_px = float(stipple.radius.max()) if how == "radius" and len(stipple) else 0.0
    layout = plot_layout((stipple.width, stipple.height), options, how, reach_px, fmt)
    centres = stipple.pixels().astype(float) * layout.scale + np.array(layout.offset)
    centres = centres[:, 0] + 1j * centres[:, 1]
    diameters = dot_diameters(stipple, options, how, layout, darkness_map)
    kinds = dot_kinds(diameters, options.dot, options.pen_width, options.tick)
    areas = ink_areas(kinds, diameters, options.pen_width, options.tick)
    plot_area = stipple.width * stipple.height * layout.scale**2
    check_fits(len(stipple), float(areas.min(initial=np.inf)), plot_area, dot_noun(options))
    warn_close_dots(centres, options.pen_width)
    document, input_order = layers(stipple, options, centres, diameters, fmt)
    home = home_of(fmt, options.page, options.origin)
    stats = plot_stats(document, options, len(stipple), pen_up_distance(input_order), fmt, home)
    picture = Plot(document, stats, layout, options, fmt).picture
    mean = stipple.meta.get("mean_darkness") if darkness_map is None else darkness_map.mean()
    stats = stats.with_ink(
        plot_coverage(centres, areas, picture, knee_of(stipple.meta.get("engine"))),
        None if mean is None else float(mean),
    )
    document.meta = {"stats": stats.to_dict(), "source": stipple.meta}
    return Plot(document, stats, layout, options, fmt)


def dot_diameters(
    stipple: Stipple, options: PlotOptions, how: str, layout: Layout, dark: np.ndarray | None
) -> np.ndarray:
    """Each dot's diameter in mm (see :func:`sizing`)."""
    if how == "radius":
        return 2 * stipple.radius.astype(float) * layout.scale
    if how == "tone":
        return tone_diameters(dot_darkness(stipple, dark), options.dot, options.pen_width)
    size = options.pen_width if options.dot_size is None else options.dot_size
    return np.full(len(stipple), size)


def pen_order(pens: list[Pen], order: str) -> list[int]:
    """Pen indices in drawing order: ``light-first`` (lightest ink first, so dark ink goes
    on top) or ``as-given``."""
    if order == "as-given":
        return list(range(len(pens)))
    lightness = [float(np.dot(pen.rgb, (0.2126, 0.7152, 0.0722))) for pen in pens]
    return sorted(range(len(pens)), key=lambda i: -lightness[i])


def layers(
    stipple: Stipple, options: PlotOptions, centres: np.ndarray, diameters: np.ndarray, fmt: str
) -> tuple[PlotDocument, PlotDocument]:
    """The plot's layers in drawing order, and the same in the stipple's order (a pen
    without dots gets no layer, so the plotter never pauses for it)."""
    owner, inks = dot_pens(stipple, options.pens)
    pens = make_pens(inks, options.pen_width)
    home = home_of(fmt, options.page, options.origin)[0]
    document, input_order = PlotDocument(*options.page), PlotDocument(*options.page)
    for index in pen_order(pens, options.pen_order):
        pen = pens[index]
        mine = np.flatnonzero(owner == index)
        if len(mine) == 0 and len(pens) > 1:
            continue
        paths = dot_paths(
            centres[mine],
            diameters[mine],
            options.dot,
            options.pen_width,
            options.tick,
            options.pitch,
        )
        seconds = options.optimize_seconds * len(mine) / max(len(stipple), 1)
        order, flip = route(paths, options, seconds, home)
        input_order.layers.append(Layer(pen, paths))
        document.layers.append(Layer(pen, paths.take(order, flip)))
    return document, input_order
