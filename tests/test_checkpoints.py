"""Checkpoints: round trip with weights_only, and one-line refusals of bad files."""

from __future__ import annotations

import pytest
import torch

from stipplr.checkpoints import load_checkpoint, read_checkpoint, save_checkpoint
from stipplr.errors import StipplrError
from stipplr.models import build_model, make_config

torch.set_num_threads(2)


@pytest.fixture(scope="module")
def saved(tmp_path_factory, tiny_li2021):
    """A tiny random-weight li2021 checkpoint (for tests only, never shipped)."""
    torch.manual_seed(1)
    config = make_config("li2021", tiny_li2021)
    model = build_model("li2021", tiny_li2021).eval()
    path = tmp_path_factory.mktemp("ckpt") / "tiny.pt"
    save_checkpoint(path, model, "li2021", config, {"name": "tiny", "n_range": [1, 64]})
    return path, model


def test_round_trip_gives_identical_predictions(saved):
    path, model = saved
    loaded, meta = load_checkpoint(path)
    assert meta["arch"] == "li2021" and meta["name"] == "tiny" and "created" in meta
    assert not loaded.training
    image = torch.rand(1, 3, 12, 12)
    with torch.inference_mode():
        assert torch.equal(model.predict(image, None, 10)[0], loaded.predict(image, None, 10)[0])


def test_checkpoint_is_plain_data(saved):
    payload = torch.load(saved[0], weights_only=True)
    assert payload["format"] == "stipplr-model" and payload["format_version"] == 1
    assert list(payload["config"]["channels"]) == [8, 8, 8, 8, 8]
    assert all(isinstance(v, torch.Tensor) for v in payload["state_dict"].values())


def test_state_dict_of_another_config_refused(saved, tmp_path):
    payload = torch.load(saved[0], weights_only=True)
    payload["config"]["style_dim"] = 32
    torch.save(payload, tmp_path / "mismatch.pt")
    with pytest.raises(StipplrError, match=r"mismatch\.pt: weights do not fit architecture"):
        load_checkpoint(tmp_path / "mismatch.pt")


def test_unknown_architecture_refused(saved, tmp_path):
    payload = torch.load(saved[0], weights_only=True)
    payload["arch"] = "nosuchnet"
    torch.save(payload, tmp_path / "other.pt")
    with pytest.raises(StipplrError, match=r"other\.pt: unknown architecture 'nosuchnet'"):
        load_checkpoint(tmp_path / "other.pt")


def test_other_architecture_weights_refused(saved, tmp_path):
    payload = torch.load(saved[0], weights_only=True)
    payload["arch"] = "lloydnet"
    payload["config"] = {}
    torch.save(payload, tmp_path / "swapped.pt")
    with pytest.raises(StipplrError, match=r"swapped\.pt: .*'lloydnet'") as info:
        load_checkpoint(tmp_path / "swapped.pt")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "not a readable checkpoint"),
        (b"garbage" * 10, "not a readable checkpoint"),
        ("truncated", "not a readable checkpoint"),
        ("plain", "not a stipplr model checkpoint"),
    ],
)
def test_corrupt_files_refused_in_one_line(saved, tmp_path, content, reason):
    path = tmp_path / "bad.pt"
    if content == "truncated":
        data = saved[0].read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif content == "plain":
        torch.save({"weights": torch.zeros(3)}, path)
    else:
        path.write_bytes(content)
    with pytest.raises(StipplrError, match=reason) as info:
        read_checkpoint(path)
    assert "\n" not in str(info.value) and "bad.pt" in str(info.value)
    assert "weights_only" not in str(info.value)  # regression: torch's advice to load unsafely


def test_pickled_code_refused(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"format": "stipplr-model", "obj": object()}, path)
    with pytest.raises(StipplrError, match="not a readable checkpoint.*refused for safety"):
        read_checkpoint(path)


def test_missing_file_refused(tmp_path):
    with pytest.raises(StipplrError, match="no such model file"):
        read_checkpoint(tmp_path / "absent.pt")
