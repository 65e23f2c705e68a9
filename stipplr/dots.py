"""The stipple data model: N dots with position, colour and optional radius.

Positions are relative to the source image (x, y in [0, 1], y pointing down) so one
stipple can be rendered at any size; colours are RGB in [0, 1]; the optional radius is
in source-image pixels. A stipple drawn with pens (``stipplr.stipple(..., pens=...)``)
also gives each dot the index of its pen in ``meta["pens"]`` (name, colour, width).
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from stipplr.archives import ArchiveError, check_npy, members
from stipplr.atomic import atomic_path
from stipplr.errors import StipplrError

FORMAT_VERSION = 1
MAX_DOTS = 10_000_000
"""The most dots a saved stipple may hold (its arrays then take at most about 0.5 GB)."""
MAX_META_BYTES = 1 << 20
"""Budget of a saved stipple's JSON metadata."""
MAX_SIDE = 1 << 31
"""Largest source image side a stipple may record, in pixels."""
CSV_CHUNK = 1 << 16
"""Rows formatted at a time by :meth:`Stipple.to_csv`."""
MEMBERS = {
    "xy": (("n", 2), "fiu"),
    "rgb": (("n", 3), "fiu"),
    "radius": (("n",), "fiu"),
    "pen": (("n",), "iu"),
    "size": ((2,), "iu"),
    "meta": ((), "U"),
    "format_version": ((), "iu"),
}
"""A saved stipple's members: (shape, "n" for the dot count; numpy dtype kinds)."""


class StippleError(StipplrError):
    """A stipple's arrays or file are malformed."""


def _check_array(name: str, a: np.ndarray, shape: tuple[int | None, ...]) -> np.ndarray:
    """Return ``a`` as float32 after checking its shape, finiteness and [0, 1] range."""
    a = np.asarray(a, dtype=np.float32)
    mismatch = a.ndim != len(shape) or any(
        s is not None and s != d for s, d in zip(shape, a.shape, strict=False)
    )
    if mismatch:
        raise StippleError(f"{name} must have shape {shape}, got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise StippleError(f"{name} contains NaN or infinite values")
    return a


@dataclass(frozen=True, eq=False)
class Stipple:
    """N dots: ``xy`` (N, 2) in [0, 1], ``rgb`` (N, 3) in [0, 1], optional ``radius`` (N,).

    ``width`` and ``height`` are the source image's size in pixels; ``meta`` records how
    the stipple was made (engine, model, parameters, seed, version) and must be JSON-able.
    ``pen`` (N,), when given, is each dot's index into ``meta["pens"]``, a list of
    ``{"name", "colour" (#rrggbb), "width" (mm or None)}``.
    """

    xy: np.ndarray
    rgb: np.ndarray
    width: int
    height: int
    radius: np.ndarray | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    pen: np.ndarray | None = None

    def __post_init__(self) -> None:
        xy = _check_array("xy", self.xy, (None, 2))
        n = len(xy)
        rgb = _check_array("rgb", self.rgb, (n, 3))
        if n and (xy.min() < 0 or xy.max() > 1):
            raise StippleError("xy must lie in [0, 1]")
        if n and (rgb.min() < 0 or rgb.max() > 1):
            raise StippleError("rgb must lie in [0, 1]")
        radius = self.radius
        if radius is not None:
            radius = _check_array("radius", radius, (n,))
            if n and radius.min() < 0:
                raise StippleError("radius must be >= 0")
        if not (1 <= int(self.width) <= MAX_SIDE and 1 <= int(self.height) <= MAX_SIDE):
            raise StippleError(
                f"width and height must be whole numbers from 1 to {MAX_SIDE}, "
                f"got {self.width}x{self.height}"
            )
        if not isinstance(self.meta, dict):
            raise StippleError(f"meta must be a dict, got {type(self.meta).__name__}")
        try:
            json.dumps(self.meta)
        except TypeError as exc:
            raise StippleError(f"meta must be JSON-serialisable: {exc}") from None
        object.__setattr__(self, "xy", xy)
        object.__setattr__(self, "rgb", rgb)
        object.__setattr__(self, "radius", radius)
        object.__setattr__(self, "pen", _check_pens(self.pen, n, self.meta))
        object.__setattr__(self, "width", int(self.width))
        object.__setattr__(self, "height", int(self.height))

    def __len__(self) -> int:
        return len(self.xy)

    @property
    def aspect(self) -> float:
        """Width divided by height of the source image."""
        return self.width / self.height

    def pixels(self) -> np.ndarray:
        """Dot centres in source-image pixel coordinates, shape (N, 2)."""
        return self.xy * np.array([self.width, self.height], dtype=np.float32)

    def mean_spacing(self) -> float:
        """Mean dot spacing h = sqrt(area / N) in source pixels (inf for no dots)."""
        return float(np.sqrt(self.width * self.height / len(self))) if len(self) else np.inf

    def replace(self, **changes: Any) -> Stipple:
        """Return a copy with some fields replaced (validated again)."""
        fields = {
            "xy": self.xy,
            "rgb": self.rgb,
            "width": self.width,
            "height": self.height,
            "radius": self.radius,
            "meta": dict(self.meta),
            "pen": self.pen,
        }
        fields.update(changes)
        return Stipple(**fields)

    def subset(self, index: np.ndarray) -> Stipple:
        """The dots selected by a boolean mask or an index array."""
        radius = None if self.radius is None else self.radius[index]
        pen = None if self.pen is None else self.pen[index]
        return self.replace(xy=self.xy[index], rgb=self.rgb[index], radius=radius, pen=pen)

    @property
    def pens(self) -> list[dict[str, Any]]:
        """The pens the dots' ``pen`` indices refer to (empty for a stipple without pens)."""
        return list(self.meta.get("pens", [])) if self.pen is not None else []

    # ---- files -------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> None:
        """Save as ``.npz`` (atomically): arrays plus JSON metadata."""
        arrays = {
            "xy": self.xy,
            "rgb": self.rgb,
            "size": np.array([self.width, self.height], dtype=np.int64),
            "meta": np.array(json.dumps(self.meta)),
            "format_version": np.array(FORMAT_VERSION),
        }
        if self.radius is not None:
            arrays["radius"] = self.radius
        if self.pen is not None:
            arrays["pen"] = self.pen
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)
        with atomic_path(path) as tmp:
            tmp.write_bytes(buffer.getvalue())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Stipple:
        """Load a stipple saved by :meth:`save`; a bad file raises a one-line error."""
        path = Path(path)
        if not path.is_file():
            raise StippleError(f"{path}: no such file")
        if not zipfile.is_zipfile(path):  # else numpy's reason suggests unpickling it
            raise StippleError(f"{path}: not a stipplr .npz file (not a zip archive)")
        try:
            check_members(path)
        except ArchiveError as exc:
            raise StippleError(f"{path}: {exc}") from None
        try:
            with np.load(path, allow_pickle=False) as data:
                width, height = (int(v) for v in data["size"])
                return cls(
                    xy=data["xy"],
                    rgb=data["rgb"],
                    width=width,
                    height=height,
                    radius=data.get("radius", None),
                    meta=json.loads(str(data["meta"])),
                    pen=data.get("pen", None),
                )
        except StippleError as exc:
            raise StippleError(f"{path}: {exc}") from None
        except Exception as exc:  # zip, key and JSON errors all mean "not a stipple file"
            raise StippleError(f"{path}: not a stipplr .npz file ({exc})") from None

    def to_csv(self, path: str | os.PathLike[str]) -> None:
        """Write one row per dot: x, y (relative), x_px, y_px, r, g, b[, radius_px][, pen]."""
        px = self.pixels()
        columns = [self.xy, px, self.rgb]
        header = "x,y,x_px,y_px,r,g,b"
        if self.radius is not None:
            columns.append(self.radius[:, None])
            header += ",radius_px"
        if self.pen is not None:
            columns.append(self.pen[:, None])
            header += ",pen"
        width = header.count(",") + 1
        with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as out:
            out.write(header + "\n")
            for start in range(0, len(self), CSV_CHUNK):  # streamed: bounded memory
                rows = np.hstack([c[start : start + CSV_CHUNK] for c in columns])
                np.savetxt(out, rows.reshape(-1, width), delimiter=",", fmt="%.6g")


