"""Reading and writing the small TOML files stipplr uses (presets, training configs).

The standard library reads TOML but does not write it; resolved settings and configs are
nested dicts of scalars and lists, which :func:`dump_toml` writes.
"""

from __future__ import annotations

import os
import sys
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def read_toml(path: str | os.PathLike) -> dict[str, Any]:
    """The TOML file at ``path`` as a dict."""
    with open(path, "rb") as f:
        return tomllib.load(f)


def toml_value(value: Any) -> str:
    """A TOML literal for a bool, number, string or list of them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def dump_toml(table: dict[str, Any], prefix: str = "") -> str:
    """TOML text of a nested dict of scalars and lists (sub-dicts become [tables])."""
    lines = [f"{k} = {toml_value(v)}" for k, v in table.items() if not isinstance(v, dict)]
    for key, value in table.items():
        if isinstance(value, dict):
            lines += ["", f"[{prefix}{key}]", dump_toml(value, f"{prefix}{key}.")]
    return "\n".join(lines).strip() + "\n"
