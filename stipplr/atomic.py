"""Atomic file writes: write to a temp file beside the target, then rename it over the target.

An interrupted run therefore never leaves a half-written output behind. A temp file is
named ``.NAME.HOST-PID.RANDOM.tmpSUFFIX`` for the target ``NAME`` (its suffix kept, so
libraries that pick a format from the extension still work): its writer is known, so a
later run removes it only when that writer is provably dead (:func:`stale_temps`).

Inside a folder registered with :func:`confine` (a batch's ``--out``) the target's folder
is reached from that root one component at a time without following symlinks, the temp
file is made in that very folder and renamed there, so neither a symlink planted inside
the tree later nor a target that is itself a link sends the write anywhere else (a link
in the target's place is replaced, never followed). An error names the target, never the
hidden temp file.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

TEMP_MARK = ".tmp"
STALE_AGE = 24 * 3600.0
"""Seconds after which a temp file whose writer cannot be checked (another host, or an
older stipplr that did not record it) counts as dead."""
_ROOTS: list[str] = []
_ROOTS_LOCK = threading.Lock()


def host() -> str:
    """This machine's name as it appears in temp and claim names (letters, digits, _)."""
    return re.sub(r"[^A-Za-z0-9_]", "_", socket.gethostname())[:40] or "host"


