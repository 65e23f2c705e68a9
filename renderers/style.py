"""What the PNG and SVG renderers share: their options, the page layout, dot sizes, colours.

Both renderers draw the same picture (round dots on paper), so they take the same
:class:`DotStyle` options and compute the page, dot radii and dot colours here; they only
differ in how they put those dots into a file.

Colour modes: ``mono`` (every dot in the ink colour), ``dots`` (each dot its own colour,
darker dots on top) and ``pens`` (each dot in its pen's colour, the pens' inks mixed by
the subtractive ink model of :mod:`stipplr.inks.model`: where pens overlap their colours
multiply). A stipple made with pens brings its own (``Stipple.pen``); any other stipple's
dots go to the nearest pen of the ``pens`` option (:func:`stipplr.inks.nearest.nearest_pens`).
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass

import numpy as np

from stipplr.colours import Colour
from stipplr.dots import Stipple
from stipplr.errors import OptionError
from stipplr.inks.nearest import DEFAULT_PENS, dot_pens
from stipplr.inks.pensets import Pens, PenSet
from stipplr.optionset import OptionSet, option
from stipplr.paper import Paper, fit
from stipplr.tone import luminance
from stipplr.units import Length
from stipplr.validate import Choice, Flag, Number, Whole, invalid

COLOR_MODES = ("mono", "dots", "pens")
DEFAULT_DPI = 300.0
# Dots of 0.8 mean spacings nearly touch in the black areas of a typical photo (mean
# darkness about 0.5); used when the stipple does not record its mean darkness.
FALLBACK_DOT_SIZE = 0.8
MAX_SIDE = 30_000
MAX_PIXELS = 150_000_000
POSITIVE = Number(0, above=True)
SIDE_PX = Whole(1, MAX_SIDE)


@dataclass(frozen=True)
class DotStyle(OptionSet):
    """Options of the PNG and SVG renderers (the ``[render]`` table): page size, dot size
    and colours. Colours are held as 0-255 RGB, physical sizes in mm."""

    SECTION = "render"

    color: str = option(
        "mono",
        "mono: every dot in the ink colour; dots: each dot's own colour; pens: each dot "
        "in its pen's colour, overlapping inks multiply",
        Choice(COLOR_MODES),
    )
    pens: PenSet | None = option(
        None,
        f"pens mode, stipples without pens: the pen set each dot goes to, the pen whose "
        f"tint line is nearest its colour (default {DEFAULT_PENS}; a stipple made with pens "
        "uses its own)",
        Pens(),
    )
    ink: tuple[int, int, int] = option("black", "dot colour in mono mode (name or #hex)", Colour())
    paper: tuple[int, int, int] = option("white", "background colour (name or #hex)", Colour())
    transparent: bool = option(False, "no background: dots on a transparent page", Flag())
    dot_size: float | None = option(
        None,
        "dot diameter as a fraction of the mean spacing sqrt(area/N) (default: tone-correct "
        f"from the stipple's recorded mean darkness, else {FALLBACK_DOT_SIZE})",
        POSITIVE,
    )
    dot_px: float | None = option(
        None, "fixed dot diameter in output pixels (overrides dot_size)", POSITIVE
    )
    use_radius: bool = option(
        True, "size each dot by its own radius when the stipple has radii", Flag()
    )
    width: int | None = option(
        None, "page width in px (default: source size, aspect kept)", SIDE_PX
    )
    height: int | None = option(
        None, "page height in px (default: source size, aspect kept)", SIDE_PX
    )
    size_mm: tuple[float, float] | None = option(
        None, "physical page WxH in mm (e.g. 210x297) or a4, a3, ...", Paper()
    )
    width_mm: float | None = option(
        None, "physical page width in mm (aspect kept)", Length(positive=True, example="210")
    )
    height_mm: float | None = option(
        None, "physical page height in mm (aspect kept)", Length(positive=True, example="297")
    )
    dpi: float | None = option(
        None, f"pixels per inch with a physical size ({DEFAULT_DPI:g})", POSITIVE
    )

    def check(self) -> None:
        mm_sides = self.width_mm is not None or self.height_mm is not None
        if self.size_mm is not None and mm_sides:
            both = "width_mm" if self.width_mm is not None else "height_mm"
            raise invalid(self.key(both), "be unset with size_mm", getattr(self, both))
        physical = self.physical_size_given
        for side in ("width", "height"):
            if physical and getattr(self, side) is not None:
                rule = "be unset with a size in mm (size_mm, width_mm or height_mm)"
                raise invalid(self.key(side), rule, getattr(self, side))
        if self.dpi is not None and not physical:
            rule = "come with a physical size (size_mm, width_mm or height_mm)"
            raise invalid(self.key("dpi"), rule, self.dpi)

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
        size_mm = style.size_mm or _fill_aspect(style.width_mm, style.height_mm, stipple.aspect)
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
    layout = fit((stipple.width, stipple.height), (width, height))
    return Page(width, height, layout.scale, layout.offset, size_mm, dpi)


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
    return np.asarray(style.ink, dtype=np.float64) / 255


def paper_colour(style: DotStyle) -> np.ndarray:
    """The background colour in [0, 1], shape (3,)."""
    return np.asarray(style.paper, dtype=np.float64) / 255


def style_pens(stipple: Stipple, style: DotStyle) -> tuple[np.ndarray, list[tuple[int, int, int]]]:
    """:func:`dot_pens` for ``pens`` mode, warning when the ``pens`` option is given but
    the stipple's own, different pens win."""
    pen, inks = dot_pens(stipple, style.pens)
    colours = [ink.rgb for ink in inks]
    given = None if style.pens is None else [ink.rgb for ink in style.pens]
    if stipple.pen is not None and given is not None and given != colours:
        own = ",".join(str(p["name"]) for p in stipple.pens)
        warnings.warn(
            f"{style.key('pens')} {style.pens.source} is ignored: the stipple was made "
            f"with its own pens ({own})",
            stacklevel=3,
        )
    return pen, colours


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
