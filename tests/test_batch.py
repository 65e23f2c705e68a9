"""stipplr batch: mirrored outputs, broken files, skips, shards, and safe interruption."""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from stipplr.batch import Job, choose_engine, discover, parse_shard, plan, shard
from stipplr.cli import app
from stipplr.dots import Stipple
from stipplr.errors import OptionError

UNICODE = "ünï côde name.png"


def _photo(path: Path, seed: int = 0, size: tuple[int, int] = (24, 16)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(path)
    return path


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def _bomb(path: Path) -> Path:
    """A tiny PNG whose header claims 40000 x 40000 pixels."""
    header = struct.pack(">IIBBBBB", 40_000, 40_000, 8, 2, 0, 0, 0)
    chunks = _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(b"")) + _chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunks)
    return path


@pytest.fixture
def tree(tmp_path):
    """Good images (nested, upper-case extension, unicode name) and broken ones."""
    root = tmp_path / "in"
    _photo(root / "a.png", 1)
    _photo(root / "sub" / "deep" / "b.PNG", 2)
    _photo(root / UNICODE, 3)
    (root / "broken.png").write_text("this is not an image")
    (root / "empty.jpg").write_bytes(b"")
    jpeg = root / "sub" / "truncated.jpg"
    Image.new("RGB", (64, 64), "gray").save(jpeg)
    jpeg.write_bytes(jpeg.read_bytes()[:200])
    _bomb(root / "bomb.png")
    (root / "notes.txt").write_text("ignored")
    return root


def _batch(*args: str):
    result = CliRunner().invoke(app, ["batch", *args, "--engine", "dither", "-n", "40"])
    return result, json.loads(result.stdout) if "--json" in args else None


def test_batch_tree(tree, tmp_path):
    out = tmp_path / "out"
    sentinel = out / "a.npz"
    sentinel.parent.mkdir(parents=True)
    sentinel.write_bytes(b"newer than its input")
    later = (tree / "a.png").stat().st_mtime + 10
    os.utime(sentinel, (later, later))

    result, summary = _batch(str(tree), "--out", str(out), "--format", "npz", "--json")
    assert result.exit_code == 1, result.output
    assert (summary["done"], summary["skipped"], len(summary["failed"])) == (2, 1, 4)
    failed = sorted(Path(f["file"]).name for f in summary["failed"])
    assert failed == ["bomb.png", "broken.png", "empty.jpg", "truncated.jpg"]
    assert "bomb" in next(f["reason"] for f in summary["failed"] if "bomb.png" in f["file"])
    for name in failed:  # one line per broken file, naming it
        assert sum(name in line for line in result.stderr.splitlines()) == 1
    assert sentinel.read_bytes() == b"newer than its input"
    for produced in (out / "sub" / "deep" / "b.npz", out / "ünï côde name.npz"):
        assert len(Stipple.load(produced)) == 40
    assert Stipple.load(out / "ünï côde name.npz").meta["source"] == UNICODE
    assert summary["dots"] == 80
    assert not list(out.rglob("*.tmp*")) and not (out / "notes.npz").exists()

    again, summary = _batch(str(tree), "--out", str(out), "--format", "npz", "--json")
    assert again.exit_code == 1 and (summary["done"], summary["skipped"]) == (0, 3)

    redo, summary = _batch(str(tree), "--out", str(out), "--format", "npz", "--json", "--overwrite")
    assert summary["done"] == 3 and len(Stipple.load(sentinel)) == 40


def test_batch_files_globs_and_svg(tmp_path):
    first = _photo(tmp_path / "x" / "one.jpg", 1)
    _photo(tmp_path / "y" / "two.png", 2)
    out = tmp_path / "out"
    result, _ = _batch(str(first), str(tmp_path / "y" / "*.png"), "--out", str(out), "-f", "svg")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir() if p.name != ".stipplr") == ["one.svg", "two.svg"]
    assert "2 done, 0 skipped, 0 failed of 2" in result.stderr


def test_unknown_format_and_missing_input(tmp_path):
    result, _ = _batch(str(tmp_path), "--format", "gif")
    assert result.exit_code == 2 and "--format must be one of" in result.stderr
    assert "got 'gif' (unknown format)" in result.stderr
    result, _ = _batch(str(tmp_path / "nope"), "--out", str(tmp_path / "o"))
    assert result.exit_code == 2 and "no such file or folder" in result.stderr