def owner() -> str:
    """``HOST-PID`` of this process."""
    return f"{host()}-{os.getpid()}"


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists on this machine (one we may not signal counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except (OverflowError, OSError):
        return False
    return True


def writer_dead(host_name: str, pid: int, mtime: float, max_age: float = STALE_AGE) -> bool:
    """Whether the writer ``host_name``-``pid`` of a file last changed at ``mtime`` is dead:
    on this host, when no such process exists; elsewhere, when the file is ``max_age`` old."""
    if host_name == host():
        return pid != os.getpid() and not pid_alive(pid)
    return time.time() - mtime > max_age


def temp_name(target: Path) -> str:
    """A fresh temp-file name for ``target`` (see the module docstring)."""
    return f".{target.name}.{owner()}.{secrets.token_hex(4)}{TEMP_MARK}{target.suffix}"


_TEMP = re.compile(
    r"\.(?P<name>.+)\.(?P<host>[A-Za-z0-9_]+)-(?P<pid>[0-9]+)\.[0-9a-f]+"
    + re.escape(TEMP_MARK)
    + r"(?P<suffix>\.[^.]*)?"
)
_LEGACY_TEMP = re.compile(
    r"\.(?P<stem>.+)\.[a-z0-9_]{8}" + re.escape(TEMP_MARK) + r"(?P<suffix>\.[^.]*)?"
)


def _temp_target(name: str, targets: set[str]) -> tuple[str, str | None, int | None] | None:
    """(target name, writer host, pid) when ``name`` is exactly a temp file of one of
    ``targets`` (host and pid None for an older stipplr's name), else None."""
    found = _TEMP.fullmatch(name)
    if found and found["name"] in targets and Path(found["name"]).suffix == (found["suffix"] or ""):
        return found["name"], found["host"], int(found["pid"])
    legacy = _LEGACY_TEMP.fullmatch(name)
    if legacy:
        for target in targets:
            path = Path(target)
            if path.stem == legacy["stem"] and path.suffix == (legacy["suffix"] or ""):
                return target, None, None
    return None


def stale_temps_in(folder: str | os.PathLike[str], targets: set[str]) -> list[Path]:
    """Temp files in ``folder`` left for any of the file names ``targets`` by a writer that
    is provably dead, listing the folder once.

    Names must match exactly (``x.png``'s temps are not ``x.v2.png``'s); a live writer's
    temp file, this process's own, or one of an unknown writer younger than STALE_AGE is
    kept.
    """
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    stale = []
    for name in sorted(names):
        if not name.startswith(".") or TEMP_MARK not in name:
            continue
        found = _temp_target(name, targets)
        if found is None:
            continue
        try:
            mtime = os.lstat(os.path.join(folder, name)).st_mtime
        except OSError:
            continue
        _, host_name, pid = found
        if host_name is None or pid is None:  # a legacy name without its writer: only age
            dead = time.time() - mtime > STALE_AGE
        else:
            dead = writer_dead(host_name, pid, mtime)
        if dead:
            stale.append(Path(folder) / name)
    return stale


def stale_temps(path: str | os.PathLike[str]) -> list[Path]:
    """Temp files beside ``path`` left by a dead writer of ``path`` (see :func:`stale_temps_in`)."""
    target = Path(path)
    return stale_temps_in(target.parent, {target.name})


@contextlib.contextmanager
def confine(root: str | os.PathLike[str]) -> Iterator[str]:
    """Within the block, writes under ``root`` never pass through a symlink inside it
    (see the module docstring). Yields the root's real path."""
    real = os.path.realpath(root)
    with _ROOTS_LOCK:
        _ROOTS.append(real)
    try:
        yield real
    finally:
        with _ROOTS_LOCK:
            _ROOTS.remove(real)


def confine_forever(roots: list[str]) -> None:
    """Register ``roots`` for the rest of the process (a batch's worker processes)."""
    with _ROOTS_LOCK:
        _ROOTS.extend(os.path.realpath(r) for r in roots)


def _root_of(folder: str) -> str | None:
    """The registered root that ``folder`` (absolute, lexical) lies in, if any."""
    with _ROOTS_LOCK:
        roots = list(_ROOTS)
    inside = [r for r in roots if folder == r or folder.startswith(r.rstrip(os.sep) + os.sep)]
    return max(inside, key=len) if inside else None


def _refuse(path: str, why: str) -> OSError:
    return OSError(errno.ELOOP, f"{why}; refused to write through it", path)


def open_folder(folder: Path) -> int:
    """A file descriptor of ``folder``, created if missing; inside a confined root reached
    from the root without following any symlink."""
    absolute = os.path.abspath(folder)
    root = _root_of(absolute)
    if root is None:
        folder.mkdir(parents=True, exist_ok=True)
        return os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    os.makedirs(root, exist_ok=True)
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    walked = root
    try:
        for part in Path(os.path.relpath(absolute, root)).parts:
            if part in (".", ""):
                continue
            walked = os.path.join(walked, part)
            with contextlib.suppress(FileExistsError):
                os.mkdir(part, dir_fd=fd)
            flags = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC | os.O_NOFOLLOW
            try:
                inner = os.open(part, flags, dir_fd=fd)
            except OSError as exc:
                if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
                    raise
                if os.path.islink(walked):
                    raise _refuse(walked, "a symlink inside the output folder") from None
                raise FileExistsError(errno.EEXIST, "File exists (not a folder)", walked) from None
            os.close(fd)
            fd = inner
    except BaseException:
        os.close(fd)
        raise
    return fd


def _in_folder(fd: int, folder: Path, name: str) -> Path:
    """A path to ``name`` in the open folder ``fd`` that needs no lookup of the folder's
    own path (Linux: /proc/self/fd), else the plain path."""
    proc = Path(f"/proc/self/fd/{fd}")
    return proc / name if proc.is_dir() else folder / name


def _naming(exc: OSError, target: Path, temp: str | None = None) -> OSError:
    """``exc`` naming ``target`` when it named no file or the temp file ``temp`` (ENOSPC,
    EROFS, EACCES...); an error about another file is left as it is."""
    named = exc.filename is None or (temp is not None and temp in str(exc.filename))
    if exc.strerror and named:
        return type(exc)(exc.errno, exc.strerror, str(target))
    return exc


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; rename it onto ``path`` on success.

    The temp name keeps the target's suffix so libraries that pick a format from the
    extension (PIL, numpy) still do the right thing; new files get the umask's mode.
    """
    target = Path(path)
    try:
        folder = open_folder(target.parent)
    except OSError as exc:
        raise _naming(exc, target) from None
    name = temp_name(target)
    created = False
    try:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW
        os.close(os.open(name, flags, 0o666, dir_fd=folder))
        created = True
        yield _in_folder(folder, target.parent, name)
        os.replace(name, target.name, src_dir_fd=folder, dst_dir_fd=folder)
        created = False
    except OSError as exc:
        raise _naming(exc, target, name) from None
    finally:
        if created:
            with contextlib.suppress(OSError):
                os.unlink(name, dir_fd=folder)
        os.close(folder)


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Whether two paths name the same file (through links, or by any spelling)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def refuse_inputs(output: str | os.PathLike[str], *inputs: str | os.PathLike[str]) -> None:
    """Refuse, in one line, to write ``output`` when it is one of the ``inputs``."""
    from stipplr.errors import OptionError

    for source in inputs:
        if same_file(output, source):
            raise OptionError(f"{output}: is the input {source}; refused to overwrite it")


def write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    write_bytes(path, text.encode("utf-8"))
