"""The offline workshop kit: staged, verified, packed, then used with the network unavailable."""

import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from dlps import data

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "datasets"


@pytest.fixture
def isolated(monkeypatch):
    for name in (data.DATA_ENV, data.MIRROR_ENV, data.MIRROR_URL_ENV, data.OFFLINE_ENV,
                 data.FIXTURES_ENV, "TORCH_HOME"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def internet(tmp_path, monkeypatch):
    """Stand-in for the official hosts: every file the course needs, in a folder.

    The freely redistributable datasets come from the shared course folder.  CIFAR-10 and the
    ResNet18 weights are not available on this machine, so the registry entries of those two
    are pointed at the test fixtures (same formats, their own checksums) for this test only:
    the kit mechanism is exercised for every registry entry without claiming the real files.
    """
    sys.path.insert(0, str(ROOT / "tests"))
    import make_fixtures

    fixtures = json.loads(make_fixtures.main(tmp_path / "fixtures").read_text())
    source = tmp_path / "internet"
    for relpath, entry in data.REGISTRY.items():
        if not data.DATASETS[entry.dataset].kit:
            continue
        target = source / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        real = SHARED / relpath
        if real.is_file():
            target.symlink_to(real)
        elif relpath in fixtures:
            target.symlink_to(fixtures[relpath]["path"])
            size = Path(fixtures[relpath]["path"]).stat().st_size
            monkeypatch.setitem(data.REGISTRY, relpath, data.DataFile(
                entry.dataset, relpath, size, fixtures[relpath]["sha256"], entry.urls))
        else:
            pytest.fail(f"no source for {relpath}")
    return source


@pytest.mark.skipif(not SHARED.is_dir(), reason="needs the shared offline dataset folder")
def test_kit_serves_every_dataset_offline(isolated, internet, tmp_path, monkeypatch):
    from dlps.__main__ import main

    # 1. The instructor stages and verifies everything, then packs the kit.
    kit = tmp_path / "kit" / "dlps-data"
    monkeypatch.setenv(data.DATA_ENV, str(kit))
    monkeypatch.setenv(data.MIRROR_ENV, str(internet))
    assert main(["stage"]) == 0
    assert main(["kit-readme", str(kit)]) == 0
    readme = (kit / "README.txt").read_text()
    assert "MISSING  from" not in readme and "DLPS_DATA" in readme
    archive = tmp_path / "kit.tar"
    with tarfile.open(archive, "w", dereference=True) as tar:   # real files, not links
        tar.add(kit, arcname="dlps-data")

    # 2. A participant unpacks it on a machine with no network at all.
    room = tmp_path / "room"
    with tarfile.open(archive) as tar:
        assert not any(member.issym() for member in tar.getmembers())
        tar.extractall(room, filter="data")
    block = ("import socket\n"
             "def refuse(*a, **k): raise OSError('no network in the workshop room')\n"
             "socket.getaddrinfo = refuse\nsocket.socket.connect = refuse\n")
    script = block + """
import os, torchvision, pandas as pd
from sklearn.datasets import fetch_california_housing
from dlps import data
for name in ("mnist", "fashion_mnist"):
    cls = torchvision.datasets.MNIST if name == "mnist" else torchvision.datasets.FashionMNIST
    assert len(cls(root=data.fetch_dataset(name), train=False, download=True)) == 10000
assert len(pd.read_csv(data.fetch("wine-quality/winequality-white.csv"), sep=";")) == 4898
home = data.fetch_dataset("california_housing")
assert fetch_california_housing(data_home=home, download_if_missing=False).data.shape == (20640, 8)
print("ok")
"""
    for variables in ({data.DATA_ENV: str(room / "dlps-data")},           # kit as data folder
                      {data.MIRROR_ENV: str(room / "dlps-data"),            # kit kept read-only
                       data.DATA_ENV: str(tmp_path / "private")}):
        env = {k: v for k, v in __import__("os").environ.items()
               if not k.startswith("DLPS_") and k != "TORCH_HOME"}
        env.update(variables)
        run = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                             text=True, timeout=300)
        assert run.returncode == 0 and run.stdout.strip().endswith("ok"), run.stderr[-3000:]

    # The same kit also serves CIFAR-10 and the pretrained weights (here: their fixtures,
    # checked against the checksums registered for this test) with no network.
    monkeypatch.setenv(data.DATA_ENV, str(tmp_path / "private2"))
    monkeypatch.setenv(data.MIRROR_ENV, str(room / "dlps-data"))
    monkeypatch.setenv(data.OFFLINE_ENV, "1")
    images, labels = data.load_cifar10(train=False)
    assert images.shape[1:] == (3, 32, 32) and len(labels) == len(images)
    home = data.fetch_dataset("resnet18_weights")
    assert (home / "hub" / "checkpoints" / "resnet18-f37072fd.pth").is_file()
