"""Training configs: a TOML file over the loop's defaults, with ``key=value`` overrides.

An override names a key that exists (in the defaults or the config file; the ``[run]``
table also takes new ones) and gives a value of the same kind, written as in TOML:
``train.epochs=3``, ``train.lr=5e-4``, ``data.augment=false``, ``train.schedule='constant'``,
``model.config.widths=[8, 16]``. Anything else is a one-line error naming the key.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

from stipplr.errors import StipplrError
from stipplr.tomlfile import parse_toml_value, read_toml
from training.paths import CHECKOUT

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


FREE_TABLES = frozenset({"run"})
"""Tables that take keys of any name (``run.note=...``); elsewhere a key must exist."""
PROG = "python -m training.run"


def config_error(message: str) -> SystemExit:
    """A one-line error for the command line: ``python -m training.run: error: ...``."""
    return SystemExit(f"{PROG}: error: {message}")


def _kind(value: Any) -> str | None:
    """The kind of a config value an override must match: None for any."""
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string (quote it: 'text')"
    if isinstance(value, list):
        return "a list such as [1, 2]"
    return None


def _fits(old: Any, new: Any) -> bool:
    """Whether ``new`` may replace ``old`` (an int where a float goes is fine)."""
    if isinstance(old, bool) or isinstance(new, bool):
        return isinstance(old, bool) and isinstance(new, bool)
    if isinstance(old, float):
        return isinstance(new, (int, float))
    return _kind(old) is None or type(new) is type(old)


def apply_override(cfg: dict[str, Any], assignment: str) -> None:
    """Set ``a.b.c=value`` in the nested ``cfg``: the key must exist (except in the free
    ``[run]`` table) and the value must be of the kind already there; else one line."""
    key, sep, value = assignment.partition("=")
    key = key.strip()
    if not sep or not key:
        raise config_error(f"override {assignment!r} must look like key=value (train.epochs=3)")
    *tables, leaf = key.split(".")
    node = cfg
    for depth, table in enumerate(tables):
        if not isinstance(node.get(table), dict):
            where = ".".join(tables[:depth]) or "the config"
            raise config_error(f"unknown table {'.'.join(tables[: depth + 1])} in {where}")
        node = node[table]
    parsed = parse_toml_value(value.strip())
    if leaf not in node:
        if tables and tables[0] in FREE_TABLES:
            node[leaf] = parsed
            return
        known = ", ".join(k for k, v in node.items() if not isinstance(v, dict)) or "none"
        raise config_error(f"unknown key {key} (its table has: {known})")
    if not _fits(node[leaf], parsed):
        raise config_error(f"{key} must be {_kind(node[leaf])}, got {value.strip()!r}")
    node[leaf] = parsed


def merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Deep merge: tables merged key by key, values of ``extra`` win."""
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def find_config(path: str | os.PathLike) -> Path:
    """The config file: ``path`` as given, else relative to the checkout (so
    ``--config training/configs/default.toml`` works from any folder)."""
    given = Path(path)
    if given.is_file():
        return given
    in_checkout = CHECKOUT / given
    if not given.is_absolute() and in_checkout.is_file():
        return in_checkout
    raise config_error(f"{path}: no such config file (nor {in_checkout})")


def load_config(path: str | os.PathLike, overrides: list[str] = ()) -> dict[str, Any]:
    """The config at ``path`` over the loop defaults, with ``key=value`` overrides applied."""
    found = find_config(path)
    try:
        cfg = merge(DEFAULTS, read_toml(found))
    except StipplrError as exc:
        raise config_error(str(exc)) from None
    for assignment in overrides:
        apply_override(cfg, assignment)
    if not cfg["run"]["dir"]:
        cfg["run"]["dir"] = f"runs/{cfg['run'].get('name', found.stem)}"
    return cfg
