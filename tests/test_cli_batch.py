"""``stipplr batch`` as users of split/Jest/Playwright sharding expect: 1-based ``--shard
K/N`` (SLURM arrays still work), per-file results in ``--json``, the current file beside
the bar, and flags the engine cannot use named in a warning."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from rich.console import Console
from typer.testing import CliRunner

from stipplr.batch import Job, parse_shard
from stipplr.cli import app
from stipplr.cli.batch import Tracker, make_progress, short_name
from stipplr.engines import ENGINES, Engine, Hints
from stipplr.errors import OptionError

runner = CliRunner()
FAST = ["--engine", "dither", "-n", "30"]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Seven small images in two folders."""
    root = tmp_path / "in"
    rng = np.random.default_rng(0)
    for i in range(7):
        path = root / ("sub" if i % 2 else "") / f"img{i}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray((rng.random((12, 16, 3)) * 255).astype(np.uint8)).save(path)
    return root


def batch(*args: object):
    result = runner.invoke(app, ["batch", *(str(a) for a in args)])
    return result, (json.loads(result.stdout) if "--json" in args else None)


def test_shards_one_of_two_and_two_of_two_cover_every_file_once(folder, tmp_path):
    out = tmp_path / "out"
    done = []
    for part in ("1/2", "2/2"):
        result, summary = batch(
            folder, "--out", out, "--format", "npz", "--shard", part, "--json", *FAST
        )
        assert result.exit_code == 0, result.output
        done += [f["file"] for f in summary["files"] if f["status"] == "done"]
        assert summary["done"] in (3, 4)
    assert sorted(done) == sorted(str(p) for p in folder.rglob("*.png"))
    assert len(list(out.rglob("*.npz"))) == 7


@pytest.mark.parametrize("bad", ["0/2", "3/2", "2", "a/b", "-1/2", "1/0"])
def test_a_shard_outside_one_to_n_is_a_one_line_error(folder, tmp_path, bad):
    result, _ = batch(folder, "--out", tmp_path / "out", "--shard", bad, *FAST)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "--shard must be K/N with 1 <= K <= N" in lines[0], result.stderr
    assert "counted from 1" in lines[0] and repr(bad) in lines[0]


def test_parse_shard_is_one_based_and_slurm_arrays_still_work():
    assert parse_shard("1/1", {}) == (0, 1) and parse_shard("3/3", {}) == (2, 3)
    assert parse_shard(None, {}) == (0, 1)
    zero_based = {"SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_COUNT": "2"}
    assert parse_shard(None, zero_based) == (0, 2)
    assert parse_shard(None, {**zero_based, "SLURM_ARRAY_TASK_ID": "1"}) == (1, 2)
    one_based = {"SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_MIN": "1"}
    assert parse_shard(None, {**one_based, "SLURM_ARRAY_TASK_COUNT": "2"}) == (1, 2)
    assert parse_shard("1/3", zero_based) == (0, 3)  # the flag wins
    with pytest.raises(OptionError, match="SLURM_ARRAY_TASK_ID"):
        parse_shard(None, {"SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_COUNT": "2"})


def test_json_lists_each_file_with_its_result(folder, tmp_path):
    broken = folder / "broken.png"
    broken.write_text("not an image")
    out = tmp_path / "out"
    result, first = batch(folder, "--out", out, "--format", "npz", "--json", *FAST)
    assert result.exit_code == 1  # one file failed
    files = {Path(f["file"]).name: f for f in first["files"]}
    assert len(files) == 8 and files["broken.png"]["status"] == "failed"
    assert "not an image" in files["broken.png"]["reason"]
    assert files["img0.png"]["status"] == "done"
    assert files["img0.png"]["output"] == str((out / "img0.npz").resolve())
    _, again = batch(folder, "--out", out, "--format", "npz", "--json", *FAST)
    statuses = {Path(f["file"]).name: f["status"] for f in again["files"]}
    assert statuses["img0.png"] == "skipped" and statuses["broken.png"] == "failed"


def test_the_bar_shows_the_file_being_stippled(tmp_path):
    jobs = [Job(tmp_path / f"{name}.png", tmp_path / f"{name}.npz") for name in "abc"]
    progress = make_progress(Console(quiet=True))
    tracker = Tracker(jobs, jobs[1:], progress, Console(quiet=True))
    (task,) = progress.tasks
    assert task.description.strip() == "b.png"
    tracker.report(jobs[1], "warning", "b.png: a note")
    assert task.description.strip() == "b.png"  # a warning is not the end of the file
    tracker.report(jobs[1], "done", None)
    assert task.description.strip() == "c.png" and task.completed == 1
    tracker.report(jobs[2], "failed", "c.png: broken")
    assert task.completed == 2
    assert [f["status"] for f in tracker.results()] == ["skipped", "done", "failed"]
    assert short_name(Path("a-very-long-photo-name-from-a-camera-0001.jpeg")).endswith("…jpeg")


def test_jobs_with_an_engine_that_cannot_use_processes_warn(folder, tmp_path, monkeypatch):
    """``batch -j 2`` with the neural engine (here a stand-in engine with the same hints,
    so no network runs) says that --jobs has no effect."""
    stand_in = Engine(
        "inprocess", "runs in this process", "stipplr.engines.dither:dither",
        hints_target="tests.test_cli_batch:in_process_hints",
    )  # fmt: skip
    monkeypatch.setitem(ENGINES, stand_in.name, stand_in)
    args = ["--out", tmp_path / "out", "--engine", "inprocess", "-n", "20", "-j", "2"]
    result, _ = batch(folder, *args, "--batch-size", "3")
    assert result.exit_code == 0, result.output
    assert "stipplr: warning: --jobs has no effect: the inprocess engine runs in this process" in (
        result.stderr
    )
    assert "--batch-size has no effect" in result.stderr  # it does not batch either
    dither, _ = batch(folder, "--out", tmp_path / "out2", *FAST, "--batch-size", "3")
    assert "--batch-size has no effect" in dither.stderr and "--jobs" not in dither.stderr


def in_process_hints(options: dict) -> Hints:
    """The neural engine's CPU hints."""
    return Hints(batch_size=1, threads=2, processes=False)
