"""CPU threads: one core is left to decoding, except for network calls large enough to use
every core."""

from __future__ import annotations

import torch

from stipplr import devices

CPU = torch.device("cpu")


def test_large_calls_get_every_core_and_small_ones_keep_the_configured_threads(monkeypatch):
    before = torch.get_num_threads()
    monkeypatch.setattr(devices, "_ceiling", before + 1)
    with devices.threads_for(devices.LARGE_CALL_DOTS - 1, CPU):
        assert torch.get_num_threads() == before
    with devices.threads_for(devices.LARGE_CALL_DOTS, CPU):
        assert torch.get_num_threads() == before + 1
    assert torch.get_num_threads() == before
    with devices.threads_for(10 * devices.LARGE_CALL_DOTS, torch.device("meta")):
        assert torch.get_num_threads() == before  # not a CPU call


def test_a_lower_thread_count_set_by_the_caller_is_never_raised_past_its_ceiling(monkeypatch):
    before = torch.get_num_threads()
    monkeypatch.setattr(devices, "_ceiling", before)
    with devices.threads_for(10 * devices.LARGE_CALL_DOTS, CPU):
        assert torch.get_num_threads() == before
