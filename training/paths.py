"""Paths in the repository checkout this training code runs from (never an installed stipplr).

The training code is not installed: it runs from a checkout (``python -m training.run``),
so every repository file it reads or writes is found relative to this ``training/`` folder,
whether stipplr itself is installed editable, as a wheel or not at all.
"""

from __future__ import annotations

from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent
"""The repository root: the folder holding ``training/``, ``stipplr/`` and ``examples/``."""
EXAMPLE_PHOTOS = CHECKOUT / "examples" / "photos"
"""The held-out photos (never trained on) that export measures a model on."""
CHECKOUT_WEIGHTS_DIR = CHECKOUT / "stipplr" / "weights"
"""The checkout's model folder: export's default output (an installed wheel has its own)."""
