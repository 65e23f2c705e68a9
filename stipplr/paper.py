"""Paper: sizes by name (ISO A/B, US) or as ``WxH`` with units, and fitting a drawing on it.

:class:`Paper` is the option kind (a (width, height) pair in mm, portrait unless given
otherwise); :func:`fit` is the one page fit of the PNG/SVG renderers and the plotter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from stipplr.errors import OptionError
from stipplr.units import parse_length
from stipplr.validate import Kind, invalid, is_number

PAPERS_MM: dict[str, tuple[float, float]] = {
    "a6": (105.0, 148.0),
    "a5": (148.0, 210.0),
    "a4": (210.0, 297.0),
    "a3": (297.0, 420.0),
    "a2": (420.0, 594.0),
    "a1": (594.0, 841.0),
    "b5": (176.0, 250.0),
    "b4": (250.0, 353.0),
    "letter": (215.9, 279.4),
    "legal": (215.9, 355.6),
    "tabloid": (279.4, 431.8),
}
RULE = f"be a paper name ({' | '.join(PAPERS_MM)}) or WxH such as 300x218mm"


def _size(paper: Any, name: str) -> tuple[float, float]:
    """(width, height) in mm of a paper name, ``WxH`` text or a pair of mm."""
    if isinstance(paper, (tuple, list)) and len(paper) == 2 and all(map(is_number, paper)):
        width, height = (float(v) for v in paper)
        if width > 0 and height > 0:
            return width, height
        raise invalid(name, RULE, paper)
    if not isinstance(paper, str):
        raise invalid(name, RULE, paper)
    key = paper.strip().lower()
    if key in PAPERS_MM:
        return PAPERS_MM[key]
    w_text, sep, h_text = key.partition("x")
    if not sep:
        raise invalid(name, RULE, paper, "unknown paper")
    unit = h_text.lstrip("0123456789.").strip()
    if w_text.strip() and w_text.strip()[-1].isdigit():
        w_text += unit  # "300x218mm": the unit after H applies to W too
    try:
        return (
            parse_length(w_text, allow_zero=False),
            parse_length(h_text, allow_zero=False),
        )
    except OptionError:
        raise invalid(name, RULE, paper) from None


def parse_paper(paper: Any, landscape: bool = False, name: str = "paper") -> tuple[float, float]:
    """(width, height) in mm of a named paper or ``WxH`` (``300x218mm``, ``8x10in``).

    ``landscape`` puts the long side horizontal."""
    width, height = _size(paper, name)
    if landscape and height > width:
        width, height = height, width
    return width, height


def format_paper(size: tuple[float, float]) -> str:
    """A paper size as its name when it has one (portrait), else ``WxHmm``."""
    for paper, known in PAPERS_MM.items():
        if tuple(size) == known:
            return paper
    return f"{size[0]:g}x{size[1]:g}mm"


@dataclass(frozen=True)
class Paper(Kind):
    """A paper size option, parsed to (width, height) in mm as given."""

    def __call__(self, value: Any, name: str) -> tuple[float, float]:
        return parse_paper(value, name=name)

    def format(self, value: Any) -> Any:
        return format_paper(value)


@dataclass(frozen=True)
class Layout:
    """A drawing of ``size`` fitted on a page: ``page_xy = offset + scale * drawing_xy``."""

    page: tuple[float, float]
    margin: float
    scale: float
    offset: tuple[float, float]
    size: tuple[float, float] = (0.0, 0.0)


def fit(
    size: tuple[float, float],
    page: tuple[float, float],
    margin: float = 0.0,
    reach_px: float = 0.0,
    reach: float = 0.0,
    box: tuple[float, float, float, float] | None = None,
) -> Layout:
    """The largest centred scale at which a drawing of ``size`` keeps its ink inside the
    page's margins (page, margin and ``reach`` in one unit, ``size`` in another), and
    inside ``box`` (x0, y0, x1, y1: a machine's plotting window) when given.

    Ink reaches ``max(reach_px * scale, reach)`` beyond a dot centre (dots sized in the
    drawing's units, or by a pen), so both bounds must fit.
    """
    low = np.array([margin, margin], dtype=float)
    high = np.array(page, dtype=float) - margin
    if box is not None:
        low, high = np.maximum(low, box[:2]), np.minimum(high, box[2:])
    area = high - low
    if np.any(area - 2 * reach <= 0):
        raise invalid("margin", f"leave room on a {page[0]:g} x {page[1]:g} page", margin)
    drawing = np.array(size, dtype=float)
    scale = float(
        min(np.min(area / (drawing + 2 * reach_px)), np.min((area - 2 * reach) / drawing))
    )
    offset = (low + high - scale * drawing) / 2
    offset_xy = (float(offset[0]), float(offset[1]))
    return Layout(tuple(page), margin, scale, offset_xy, (float(size[0]), float(size[1])))
