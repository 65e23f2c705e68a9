"""What the PNG and SVG renderers share: their options, the page layout, dot sizes, colours.

Both renderers draw the same picture (round dots on paper), so they take the same
:class:`DotStyle` options and compute the page, dot radii and dot colours here; they only
differ in how they put those dots into a file.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from stipplr.colours import parse_colour
from stipplr.dots import Stipple
from stipplr.errors import OptionError
from stipplr.paper import parse_paper
from stipplr.tone import luminance

COLOR_MODES = ("mono", "dots")
DEFAULT_DPI = 300.0
# Dots of 0.8 mean spacings nearly touch in the black areas of a typical photo (mean
# darkness about 0.5); used when the stipple does not record its mean darkness.
FALLBACK_DOT_SIZE = 0.8
MAX_SIDE = 30_000
MAX_PIXELS = 150_000_000


def parse_size_mm(value: Any) -> tuple[float, float]:
    """``"210x297"`` (mm, or with units) or a paper name (a4, letter, ...) as (width, height)."""
    try:
        return parse_paper(str(value))
    except OptionError as exc:
        raise OptionError(f"size_mm: {exc}") from None


def _check_number(option: str, value: Any, *, integer: bool = False, optional: bool = True) -> None:
    """Refuse a non-number, non-finite or non-positive value for ``option``."""
    if value is None and optional:
        return
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds):
        kind = "a whole number" if integer else "a number"
        raise OptionError(f"{option}: expected {kind}, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise OptionError(f"{option}: must be > 0, got {value!r}")


def _check_bool(option: str, value: Any) -> None:
    """Refuse a non-boolean value for ``option`` (``1`` or ``"yes"`` would pass silently)."""
    if not isinstance(value, bool):
        raise OptionError(f"{option}: expected true or false, got {value!r}")


@dataclass(frozen=True)
class DotStyle:
    """Options of the PNG and SVG renderers: page size, dot size and colours."""

    color: str = field(
        default="mono",
        metadata={"help": "mono: every dot in the ink colour; dots: each dot's own colour"},
    )
    ink: str = field(default="black", metadata={"help": "dot colour in mono mode (name or #hex)"})
    paper: str = field(default="white", metadata={"help": "background colour (name or #hex)"})
    transparent: bool = field(
        default=False, metadata={"help": "no background: dots on a transparent page"}
    )
    dot_size: float | None = field(
        default=None,
        metadata={
            "help": "dot diameter as a fraction of the mean spacing sqrt(area/N) (default: "
            "tone-correct from the stipple's recorded mean darkness, else "
            f"{FALLBACK_DOT_SIZE})"
        },
    )
    dot_px: float | None = field(
        default=None, metadata={"help": "fixed dot diameter in output pixels (overrides dot_size)"}
    )
    use_radius: bool = field(
        default=True,
        metadata={"help": "size each dot by its own radius when the stipple has radii"},
    )
    width: int | None = field(
        default=None, metadata={"help": "page width in px (default: source size, aspect kept)"}
    )
    height: int | None = field(
        default=None, metadata={"help": "page height in px (default: source size, aspect kept)"}
    )
    size_mm: str | None = field(
        default=None, metadata={"help": "physical page WxH in mm (e.g. 210x297) or a4, a3, ..."}
    )
    width_mm: float | None = field(
        default=None, metadata={"help": "physical page width in mm (aspect kept)"}
    )
    height_mm: float | None = field(
        default=None, metadata={"help": "physical page height in mm (aspect kept)"}
    )
    dpi: float | None = field(
        default=None, metadata={"help": f"pixels per inch with a physical size ({DEFAULT_DPI:g})"}
    )

    def __post_init__(self) -> None:
        if self.color not in COLOR_MODES:
            raise OptionError(
                f"color: expected one of {', '.join(COLOR_MODES)}, got {self.color!r}"
            )
        parse_colour(self.ink, "ink")
        parse_colour(self.paper, "paper")
        _check_bool("transparent", self.transparent)
        _check_bool("use_radius", self.use_radius)
        _check_number("dot_size", self.dot_size)
        _check_number("dot_px", self.dot_px)
        for option in ("width", "height"):
            _check_number(option, getattr(self, option), integer=True)
            if (getattr(self, option) or 0) > MAX_SIDE:
                raise OptionError(f"{option}: at most {MAX_SIDE} px, got {getattr(self, option)}")
        for option in ("width_mm", "height_mm", "dpi"):
            _check_number(option, getattr(self, option))
        if self.size_mm is not None:
            parse_size_mm(self.size_mm)
            if self.width_mm is not None or self.height_mm is not None:
                raise OptionError("size_mm: give either size_mm or width_mm/height_mm, not both")
        physical = self.physical_size_given
        if physical and (self.width is not None or self.height is not None):
            raise OptionError("width/height: give a size in px or in mm, not both")
        if self.dpi is not None and not physical:
            raise OptionError("dpi: needs a physical size (size_mm, width_mm or height_mm)")

    @property
    def physical_size_given(self) -> bool:
        """Whether the page size is given in millimetres."""
        return any(v is not None for v in (self.size_mm, self.width_mm, self.height_mm))


@dataclass(frozen=True)
class Page:
    """Where the drawing goes: page size in px (and mm), and the source-to-page mapping.

    The drawing keeps the source aspect and is centred on the page, scaled by ``scale``
    page px per source px, with its top-left corner at ``offset`` (page px).
    """

    width: int
    height: int
    scale: float
    offset: tuple[float, float]
    size_mm: tuple[float, float] | None
    dpi: float | None


def _fill_aspect(w: float | None, h: float | None, aspect: float) -> tuple[float, float]:
    """Complete a (width, height) pair with the source aspect when one side is missing."""
    if w is None:
        return h * aspect, h
    if h is None:
        return w, w / aspect
    return w, h


def page_layout(stipple: Stipple, style: DotStyle) -> Page:
    """The page ``style`` asks for, with the stipple fitted inside it (aspect kept)."""
    size_mm, dpi = None, None
    if style.physical_size_given:
        dpi = style.dpi or DEFAULT_DPI
        mm = (
            parse_size_mm(style.size_mm)
            if style.size_mm is not None
            else _fill_aspect(style.width_mm, style.height_mm, stipple.aspect)
        )
        size_mm = (float(mm[0]), float(mm[1]))
        w, h = (v / 25.4 * dpi for v in size_mm)
    elif style.width is None and style.height is None:
        w, h = stipple.width, stipple.height
    else:
        w, h = _fill_aspect(style.width, style.height, stipple.aspect)
    width, height = max(1, round(w)), max(1, round(h))
    if max(width, height) > MAX_SIDE or width * height > MAX_PIXELS:
        raise OptionError(
            f"page of {width}x{height} px is too large (at most {MAX_SIDE} px a side "
            f"and {MAX_PIXELS // 1_000_000} megapixels): lower the size or dpi"
        )
    scale = min(width / stipple.width, height / stipple.height)
    offset = ((width - stipple.width * scale) / 2, (height - stipple.height * scale) / 2)
    return Page(width, height, scale, offset, size_mm, dpi)


def dot_centres(stipple: Stipple, page: Page) -> np.ndarray:
    """Dot centres in page px, shape (N, 2) float64."""
    return stipple.pixels().astype(np.float64) * page.scale + np.asarray(page.offset)


def tone_dot_size(stipple: Stipple) -> float:
    """Dot diameter / mean spacing that lays down as much ink as the image's mean darkness
    m (``meta["mean_darkness"]``): N dots of diameter d cover m of the area when
    d = h * sqrt(4 m / pi); :data:`FALLBACK_DOT_SIZE` when m is not recorded."""
    mean = stipple.meta.get("mean_darkness")
    if not isinstance(mean, (int, float)) or not 0 < mean <= 1:
        return FALLBACK_DOT_SIZE
    return float(np.sqrt(4 * mean / np.pi))


def dot_radii(stipple: Stipple, style: DotStyle, page: Page) -> np.ndarray:
    """Each dot's radius in page px, shape (N,): fixed (``dot_px``), the stipple's own
    radii, or ``dot_size`` (default :func:`tone_dot_size`) times the mean spacing."""
    n = len(stipple)
    if style.dot_px is not None:
        return np.full(n, style.dot_px / 2)
    if style.use_radius and stipple.radius is not None:
        return stipple.radius.astype(np.float64) * page.scale
    size = style.dot_size if style.dot_size is not None else tone_dot_size(stipple)
    return np.full(n, size * stipple.mean_spacing() * page.scale / 2)


def ink_colour(style: DotStyle) -> np.ndarray:
    """The mono dot colour in [0, 1], shape (3,)."""
    return np.asarray(parse_colour(style.ink, "ink"), dtype=np.float64) / 255


def paper_colour(style: DotStyle) -> np.ndarray:
    """The background colour in [0, 1], shape (3,)."""
    return np.asarray(parse_colour(style.paper, "paper"), dtype=np.float64) / 255


def paint_order(rgb: np.ndarray) -> np.ndarray:
    """Dot indices in painting order: lighter dots first, so darker dots lie on top where
    dots overlap (both renderers use it, so their overlaps look alike)."""
    return np.argsort(-luminance(rgb), kind="stable")


def describe(stipple: Stipple) -> tuple[str, str, str]:
    """(title, one-line description, JSON metadata) naming the engine, model and N."""
    meta = stipple.meta
    model = meta.get("model")
    if isinstance(model, dict):
        model = model.get("name") or model.get("path")
    engine = meta.get("engine", "unknown engine")
    title = f"stipplr stipple: {len(stipple)} dots"
    parts = [f"engine {engine}"] + ([f"model {model}"] if model else [])
    parts += [f"{len(stipple)} dots", f"source {stipple.width}x{stipple.height} px"]
    if "stipplr_version" in meta:
        parts.append(f"stipplr {meta['stipplr_version']}")
    return title, ", ".join(parts), json.dumps(meta, sort_keys=True)
