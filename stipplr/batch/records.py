"""What made each batch output, and who is making it: small files under ``OUT/.stipplr/``.

Records: after writing ``OUT/a/b.svg`` a run writes ``OUT/.stipplr/a/b.svg.json`` with
the settings that made it (engine, N, seed, tone, engine and renderer options, format,
the model file's checksum) and the sizes and times of its input and output. A rerun
redoes an output whose record names other settings or an input that changed since, and
says why; an output without a record (made by hand or by an older stipplr) is kept when
it is newer than its input, the rule ``--skip-existing`` applies to every output.

Claims: before a run stipples a job it creates ``OUT/.stipplr/a/b.svg.claim`` (exclusive
create) naming its host and pid. Another run on the same ``--out`` skips a job whose claim
is held by a live process, so concurrent runs share the work instead of doing it twice; a
claim whose owner is provably dead (this host, no such process; another host, older than
CLAIM_AGE) is taken over. The run removes its claims as its jobs finish.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import secrets
import time
from pathlib import Path
from typing import Any

from stipplr.atomic import open_folder, owner, stale_temps_in, write_text, writer_dead
from stipplr.batch.plan import Job, up_to_date

STATE_DIR = ".stipplr"
CLAIM_AGE = 6 * 3600.0
"""Seconds after which another host's claim counts as abandoned."""
FRESH_CLAIM = 60.0
"""A claim file still being written (empty) counts as held for this many seconds."""
_MODEL_SUMS: dict[tuple[str, int, int], str] = {}


def state_path(job: Job, suffix: str) -> Path:
    """``OUT/.stipplr/<output relative to OUT><suffix>``."""
    root = job.root or job.output.parent
    return root / STATE_DIR / (job.output.relative_to(root).as_posix() + suffix)


def _json_default(value: Any) -> Any:
    """Dataclasses (option sets) as dicts, anything else JSON does not know as text."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return str(value)


def _plain(value: Any) -> Any:
    """``value`` as JSON would give it back (tuples become lists, option sets dicts)."""
    return json.loads(json.dumps(value, default=_json_default, sort_keys=True))


def model_checksum(request: Any) -> str | None:
    """The first 16 hex digits of the neural model file's SHA-256 (None for other engines)."""
    if "model" not in request.options:
        return None
    from stipplr.neural import model_path

    path = model_path(request.options.get("model"))
    info = path.stat()
    key = (str(path.resolve()), info.st_size, info.st_mtime_ns)
    if key not in _MODEL_SUMS:
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            while block := f.read(1 << 20):
                digest.update(block)
        _MODEL_SUMS[key] = digest.hexdigest()[:16]
    return _MODEL_SUMS[key]


def fingerprint(request: Any, renderer: str, options: Any, extension: str = "") -> dict:
    """The settings an output depends on, as plain JSON values."""
    shown = {k: v for k, v in request.options.items() if k != "device"}
    return _plain(
        {
            "engine": request.engine.name,
            "points": request.n,
            "seed": request.seed,
            "tone": request.tone.to_dict(),
            "radius": request.radius,
            "options": shown,
            "model_sha256": model_checksum(request),
            "renderer": renderer,
            "render": options,
            "format": extension,
        }
    )


