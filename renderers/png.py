"""``png`` renderer: anti-aliased round dots rasterised with numpy.

Each dot is splatted into its box of pixels with an analytic edge ramp (coverage
``clip(r' + 0.5 - d, 0, 1)`` at distance ``d`` from the centre, r' = sqrt(r^2 - 1/12)),
rescaled so every dot lays down exactly its area ``pi r^2`` of ink, even sub-pixel dots.
Overlapping dots combine like stacked translucent layers, alpha = 1 - prod(1 - a_i), in the
colour of the top dot. In ``pens`` mode each pen's coverage is rasterised on its own and
the pens are mixed exactly as the ink model does (:func:`stipplr.inks.model.composite`:
R = prod_p (1 - cov_p (1 - t_p)) per sRGB channel, times the paper's colour), not by
painting one over another: the product the SVG renderer's ``mix-blend-mode:multiply``
asks for. Large pages are drawn in horizontal strips so memory stays bounded.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from stipplr.atomic import write_bytes
from stipplr.dots import Stipple
from stipplr.errors import OptionError
from stipplr.inks.model import composite
from stipplr.renderers import Renderer
from stipplr.renderers.style import (
    DotStyle,
    describe,
    dot_centres,
    dot_radii,
    ink_colour,
    page_layout,
    paint_order,
    paper_colour,
    style_pens,
)

STRIP_PIXELS = 1 << 23  # pixels per strip: bounds the accumulators' memory
CHUNK_CELLS = 1 << 22  # box cells per batch of dots: bounds the splat arrays' memory
LOCALITY_ROWS = 16  # height of the row bands dots are sorted by before splatting
OPAQUE = 1 - 1e-6  # coverage cap so log(1 - a) stays finite
MAX_RADIUS = 256  # page px: bigger dots would need huge splat boxes and canvas padding
COMPRESS_LEVEL = 1  # zlib level: 2-4x faster than the default 6, files about 5-12 % larger
PEN_STRIP_SHARE = 4  # pens mode: strips hold STRIP_PIXELS / (pens + this) pixels, so the
# pens' coverage stack and the float64 mix stay within a mono strip's memory


def _dot_boxes(
    centres: np.ndarray, radii: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pixel columns (n, B), rows (n, B) and ink coverage (n, B, B) of each dot's box of
    B = 2k + 1 pixels, with every dot's coverage summing to its area."""
    offsets = np.arange(-k, k + 1)
    base = np.floor(centres).astype(np.int64)
    cols = base[:, :1] + offsets
    rows = base[:, 1:] + offsets
    dx = (cols + 0.5 - centres[:, :1]).astype(np.float32)
    dy = (rows + 0.5 - centres[:, 1:]).astype(np.float32)
    dist = np.sqrt(dy[:, :, None] ** 2 + dx[:, None, :] ** 2)
    # The ramp adds pi/12 px^2 to a disc's area; a slightly smaller ramp radius cancels it.
    ramp = np.sqrt(np.maximum(radii**2 - 1 / 12, 0)).astype(np.float32)[:, None, None]
    cover = np.clip(ramp + 0.5 - dist, 0.0, 1.0)
    # Rescale the partly covered (edge) pixels so the dot's ink equals its exact area.
    solid = cover >= 1
    inner = solid.sum(axis=(1, 2), dtype=np.float32)
    edge = cover.sum(axis=(1, 2)) - inner
    area = np.float32(np.pi) * radii.astype(np.float32) ** 2
    norm = np.divide(np.maximum(area - inner, 0), edge, out=np.zeros_like(edge), where=edge > 0)
    cover = np.where(solid, np.float32(OPAQUE), np.minimum(cover * norm[:, None, None], OPAQUE))
    return cols, rows, cover


