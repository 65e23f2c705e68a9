"""Plot SVG for AxiDraw, Inkscape, saxi and vpype: a page in mm, one Inkscape layer per pen.

Layers are labelled ``"1 black"``, ``"!2 cyan"``...: the leading integer is the layer
number AxiDraw and vpype use, and ``!`` makes AxiDraw pause for the pen change before
every layer after the first. Strokes only; statistics go in ``<metadata>`` as JSON.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from stipplr.plotter.document import Layer, Paths, PlotDocument
from stipplr.svgfile import element, svg_document, text

INKSCAPE_NS = "http://www.inkscape.org/namespaces/inkscape"
HOLE = "\x00"  # where an element's children go, to write them in pieces


def paths_svg(paths: Paths) -> str:
    """One ``<path>`` per path, each a polyline in mm with 3 decimals (1 micrometre)."""
    xs, ys = paths.points.real.tolist(), paths.points.imag.tolist()
    bounds = paths.offsets.tolist()
    out = []
    for first, stop in zip(bounds[:-1], bounds[1:], strict=True):
        rest = " ".join(f"{xs[i]:.3f},{ys[i]:.3f}" for i in range(first + 1, stop))
        out.append(f'\n<path d="M{xs[first]:.3f},{ys[first]:.3f} L{rest}"/>')
    return "".join(out)


def layer_label(index: int, layer: Layer) -> str:
    """``"1 black"`` for the first layer, ``"!2 cyan"`` (pause for a pen change) after."""
    return f"{'!' if index else ''}{index + 1} {layer.pen.name}"


def layer_chunks(index: int, layer: Layer, batch: int = 20_000) -> Iterator[str]:
    """One top-level Inkscape layer group with the pen's stroke and its paths, a few
    thousand paths at a time."""
    attributes = {
        "inkscape:groupmode": "layer",
        "inkscape:label": layer_label(index, layer),
        "id": f"layer{index + 1}",
        "fill": "none",
        "stroke": layer.pen.hex,
        "stroke-width": f"{layer.pen.width:g}",
        "stroke-linecap": "round",
        "stroke-linejoin": "round",
    }
    head, tail = element("g", attributes, HOLE).split(HOLE)
    yield head
    for start in range(0, len(layer.paths), batch):
        yield paths_svg(layer.paths[start : start + batch])
    yield f"\n{tail}"


def svg_chunks(document: PlotDocument) -> Iterator[str]:
    """The SVG text in pieces: width/height in mm, a viewBox in mm, metadata, layers."""
    width, height = f"{document.width:g}", f"{document.height:g}"
    metadata = text(json.dumps(document.meta, sort_keys=True))
    root = {
        "xmlns:inkscape": INKSCAPE_NS,
        "width": f"{width}mm",
        "height": f"{height}mm",
        "viewBox": f"0 0 {width} {height}",
    }
    head, tail = svg_document(root, [HOLE]).split(HOLE)
    yield head + element("metadata", {"id": "stipplr-plot"}, metadata)
    for i, layer in enumerate(document.layers):
        yield "\n"
        yield from layer_chunks(i, layer)
    yield tail


def plot_svg(document: PlotDocument) -> str:
    """The whole SVG text (see :func:`svg_chunks`)."""
    return "".join(svg_chunks(document))
