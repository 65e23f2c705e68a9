"""Neural inference runtime: model lookup, cache, devices, the API path, batched priming."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import stipplr
from stipplr import neural
from stipplr.checkpoints import save_checkpoint
from stipplr.devices import select_device
from stipplr.errors import OptionError, StipplrError
from stipplr.models import build_model, make_config

torch.set_num_threads(2)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory, tiny_li2021):
    """A tiny random-weight checkpoint in a temporary folder (never shipped)."""
    torch.manual_seed(2)
    path = tmp_path_factory.mktemp("models") / "tiny.pt"
    save_checkpoint(
        path, build_model("li2021", tiny_li2021), "li2021", make_config("li2021", tiny_li2021)
    )
    return path


@pytest.fixture
def photo():
    rng = np.random.default_rng(0)
    rgb = rng.random((12, 18, 3)).astype(np.float32)
    return rgb, 1 - rgb.mean(axis=2)


def test_predict_dots_contract(checkpoint, photo):
    xy, rgb, meta = neural.predict_dots(*photo, 40, model=str(checkpoint), device="cpu")
    assert xy.shape == (40, 2) and rgb.shape == (40, 3)
    assert xy.dtype == np.float32 and xy.min() >= 0 and xy.max() <= 1
    assert meta == {"name": "tiny", "arch": "li2021", "file": "tiny.pt", "device": "cpu"}


def test_model_is_loaded_once(checkpoint):
    assert neural.load_model(str(checkpoint), "cpu") is neural.load_model(str(checkpoint), "cpu")


def test_api_uses_the_network(checkpoint, photo):
    result = stipplr.stipple(photo[0], 30, "neural", model=str(checkpoint), device="cpu")
    assert len(result) == 30 and result.meta["model"]["arch"] == "li2021"


def test_dot_count_outside_model_range_refused(checkpoint, photo):
    with pytest.raises(OptionError, match="places 1 to 512 dots, not 600"):
        neural.predict_dots(*photo, 600, model=str(checkpoint), device="cpu")


def test_unknown_model_option_refused(checkpoint, photo):
    with pytest.raises(OptionError, match="has no option"):
        neural.predict_dots(*photo, 10, model=str(checkpoint), device="cpu", iterations=3)


class _Options(torch.nn.Module):
    """A stand-in network whose predict takes one option of each kind."""

    def predict(self, rgb, darkness, n, *, polish: int = 0, soft: float = 1.0, fast: bool = False):
        raise AssertionError("not called")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"polish": "abc"}, "polish must be a whole number"),
        ({"polish": 1.5}, "polish must be a whole number"),
        ({"soft": "x"}, "soft must be a number"),
        ({"fast": 1}, "fast must be true or false"),
    ],
)
def test_model_option_of_the_wrong_kind_refused(options, message):
    """Regression: ``-E polish=abc`` reached the network and raised a TypeError."""
    loaded = neural.LoadedModel(_Options(), {"name": "stand-in"}, torch.device("cpu"))
    with pytest.raises(OptionError, match=message):
        neural._predict_kwargs(loaded, options)
    assert neural._predict_kwargs(loaded, {"polish": 2, "soft": 3, "fast": True})


def test_unknown_model_name_and_missing_path(tmp_path):
    with pytest.raises(OptionError, match="unknown model 'nosuch'"):
        neural.model_path("nosuch")
    with pytest.raises(StipplrError, match="no such model file"):
        neural.model_path(str(tmp_path / "gone.pt"))


def test_shipped_name_resolves(monkeypatch, checkpoint, tmp_path):
    from stipplr import modelfiles

    monkeypatch.setattr(modelfiles, "SHIPPED_DIR", checkpoint.parent)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))  # no user models
    assert neural.model_path("tiny") == checkpoint
    assert not neural.default_model_available()
    with pytest.raises(StipplrError, match="no trained neural model ships"):
        neural.model_path(None)


def test_corrupt_model_gives_one_line(tmp_path, photo):
    bad = tmp_path / "broken.pt"
    bad.write_bytes(b"\x00" * 100)
    with pytest.raises(StipplrError, match="broken.pt: not a readable checkpoint"):
        neural.predict_dots(*photo, 10, model=str(bad), device="cpu")


def test_devices():
    assert select_device("cpu").type == "cpu"
    assert select_device("auto").type in ("cpu", "cuda", "mps")
    with pytest.raises(OptionError, match="unknown device 'tpu'"):
        select_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(OptionError, match="no CUDA GPU"):
            select_device("cuda")


def test_batched_stipples_match_single_ones_in_one_network_call(checkpoint, monkeypatch):
    import stipplr

    rng = np.random.default_rng(1)
    rgbs = rng.random((3, 10, 14, 3)).astype(np.float32)
    kwargs = {"engine": "neural", "model": str(checkpoint), "device": "cpu"}
    single = [stipplr.stipple(rgb, 20, **kwargs).xy for rgb in rgbs]
    calls = []
    real = neural.predict_batch
    monkeypatch.setattr(
        neural, "predict_batch", lambda r, *a, **k: calls.append(len(r)) or real(r, *a, **k)
    )
    batched = [s.xy for s in stipplr.stipple_many(list(rgbs), 20, **kwargs)]
    np.testing.assert_allclose(np.stack(single), np.stack(batched), atol=1e-5)
    assert calls == [3]  # one network batch for the three equal-size images


def test_models_command_lists_shipped_models(monkeypatch, checkpoint, tmp_path):
    from typer.testing import CliRunner

    from stipplr.cli import app

    weights = tmp_path / "weights"
    weights.mkdir()
    payload = torch.load(checkpoint, weights_only=True)
    payload["meta"] |= {"n_range": [1, 512], "metrics": {"held_out": {"mean": {"psnr_db": 21.5}}}}
    torch.save(payload, weights / "default.pt")
    (weights / "broken.pt").write_bytes(b"nope")
    from stipplr import modelfiles  # stipplr models reads model cards, not checkpoints

    modelfiles.write_card(weights / "default.pt", payload["arch"], payload["meta"])
    monkeypatch.setattr(modelfiles, "SHIPPED_DIR", weights)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))  # no user models
    result = CliRunner().invoke(app, ["models", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["default"]["arch"] == "li2021" and rows["default"]["default"]
    assert "no model card broken.json" in rows["broken"]["error"]
    assert rows["default"]["n_range"] == [1, 512]
    table = CliRunner().invoke(app, ["models"], terminal_width=200)
    assert table.exit_code == 0 and "psnr_db=21.5" in table.stdout and "1-512" in table.stdout


def test_channels_last_keeps_predictions(checkpoint):
    from stipplr.checkpoints import load_checkpoint
    from stipplr.devices import channels_last

    model, _ = load_checkpoint(checkpoint)
    image = torch.rand(1, 3, 12, 12)
    with torch.inference_mode():
        before = model.predict(image, None, 30)[0]
        after = channels_last(model).predict(
            image.contiguous(memory_format=torch.channels_last), None, 30
        )[0]
    assert model.blocks[0].conv.weight.is_contiguous(memory_format=torch.channels_last_3d)
    torch.testing.assert_close(before, after, atol=1e-5, rtol=1e-5)
