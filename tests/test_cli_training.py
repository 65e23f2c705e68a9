"""``python -m training.run`` on the command line: overrides checked (an unknown key or a
value of the wrong kind is one line naming the key) and a config found from any folder."""

from __future__ import annotations

import pytest

from training.config import load_config
from training.paths import CHECKOUT

CONFIG = "training/configs/lloydnet.toml"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("train.epoch=1", "unknown key train.epoch (its table has: epochs, batch_size"),
        ("train.epochs=abc", "train.epochs must be a whole number, got 'abc'"),
        ("train.lr=fast", "train.lr must be a number, got 'fast'"),
        ("data.augment=1", "data.augment must be true or false, got '1'"),
        ("trian.epochs=1", "unknown table trian"),
        ("train.epochs", "must look like key=value"),
    ],
)
def test_a_bad_override_is_one_line_naming_the_key(override, message):
    with pytest.raises(SystemExit) as info:
        load_config(CHECKOUT / CONFIG, [override])
    text = str(info.value)
    assert text.startswith("python -m training.run: error: ") and "\n" not in text
    assert message in text


def test_good_overrides_keep_their_kinds():
    cfg = load_config(CHECKOUT / CONFIG, ["train.epochs=2", "train.lr=1", "run.note='x y'"])
    assert cfg["train"]["epochs"] == 2 and cfg["train"]["lr"] == 1 and cfg["run"]["note"] == "x y"


def test_a_config_is_found_relative_to_the_checkout(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_config(CONFIG)["model"]["arch"] == "lloydnet"
    with pytest.raises(SystemExit, match="nope.toml: no such config file"):
        load_config("nope.toml")


def test_the_command_refuses_an_unknown_key_before_any_work(tmp_path, monkeypatch):
    from training.run import main

    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit, match="unknown key train.epoch"):
        main(["--config", CONFIG, "train.epoch=1"])
    assert not (tmp_path / "runs").exists()  # refused before anything was made
