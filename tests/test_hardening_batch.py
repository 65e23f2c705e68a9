"""Hardening: batches that never lose or misplace work (issue 14). Discovery that never
aborts, temp files and claims of concurrent runs, settings-aware resume, output safety,
dying worker processes and interrupts. Long random-timing cases: benchmarks/faults.py."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from stipplr import atomic
from stipplr.batch import Job, Runner, discover, plan, records, work
from stipplr.batch.processes import QuietSpawn
from stipplr.cli import app
from stipplr.dots import Stipple
from stipplr.engines import ENGINES, Engine, register
from stipplr.errors import OptionError


def photo(path: Path, seed: int = 0, value: int | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 255, (16, 24, 3), dtype=np.uint8)
    if value is not None:
        pixels[:] = value
    Image.fromarray(pixels).save(path)
    return path


def batch(*args: str) -> tuple[object, dict]:
    result = CliRunner().invoke(
        app, ["batch", *args, "--engine", "dither", "-n", "40", "-f", "npz", "--json"]
    )
    return result, json.loads(result.stdout)


def adds_up(summary: dict) -> bool:
    counted = summary["done"] + summary["skipped"] + len(summary["failed"])
    return counted == summary["total"] == len(summary["files"])


# ---- discovery ----------------------------------------------------------------------


def test_symlink_loops_and_broken_links_never_abort_discovery(tmp_path):
    root = tmp_path / "in"
    photo(root / "a.png")
    photo(root / "sub" / "b.png", 1)
    (root / "sub" / "up").symlink_to(root)  # a loop back to an ancestor
    (root / "here").symlink_to(".")  # a loop onto itself
    (root / "self.png").symlink_to("self.png")  # ELOOP
    (root / "gone.jpg").symlink_to("missing.jpg")  # dangling
    (root / "alias.png").symlink_to(root / "a.png")  # a second name for a.png: runs once
    outside = photo(tmp_path / "elsewhere" / "c.png", 2).parent
    (root / "linked").symlink_to(outside)  # a linked folder is walked
    out = tmp_path / "out"
    result, summary = batch(str(root), "--out", str(out))
    assert result.exit_code == 1
    failed = sorted(Path(f["file"]).name for f in summary["failed"])
    assert failed == ["gone.jpg", "self.png"]
    assert all("broken symlink" in f["reason"] for f in summary["failed"])
    done = sorted(
        Path(f["output"]).relative_to(out).as_posix()
        for f in summary["files"]
        if f["status"] == "done"
    )
    assert done == ["a.npz", "linked/c.npz", "sub/b.npz"]
    assert adds_up(summary)


def test_an_unreadable_folder_is_a_failure_by_name(tmp_path, monkeypatch):
    root = tmp_path / "in"
    photo(root / "a.png")
    photo(root / "locked" / "b.png")
    real = os.scandir

    def scandir(path):
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    found = discover([root], tmp_path / "out")
    assert [rel.as_posix() for _, rel in found] == ["a.png"]
    assert [(p.name, reason) for p, _, reason in found.problems] == [
        ("locked", "cannot list this folder (Permission denied)")
    ]
    jobs = plan(found, tmp_path / "out", ".npz")
    assert [job.problem is not None for job in jobs] == [False, True]


def test_the_layout_does_not_depend_on_how_many_inputs_are_given(tmp_path):
    photo(tmp_path / "photos" / "x.png")
    photo(tmp_path / "more" / "y.png", 1)
    one = discover([tmp_path / "photos"], tmp_path / "out")
    two = discover([tmp_path / "photos", tmp_path / "more"], tmp_path / "out")
    assert [rel for _, rel in one] == [Path("x.png")]
    assert sorted(rel for _, rel in two) == [Path("x.png"), Path("y.png")]


# ---- temp files and claims ----------------------------------------------------------


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_temps_match_exact_names_and_dead_writers_only(tmp_path):
    target = tmp_path / "x.png"
    host = atomic.host()
    mine = tmp_path / f".x.png.{host}-{os.getpid()}.ab12cd34.tmp.png"
    dead = tmp_path / f".x.png.{host}-{dead_pid()}.ab12cd34.tmp.png"
    other = tmp_path / f".x.v2.png.{host}-{dead_pid()}.ab12cd34.tmp.png"  # x.v2.png's
    young = tmp_path / ".x.png.otherhost-1.ab12cd34.tmp.png"
    old = tmp_path / ".x.png.otherhost-2.ab12cd34.tmp.png"
    for path in (mine, dead, other, young, old):
        path.write_bytes(b"")
    os.utime(old, (1, 1))
    assert sorted(atomic.stale_temps(target)) == sorted([old, dead])


def test_a_dead_runs_temp_beside_a_finished_output_is_cleaned(tmp_path):
    """Regression: a kill during --overwrite left a 0-byte temp no later run removed."""
    src = photo(tmp_path / "in" / "a.png")
    out = tmp_path / "out"
    batch(str(src.parent), "--out", str(out))
    stale = out / f".a.npz.{atomic.host()}-{dead_pid()}.0badf00d.tmp.npz"
    stale.write_bytes(b"")
    claim = out / ".stipplr" / "a.npz.claim"
    claim.write_text(f"{atomic.host()}-{dead_pid()} 0\n")
    result, summary = batch(str(src.parent), "--out", str(out))
    assert summary["skipped"] == 1 and not stale.exists() and not claim.exists()


def test_claims_share_the_work_between_runs(tmp_path):
    root = tmp_path / "in"
    for i in range(3):
        photo(root / f"p{i}.png", i)
    out = tmp_path / "out"
    jobs = plan(discover([root], out), out, ".npz")
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        claim = records.state_path(jobs[1], ".claim")
        claim.parent.mkdir(parents=True)
        claim.write_text(f"{atomic.host()}-{holder.pid} {time.time():.0f}\n")
        result, summary = batch(str(root), "--out", str(out))
        statuses = [f["status"] for f in summary["files"]]
        assert statuses == ["done", "skipped", "done"] and adds_up(summary)
        assert f"being made by {atomic.host()}-{holder.pid}" in result.stderr
        assert claim.exists()  # another run's claim is left alone
    finally:
        holder.kill()
        holder.wait()
    result, summary = batch(str(root), "--out", str(out))  # its owner died: taken over
    assert [f["status"] for f in summary["files"]] == ["skipped", "done", "skipped"]
    assert not list(out.rglob("*.claim"))


# ---- settings-aware resume ----------------------------------------------------------


def test_a_rerun_with_other_settings_redoes_and_says_so(tmp_path):
    src = photo(tmp_path / "in" / "a.png")
    out = tmp_path / "out"
    batch(str(src.parent), "--out", str(out))
    runner = CliRunner()
    args = ["batch", str(src.parent), "--out", str(out), "--engine", "dither", "-f", "npz"]
    kept = runner.invoke(app, [*args, "-n", "80", "--skip-existing"])
    assert "0 done, 1 skipped" in kept.stderr
    assert len(Stipple.load(out / "a.npz")) == 40
    redo = runner.invoke(app, [*args, "-n", "80"])
    assert "made with other settings (points 40 -> 80); redoing it" in redo.stderr
    assert "1 done, 0 skipped" in redo.stderr and len(Stipple.load(out / "a.npz")) == 80
    same = runner.invoke(app, [*args, "-n", "80"])
    assert "0 done, 1 skipped" in same.stderr


def test_svg_then_plot_into_one_folder_redoes_the_plot(tmp_path):
    src = photo(tmp_path / "in" / "a.png")
    out = tmp_path / "out"
    runner = CliRunner()
    args = ["batch", str(src.parent), "--out", str(out), "--engine", "dither", "-n", "40"]
    runner.invoke(app, [*args, "-f", "svg"])
    plot = runner.invoke(app, [*args, "-f", "plot"])
    assert 'renderer "svg" -> "plot"' in plot.stderr and "1 done" in plot.stderr


# ---- output safety ------------------------------------------------------------------


def test_a_symlink_planted_in_out_after_planning_is_never_followed(tmp_path):
    src = photo(tmp_path / "in" / "sub" / "a.png")
    out = tmp_path / "out"
    jobs = plan(discover([tmp_path / "in"], out), out, ".npz")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out.mkdir()
    (out / "sub").symlink_to(elsewhere)  # after planning, before writing
    summary = Runner({"engine": "dither", "points": 40}, "npz").run(jobs)
    assert summary.done == 0 and "symlink inside the output folder" in summary.failed[0]["reason"]
    assert not list(elsewhere.iterdir()) and src.exists()


def test_an_output_that_links_to_another_output_replaces_the_link_only(tmp_path):
    photo(tmp_path / "in" / "a.png", 1)
    photo(tmp_path / "in" / "b.png", 2)
    out = tmp_path / "out"
    out.mkdir()
    (out / "b.npz").write_bytes(b"precious")
    (out / "a.npz").symlink_to(out / "b.npz")
    os.utime(out / "b.npz", (1, 1), follow_symlinks=False)
    jobs = [job for job in plan(discover([tmp_path / "in"], out), out, ".npz")]
    Runner({"engine": "dither", "points": 40}, "npz").run(jobs[:1])  # a only
    assert (out / "b.npz").read_bytes() == b"precious"
    assert not (out / "a.npz").is_symlink() and len(Stipple.load(out / "a.npz")) == 40


def test_a_read_only_out_is_one_line_before_any_work(tmp_path, monkeypatch):
    src = photo(tmp_path / "in" / "a.png")
    jobs = plan(discover([src.parent], tmp_path / "out"), tmp_path / "out", ".npz")

    def read_only(path, data):
        raise OSError(30, "Read-only file system", str(path))

    monkeypatch.setattr(atomic, "write_bytes", read_only)
    monkeypatch.setattr(work, "stipple_job", lambda *a, **k: pytest.fail("worked"))
    with pytest.raises(OptionError, match="cannot write outputs there \\(Read-only file system\\)"):
        Runner({"engine": "dither", "points": 40}, "npz").run(jobs)


def test_stipple_and_plot_refuse_to_overwrite_their_input(tmp_path):
    src = photo(tmp_path / "photo.png")
    before = src.read_bytes()
    runner = CliRunner()
    result = runner.invoke(app, ["stipple", str(src), "-o", str(src), "--engine", "dither"])
    assert result.exit_code == 2 and "refused to overwrite it" in result.stderr
    plot = runner.invoke(
        app, ["plot", str(src), "-o", str(tmp_path / "p.svg"), "--preview", str(src)]
    )
    assert plot.exit_code == 2 and "refused to overwrite it" in plot.stderr
    assert src.read_bytes() == before


def test_a_full_disk_names_the_output_not_the_temp(tmp_path, monkeypatch):
    def full(self, data):
        raise OSError(28, "No space left on device", str(self))

    monkeypatch.setattr(Path, "write_bytes", full)
    with pytest.raises(OSError) as info:
        atomic.write_bytes(tmp_path / "out.png", b"x")
    assert info.value.filename == str(tmp_path / "out.png")
    assert not list(tmp_path.iterdir())


# ---- worker processes and interrupts ------------------------------------------------


def test_a_dying_worker_fails_only_its_own_image(tmp_path):
    register(Engine("crashing", "dies on black", "test_hardening_helpers:crashing_engine"))
    try:
        root = tmp_path / "in"
        for i in range(4):
            photo(root / f"p{i}.png", i)
        photo(root / "black.png", value=0)
        out = tmp_path / "out"
        jobs = plan(discover([root], out), out, ".npz")
        summary = Runner({"engine": "crashing", "points": 40}, "npz").run(jobs, processes=2)
    finally:
        ENGINES.pop("crashing")
    assert summary.done == 4 and len(summary.failed) == 1
    assert "black.png" in summary.failed[0]["file"]
    assert "worker process stippling it died" in summary.failed[0]["reason"]
    assert not list(out.rglob("*.claim")) and not list(out.rglob("*.tmp*"))


def test_workers_start_with_ctrl_c_ignored():
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, QuietSpawn()) as pool:
        import test_hardening_helpers

        assert pool.submit(test_hardening_helpers.sigint_disposition).result() == "ignored"


def test_a_worker_exits_by_itself_when_the_main_process_dies():
    code = "from stipplr.batch.work import start_worker; start_worker(1, []); "
    code += "import time; time.sleep(30)"
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", code], timeout=60)
    assert proc.returncode == 70 and time.monotonic() - start < 20  # parent 1 is not ours


def test_an_interrupt_inside_engine_code_waits_for_it_to_return():
    reached = False
    with pytest.raises(KeyboardInterrupt), work.deferred_interrupts():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)
        reached = True
    assert reached
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_messages_escape_control_characters(tmp_path):
    job = Job(Path("evil\nname\x1b[31m.png"), tmp_path / "x.npz")
    text = work.message(job, ValueError("bad"))
    assert "\n" not in text and "\x1b" not in text and "\\n" in text and "\\x1b" in text
