"""Reading and writing the small TOML files stipplr uses (presets, G-code templates,
training configs): the one module that touches TOML.

The standard library reads TOML but does not write it; resolved settings and configs are
nested dicts of scalars and lists, which :func:`dump_toml` writes.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from stipplr.errors import OptionError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def read_toml(path: str | os.PathLike, what: str = "TOML file") -> dict[str, Any]:
    """The TOML file at ``path`` as a dict; a missing, unreadable or malformed file is a
    one-line error naming it (``x.toml: not a readable TOML file (...)``)."""
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise OptionError(f"{os.fspath(path)}: not a readable {what} ({reason})") from None
    except RecursionError:  # tomllib recurses once per nesting level
        raise OptionError(f"{os.fspath(path)}: not a readable {what} (nested too deeply)") from None


def parse_toml_value(text: str) -> Any:
    """A command-line value read as TOML (numbers, booleans, lists, quoted strings), else
    the text itself (``key=value`` overrides)."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


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