def _strip_coverage(
    centres: np.ndarray, radii: np.ndarray, ranks: np.ndarray | None, width: int, y0: int, y1: int
) -> tuple[np.ndarray, np.ndarray | None]:
    """Over rows y0..y1: the ink alpha (rows, W) and, when paint ``ranks`` are given, the
    rank of the top (last painted) dot covering each pixel (rows, W), -1 where none.

    Dots are splatted onto a canvas padded by their largest reach, so no box needs
    clipping, then the padding is cut off.
    """
    reach = np.ceil(radii + 1).astype(np.int64)
    pad = 2 * int(reach.max(initial=0)) + 2
    shape = (y1 - y0 + 2 * pad, width + 2 * pad)
    size = shape[0] * shape[1]
    log_clear = np.zeros(size)
    top = None if ranks is None else np.full(size, -1, dtype=np.int64)
    for k in np.unique(reach):
        group = np.flatnonzero(reach == k)
        step = max(1, CHUNK_CELLS // (2 * int(k) + 1) ** 2)
        for start in range(0, len(group), step):
            index = group[start : start + step]
            cols, rows, cover = _dot_boxes(centres[index], radii[index], int(k))
            flat = ((rows - y0 + pad) * shape[1])[:, :, None] + (cols + pad)[:, None, :]
            flat = flat.ravel()
            log_clear += np.bincount(flat, weights=np.log1p(-cover).ravel(), minlength=size)
            if top is not None:
                painted = np.where(cover > 0, ranks[index, None, None], -1)
                np.maximum.at(top, flat, painted.ravel())
    crop = (slice(pad, shape[0] - pad), slice(pad, shape[1] - pad))
    alpha = (1.0 - np.exp(log_clear.reshape(shape)[crop])).astype(np.float32)
    return alpha, None if top is None else top.reshape(shape)[crop]


def _is_grey(colours: np.ndarray) -> bool:
    """Whether every colour in (..., 3) has equal R, G and B."""
    return bool(np.all(colours == colours[..., :1]))


def _compose(
    alpha: np.ndarray,
    colour: np.ndarray | None,
    ink: np.ndarray,
    paper: np.ndarray | None,
    keep: list[int],
) -> np.ndarray:
    """8-bit pixels (rows, W, len(keep)) of channels ``keep`` (0-2 colour, 3 alpha): dots
    of ``colour`` (rows, W, 3; the ink when None) over ``paper``, or straight-alpha dots
    when ``paper`` is None."""
    out = np.empty((*alpha.shape, len(keep)), dtype=np.uint8)
    for i, c in enumerate(keep):
        if c == 3:
            value = alpha
        else:
            dot = ink[c] if colour is None else colour[:, :, c]
            value = dot if paper is None else paper[c] + (dot - paper[c]) * alpha
        out[:, :, i] = np.rint(np.clip(value, 0.0, 1.0) * 255)
    return out


def _pen_pixels(
    coverage: np.ndarray,
    colours: list[tuple[int, int, int]],
    paper: np.ndarray | None,
    keep: list[int],
) -> np.ndarray:
    """8-bit pixels (rows, W, len(keep)) of the pens' coverage (P, rows, W) mixed by the
    ink model on ``paper`` (the mix times the paper's colour), or, when ``paper`` is None,
    straight-alpha ink (alpha: any pen covers) whose colour over white is that mix."""
    mix = composite(coverage, colours)
    if paper is None:
        alpha = 1.0 - np.prod(1.0 - coverage, axis=0, dtype=np.float64)
        ink = 1.0 - (1.0 - mix) / np.maximum(alpha, 1e-6)[..., None]
        channels = np.concatenate([ink, alpha[..., None]], axis=-1)
    else:
        channels = mix * paper
    return np.rint(np.clip(channels[..., keep], 0.0, 1.0) * 255).astype(np.uint8)


def _dot_colours(stipple: Stipple, style: DotStyle) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(paint rank (N,), colour table (N + 1, 3) indexed by rank, -1: none) in ``dots``
    mode; (None, None) otherwise."""
    if style.color != "dots":
        return None, None
    order = paint_order(stipple.rgb)
    ranks = np.empty(len(stipple), dtype=np.int64)
    ranks[order] = np.arange(len(stipple))
    return ranks, np.vstack([stipple.rgb[order], np.zeros((1, 3))]).astype(np.float32)


def rasterise(stipple: Stipple, style: DotStyle) -> np.ndarray:
    """The stipple as an 8-bit image: (H, W, 3) on paper or (H, W, 4) when transparent;
    (H, W) or (H, W, 2) (grey, grey + alpha) when the ink (every pen in ``pens`` mode) and
    paper are all grey.

    In ``dots`` mode a pixel takes the colour of the top dot covering it, dots painted in
    :func:`~stipplr.renderers.style.paint_order` (as the SVG renderer does); in ``pens``
    mode the pens mix by the ink model (module docstring)."""
    page = page_layout(stipple, style)
    centres = dot_centres(stipple, page)
    radii = dot_radii(stipple, style, page)
    if radii.max(initial=0) > MAX_RADIUS:
        raise OptionError(
            f"dots of {2 * radii.max():.0f} px are too large for the png renderer (at most "
            f"{2 * MAX_RADIUS} px): lower dot_size / dot_px, the page size or dpi"
        )
    ranks, table = _dot_colours(stipple, style)
    pen, colours = style_pens(stipple, style) if style.color == "pens" else (None, [])
    # Row-band order makes neighbouring dots write neighbouring memory (about 2x faster).
    local = np.lexsort((centres[:, 0], np.floor(centres[:, 1] / LOCALITY_ROWS)))
    centres, radii = centres[local], radii[local]
    ranks = None if ranks is None else ranks[local]
    pen = None if pen is None else pen[local]
    ink = ink_colour(style).astype(np.float32)
    paper = None if style.transparent else paper_colour(style).astype(np.float32)
    inks = np.asarray(colours, dtype=np.float32).reshape(-1, 3) if pen is not None else ink
    grey = table is None and _is_grey(inks) and (paper is None or _is_grey(paper))
    keep = ([0] if grey else [0, 1, 2]) + ([3] if paper is None else [])
    image = np.empty((page.height, page.width, len(keep)), dtype=np.uint8)
    strip_pixels = STRIP_PIXELS if pen is None else STRIP_PIXELS // (len(colours) + PEN_STRIP_SHARE)
    rows_per_strip = max(1, strip_pixels // page.width)
    for y0 in range(0, page.height, rows_per_strip):
        y1 = min(page.height, y0 + rows_per_strip)
        near = (centres[:, 1] + radii + 1 >= y0) & (centres[:, 1] - radii - 1 < y1)
        if pen is not None:
            coverage = np.stack(
                [
                    _strip_coverage(centres[mine], radii[mine], None, page.width, y0, y1)[0]
                    for mine in (near & (pen == p) for p in range(len(colours)))
                ]
            )
            image[y0:y1] = _pen_pixels(coverage, colours, paper, keep)
            continue
        near_ranks = None if ranks is None else ranks[near]
        alpha, top = _strip_coverage(centres[near], radii[near], near_ranks, page.width, y0, y1)
        colour = None if top is None else table[top]
        image[y0:y1] = _compose(alpha, colour, ink, paper, keep)
    return image[:, :, 0] if len(keep) == 1 else image


def write_png(stipple: Stipple, path: Path, options: DotStyle) -> None:
    """Rasterise and write the PNG atomically, with dpi and a text description."""
    image = rasterise(stipple, options)
    page = page_layout(stipple, options)
    title, description, _ = describe(stipple)
    info = PngInfo()
    info.add_text("Title", title)
    info.add_text("Description", description)
    info.add_text("Software", "stipplr")
    extra = {"dpi": (page.dpi, page.dpi)} if page.dpi else {}
    buffer = io.BytesIO()
    Image.fromarray(image).save(
        buffer, format="PNG", pnginfo=info, compress_level=COMPRESS_LEVEL, **extra
    )
    write_bytes(path, buffer.getvalue())


RENDERER = Renderer(
    "png", (".png",), "anti-aliased round dots on paper (raster image)", DotStyle, write_png
)