def test_output_folder_that_is_a_file_is_one_error(tmp_path):
    """Regression: every image failed on its own with "[Errno 17] File exists"."""
    _photo(tmp_path / "a.png")
    (tmp_path / "out").write_text("")
    result, _ = _batch(str(tmp_path / "a.png"), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2, result.output
    expected = f"stipplr: error: {tmp_path / 'out'}: the output folder is a file"
    assert result.stderr.strip() == expected


def test_per_image_file_system_errors_read_file_and_reason(tmp_path):
    """Regression: a failed write was reported as ``[Errno 17] File exists: '...'``."""
    _photo(tmp_path / "in" / "sub" / "a.png")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "sub").write_text("")  # the image's output folder is a file
    result, _ = _batch(str(tmp_path / "in"), "--out", str(tmp_path / "out"))
    assert result.exit_code == 1, result.output
    assert f"{tmp_path / 'out' / 'sub'}: File exists" in result.stderr
    assert "Errno" not in result.stderr


def test_plan_mirrors_and_resolves_clashes(tmp_path):
    root = tmp_path / "in"
    for name in ("p.jpg", "p.png", "s/q.tif"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"x")
    out = tmp_path / "out"
    jobs = plan(discover([root], out), out, ".svg")
    names = sorted(str(job.output.relative_to(out.resolve())) for job in jobs)
    assert names == ["p.jpg.svg", "p.png.svg", os.path.join("s", "q.svg")]


def test_output_folder_inside_input_is_not_read(tmp_path):
    _photo(tmp_path / "a.png")
    _photo(tmp_path / "stipplr-out" / "old.png")
    found = discover([tmp_path], tmp_path / "stipplr-out")
    assert [f.name for f, _ in found] == ["a.png"]


def test_output_cannot_escape_through_a_symlink(tmp_path):
    _photo(tmp_path / "in" / "s" / "a.png")
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "elsewhere").mkdir()
    (out / "s").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(OptionError, match="would leave"):
        plan(discover([tmp_path / "in"], out), out, ".png")


def test_shards_are_disjoint_and_complete(tmp_path):
    jobs = [Job(tmp_path / f"{i}.png", tmp_path / "o" / f"{i:02d}.png") for i in range(23)]
    parts = [shard(list(reversed(jobs)), i, 4) for i in range(4)]
    flat = [job for part in parts for job in part]
    assert len(flat) == len(set(flat)) == 23 and set(flat) == set(jobs)
    assert max(map(len, parts)) - min(map(len, parts)) <= 1
    assert parts == [shard(jobs, i, 4) for i in range(4)]  # order of discovery does not matter


def test_parse_shard():  # 1-based K/N; more in tests/test_cli_batch.py
    assert parse_shard("2/5", {}) == (1, 5)
    assert parse_shard(None, {}) == (0, 1)
    slurm = {"SLURM_ARRAY_TASK_ID": "7", "SLURM_ARRAY_TASK_MIN": "5", "SLURM_ARRAY_TASK_COUNT": "4"}
    assert parse_shard(None, slurm) == (2, 4)
    assert parse_shard("1/2", slurm) == (0, 2)
    for bad in ("0/2", "6/5", "x/2", "3", "-1/2"):
        with pytest.raises(OptionError, match="--shard must be K/N with 1 <= K <= N"):
            parse_shard(bad, {})


def test_fallback_note_when_no_model_ships(monkeypatch):
    from stipplr import neural

    monkeypatch.setattr(neural, "default_model_available", lambda: False)
    engine, note = choose_engine(None)
    assert engine == "lbg" and "no trained neural model ships" in note
    assert choose_engine("dither") == ("dither", None)


SLOW_CLI = """
import sys, time
from stipplr.engines import Engine, register
from stipplr.engines.dither import dither

def slow(darkness, n, *, seed=None):
    time.sleep(0.15)
    return dither(darkness, n, seed=seed)

register(Engine("slow", "dither, slowly", "__main__:slow"))
from stipplr.cli import app
app(["batch", *sys.argv[1:], "--engine", "slow", "-n", "30", "--format", "npz"])
"""


def _outputs(out: Path) -> list[Path]:
    return sorted(p for p in out.rglob("*.npz") if not p.name.startswith("."))