def _stat(path: Path) -> dict[str, int] | None:
    """Size and modification time (ns) of ``path``, None when it cannot be read."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return {"size": info.st_size, "mtime_ns": info.st_mtime_ns}


def write_record(job: Job, settings: dict) -> None:
    """Record that ``job.output`` was just made from ``job.source`` with ``settings``."""
    record = {
        "settings": settings,
        "source": str(job.source),
        "source_stat": _stat(job.source),
        "output_stat": _stat(job.output),
        "made_by": owner(),
        "made_at": time.time(),
    }
    write_text(state_path(job, ".json"), json.dumps(record, indent=1, sort_keys=True))


def read_record(job: Job) -> dict | None:
    """The job's record when it describes the output now in place, else None."""
    try:
        record = json.loads(state_path(job, ".json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("output_stat") != _stat(job.output):
        return None
    return record


def _flat(settings: dict, prefix: str = "") -> dict[str, Any]:
    """``{"render": {"dpi": 300}}`` as ``{"render.dpi": 300}``."""
    flat: dict[str, Any] = {}
    for key, value in settings.items():
        if isinstance(value, dict) and value:
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def changes(old: dict, new: dict, limit: int = 3) -> str:
    """The settings that differ, in words: ``points 1000 -> 8000, tone.gamma 1 -> 2``
    (a renderer's own options are left out when the renderer itself changed)."""
    before, after = _flat(old), _flat(new)
    keys = [k for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)]
    if "renderer" in keys:
        keys = [k for k in keys if not k.startswith("render.")]
    parts = [f"{k} {json.dumps(before.get(k))} -> {json.dumps(after.get(k))}" for k in keys]
    cut = parts[:limit] + ([f"{len(parts) - limit} more"] if len(parts) > limit else [])
    return ", ".join(cut)


def redo_reason(job: Job, settings: dict) -> str | None:
    """Why an existing output must be made again, or None when it is up to date; raises
    FileNotFoundError when there is no output yet."""
    if _stat(job.output) is None:
        raise FileNotFoundError(job.output)
    record = read_record(job)
    if record is None:  # no record of this very file: the age rule
        return None if up_to_date(job) else "its input is newer"
    if record.get("settings") != settings:
        return f"made with other settings ({changes(record.get('settings') or {}, settings)})"
    if record.get("source_stat") != _stat(job.source):
        return "its input changed since"
    return None


def output_stat(job: Job) -> dict[str, int] | None:
    """Size and modification time of the job's output (None when there is none)."""
    return _stat(job.output)


def made_since(job: Job, settings: dict, before: dict | None) -> bool:
    """Whether another run made the job's output with ``settings`` since its state was
    ``before`` (:func:`output_stat` when this run planned it)."""
    now = _stat(job.output)
    if now is None or now == before:
        return False
    record = read_record(job)
    return record is not None and record.get("settings") == settings


def remove_stale(jobs: list[Job]) -> None:
    """Delete what dead runs left for these jobs: temp files beside their outputs and
    records, and their claims. Each folder is listed once (a huge flat folder stays fast)."""
    folders: dict[Path, set[str]] = {}
    for job in jobs:
        folders.setdefault(job.output.parent, set()).add(job.output.name)
        record = state_path(job, ".json")
        folders.setdefault(record.parent, set()).update({record.name})
    for folder, names in folders.items():
        for stale in stale_temps_in(folder, names):
            stale.unlink(missing_ok=True)
        claims = {name.removesuffix(".json") + ".claim" for name in names if name.endswith(".json")}
        _remove_dead_claims(folder, claims)


def _remove_dead_claims(folder: Path, claims: set[str]) -> None:
    """Delete the claims among ``claims`` in ``folder`` whose owner is provably dead."""
    try:
        present = claims.intersection(os.listdir(folder))
    except OSError:
        return
    if not present:
        return
    fd = open_folder(folder)
    try:
        for name in sorted(present):
            if _holder(fd, name) is None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(name, dir_fd=fd)
    finally:
        os.close(fd)


def _holder(folder: int, name: str) -> str | None:
    """Who holds the claim file ``name`` in ``folder``: ``HOST-PID``, or None when it is
    provably dead (then it may be taken over)."""
    try:
        with open(os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=folder)) as f:
            text = f.read(200)
        mtime = os.stat(name, dir_fd=folder, follow_symlinks=False).st_mtime
    except FileNotFoundError:
        return None
    except OSError:
        return "an unreadable claim"
    holder, _, _ = text.strip().partition(" ")
    host_name, _, pid = holder.rpartition("-")
    if not pid.isdigit():
        return "a claim being written" if time.time() - mtime < FRESH_CLAIM else None
    dead = writer_dead(host_name, int(pid), mtime, CLAIM_AGE) if host_name else True
    return None if dead else holder


def _create(folder: int, name: str) -> bool:
    """Create the claim file exclusively; False when it exists."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(name, flags, 0o666, dir_fd=folder)
    except FileExistsError:
        return False
    with open(fd, "w") as f:
        f.write(f"{owner()} {time.time():.0f}\n")
    return True


def claim(job: Job) -> str | None:
    """Claim ``job`` for this process: None when claimed, else who holds it."""
    path = state_path(job, ".claim")
    folder = open_folder(path.parent)
    try:
        for _ in range(3):
            if _create(folder, path.name):
                return None
            holder = _holder(folder, path.name)
            if holder is not None:
                return holder
            dead = f"{path.name}.dead-{owner()}-{secrets.token_hex(4)}"
            with contextlib.suppress(FileNotFoundError):  # only one run wins the takeover
                os.rename(path.name, dead, src_dir_fd=folder, dst_dir_fd=folder)
                os.unlink(dead, dir_fd=folder)
        return "another run"
    finally:
        os.close(folder)


def release(job: Job) -> None:
    """Remove this process's claim of ``job`` (another's is left alone)."""
    path = state_path(job, ".claim")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return
    if text.partition(" ")[0] == owner():
        path.unlink(missing_ok=True)
