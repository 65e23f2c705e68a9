"""stipplr: photos to stipple drawings (dots whose density carries the tone).

>>> import stipplr
>>> s = stipplr.stipple("photo.jpg", points=5000)   # -> Stipple
>>> s.save("photo.npz")

The names below are imported on first use, so ``import stipplr`` (and the command line's
start-up, which must react to Ctrl-C at once) does not wait for numpy, scipy and PIL.
"""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("stipplr")  # written once, in pyproject.toml
except PackageNotFoundError:  # pragma: no cover - a bare checkout that was never installed
    __version__ = "0+unknown"

_EXPORTS = {
    "ImageError": "stipplr.errors",
    "OptionError": "stipplr.errors",
    "StipplrError": "stipplr.errors",
    "Stipple": "stipplr.dots",
    "Tone": "stipplr.tone",
    "darkness": "stipplr.tone",
    "load_image": "stipplr.images",
    "stipple": "stipplr.api",
    "stipple_many": "stipplr.api",
}

__all__ = [*sorted(_EXPORTS), "__version__"]


def __getattr__(name: str) -> Any:
    """The public names, imported when first used (PEP 562)."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'stipplr' has no attribute {name!r}")
    value = getattr(import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