def _check_pens(pen: Any, n: int, meta: dict[str, Any]) -> np.ndarray | None:
    """``pen`` as int16 after checking it indexes ``meta["pens"]`` (None stays None)."""
    if pen is None:
        return None
    a = np.asarray(pen)
    if a.shape != (n,) or (n and a.dtype.kind not in "iu"):
        raise StippleError(f"pen must be {n} whole numbers, got {a.dtype} {a.shape}")
    pens = meta.get("pens") if isinstance(meta, dict) else None
    if not isinstance(pens, list) or not pens:
        raise StippleError("a stipple with pen indices needs meta['pens'], a list of pens")
    if n and (a.min() < 0 or a.max() >= len(pens)):
        raise StippleError(f"pen indices must lie in [0, {len(pens) - 1}]")
    return a.astype(np.int16)


def check_members(path: Path) -> None:
    """Check a saved stipple's members from the zip and ``.npy`` headers, before numpy
    decompresses any: known names, shapes and dtypes, one dot count of at most MAX_DOTS,
    and stored sizes that agree with the shapes (see :mod:`stipplr.archives`)."""
    try:
        infos = members(path)
    except ArchiveError as exc:
        raise ArchiveError(f"not a stipplr .npz file ({exc})") from None
    counts: set[int] = set()
    for key, (shape, kinds) in MEMBERS.items():
        info = infos.get(f"{key}.npy")
        if info is None:
            if key in ("xy", "rgb", "size", "meta"):
                raise ArchiveError(f"not a stipplr .npz file (it lacks {key}.npy)")
            continue
        budget = MAX_META_BYTES * 4 if key == "meta" else MAX_DOTS * 3 * 8
        try:
            found, dtype = check_npy(path, info, budget + 4096)
        except ArchiveError as exc:
            raise ArchiveError(f"refused: {exc}") from None
        fits = len(found) == len(shape) and all(
            want == "n" or want == got for want, got in zip(shape, found, strict=True)
        )
        if not fits or dtype.kind not in kinds:
            wanted = "(" + ", ".join(map(str, shape)) + ")"
            raise ArchiveError(f"refused: member {key} is {dtype} {found}, not {wanted} ({kinds})")
        if shape and shape[0] == "n":
            counts.add(found[0])
    if len(counts) > 1:
        raise ArchiveError(f"refused: members disagree on the number of dots {sorted(counts)}")
    if counts and max(counts) > MAX_DOTS:
        raise ArchiveError(f"refused: holds {max(counts):,} dots (at most {MAX_DOTS:,})")
