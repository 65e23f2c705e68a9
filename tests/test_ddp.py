"""DDP smoke test: ``torchrun`` with two CPU processes (gloo) trains a tiny lloydnet."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

from training.data import Settings, make_dataset

CONFIG = Path(__file__).resolve().parent.parent / "training" / "configs" / "lloydnet.toml"


def test_two_process_gloo_run_writes_one_log_and_checkpoints(tmp_path):
    data = tmp_path / "data"
    make_dataset(data, Settings(count=4, val_count=1, cells=(8, 10), n_range=(20, 80)), 1)
    run_dir = tmp_path / "run"
    overrides = [
        f"data.dir={json.dumps(str(data))}",
        f"run.dir={json.dumps(str(run_dir))}",
        "model.config.widths=[4, 8]",
        "model.config.subcells=2",
        "train.epochs=2",
        "train.batch_size=1",
        "train.threads=1",
    ]
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    command += ["--nproc_per_node=2", "-m", "training.run", "--config", str(CONFIG)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command + overrides, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    with open(run_dir / "log.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [row["epoch"] for row in rows] == ["1", "2"]
    assert (run_dir / "checkpoints" / "last.pt").is_file()
