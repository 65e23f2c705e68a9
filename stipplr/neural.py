"""Neural engine entry points used by the API (filled in by the neural engine issue)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from stipplr.errors import StipplrError

WEIGHTS_DIR = Path(__file__).parent / "weights"


def default_model_available() -> bool:
    """True when a trained default model ships in ``stipplr/weights/``."""
    return any(WEIGHTS_DIR.glob("*.pt"))


def predict_dots(rgb: np.ndarray, dark: np.ndarray, n: int, **options):
    """Predict dots with a trained network (not available yet)."""
    raise StipplrError("no trained neural model ships with this version; use --engine lbg")
