"""Training configs: a TOML file over the loop's defaults, with ``key=value`` overrides."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

from stipplr.tomlfile import parse_toml_value, read_toml

DEFAULTS: dict[str, Any] = {
    "run": {"dir": "", "seed": 0},
    "train": {
        "epochs": 10,
        "batch_size": 8,
        "lr": 2e-3,
        "weight_decay": 1e-4,
        "schedule": "cosine",
        "warmup_steps": 100,
        "min_lr_ratio": 0.02,
        "clip": 1.0,
        "amp": True,
        "device": "auto",
        "threads": 2,
        "workers": 0,
        "best_metric": "val_total",
        "best_mode": "min",
        "max_minutes": 0,
        "log_every": 10,
    },
}


def apply_override(cfg: dict[str, Any], assignment: str) -> None:
    """Set ``a.b.c=value`` in the nested ``cfg`` (creating tables as needed)."""
    key, sep, value = assignment.partition("=")
    if not sep or not key:
        raise SystemExit(f"override {assignment!r} is not key=value")
    *tables, leaf = key.strip().split(".")
    node = cfg
    for table in tables:
        node = node.setdefault(table, {})
        if not isinstance(node, dict):
            raise SystemExit(f"override {assignment!r}: {table!r} is not a table")
    node[leaf] = parse_toml_value(value.strip())


def merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Deep merge: tables merged key by key, values of ``extra`` win."""
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_config(path: str | os.PathLike, overrides: list[str] = ()) -> dict[str, Any]:
    """The config at ``path`` over the loop defaults, with ``key=value`` overrides applied."""
    cfg = merge(DEFAULTS, read_toml(path))
    for assignment in overrides:
        apply_override(cfg, assignment)
    if not cfg["run"]["dir"]:
        cfg["run"]["dir"] = f"runs/{cfg['run'].get('name', Path(path).stem)}"
    return cfg
