"""Atomic file writes: write to a temp file beside the target, then rename over it.

An interrupted run therefore never leaves a half-written output behind.
"""

from __future__ import annotations

import contextlib
import glob
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


def _suffix(target: Path) -> str:
    """Temp-file suffix: ``.tmp`` plus the target's own suffix, so formats still follow it."""
    return f".tmp{target.suffix}"


def stale_temps(path: str | os.PathLike[str]) -> list[Path]:
    """Temp files an interrupted :func:`atomic_path` left beside ``path``."""
    target = Path(path)
    if not target.parent.is_dir():
        return []
    pattern = f".{glob.escape(target.stem)}.*{glob.escape(_suffix(target))}"
    return sorted(target.parent.glob(pattern))


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; rename it onto ``path`` on success.

    The temp name keeps the target's suffix so libraries that pick a format from the
    extension (PIL, numpy) still do the right thing.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem}.", suffix=_suffix(target))
    os.close(fd)
    tmp_path = Path(tmp)
    os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; outputs get normal modes
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()


def _umask() -> int:
    """The process umask (read by setting and restoring it)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    write_bytes(path, text.encode("utf-8"))
