"""Machine coordinate frames for HPGL and G-code: page mm (y down) -> machine axes.

``bottom-left`` (default) puts the origin at the page's bottom-left corner with y up, as
HPGL plotters and most G-code machines expect; ``top-left`` keeps the SVG frame (y down).
"""

from __future__ import annotations

import numpy as np

ORIGINS = ("bottom-left", "top-left")


def to_machine(path: np.ndarray, page_height: float, origin: str) -> np.ndarray:
    """Points (M, 2) in machine mm of one page path (complex, y down)."""
    y = page_height - path.imag if origin == "bottom-left" else path.imag
    return np.column_stack([path.real, y])
