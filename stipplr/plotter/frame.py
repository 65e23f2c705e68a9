"""Machine coordinate frames: page mm (y down from the top-left corner) -> machine axes.

G-code: ``bottom-left`` (default) puts the origin at the page's bottom-left corner with y
up, as most G-code machines expect; ``top-left`` keeps the SVG frame (y down).

HPGL: an HP 7475A takes A4 and A3 (and US letter) sheets landscape, and plots in its own
frame: 40 plotter units per mm from an origin near the sheet's bottom-left corner (HP's
manual: A4 P1/P2 = (603, 521)/(10603, 7721); the origin offsets are vpype's hp7475a
profile's), clipped by the machine at its hard-clip limits. A portrait page is turned a
quarter turn so it fits the landscape sheet (its top at the sheet's left edge). Layouts
for HPGL keep the picture inside the default P1/P2 window as well as the margins, so
every coordinate lies within P1/P2 (and the hard-clip limits); a point outside the
hard-clip limits is refused in one line, never clipped. Other paper sizes get
a plain frame: page units from the page's bottom-left corner, y up. HPGL's y axis always
points up, so ``origin=top-left`` is refused for HPGL: it would mirror the picture (hp2xx
shows it mirrored).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stipplr.errors import OptionError
from stipplr.paper import PAPERS_MM
from stipplr.units import format_length

ORIGINS = ("bottom-left", "top-left")
UNITS_PER_MM = 40


def to_machine(path: np.ndarray, page_height: float, origin: str) -> np.ndarray:
    """Points (M, 2) in machine mm of one page path (complex, y down): the G-code frame."""
    y = page_height - path.imag if origin == "bottom-left" else path.imag
    return np.column_stack([path.real, y])


@dataclass(frozen=True)
class HpglFrame:
    """One sheet of an HPGL plotter: the sheet (landscape, mm), the plotter origin's
    offset from the sheet's bottom-left corner (mm), the hard-clip limits and the default
    P1/P2 (plotter units). ``device`` None is the plain page frame (no limits)."""

    device: str | None
    paper: str
    sheet: tuple[float, float]
    origin: tuple[float, float] = (0.0, 0.0)
    limits: tuple[int, int] | None = None
    p1: tuple[int, int] = (0, 0)
    p2: tuple[int, int] = (0, 0)

    def turned(self, page: tuple[float, float]) -> bool:
        """Whether a page of this size is turned a quarter turn onto the sheet."""
        return self.device is not None and page[0] < page[1]

    def to_units(self, points: np.ndarray, page: tuple[float, float]) -> np.ndarray:
        """(M, 2) int64 plotter units of page points (complex mm, y down)."""
        if self.turned(page):
            x, y = points.imag, points.real  # the page's top goes to the sheet's left
        else:
            x, y = points.real, page[1] - points.imag
        units = np.column_stack([x - self.origin[0], y - self.origin[1]]) * UNITS_PER_MM
        return np.rint(units).astype(np.int64)

    def home(self, page: tuple[float, float]) -> complex:
        """The plotter origin (where the pen starts) in page mm."""
        ox, oy = self.origin
        return complex(oy, ox) if self.turned(page) else complex(ox, page[1] - oy)

    def window(self, page: tuple[float, float]) -> tuple[float, float, float, float] | None:
        """The P1/P2 plotting window on a page (x0, y0, x1, y1 mm, y down); None for the
        plain frame. Layouts keep every dot inside it (so inside the hard-clip limits)."""
        if self.device is None:
            return None
        (u1, v1), (u2, v2), (ox, oy) = self.p1, self.p2, self.origin
        x0, x1 = ox + u1 / UNITS_PER_MM, ox + u2 / UNITS_PER_MM  # sheet mm, y up
        y0, y1 = oy + v1 / UNITS_PER_MM, oy + v2 / UNITS_PER_MM
        if self.turned(page):  # sheet x is the page's y, sheet y the page's x
            return (y0, x0, y1, x1)
        return (x0, page[1] - y1, x1, page[1] - y0)

    def min_margin(self, page: tuple[float, float]) -> float:
        """The smallest margin that keeps a page's margin box inside the hard-clip limits."""
        if self.limits is None:
            return 0.0
        sheet_w, sheet_h = self.sheet
        ox, oy = self.origin
        right = sheet_w - ox - self.limits[0] / UNITS_PER_MM
        top = sheet_h - oy - self.limits[1] / UNITS_PER_MM
        return max(ox, oy, right, top)

    def check(self, units: np.ndarray, page: tuple[float, float]) -> None:
        """Refuse (one line) points outside the hard-clip limits."""
        if self.limits is None or not len(units):
            return
        xmax, ymax = self.limits
        outside = (units < 0).any(axis=1) | (units[:, 0] > xmax) | (units[:, 1] > ymax)
        if outside.any():
            raise OptionError(
                f"{int(outside.sum())} pen positions fall outside the {self.device}'s "
                f"hard-clip limits on {self.paper} (x 0-{xmax}, y 0-{ymax} plotter units): "
                f"use a margin of at least {format_length(np.ceil(self.min_margin(page)))}"
            )


def _sheet(paper: str) -> tuple[float, float]:
    """A paper's size turned landscape."""
    width, height = PAPERS_MM[paper]
    return (max(width, height), min(width, height))


HP7475A = {
    "a4": HpglFrame(
        "HP 7475A", "a4", _sheet("a4"), (10.0, 4.0), (11040, 7721), (603, 521), (10603, 7721)
    ),
    "a3": HpglFrame(
        "HP 7475A", "a3", _sheet("a3"), (15.0, 10.0), (16158, 11040), (170, 602), (15370, 10602)
    ),
    "letter": HpglFrame(
        "HP 7475A",
        "letter",
        _sheet("letter"),
        (10.0, 4.9),
        (10365, 7962),
        (250, 596),
        (10250, 7796),
    ),
}
"""The HP 7475A's sheets: origin offsets from vpype's hp7475a profile, limits and P1/P2
from HP's manual."""


def hpgl_frame(page: tuple[float, float]) -> HpglFrame:
    """The HP 7475A frame of a page of a sheet it takes (either way round), else a plain
    frame with the page's bottom-left corner as origin."""
    size = (max(page), min(page))
    for frame in HP7475A.values():
        if np.allclose(size, frame.sheet, atol=0.05):
            return frame
    return HpglFrame(None, f"{page[0]:g} x {page[1]:g} mm", (page[0], page[1]))


def check_hpgl_origin(origin: str) -> None:
    """Refuse ``origin=top-left`` for HPGL (one line)."""
    if origin != "bottom-left":
        raise OptionError(
            f"plot.origin must be bottom-left for HPGL, got {origin!r} (HPGL's y axis points "
            "up: a top-left origin would mirror the picture)"
        )
