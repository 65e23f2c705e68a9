"""Size checks of zip archives (``.npz`` stipples, ``.pt`` checkpoints) made from their
headers alone, before any member is decompressed.

A zip's central directory records each member's uncompressed size, and Python's zipfile
(which numpy uses) never inflates a member past it, so a member whose recorded size is
within a budget and agrees with what the file's own header claims (an ``.npy`` array's
shape and dtype, a checkpoint's storage sizes) cannot turn into a decompression bomb.
Each problem is an :class:`ArchiveError` whose message is the reason; callers prefix the
file name.
"""

from __future__ import annotations

import math
import os
import pickle
import zipfile
from typing import Any

import numpy as np

from stipplr.errors import StipplrError


class ArchiveError(StipplrError):
    """An archive member is larger than its budget or than its header says."""


def members(path: str | os.PathLike[str]) -> dict[str, zipfile.ZipInfo]:
    """The archive's members by name (from the central directory; nothing is inflated)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return {info.filename: info for info in archive.infolist()}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise ArchiveError(f"not a readable zip archive ({exc})") from None


def check_size(name: str, info: zipfile.ZipInfo, budget: int, expected: int | None = None) -> None:
    """Refuse a member bigger than ``budget`` bytes or not ``expected`` bytes (when given)."""
    if info.file_size > budget:
        raise ArchiveError(
            f"member {name} would inflate to {info.file_size:,} bytes (budget {budget:,})"
        )
    if expected is not None and info.file_size != expected:
        raise ArchiveError(
            f"member {name} holds {info.file_size:,} bytes but its header claims {expected:,}"
        )


def npy_header(
    path: str | os.PathLike[str], info: zipfile.ZipInfo
) -> tuple[tuple[int, ...], np.dtype, int]:
    """(shape, dtype, header length) of an ``.npy`` member, read from its first bytes."""
    with zipfile.ZipFile(path) as archive, archive.open(info) as member:
        try:
            version = np.lib.format.read_magic(member)
            read = (
                np.lib.format.read_array_header_1_0
                if version == (1, 0)
                else np.lib.format.read_array_header_2_0
            )
            shape, _, dtype = read(member)
        except (ValueError, SyntaxError, TypeError, EOFError) as exc:
            raise ArchiveError(f"member {info.filename} is not a numpy array ({exc})") from None
        return tuple(int(d) for d in shape), dtype, member.tell()


def check_npy(
    path: str | os.PathLike[str], info: zipfile.ZipInfo, budget: int
) -> tuple[tuple[int, ...], np.dtype]:
    """An ``.npy`` member's (shape, dtype) once its recorded size equals what its header
    claims and is within ``budget``; an object array is refused (it would need unpickling)."""
    shape, dtype, header = npy_header(path, info)
    if dtype.hasobject:
        raise ArchiveError(f"member {info.filename} holds Python objects; refused for safety")
    expected = header + math.prod(shape) * dtype.itemsize
    check_size(info.filename, info, max(budget, info.file_size), expected)
    check_size(info.filename, info, budget)
    return shape, dtype


STORAGE_BYTES = {
    "DoubleStorage": 8,
    "FloatStorage": 4,
    "HalfStorage": 2,
    "BFloat16Storage": 2,
    "LongStorage": 8,
    "IntStorage": 4,
    "ShortStorage": 2,
    "CharStorage": 1,
    "ByteStorage": 1,
    "BoolStorage": 1,
    "ComplexFloatStorage": 8,
    "ComplexDoubleStorage": 16,
    "UntypedStorage": 1,
}
"""Bytes per element of the storage types a torch checkpoint's pickle names."""


class _Stub(dict):
    """Stands for any object the pickle would build; builds nothing."""

    def __new__(cls, *args: Any, **kwargs: Any) -> _Stub:
        return dict.__new__(cls)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        pass


class _StorageLister(pickle.Unpickler):
    """Reads a checkpoint's ``data.pkl`` without importing or running anything, collecting
    its storage records (key, type name, element count)."""

    def __init__(self, file: Any) -> None:
        super().__init__(file)
        self.storages: list[tuple[str, str, int]] = []

    def find_class(self, module: str, name: str) -> type:
        return type(name, (_Stub,), {})  # a stand-in named like the global, never imported

    def persistent_load(self, pid: Any) -> _Stub:
        if isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage":
            kind = getattr(pid[1], "__name__", str(pid[1]))
            self.storages.append((str(pid[2]), kind, int(pid[4])))
        return _Stub()


def torch_storages(
    path: str | os.PathLike[str], info: zipfile.ZipInfo
) -> list[tuple[str, str, int]]:
    """(key, storage type, element count) of every tensor storage a checkpoint's pickle
    (member ``info``, already size-checked) claims."""
    with zipfile.ZipFile(path) as archive, archive.open(info) as member:
        lister = _StorageLister(member)
        try:
            lister.load()
        except Exception as exc:  # a broken pickle can fail in many ways; none runs code here
            raise ArchiveError(f"member {info.filename} is not a readable pickle ({exc})") from None
    return lister.storages
