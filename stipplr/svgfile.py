"""SVG text, written the same way by both SVG writers (the ``svg`` renderer and the plotter).

A document is a root ``<svg>`` with a few elements built by :func:`element`; an element's
many small children (one per dot or per pen path) arrive already formatted, since one
f-string per dot is about ten times faster than one element object per dot.
"""

from __future__ import annotations

from collections.abc import Iterable
from xml.sax.saxutils import escape, quoteattr

SVG_NS = "http://www.w3.org/2000/svg"


def element(tag: str, attributes: dict[str, object] | None = None, content: str = "") -> str:
    """``<tag a="1">content</tag>`` (``<tag a="1"/>`` when empty); ``content`` is markup,
    so text must go through :func:`text` first."""
    attrs = "".join(f" {key}={quoteattr(str(value))}" for key, value in (attributes or {}).items())
    return f"<{tag}{attrs}>{content}</{tag}>" if content else f"<{tag}{attrs}/>"


def text(value: str) -> str:
    """``value`` escaped as element text."""
    return escape(value)


def svg_document(attributes: dict[str, object], children: Iterable[str]) -> str:
    """The whole file: the XML declaration and the root element holding ``children``."""
    body = "\n".join(children)
    root = element("svg", {"xmlns": SVG_NS, "version": "1.1", **attributes}, f"\n{body}\n")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{root}\n'
