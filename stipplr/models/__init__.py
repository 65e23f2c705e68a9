"""Network architectures for the neural engine, one module per architecture.

Each module has a JSON-able ``Config`` dataclass at the top (defaults = the shipped or
published setting) and ``build(config) -> nn.Module``; the module implements
``predict(rgb, darkness, n) -> (xy, rgb or None)`` (see the neural contracts).
"""

from __future__ import annotations

import dataclasses
import importlib
from types import ModuleType
from typing import Any

from torch import nn

from stipplr.errors import StipplrError

ARCHITECTURES: dict[str, str] = {
    "li2021": "stipplr.models.li2021",
    "lloydnet": "stipplr.models.lloydnet",
}


def get_architecture(name: str) -> ModuleType:
    """The module implementing architecture ``name`` (one-line error when unknown)."""
    if name not in ARCHITECTURES:
        known = ", ".join(sorted(ARCHITECTURES))
        raise StipplrError(f"unknown architecture {name!r} (known: {known})")
    try:
        return importlib.import_module(ARCHITECTURES[name])
    except ModuleNotFoundError as exc:
        raise StipplrError(f"architecture {name!r} is not available ({exc})") from None


def make_config(arch: str, values: dict[str, Any] | None = None) -> Any:
    """Architecture ``arch``'s ``Config`` from a (JSON) dict; unknown keys are refused.

    JSON turns tuples into lists, so list values go back to tuples where the default is one.
    """
    config_cls = get_architecture(arch).Config
    fields = {f.name: f for f in dataclasses.fields(config_cls)}
    values = dict(values or {})
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise StipplrError(f"architecture {arch!r} has no config field(s) {', '.join(unknown)}")
    defaults = config_cls()
    for key, value in values.items():
        if isinstance(value, list) and isinstance(getattr(defaults, key), tuple):
            values[key] = tuple(value)
    return config_cls(**values)


def build_model(arch: str, config: dict[str, Any] | None = None) -> nn.Module:
    """Build an untrained ``arch`` network from a config dict (defaults for missing keys)."""
    return get_architecture(arch).build(make_config(arch, config))
