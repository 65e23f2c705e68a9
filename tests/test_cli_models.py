"""Models as users of torchvision-style hubs expect: ``stipplr models`` lists shipped and
user models without importing torch, ``--model NAME`` finds a user model, and
``python -m training.export`` writes to the user's folder, says where, and never replaces
a file or a shipped model without ``--force``."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stipplr import modelfiles, neural
from stipplr.cli import app
from stipplr.errors import StipplrError

runner = CliRunner()
SHIPPED = modelfiles.SHIPPED_DIR / "default.pt"


@pytest.fixture
def user_dir(tmp_path, monkeypatch) -> Path:
    """An empty user data folder (platformdirs follows XDG_DATA_HOME)."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    folder = modelfiles.user_model_dir()
    assert folder == tmp_path / "data" / "stipplr" / "models"
    return folder


def add_user_model(folder: Path, name: str) -> Path:
    """A copy of the shipped model and its card as the user's model ``name``."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(SHIPPED, folder / f"{name}.pt")
    shutil.copy(modelfiles.card_path(SHIPPED), folder / f"{name}.json")
    return folder / f"{name}.pt"


def rows() -> dict[str, list[dict]]:
    result = runner.invoke(app, ["models", "--json"])
    assert result.exit_code == 0, result.output
    found: dict[str, list[dict]] = {}
    for row in json.loads(result.stdout):
        found.setdefault(row["name"], []).append(row)
    return found


def test_models_lists_without_importing_torch(tmp_path):
    code = (
        "import json, sys\n"
        "from typer.testing import CliRunner\n"
        "from stipplr.cli import app\n"
        "result = CliRunner().invoke(app, ['models'], terminal_width=120)\n"
        "assert result.exit_code == 0, result.output\n"
        "print(json.dumps({'torch': 'torch' in sys.modules, 'table': result.stdout}))\n"
    )
    env = {"PATH": "/usr/bin:/bin", "XDG_DATA_HOME": str(tmp_path), "HOME": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    report = json.loads(out.stdout)
    assert report["torch"] is False
    assert "lloydnet" in report["table"] and "psnr_db=" in report["table"]


def test_the_shipped_model_has_a_card_that_matches_it():
    card = modelfiles.read_card(SHIPPED)
    assert card["arch"] == "relaxnet" and card["n_range"] == [1, 200000]
    assert card["metrics"]["held_out"]["mean"]["psnr_db"] > 38
    lloydnet = modelfiles.read_card(SHIPPED.with_name("lloydnet.pt"))
    assert lloydnet["arch"] == "lloydnet" and lloydnet["n_range"] == [500, 100000]


def test_user_models_are_listed_and_found_by_name(user_dir):
    path = add_user_model(user_dir, "mine")
    found = rows()
    assert found["mine"][0]["origin"] == "user" and found["mine"][0]["arch"] == "relaxnet"
    assert found["default"][0]["origin"] == "shipped" and found["default"][0]["default"]
    assert modelfiles.model_path("mine") == path == neural.model_path("mine")
    table = runner.invoke(app, ["models"], env={"COLUMNS": "300"})
    assert f"user folder: {user_dir}" in table.stdout and "mine (user)" in table.stdout


def test_a_user_model_under_a_shipped_name_shadows_it(user_dir):
    path = add_user_model(user_dir, "default")
    shipped, user = rows()["default"]
    assert (shipped["origin"], shipped["shadowed"], shipped["default"]) == ("shipped", True, False)
    assert (user["origin"], user["default"]) == ("user", True)
    assert modelfiles.model_path(None) == path


def test_a_missing_or_stale_card_is_shown_not_fatal(user_dir):
    add_user_model(user_dir, "nocard").with_suffix(".json").unlink()
    stale = add_user_model(user_dir, "stale")
    with open(stale, "ab") as f:
        f.write(b"\0")  # the checkpoint changed after its card was written
    found = rows()
    assert "no model card nocard.json" in found["nocard"][0]["error"]
    assert "stale.json describes another stale.pt" in found["stale"][0]["error"]
    assert found["default"][0]["arch"] == "relaxnet" and found["lloydnet"][0]["arch"] == "lloydnet"


def test_an_unknown_model_names_both_folders(user_dir):
    with pytest.raises(StipplrError, match="unknown model 'nosuch'") as info:
        modelfiles.model_path("nosuch")
    assert str(user_dir) in str(info.value) and "default" in str(info.value)


# python -m training.export


@pytest.fixture
def run_dir(tmp_path) -> Path:
    """A run folder with one tiny lloydnet checkpoint, as training.run leaves it."""
    import torch

    from stipplr.checkpoints import save_checkpoint
    from stipplr.models import build_model, make_config
    from stipplr.tomlfile import dump_toml

    config = {"widths": [4, 8], "subcells": 2}
    torch.manual_seed(0)
    model = build_model("lloydnet", config)
    run = tmp_path / "run"
    save_checkpoint(
        run / "checkpoints" / "best.pt", model, "lloydnet", make_config("lloydnet", config)
    )
    cfg = {"model": {"arch": "lloydnet", "config": config}, "data": {"dir": str(tmp_path)}}
    (run / "config.toml").write_text(dump_toml(cfg))
    return run


@pytest.fixture
def shipped_dir(tmp_path, monkeypatch) -> Path:
    """A stand-in for the package's shipped models (so no test can touch the real ones)."""
    import training.export as export

    folder = tmp_path / "weights"
    folder.mkdir()
    shutil.copy(SHIPPED, folder / "default.pt")
    monkeypatch.setattr(modelfiles, "SHIPPED_DIR", folder)
    monkeypatch.setattr(export, "CHECKOUT_WEIGHTS_DIR", folder)
    return folder


