"""Plot SVG for AxiDraw, Inkscape, saxi and vpype: a page in mm, one Inkscape layer per pen.

Layers are labelled ``"1 black"``, ``"!2 cyan"``...: the leading integer is the layer
number AxiDraw and vpype use, and ``!`` makes AxiDraw pause for the pen change before
every layer after the first. Strokes only; statistics go in ``<metadata>`` as JSON.
"""

from __future__ import annotations

import json

import numpy as np

from stipplr.plotter.document import Layer, PlotDocument
from stipplr.svgfile import element, svg_document, text

INKSCAPE_NS = "http://www.inkscape.org/namespaces/inkscape"


def path_data(path: np.ndarray) -> str:
    """SVG ``d`` of one polyline in mm, 3 decimals (1 micrometre)."""
    points = " ".join(f"{p.real:.3f},{p.imag:.3f}" for p in path)
    head, _, tail = points.partition(" ")
    return f"M{head} L{tail}"


def layer_label(index: int, layer: Layer) -> str:
    """``"1 black"`` for the first layer, ``"!2 cyan"`` (pause for a pen change) after."""
    return f"{'!' if index else ''}{index + 1} {layer.pen.name}"


def layer_svg(index: int, layer: Layer) -> str:
    """One top-level Inkscape layer group with the pen's stroke and its paths."""
    paths = "".join(f'\n<path d="{path_data(p)}"/>' for p in layer.paths)
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
    return element("g", attributes, f"{paths}\n")


def plot_svg(document: PlotDocument) -> str:
    """The whole SVG text: width/height in mm, a viewBox in mm, metadata, layers."""
    width, height = f"{document.width:g}", f"{document.height:g}"
    metadata = text(json.dumps(document.meta, sort_keys=True))
    root = {
        "xmlns:inkscape": INKSCAPE_NS,
        "width": f"{width}mm",
        "height": f"{height}mm",
        "viewBox": f"0 0 {width} {height}",
    }
    children = [element("metadata", {"id": "stipplr-plot"}, metadata)]
    children += [layer_svg(i, layer) for i, layer in enumerate(document.layers)]
    return svg_document(root, children)
