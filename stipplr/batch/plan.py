"""Batch planning, as pure functions: find images, plan mirrored outputs, shard, and tell
which outputs are still to do (an output newer than its input is up to date; see
:mod:`~stipplr.batch.records` for the settings-aware rule).

``INPUT/a/b.jpg`` becomes ``OUT/a/b.svg`` whatever the other inputs are; no output can
escape ``OUT``. Discovery never aborts on what it finds inside a folder: each entry is
walked by the rule below or becomes a job with a ``problem`` that the run reports as a
failure by name, so done + skipped + failed always add up to the total.

Symlinks: a link to an image is stippled (its output sits at the link's place); a link to
a folder is walked like a folder, except that every real folder is walked once (a link
back to an ancestor, a loop, or a second way to a folder adds nothing); a broken link or
a link loop is a failure; hidden entries and the output folder are left out; a folder that
cannot be listed is a failure.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from stipplr.atomic import stale_temps
from stipplr.errors import OptionError
from stipplr.images import is_image_path
from stipplr.validate import invalid

DEFAULT_OUT = Path("stipplr-out")


@dataclass(frozen=True)
class Job:
    """One image to stipple and the file to write; ``root`` is the output folder (for the
    run's records), ``problem`` why an entry found by discovery cannot be done."""

    source: Path
    output: Path
    root: Path | None = None
    problem: str | None = None


class Found(list):
    """:func:`discover`'s result: (image file, path relative to the output folder) pairs,
    and ``problems``: (entry, relative path, reason) for what could not be walked."""

    def __init__(self, items: Sequence[tuple[Path, Path]] = (), problems: Sequence = ()):
        super().__init__(items)
        self.problems: list[tuple[Path, Path, str]] = list(problems)


def _inside(path: str, folder: str) -> bool:
    """Whether the real path ``path`` is ``folder`` or lies in it."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _entries(folder: Path, rel: Path, problems: list) -> list[os.DirEntry]:
    """The folder's entries sorted by name, or none (and a problem) when it cannot be listed."""
    try:
        with os.scandir(folder) as it:
            return sorted(it, key=lambda entry: entry.name)
    except OSError as exc:
        problems.append((folder, rel, f"cannot list this folder ({exc.strerror or exc})"))
        return []


def _walk(root: Path, exclude: str, problems: list, seen: set) -> Iterator[tuple[Path, Path]]:
    """(image file, path relative to ``root``) under ``root``, by the module's rules."""
    stack = [(root, Path())]
    while stack:
        folder, rel = stack.pop()
        subfolders = []
        for entry in _entries(folder, rel, problems):
            path, inner = Path(entry.path), rel / entry.name
            if entry.name.startswith("."):
                continue
            try:
                is_dir = entry.is_dir()
                info = os.stat(path) if is_dir or entry.is_symlink() else None
            except OSError as exc:  # a link loop (ELOOP) or a target that vanished
                if is_dir or is_image_path(entry.name):
                    problems.append((path, inner, f"broken symlink ({exc.strerror or exc})"))
                continue
            if is_dir:
                key = (info.st_dev, info.st_ino)
                if key not in seen and not _inside(os.path.realpath(path), exclude):
                    seen.add(key)
                    subfolders.append((path, inner))
            elif is_image_path(entry.name):
                yield path, inner
        stack.extend(reversed(subfolders))


def discover(inputs: Sequence[str | os.PathLike[str]], exclude: Path) -> Found:
    """(image file, path relative to the output folder) for every input file, folder or glob.

    A folder's images keep their place under it and a file lands at the top, however many
    inputs there are. Files a glob or folder walk finds inside ``exclude`` (the output
    folder) and non-image files they find are left out; a file named explicitly is always
    taken (and reported if it is not an image). Entries that cannot be walked are in
    ``.problems`` (see the module docstring).
    """
    out = os.path.realpath(exclude)
    found = Found()
    seen: set[tuple[int, int]] = set()
    for item in inputs:
        text = os.fspath(item)
        explicit = os.path.lexists(text)
        if explicit:
            matches = [Path(text)]
        elif glob.has_magic(text):
            matches = [Path(m) for m in sorted(glob.glob(text, recursive=True))]
            if not matches:
                raise OptionError(f"{text}: matches no files")
        else:
            raise OptionError(f"{text}: no such file or folder")
        for path in matches:
            real = os.path.realpath(path)
            if not explicit and _inside(real, out):
                continue
            if path.is_dir():
                if real == out:
                    raise OptionError(f"{path}: the output folder cannot be an input folder")
                info = os.stat(path)
                seen.add((info.st_dev, info.st_ino))
                found += _walk(path, out, found.problems, seen)
            elif explicit or is_image_path(path):
                found.append((path, Path(path.name)))
    unique: dict[str, tuple[Path, Path]] = {}
    for source, rel in found:  # a file reached twice (say by a glob and its folder) runs once
        unique.setdefault(os.path.realpath(source), (source, rel))
    return Found(unique.values(), found.problems)


def _linked_folder(root: Path, target: Path) -> Path | None:
    """The first existing folder between ``root`` and ``target`` that is a symlink."""
    here = root
    for part in target.parent.relative_to(root).parts:
        here = here / part
        if os.path.islink(here):
            return here
        if not os.path.lexists(here):
            return None
    return None


def plan(found: Sequence[tuple[Path, Path]], out_dir: Path, extension: str) -> list[Job]:
    """Jobs with output paths under ``out_dir``; clashing names keep the input's extension.

    (``a.jpg`` and ``a.png`` become ``a.jpg.svg`` and ``a.png.svg``.) No output may leave
    ``out_dir``: an output folder that is a symlink inside it is refused here, and the
    writes themselves never follow a link planted later (:func:`stipplr.atomic.confine`).
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise OptionError(f"{out_dir}: the output folder is a file")
    root = Path(os.path.realpath(out_dir))
    names = [rel.with_suffix(extension) for _, rel in found]
    counts: dict[Path, int] = {}
    for name in names:
        counts[name] = counts.get(name, 0) + 1
    jobs: dict[Path, Job] = {}
    for (source, rel), name in zip(found, names, strict=True):
        if counts[name] > 1:
            name = rel.with_name(rel.name + extension)
        if name.is_absolute() or ".." in name.parts:
            raise OptionError(f"{source}: its output {name} would leave {root}")
        target = root / name
        if os.path.realpath(target) == os.path.realpath(source):
            raise OptionError(f"{source}: its output would overwrite it (choose another --out)")
        if target in jobs:
            raise OptionError(f"{source} and {jobs[target].source} would both write {target}")
        linked = _linked_folder(root, target)
        if linked is not None:
            where = os.path.realpath(linked)
            leaves = "would leave" if not _inside(where, str(root)) else "would cross"
            raise OptionError(
                f"{source}: its output {target} {leaves} {root} through the symlink {linked}"
            )
        jobs[target] = Job(source, target, root)
    for path, rel, reason in getattr(found, "problems", []):
        target = root / rel
        jobs.setdefault(target, Job(path, target, root, reason))
    return sorted(jobs.values(), key=lambda job: job.output)


SHARD_RULE = "be K/N with 1 <= K <= N (part K of N, counted from 1, as split -n K/N)"


def parse_shard(text: str | None, env: Mapping[str, str] | None = None) -> tuple[int, int]:
    """``K/N`` (1-based, as ``split -n K/N``, Jest and Playwright) -> the 0-based (index,
    count) :func:`shard` takes; without it SLURM's array task variables (any first task
    id, ``SLURM_ARRAY_TASK_MIN``), else the whole run (0, 1)."""
    env = os.environ if env is None else env
    name = "--shard"
    if text is None and "SLURM_ARRAY_TASK_COUNT" in env and "SLURM_ARRAY_TASK_ID" in env:
        name = "SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT"
        try:
            index = int(env["SLURM_ARRAY_TASK_ID"]) - int(env.get("SLURM_ARRAY_TASK_MIN", "0"))
            text = f"{index + 1}/{env['SLURM_ARRAY_TASK_COUNT']}"
        except ValueError:
            text = f"{env['SLURM_ARRAY_TASK_ID']}/{env['SLURM_ARRAY_TASK_COUNT']}"
    if text is None:
        return 0, 1
    part, sep, count = text.strip().partition("/")
    try:
        k, n = int(part), int(count)
    except ValueError:
        k, n = 0, 0
    if not sep or not 1 <= k <= n:
        raise invalid(name, SHARD_RULE, text)
    return k - 1, n


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
    """The jobs still to do: all with ``overwrite``, else those not up to date (a job with
    a problem is always to do: it is reported)."""
    return [job for job in jobs if overwrite or job.problem or not up_to_date(job)]


def remove_stale_temps(job: Job) -> None:
    """Delete temp files a dead run left beside this job's output (see stipplr.atomic)."""
    for stale in stale_temps(job.output):
        stale.unlink(missing_ok=True)
