"""Renderers turn a :class:`~stipplr.Stipple` into files, behind one small interface.

A renderer is a :class:`Renderer` value: a name, the file extensions it writes, an
options dataclass (its fields are the renderer's options, with defaults and docs) and a
``write(stipple, path, options)`` function that writes atomically. stipplr's own option
classes are :class:`~stipplr.optionset.OptionSet` objects, which parse every value once;
a plug-in's may be any dataclass. Renderers are found through the ``stipplr.renderers``
entry-point group, so another package can add one::

    [project.entry-points."stipplr.renderers"]
    myformat = "mypackage.render:RENDERER"

The renderers' extensions are the one table of output formats: :func:`formats` gives it
by renderer name (``batch --format``), :func:`for_path` by extension.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from stipplr.dots import Stipple
from stipplr.errors import OptionError
from stipplr.validate import unknown_options

ENTRY_POINT_GROUP = "stipplr.renderers"
"""The one renderer registry: stipplr's own formats are entry points too (pyproject.toml)."""


@dataclass(frozen=True)
class Renderer:
    """One output format: ``write(stipple, path, options)`` with ``options`` an instance
    of the ``options`` dataclass.

    ``extensions`` are the ones :func:`for_path` picks this renderer for;
    ``default_extension`` (default: the first of them) is what a batch run writes;
    ``section`` is the settings table its options come from (``[render]``, or ``[plot]``).
    """

    name: str
    extensions: tuple[str, ...]
    description: str
    options: type
    write: Callable[[Stipple, Path, Any], None]
    section: str = "render"
    default_extension: str = ""

    def make_options(self, **values: Any) -> Any:
        """Build this renderer's options, refusing unknown names in one line."""
        owner = f"the {self.name} renderer"
        parse = getattr(self.options, "parse", None)
        if parse is not None:  # an OptionSet: it checks names and values itself
            return parse(values, owner=owner)
        unknown = set(values) - self.option_names()
        if unknown:
            raise unknown_options(self.section, unknown, sorted(self.option_names()), owner)
        return self.options(**values)

    def option_names(self) -> set[str]:
        """The names of this renderer's options."""
        return {f.name for f in dataclasses.fields(self.options)}

    def option_help(self) -> list[tuple[str, str, str]]:
        """(name, default, help) for each option, for ``stipplr renderers``."""
        rows = []
        for f in dataclasses.fields(self.options):
            default = f.default if f.default is not dataclasses.MISSING else "required"
            rows.append((f.name, repr(default), f.metadata.get("help", "")))
        return rows


def _load(target: str) -> Renderer:
    """Import the ``module:attribute`` a renderer entry point names."""
    module, attr = target.split(":")
    return getattr(importlib.import_module(module), attr)


def _own(target: str) -> bool:
    """Whether an entry point names one of stipplr's own renderers (they take precedence)."""
    return target.startswith(f"{__name__}.")


@functools.cache
def available() -> dict[str, Renderer]:
    """All renderers: the built-in ones plus any registered under the entry-point group.

    A plug-in that fails to import is reported in a warning and left out, so one broken
    package never stops the other formats from working.
    """
    targets: dict[str, str] = {}
    own_first = sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: not _own(ep.value))
    for ep in own_first:
        targets.setdefault(ep.name, ep.value)
    found = {}
    for name, target in targets.items():
        try:
            found[name] = _load(target)
        except Exception as exc:  # a third-party plug-in may fail in any way
            warnings.warn(f"renderer {name!r} ({target}) failed to load: {exc}", stacklevel=2)
    return found


def get(name: str) -> Renderer:
    """The renderer called ``name`` (one-line error when unknown)."""
    renderers = available()
    if name not in renderers:
        raise OptionError(f"unknown renderer {name!r} (choose from {', '.join(renderers)})")
    return renderers[name]


def formats() -> dict[str, tuple[str, str]]:
    """Every output format by renderer name: (renderer, the extension a batch run writes)."""
    return {name: (name, r.default_extension or r.extensions[0]) for name, r in available().items()}


def for_path(path: str | Path) -> Renderer:
    """The first renderer (built-ins first) that writes ``path``'s extension."""
    suffix = Path(path).suffix.lower()
    for renderer in available().values():
        if suffix in renderer.extensions:
            return renderer
    known = sorted({ext for r in available().values() for ext in r.extensions})
    raise OptionError(
        f"{path}: no renderer writes {suffix or 'files without an extension'} "
        f"(known: {', '.join(known)})"
    )


def render(stipple: Stipple, path: str | Path, renderer: str | None = None, **options: Any) -> Path:
    """Write ``stipple`` to ``path`` with ``renderer`` (chosen from the extension by default)."""
    chosen = get(renderer) if renderer else for_path(path)
    path = Path(path)
    chosen.write(stipple, path, chosen.make_options(**options))
    return path
