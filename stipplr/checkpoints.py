"""Model checkpoints: one ``.pt`` file holding the architecture, its config, weights and meta.

The file is a plain dict of tensors and JSON-able values, loaded with
``torch.load(weights_only=True)`` so a checkpoint can never run code. Every problem
(unreadable, not a stipplr model, unknown architecture, weights that do not fit) is a
one-line :class:`~stipplr.errors.StipplrError` naming the file.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch
from torch import nn

from stipplr import __version__
from stipplr.archives import (
    STORAGE_BYTES,
    ArchiveError,
    check_size,
    members,
    torch_storages,
)
from stipplr.atomic import atomic_path
from stipplr.errors import StipplrError, one_line
from stipplr.models import build_model

FORMAT = "stipplr-model"
FORMAT_VERSION = 1
MAX_CHECKPOINT_BYTES = 512 << 20
"""Budget of a checkpoint's contents once uncompressed (512 MiB; the shipped models take a
few MB): a larger one, or a tensor whose stored size disagrees with its recorded shape, is
refused from the zip headers before anything is decompressed."""
MAX_PICKLE_BYTES = 16 << 20
"""Budget of the checkpoint's pickled structure (``data.pkl``: names, config, meta)."""


def _load_failure(path: Path, exc: BaseException) -> str:
    """Why ``torch.load`` failed, in place of torch's own hint to load the file unsafely."""
    if not zipfile.is_zipfile(path):
        return "not a zip archive, or a truncated one"
    if isinstance(exc, pickle.UnpicklingError):
        return "holds objects other than tensors and plain values; refused for safety"
    return one_line(exc)


def save_checkpoint(
    path: str | os.PathLike[str],
    model: nn.Module,
    arch: str,
    config: Any,
    meta: dict[str, Any] | None = None,
) -> Path:
    """Write ``model`` (architecture ``arch`` built from ``config``) to ``path`` atomically."""
    config_dict = dataclasses.asdict(config) if dataclasses.is_dataclass(config) else config
    meta = {
        "stipplr_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        **(meta or {}),
    }
    try:
        json.dumps(config_dict)
        json.dumps(meta)
    except TypeError as exc:
        raise StipplrError(f"{path}: config and meta must be JSON-able ({exc})") from None
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "arch": arch,
        "config": config_dict,
        "state_dict": state,
        "meta": meta,
    }
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return Path(path)


def read_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The checkpoint dict at ``path`` (tensors on the CPU), after checking its format."""
    path = Path(path)
    if not path.is_file():
        raise StipplrError(f"{path}: no such model file")
    try:
        check_archive(path)
    except ArchiveError as exc:
        raise StipplrError(f"{path}: refused checkpoint: {exc}") from None
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a bad file; all mean "unreadable"
        reason = _load_failure(path, exc)
        raise StipplrError(f"{path}: not a readable checkpoint ({reason})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise StipplrError(f"{path}: not a stipplr model checkpoint")
    version = payload.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise StipplrError(f"{path}: checkpoint format {version!r} needs a newer stipplr")
    missing = [k for k in ("arch", "config", "state_dict") if k not in payload]
    if missing:
        raise StipplrError(f"{path}: checkpoint lacks {', '.join(missing)}")
    return payload


def check_archive(path: Path) -> None:
    """Check a zip-format checkpoint's member sizes against MAX_CHECKPOINT_BYTES and its
    tensors' stored sizes against the shapes its pickle records (headers only). A file that
    is not a zip is left to ``torch.load`` (the legacy format is not compressed)."""
    if not zipfile.is_zipfile(path):
        return
    infos = members(path)
    total = sum(info.file_size for info in infos.values())
    if total > MAX_CHECKPOINT_BYTES:
        raise ArchiveError(
            f"contents would inflate to {total:,} bytes (budget {MAX_CHECKPOINT_BYTES:,})"
        )
    pickles = [name for name in infos if name.rpartition("/")[2] == "data.pkl"]
    if len(pickles) != 1:
        raise ArchiveError("not a torch checkpoint (no single data.pkl)")
    check_size(pickles[0], infos[pickles[0]], MAX_PICKLE_BYTES)
    prefix = pickles[0].removesuffix("data.pkl")
    for key, kind, count in torch_storages(path, infos[pickles[0]]):
        name = f"{prefix}data/{key}"
        if name not in infos:
            raise ArchiveError(f"lacks member {name}")
        per_element = STORAGE_BYTES.get(kind)
        expected = None if per_element is None else per_element * count
        check_size(name, infos[name], MAX_CHECKPOINT_BYTES, expected)


def load_checkpoint(
    path: str | os.PathLike[str], device: str | torch.device = "cpu"
) -> tuple[nn.Module, dict[str, Any]]:
    """Build the checkpoint's network, load its weights, move it to ``device`` in eval mode."""
    payload = read_checkpoint(path)
    arch = payload["arch"]
    model = _build(path, arch, payload["config"], payload["state_dict"], "meta")
    if any(t.is_meta for t in (*model.parameters(), *model.buffers())):
        model = _build(path, arch, payload["config"], payload["state_dict"], "cpu")
    meta = {"arch": arch, **dict(payload.get("meta") or {})}
    return model.to(device).eval(), meta


def _build(
    path: Path, arch: str, config: dict[str, Any], state: dict[str, Any], on: str
) -> nn.Module:
    """Build ``arch`` and load ``state``. On the meta device the random init is skipped and
    the checkpoint's tensors are used as they are; a tensor the state dict does not cover
    (a non-persistent buffer) stays on meta and the caller rebuilds on the CPU."""
    try:
        with torch.device(on):
            model = build_model(arch, config)
    except StipplrError as exc:
        raise StipplrError(f"{path}: {exc}") from None
    except (TypeError, ValueError) as exc:
        raise StipplrError(f"{path}: config does not fit {arch!r} ({one_line(exc)})") from None
    try:
        model.load_state_dict(state, assign=on == "meta")
    except RuntimeError as exc:
        raise StipplrError(
            f"{path}: weights do not fit architecture {arch!r} ({one_line(exc)})"
        ) from None
    return model
