"""stipplr: photos to stipple drawings (dots whose density carries the tone).

>>> import stipplr
>>> s = stipplr.stipple("photo.jpg", points=5000)   # -> Stipple
>>> s.save("photo.npz")
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("stipplr")  # written once, in pyproject.toml
except PackageNotFoundError:  # pragma: no cover - a bare checkout that was never installed
    __version__ = "0+unknown"

from stipplr.api import stipple, stipple_many  # noqa: E402
from stipplr.dots import Stipple  # noqa: E402
from stipplr.errors import ImageError, OptionError, StipplrError  # noqa: E402
from stipplr.images import load_image  # noqa: E402
from stipplr.tone import Tone, darkness  # noqa: E402

__all__ = [
    "ImageError",
    "OptionError",
    "Stipple",
    "StipplrError",
    "Tone",
    "__version__",
    "darkness",
    "load_image",
    "stipple",
    "stipple_many",
]
