"""Unit tests of the helper package: device, profile, seeding."""

import random

import numpy as np
import pytest
import torch

import dlps


@pytest.fixture
def no_accelerator(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)


def test_device_falls_back_to_cpu(no_accelerator, capsys):
    assert dlps.get_device() == torch.device("cpu")
    assert "Using device: cpu" in capsys.readouterr().out


def test_device_prefers_mps_over_cpu(no_accelerator, monkeypatch, capsys):
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert dlps.get_device().type == "mps"
    assert "mps" in capsys.readouterr().out


def test_device_prefers_cuda_over_mps(monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda index=0: "Mock GPU")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert dlps.get_device().type == "cuda"
    assert "Mock GPU" in capsys.readouterr().out


def test_device_quiet(no_accelerator, capsys):
    dlps.get_device(verbose=False)
    assert capsys.readouterr().out == ""


def test_profile_default_depends_on_cuda(monkeypatch):
    monkeypatch.delenv(dlps.PROFILE_ENV, raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert dlps.get_profile() == "laptop"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert dlps.get_profile() == "full"


@pytest.mark.parametrize("raw, parsed", [("smoke", "smoke"), (" Laptop ", "laptop"),
                                         ("FULL", "full"), ("", "laptop")])
def test_profile_parsing(monkeypatch, no_accelerator, raw, parsed):
    monkeypatch.setenv(dlps.PROFILE_ENV, raw)
    assert dlps.get_profile() == parsed


@pytest.mark.parametrize("bad", ["fast", "gpu", "smoke,laptop", "0"])
def test_profile_rejects_bad_values(monkeypatch, bad):
    monkeypatch.setenv(dlps.PROFILE_ENV, bad)
    with pytest.raises(ValueError, match="is not a profile") as err:
        dlps.get_profile()
    assert repr(bad) in str(err.value)


def test_by_profile(monkeypatch):
    monkeypatch.setenv(dlps.PROFILE_ENV, "smoke")
    assert dlps.by_profile(smoke=1, laptop=10, full=100) == 1
    assert dlps.by_profile(smoke=1, laptop=10, full=100, profile="full") == 100
    with pytest.raises(TypeError):
        dlps.by_profile(smoke=1, laptop=10)  # every profile must be given a value


def test_seed_everything_repeats_all_generators():
    def draw():
        return random.random(), np.random.rand(), torch.rand(1).item()

    dlps.seed_everything(123)
    first = draw()
    dlps.seed_everything(123)
    assert draw() == first
    dlps.seed_everything(124)
    assert draw() != first


def test_show_setup_reports_profile_and_device(monkeypatch, no_accelerator, capsys):
    monkeypatch.setenv(dlps.PROFILE_ENV, "smoke")
    profile, device = dlps.show_setup(seed=1)
    out = capsys.readouterr().out
    assert (profile, device.type) == ("smoke", "cpu")
    assert "Profile: smoke" in out and "Using device: cpu" in out
