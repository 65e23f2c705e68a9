"""Make docs/before-after.jpg: a held-out sample photo beside the shipped model's stipple.

Run from the repository root: python scripts/make_readme_figure.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

import stipplr
from stipplr import renderers

PHOTO = Path("examples/photos/astronaut.jpg")
OUT = Path("docs/before-after.jpg")
POINTS = 20000


def main() -> None:
    """Stipple the photo with the default engine and save both side by side."""
    result = stipplr.stipple(PHOTO, points=POINTS)
    dots = Path("docs/.stipple.png")
    renderers.render(result, dots, width=1280)
    before = Image.open(PHOTO).convert("RGB")
    after = Image.open(dots).convert("RGB").resize(before.size, Image.LANCZOS)
    dots.unlink()
    gap = np.full((before.height, 16, 3), 255, np.uint8)
    pair = np.hstack([np.asarray(before), gap, np.asarray(after)])
    Image.fromarray(pair).convert("L").save(OUT, quality=85, optimize=True)
    print(f"{OUT}: {result.meta['engine']} engine, {len(result)} dots")


if __name__ == "__main__":
    main()
