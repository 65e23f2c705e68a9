"""Batch planning, as pure functions: find images, plan mirrored outputs, shard, and tell
which outputs are still to do (an output newer than its input is up to date).

``INPUT/a/b.jpg`` becomes ``OUT/a/b.svg``; no output can escape ``OUT``.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from stipplr.atomic import stale_temps
from stipplr.errors import OptionError
from stipplr.images import is_image_path

DEFAULT_OUT = Path("stipplr-out")


@dataclass(frozen=True)
class Job:
    """One image to stipple and the file to write."""

    source: Path
    output: Path


def _walk(root: Path, exclude: Path) -> Iterator[Path]:
    """Image files under ``root`` (sorted; hidden entries and ``exclude`` left out)."""
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = sorted(
            d for d in dirs if not d.startswith(".") and (here / d).resolve() != exclude
        )
        for name in sorted(files):
            if not name.startswith(".") and is_image_path(name):
                yield here / name


def discover(inputs: Sequence[str | os.PathLike[str]], exclude: Path) -> list[tuple[Path, Path]]:
    """(image file, path relative to the output folder) for every input file, folder or glob.

    A folder's images keep their place under it (prefixed by the folder's name when several
    inputs are given); a file lands at the top. Files a glob or folder walk finds inside
    ``exclude`` (the output folder) and non-image files they find are left out; a file
    named explicitly is always taken (and reported if it is not an image).
    """
    exclude = exclude.resolve()
    found: list[tuple[Path, Path]] = []
    several = len(inputs) > 1
    for item in inputs:
        text = os.fspath(item)
        explicit = Path(text).exists()
        if explicit:
            matches = [Path(text)]
        elif glob.has_magic(text):
            matches = [Path(m) for m in sorted(glob.glob(text, recursive=True))]
            if not matches:
                raise OptionError(f"{text}: matches no files")
            several = several or len(matches) > 1
        else:
            raise OptionError(f"{text}: no such file or folder")
        for path in matches:
            resolved = path.resolve()
            if not explicit and (resolved == exclude or exclude in resolved.parents):
                continue
            if path.is_dir():
                if resolved == exclude:
                    raise OptionError(f"{path}: the output folder cannot be an input folder")
                prefix = Path(resolved.name) if several else Path()
                found += [(f, prefix / f.relative_to(path)) for f in _walk(path, exclude)]
            elif explicit or is_image_path(path):
                found.append((path, Path(path.name)))
    unique: dict[Path, tuple[Path, Path]] = {}
    for source, rel in found:  # a file reached twice (say by a glob and its folder) runs once
        unique.setdefault(source.resolve(), (source, rel))
    return list(unique.values())


def plan(found: list[tuple[Path, Path]], out_dir: Path, extension: str) -> list[Job]:
    """Jobs with output paths under ``out_dir``; clashing names keep the input's extension.

    (``a.jpg`` and ``a.png`` become ``a.jpg.svg`` and ``a.png.svg``.) No output may leave
    ``out_dir``, even through a symlink.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise OptionError(f"{out_dir}: the output folder is a file")
    root = out_dir.resolve()
    names = [rel.with_suffix(extension) for _, rel in found]
    counts: dict[Path, int] = {}
    for name in names:
        counts[name] = counts.get(name, 0) + 1
    jobs: dict[Path, Job] = {}
    for (source, rel), name in zip(found, names, strict=True):
        if counts[name] > 1:
            name = rel.with_name(rel.name + extension)
        target = (root / name).resolve()
        if root not in target.parents:
            raise OptionError(f"{source}: its output {target} would leave {root}")
        if target == source.resolve():
            raise OptionError(f"{source}: its output would overwrite it (choose another --out)")
        if target in jobs:
            raise OptionError(f"{source} and {jobs[target].source} would both write {target}")
        jobs[target] = Job(source, target)
    return sorted(jobs.values(), key=lambda job: job.output)


def parse_shard(text: str | None, env: dict[str, str] | None = None) -> tuple[int, int]:
    """``i/n`` (0-based) -> (i, n); without it SLURM's array task variables, else (0, 1)."""
    env = os.environ if env is None else env
    if text is None and "SLURM_ARRAY_TASK_COUNT" in env and "SLURM_ARRAY_TASK_ID" in env:
        low = int(env.get("SLURM_ARRAY_TASK_MIN", "0"))
        text = f"{int(env['SLURM_ARRAY_TASK_ID']) - low}/{env['SLURM_ARRAY_TASK_COUNT']}"
    if text is None:
        return 0, 1
    index, sep, count = text.partition("/")
    try:
        i, n = int(index), int(count)
    except ValueError:
        i, n = -1, 0
    if not sep or not 0 <= i < n:
        raise OptionError(f"shard must look like i/n with 0 <= i < n, got {text!r}")
    return i, n


def shard(jobs: list[Job], index: int, count: int) -> list[Job]:
    """The deterministic ``index``-th of ``count`` parts (every count-th job by output path)."""
    ordered = sorted(jobs, key=lambda job: job.output)
    return ordered[index::count]


def up_to_date(job: Job) -> bool:
    """True when the output exists and is at least as new as its input."""
    try:
        return job.output.stat().st_mtime >= job.source.stat().st_mtime
    except OSError:
        return False


def pending(jobs: list[Job], overwrite: bool = False) -> list[Job]:
    """The jobs still to do: all with ``overwrite``, else those not up to date."""
    return [job for job in jobs if overwrite or not up_to_date(job)]


def remove_stale_temps(job: Job) -> None:
    """Delete temp files a killed run left beside this job's output (see stipplr.atomic)."""
    for stale in stale_temps(job.output):
        stale.unlink(missing_ok=True)
