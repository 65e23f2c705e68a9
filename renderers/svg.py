"""``svg`` renderer: one ``<circle>`` per dot, grouped by fill colour.

The page and dots come from :mod:`stipplr.renderers.style`, so the SVG looks like the
PNG; the text is written with :mod:`stipplr.svgfile`, as the plotter's SVG is. The
viewBox measures the page's long side in :data:`VIEWBOX_UNITS` units, so whole-number
centres are exact to 1/10000 of the page and radii need one decimal. In ``dots`` colour
mode the colours are reduced to a palette (k-means in CIELAB) so the ``<g fill=...>``
groups stay few and the file small; :data:`PALETTE_ERROR` gives the colour error each
palette size adds. In ``pens`` mode each pen is one ``<g>`` in its colour with
``mix-blend-mode:multiply``, so overlapping inks multiply as in the ink model
(:mod:`stipplr.inks.model`), as the PNG renderer mixes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree
from skimage.color import lab2rgb, rgb2lab

from stipplr.atomic import write_text
from stipplr.colours import hex_colour
from stipplr.dots import Stipple
from stipplr.optionset import option
from stipplr.renderers import Renderer
from stipplr.renderers.style import (
    DotStyle,
    Page,
    describe,
    dot_centres,
    dot_radii,
    page_layout,
    paint_order,
    style_pens,
)
from stipplr.svgfile import element, svg_document, text
from stipplr.validate import Whole

VIEWBOX_UNITS = 10_000
GROUP_ID = "dots-"
MULTIPLY = "mix-blend-mode:multiply"  # pens mode: inks multiply where they overlap
MAX_PALETTE = 4096
DEFAULT_PALETTE = 1024
PALETTE_ERROR = {64: "0.2-2.3", 256: "0.1-1.4", 1024: "0.1-0.7", 4096: "0.1-0.3", 0: "0.1-0.2"}
"""Mean CIEDE2000 between quantised and exact dot colours, by palette size, over the five
sample photos (examples/photos, dither engine, N = 5000; 0: exact, the 8-bit rounding
only; PIL's 256-colour median cut used before gave 0.1-1.7). Each colour used costs about
45 bytes of SVG: at N = 5000 the files average 185, 192, 214, 295 and 300 KiB. At
N = 20 000: 256 0.1-1.4, 1024 0.1-0.8, 4096 0.1-0.5, exact 0.1-0.2 (739, 762, 853 and
1128 KiB)."""
PALETTE_ITERATIONS = 8  # k-means rounds: the error hardly falls after 5
PALETTE_SEED = 0  # the k-means starting colours are drawn with it: files are reproducible
METADATA_NS = "urn:stipplr:meta"
CIRCLE_CHUNK = 1 << 16  # dots formatted at a time: bounds the Python lists' memory


@dataclass(frozen=True)
class SvgOptions(DotStyle):
    """The shared dot style plus the colour palette size of ``dots`` mode."""

    palette: int = option(
        DEFAULT_PALETTE,
        f"dots mode: at most this many fill colours (0: exact, <= {MAX_PALETTE}); mean "
        f"CIEDE2000 added on the sample photos: 256 {PALETTE_ERROR[256]}, 1024 "
        f"{PALETTE_ERROR[1024]}, 4096 {PALETTE_ERROR[4096]}",
        Whole(0, MAX_PALETTE),
    )


def quantise_colours(rgb: np.ndarray, palette: int) -> tuple[np.ndarray, np.ndarray]:
    """(palette (K, 3) uint8, index (N,)) for colours in [0, 1]: exact 8-bit colours when
    there are at most ``palette`` of them (or ``palette`` is 0), else the ``palette``
    colours k-means finds in CIELAB (so the palette minimises the error people see)."""
    rgb8 = np.rint(np.asarray(rgb) * 255).astype(np.uint8)
    colours, index, counts = np.unique(rgb8, axis=0, return_inverse=True, return_counts=True)
    index = index.ravel()
    if palette == 0 or len(colours) <= palette:
        return colours, index
    lab = rgb2lab(colours[None] / 255.0)[0]
    centres = lab_kmeans(lab, counts, palette)
    _, nearest = cKDTree(centres).query(lab)
    table = np.rint(np.clip(lab2rgb(centres[None])[0], 0.0, 1.0) * 255).astype(np.uint8)
    return table, nearest[index]


def lab_kmeans(lab: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray:
    """k weighted-mean centres (k, 3) of the CIELAB colours ``lab`` (M, 3) with ``weights``
    (dots per colour), started from colours drawn by weight (:data:`PALETTE_SEED`)."""
    rng = np.random.default_rng(PALETTE_SEED)
    centres = lab[rng.choice(len(lab), k, replace=False, p=weights / weights.sum())]
    for _ in range(PALETTE_ITERATIONS):
        _, member = cKDTree(centres).query(lab)
        mass = np.bincount(member, weights=weights, minlength=k)
        sums = np.stack(
            [np.bincount(member, weights=weights * lab[:, c], minlength=k) for c in range(3)], 1
        )
        centres = np.where(mass[:, None] > 0, sums / np.maximum(mass, 1e-12)[:, None], centres)
    return centres


def fill_groups(stipple: Stipple, style: SvgOptions) -> list[tuple[str, np.ndarray]]:
    """(fill colour ``#rrggbb``, dot indices) for each colour group: in ``dots`` mode the
    lightest group first so darker dots lie on top, as in
    :func:`~stipplr.renderers.style.paint_order`; in ``pens`` mode one group per pen that
    has dots (their order does not matter: the groups multiply)."""
    if not len(stipple):
        return []
    if style.color == "mono":
        return [(hex_colour(style.ink), np.arange(len(stipple)))]
    if style.color == "pens":
        pen, colours = style_pens(stipple, style)
        groups = [(hex_colour(c), np.flatnonzero(pen == p)) for p, c in enumerate(colours)]
        return [(fill, members) for fill, members in groups if len(members)]
    table, index = quantise_colours(stipple.rgb, style.palette)
    counts = np.bincount(index, minlength=len(table))
    members = np.split(np.argsort(index, kind="stable"), np.cumsum(counts)[:-1])
    return [
        (hex_colour(tuple(table[i])), members[i]) for i in paint_order(table / 255) if counts[i]
    ]


def _number(value: float) -> str:
    """A viewBox length with one decimal at most (``12``, ``12.5``)."""
    return f"{value:.1f}".removesuffix(".0")


def _page_size(page: Page) -> tuple[str, str]:
    """The SVG's width and height attributes: millimetres when physical, else px."""
    if page.size_mm is not None:
        return tuple(f"{v:g}mm" for v in page.size_mm)
    return str(page.width), str(page.height)


def _circles(centres: np.ndarray, radii: np.ndarray, members: np.ndarray) -> str:
    """The ``<circle>`` elements of one colour group, formatted in bulk (about ten times
    faster than one element object per dot), CIRCLE_CHUNK dots at a time (Python lists of
    every dot's numbers would take hundreds of bytes a dot)."""
    parts = []
    for start in range(0, len(members), CIRCLE_CHUNK):
        index = members[start : start + CIRCLE_CHUNK]
        radius = [_number(r) for r in radii[index].tolist()]
        parts.append(
            "".join(
                f'<circle cx="{x}" cy="{y}" r="{r}"/>'
                for (x, y), r in zip(centres[index].tolist(), radius, strict=True)
            )
        )
    return "".join(parts)


def build_svg(stipple: Stipple, style: SvgOptions) -> str:
    """The SVG document text."""
    page = page_layout(stipple, style)
    unit = VIEWBOX_UNITS / max(page.width, page.height)
    view = (_number(page.width * unit), _number(page.height * unit))
    width, height = _page_size(page)
    title, description, meta = describe(stipple)
    record = element("stipplr:stipple", {"xmlns:stipplr": METADATA_NS}, text(meta))
    children = [
        element("title", {}, text(title)),
        element("desc", {}, text(description)),
        element("metadata", {}, record),
    ]
    if not style.transparent:
        paper = {"x": 0, "y": 0, "width": view[0], "height": view[1]}
        children.append(element("rect", {**paper, "fill": hex_colour(style.paper)}))
    centres = np.rint(dot_centres(stipple, page) * unit).astype(np.int64)
    radii = dot_radii(stipple, style, page) * unit
    for number, (fill, members) in enumerate(fill_groups(stipple, style)):
        group = {"fill": fill, "id": f"{GROUP_ID}{number}"}
        if style.color == "pens":
            group["style"] = MULTIPLY
        children.append(element("g", group, _circles(centres, radii, members)))
    root = {"width": width, "height": height, "viewBox": f"0 0 {view[0]} {view[1]}"}
    return svg_document(root, children)


def write_svg(stipple: Stipple, path: Path, options: SvgOptions) -> None:
    """Write the SVG atomically."""
    write_text(path, build_svg(stipple, options))


RENDERER = Renderer(
    "svg", (".svg",), "one circle per dot, grouped by colour (vector)", SvgOptions, write_svg
)