def export(*args: object) -> int:
    """Run ``python -m training.export ARGS`` in this process; its exit code."""
    from training.export import main

    try:
        main([str(a) for a in args])
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_export_writes_to_the_user_folder_and_says_where(run_dir, user_dir, shipped_dir, capsys):
    code = export(run_dir, "--name", "mine", "--no-eval")
    out = capsys.readouterr().out
    assert code == 0
    written = user_dir / "mine.pt"
    assert f"wrote {written}" in out and "--model mine" in out
    assert modelfiles.read_card(written)["arch"] == "lloydnet"
    assert rows()["mine"][0]["origin"] == "user"
    assert modelfiles.model_path("mine") == written


def test_export_never_replaces_without_force(run_dir, user_dir, shipped_dir, capsys):
    assert export(run_dir, "--name", "mine", "--no-eval") == 0
    before = (user_dir / "mine.pt").read_bytes()
    capsys.readouterr()
    assert export(run_dir, "--name", "mine", "--no-eval") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "exists; add --force" in err[0]
    assert (user_dir / "mine.pt").read_bytes() == before
    assert export(run_dir, "--name", "mine", "--no-eval", "--force") == 0


@pytest.mark.parametrize("target", ["out", "name"])
def test_export_never_replaces_or_shadows_a_shipped_model(
    run_dir, user_dir, shipped_dir, capsys, target
):
    before = (shipped_dir / "default.pt").read_bytes()
    args = ["--out", shipped_dir / "default.pt"] if target == "out" else ["--name", "default"]
    assert export(run_dir, *args, "--no-eval") == 2
    err = capsys.readouterr().err
    assert "ships with stipplr" in err and "--force" in err
    assert (shipped_dir / "default.pt").read_bytes() == before
    assert not (user_dir / "default.pt").exists()


def test_export_of_a_missing_run_is_one_line(tmp_path, user_dir, capsys):
    assert export(tmp_path / "nope", "--no-eval") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"python -m training.export: error: {tmp_path / 'nope'}: no such run folder"]