def _start(script: Path, root: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(script), str(root), "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )


def _wait_for_outputs(proc: subprocess.Popen, out: Path, count: int) -> None:
    deadline = time.monotonic() + 60
    while len(_outputs(out)) < count and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the batch finished before it could be interrupted"


@pytest.fixture
def slow_setup(tmp_path):
    root = tmp_path / "in"
    for i in range(20):
        _photo(root / f"d{i % 3}" / f"img{i:02d}.png", i)
    script = tmp_path / "slow_cli.py"
    script.write_text(SLOW_CLI)
    return script, root, tmp_path / "out"


def test_killed_run_leaves_no_partial_output_and_resumes(slow_setup):
    script, root, out = slow_setup
    proc = _start(script, root, out)
    _wait_for_outputs(proc, out, 3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    survivors = _outputs(out)
    assert 3 <= len(survivors) < 20
    for path in survivors:
        assert len(Stipple.load(path)) == 30
    rerun = _start(script, root, out)
    _, stderr = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, stderr
    assert f"{20 - len(survivors)} done, {len(survivors)} skipped" in stderr
    assert len(_outputs(out)) == 20 and not list(out.rglob("*.tmp*"))


def test_ctrl_c_stops_cleanly_with_a_summary(slow_setup):
    script, root, out = slow_setup
    proc = _start(script, root, out)
    _wait_for_outputs(proc, out, 2)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "interrupted; rerun to resume" in stderr
    assert not list(out.rglob("*.tmp*"))
    for path in _outputs(out):
        assert len(Stipple.load(path)) == 30


def test_neural_engine_batches_equal_sizes(tmp_path, monkeypatch):
    import torch

    from stipplr import neural
    from stipplr.batch import Runner
    from stipplr.checkpoints import save_checkpoint
    from stipplr.models import build_model, make_config

    torch.set_num_threads(2)
    tiny = {"encoder": "resnet18", "input_size": 32, "style_dim": 8, "style_layers": 1}
    tiny |= {"grid": 4, "channels": (8, 8, 8), "density_widths": (4,), "offset_widths": (4,)}
    model = tmp_path / "tiny.pt"
    save_checkpoint(model, build_model("li2021", tiny), "li2021", make_config("li2021", tiny))
    for i in range(5):
        _photo(tmp_path / "in" / f"{i}.png", i, (24, 16) if i % 2 else (16, 24))
    sizes = []
    real = neural.predict_batch
    monkeypatch.setattr(
        neural, "predict_batch", lambda r, *a, **k: sizes.append(len(r)) or real(r, *a, **k)
    )
    out = tmp_path / "out"
    jobs = plan(discover([tmp_path / "in"], out), out, ".npz")
    stipple = {"engine": "neural", "model": str(model), "device": "cpu", "points": 20}
    runner = Runner(stipple, "npz")
    summary = runner.run(jobs, batch_size=2)
    assert summary.done == 5 and not summary.failed
    assert sorted(sizes) == [1, 2, 2]  # 3 + 2 images of two sizes, two per network batch
    assert all(Stipple.load(job.output).meta["model"]["arch"] == "li2021" for job in jobs)


def test_output_never_overwrites_an_input(tmp_path):
    photo = _photo(tmp_path / "a.png")
    with pytest.raises(OptionError, match="cannot be an input folder"):
        discover([tmp_path], tmp_path)
    with pytest.raises(OptionError, match="would overwrite it"):
        plan(discover([photo], tmp_path), tmp_path, ".png")


def test_globs_skip_outputs_and_non_images(tmp_path):
    _photo(tmp_path / "a.png")
    _photo(tmp_path / "out" / "a.png")
    (tmp_path / "notes.txt").write_text("x")
    found = discover([str(tmp_path / "**" / "*")], tmp_path / "out")
    assert [f.name for f, _ in found] == ["a.png"]


def test_processes_match_the_serial_run(tree, tmp_path):
    from stipplr.batch import Runner

    settings = {"engine": "dither", "points": 40}
    results = {}
    for processes in (1, 2):
        out = tmp_path / f"out{processes}"
        jobs = plan(discover([tree], out), out, ".npz")
        summary = Runner(settings, "npz").run(jobs, processes=processes)
        assert (summary.done, len(summary.failed)) == (3, 4), summary.failed
        results[processes] = {
            str(job.output.relative_to(out.resolve())): Stipple.load(job.output).xy
            for job in jobs
            if job.output.exists()
        }
    assert results[1].keys() == results[2].keys() and len(results[1]) == 3
    for name, xy in results[1].items():
        np.testing.assert_array_equal(xy, results[2][name])
