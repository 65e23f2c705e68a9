"""Paper sizes by name (ISO A/B, US) or as ``WxH`` with units, in mm portrait."""

from __future__ import annotations

from stipplr.errors import OptionError
from stipplr.units import parse_length

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


def parse_paper(paper: str, landscape: bool = False) -> tuple[float, float]:
    """(width, height) in mm of a named paper or ``WxH`` (``300x218mm``, ``8x10in``).

    ``landscape`` puts the long side horizontal."""
    key = str(paper).strip().lower()
    if key in PAPERS_MM:
        width, height = PAPERS_MM[key]
    else:
        w_text, sep, h_text = key.partition("x")
        if not sep:
            raise OptionError(
                f"unknown paper {paper!r} (use {', '.join(PAPERS_MM)} or WxH such as 300x218mm)"
            )
        unit = h_text.lstrip("0123456789.").strip()
        if w_text.strip() and w_text.strip()[-1].isdigit():
            w_text += unit  # "300x218mm": the unit after H applies to W too
        width = parse_length(w_text, "paper width", allow_zero=False)
        height = parse_length(h_text, "paper height", allow_zero=False)
    if landscape and height > width:
        width, height = height, width
    return width, height
