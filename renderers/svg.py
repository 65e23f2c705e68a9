"""``svg`` renderer: one ``<circle>`` per dot, grouped by fill colour.

The page and dots come from :mod:`stipplr.renderers.style`, so the SVG looks like the
PNG; the text is written with :mod:`stipplr.svgfile`, as the plotter's SVG is. The
viewBox measures the page's long side in :data:`VIEWBOX_UNITS` units, so whole-number
centres are exact to 1/10000 of the page and radii need one decimal. In ``dots`` colour
mode the colours are reduced to a palette (median cut) so the ``<g fill=...>`` groups
stay few and the file small.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

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
)
from stipplr.svgfile import element, svg_document, text
from stipplr.validate import Whole

VIEWBOX_UNITS = 10_000
GROUP_ID = "dots-"
MAX_PALETTE = 256
METADATA_NS = "urn:stipplr:meta"
CIRCLE_CHUNK = 1 << 16  # dots formatted at a time: bounds the Python lists' memory


@dataclass(frozen=True)
class SvgOptions(DotStyle):
    """The shared dot style plus the colour palette size of ``dots`` mode."""

    palette: int = option(
        MAX_PALETTE,
        f"dots mode: at most this many fill colours (0: exact, <= {MAX_PALETTE})",
        Whole(0, MAX_PALETTE),
    )


def quantise_colours(rgb: np.ndarray, palette: int) -> tuple[np.ndarray, np.ndarray]:
    """(palette (K, 3) uint8, index (N,)) for colours in [0, 1]: exact 8-bit colours when
    there are at most ``palette`` of them (or ``palette`` is 0), else a median-cut palette
    refined by k-means."""
    rgb8 = np.rint(np.asarray(rgb) * 255).astype(np.uint8)
    colours, index = np.unique(rgb8, axis=0, return_inverse=True)
    if palette == 0 or len(colours) <= palette:
        return colours, index.ravel()
    image = Image.fromarray(rgb8[None, :, :]).quantize(palette, Image.Quantize.MEDIANCUT, kmeans=2)
    table = np.asarray(image.getpalette()[: 3 * palette], dtype=np.uint8).reshape(-1, 3)
    return table, np.asarray(image).ravel().astype(np.int64)


def fill_groups(stipple: Stipple, style: SvgOptions) -> list[tuple[str, np.ndarray]]:
    """(fill colour ``#rrggbb``, dot indices) for each colour group, lightest group first
    so darker dots lie on top, as in :func:`~stipplr.renderers.style.paint_order`."""
    if not len(stipple):
        return []
    if style.color == "mono":
        return [(hex_colour(style.ink), np.arange(len(stipple)))]
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
        children.append(element("g", group, _circles(centres, radii, members)))
    root = {"width": width, "height": height, "viewBox": f"0 0 {view[0]} {view[1]}"}
    return svg_document(root, children)


def write_svg(stipple: Stipple, path: Path, options: SvgOptions) -> None:
    """Write the SVG atomically."""
    write_text(path, build_svg(stipple, options))


RENDERER = Renderer(
    "svg", (".svg",), "one circle per dot, grouped by colour (vector)", SvgOptions, write_svg
)
