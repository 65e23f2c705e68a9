"""Model files: where trained models live, and what each one is, without importing torch.

Models are ``NAME.pt`` checkpoints in two folders: the ones that ship inside the package
(``stipplr/weights/``) and the user's own (:func:`user_model_dir`, e.g.
``~/.local/share/stipplr/models`` on Linux; ``python -m training.export`` writes there).
``--model NAME`` looks in the user's folder first, so a model exported there under a
shipped name (which export only does with ``--force``) takes its place.

Beside each checkpoint, a *model card* ``NAME.json`` holds what ``stipplr models`` shows
(architecture, dot range, description, measured metrics) and the size and SHA-256 of the
checkpoint it describes, so a card that no longer matches its file is noticed. The card
is plain JSON: listing models reads no pickle and imports no torch.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from stipplr.atomic import write_text
from stipplr.errors import OptionError, StipplrError

SHIPPED_DIR = Path(__file__).parent / "weights"
"""The models that ship with the package."""
DEFAULT_MODEL = "default"
CARD_FORMAT = "stipplr-model-card"
CARD_VERSION = 1
CARD_KEYS = ("name", "description", "n_range", "metrics", "baselines", "created", "stipplr_version")
"""The checkpoint meta a card keeps (the training log and config stay in the checkpoint)."""


def user_model_dir() -> Path:
    """The user's model folder (platformdirs' data folder, ``.../stipplr/models``)."""
    return Path(platformdirs.user_data_dir("stipplr")) / "models"


@dataclass(frozen=True)
class ModelFile:
    """One model: its name, checkpoint file and where it comes from (shipped or user)."""

    name: str
    path: Path
    origin: str

    @property
    def card_path(self) -> Path:
        """The model card beside the checkpoint."""
        return card_path(self.path)


def _models_in(folder: Path, origin: str) -> dict[str, ModelFile]:
    """The ``*.pt`` files of ``folder`` by name (none when it does not exist)."""
    if not folder.is_dir():
        return {}
    return {p.stem: ModelFile(p.stem, p, origin) for p in sorted(folder.glob("*.pt"))}


def shipped_models() -> dict[str, Path]:
    """Models that ship with the package: name -> checkpoint file."""
    return {name: m.path for name, m in _models_in(SHIPPED_DIR, "shipped").items()}


def user_models() -> dict[str, Path]:
    """Models in the user's folder: name -> checkpoint file."""
    return {name: m.path for name, m in _models_in(user_model_dir(), "user").items()}


def find_models() -> list[ModelFile]:
    """Every model: shipped ones, then the user's (a user model shadows a shipped one of
    the same name, and is the one ``--model NAME`` picks)."""
    return [
        *_models_in(SHIPPED_DIR, "shipped").values(),
        *_models_in(user_model_dir(), "user").values(),
    ]


def models_by_name() -> dict[str, ModelFile]:
    """The model each name picks (user models shadow shipped ones)."""
    return {model.name: model for model in find_models()}


def default_model_available() -> bool:
    """True when a default model is there (shipped, or the user's ``default.pt``)."""
    return DEFAULT_MODEL in models_by_name()


def model_path(model: str | None) -> Path:
    """The checkpoint for ``--model`` (None: the default model), or a one-line error."""
    found = models_by_name()
    if model is None:
        if DEFAULT_MODEL not in found:
            raise StipplrError(
                "no trained neural model ships with this version; use --engine lbg or --model PATH"
            )
        return found[DEFAULT_MODEL].path
    if model in found:
        return found[model].path
    path = Path(model).expanduser()
    if path.suffix == ".pt" or path.exists() or len(path.parts) > 1:
        if not path.is_file():
            raise StipplrError(f"{path}: no such model file")
        return path
    names = ", ".join(found) or "none"
    raise OptionError(
        f"unknown model {model!r} (models: {names}, from {SHIPPED_DIR} and "
        f"{user_model_dir()}; or give a checkpoint path)"
    )


def card_path(checkpoint: Path) -> Path:
    """``NAME.json`` beside ``NAME.pt``."""
    return checkpoint.with_suffix(".json")


def file_digest(path: Path) -> str:
    """The SHA-256 of a file, in hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_card(checkpoint: Path, arch: str, meta: dict[str, Any]) -> Path:
    """Write the model card of ``checkpoint`` (architecture ``arch``, its meta)."""
    card = {
        "format": CARD_FORMAT,
        "format_version": CARD_VERSION,
        "arch": arch,
        **{key: meta[key] for key in CARD_KEYS if key in meta},
        "checkpoint": {
            "file": checkpoint.name,
            "bytes": checkpoint.stat().st_size,
            "sha256": file_digest(checkpoint),
        },
    }
    path = card_path(checkpoint)
    write_text(path, json.dumps(card, indent=2) + "\n")
    return path


def read_card(checkpoint: Path) -> dict[str, Any]:
    """The model card of ``checkpoint``; a missing, unreadable or stale card is a one-line
    error that says so."""
    path = card_path(checkpoint)
    if not path.is_file():
        raise StipplrError(
            f"no model card {path.name} beside it (python -m training.export writes one)"
        )
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StipplrError(f"{path}: not a readable model card ({exc})") from None
    if not isinstance(card, dict) or card.get("format") != CARD_FORMAT:
        raise StipplrError(f"{path}: not a stipplr model card")
    recorded = card.get("checkpoint") or {}
    size = os.stat(checkpoint).st_size
    if recorded.get("bytes") != size or recorded.get("sha256") != file_digest(checkpoint):
        raise StipplrError(
            f"{path.name} describes another {checkpoint.name} (re-export to update it)"
        )
    return card
