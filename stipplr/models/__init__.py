"""Network architectures for the neural engine, one module per architecture.

The model contract (what an architecture module must provide; ``ARCHITECTURES`` below
registers it by name, as torchvision registers its builders):

- ``Config``: a JSON-able frozen dataclass at the top of the module; its defaults are the
  shipped (or published) setting. Checkpoints store it, so a model file never holds code.
- ``build(config) -> nn.Module``: an untrained network for that config.
- the module's ``predict(rgb, darkness, n, **options) -> (xy, rgb or None)``: ``rgb``
  (B, 3, H, W) and ``darkness`` (B, 1, H, W) tensors in [0, 1] on the model's device;
  returns exactly ``n`` dots per image, xy (B, n, 2) relative to the image (x, y in
  [0, 1], y down), and their colours (B, n, 3) or None to let the engine sample the
  photo. Keyword-only ``options`` are the model's engine options (``-E key=value``),
  checked against their defaults' kinds before the network runs.
- attributes ``n_range = (low, high)`` (dot counts it takes; high None for any) and
  ``fixed_n`` (None, or the only count it places).

A model whose images in one batch would get different dot counts (an image too sparse
for ``n``) raises :class:`RaggedBatch`; the engine then runs those images one at a time.

A model that needs a classical engine (a dither start, a Lloyd polish) calls it through the
public engine API, :func:`stipplr.engines.run_engine` or the engine module's documented
functions. :mod:`stipplr.neural` loads checkpoints (``weights_only=True``) and runs them.
"""

from __future__ import annotations

import dataclasses
import importlib
from types import ModuleType
from typing import Any

import torch
from torch import Tensor, nn

from stipplr.errors import StipplrError


class RaggedBatch(StipplrError):
    """The images of one batch would get different dot counts; run them one by one."""


def stack_dots(dots: list[Tensor]) -> Tensor:
    """Per-image dots (n_i, 2) as one (B, n, 2) tensor, or :class:`RaggedBatch`."""
    if len({len(d) for d in dots}) > 1:
        raise RaggedBatch("images of this batch get different dot counts")
    return torch.stack(dots)


ARCHITECTURES: dict[str, str] = {
    "li2021": "stipplr.models.li2021",
    "lloydnet": "stipplr.models.lloydnet",
    "relaxnet": "stipplr.models.relaxnet",
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
