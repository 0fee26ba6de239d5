"""Tests of the course data layer: locations, mirrors, checksums, offline errors, partial files."""

import hashlib
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import serve
from dlps import data

ROOT = Path(__file__).resolve().parent.parent
CONTENT = b"temperature,pressure\n300,1.0\n"
SHARED = ROOT.parent / "shared" / "datasets"


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """An empty data directory, no mirrors, no web mirror."""
    for name in (data.DATA_ENV, data.MIRROR_ENV, data.MIRROR_URL_ENV, data.OFFLINE_ENV,
                 data.FIXTURES_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(data.DATA_ENV, str(tmp_path / "data"))
    return tmp_path / "data"


@pytest.fixture
def toy_entry(monkeypatch):
    """A small registry entry whose checksum we know, served from an unreachable URL."""
    entry = data.DataFile("toy", "toy/measurements.csv", len(CONTENT),
                          hashlib.sha256(CONTENT).hexdigest(),
                          ("http://192.0.2.1/measurements.csv",))
    monkeypatch.setitem(data.REGISTRY, entry.relpath, entry)
    monkeypatch.setitem(data.DATASETS, "toy", data.Dataset(
        name="toy", title="a toy file for the tests", source="the test suite", licence="none",
        home="toy", opened_by="open()", files=(entry.relpath,)))
    return entry



@pytest.fixture
def web_mirror(tmp_path):
    """A local HTTP server (127.0.0.1 only) that serves tmp_path/www."""
    www = tmp_path / "www"
    www.mkdir()
    with serve(www) as url:
        yield www, url


def leftovers(folder: Path):
    return sorted(p.name for p in folder.rglob("*") if p.is_file() or p.is_symlink())


def test_data_dir_from_environment(clean_env):
    assert data.data_dir() == clean_env.resolve()
    assert clean_env.is_dir()


def test_data_dir_defaults_to_checkout_data_folder(monkeypatch):
    monkeypatch.delenv(data.DATA_ENV, raising=False)
    assert data.data_dir() == (ROOT / "data").resolve()
    # ...and the checkout ignores it, so downloaded data can never be committed.
    ignored = subprocess.run(["git", "check-ignore", "-q", "data/MNIST/raw/x.gz"], cwd=ROOT)
    assert ignored.returncode == 0


def test_registry_has_every_course_dataset():
    assert set(data.DATASETS) == {"mnist", "fashion_mnist", "wine_quality", "california_housing",
                                  "cifar10", "cifar10_jpeg", "cifar10_mosaic",
                                  "resnet18_weights"}
    for entry in data.REGISTRY.values():
        assert len(entry.sha256) == 64, f"{entry.relpath}: every file is verified by sha256"
        assert entry.size and entry.source
    cifar = data.REGISTRY["cifar-10-python.tar.gz"]
    assert cifar.sha256.startswith("6d958be0") and cifar.md5 == "c58f30108f718f92721af3b95e74349a"
    assert cifar.size == 170498071
    weights = data.REGISTRY["torch/hub/checkpoints/resnet18-f37072fd.pth"]
    assert weights.size == 46830571 and weights.sha256.startswith("f37072fd")
    # The JPEG re-encoding is for measuring only: never in a kit, always announced.
    assert not data.DATASETS["cifar10_jpeg"].kit and data.DATASETS["cifar10_jpeg"].notice
    assert not data.DATASETS["cifar10_mosaic"].kit and data.DATASETS["cifar10_mosaic"].notice


def test_no_code_path_names_a_dataset():
    """The registry is data: fetching, staging and the kit README never branch on a name."""
    import inspect

    for function in (data.fetch, data.fetch_dataset, data.stage_all, data.write_kit_readme,
                     data._obtain, data._fetch_real):
        source = inspect.getsource(function)
        for name in data.DATASETS:
            assert f'"{name}"' not in source, f"{function.__name__} names {name}"


def test_right_md5_with_wrong_sha256_is_refused_before_unpacking(clean_env, monkeypatch):
    """An md5 collision must not get a file past the check: sha256 decides, first."""
    relpath = "cifar-10-python.tar.gz"
    payload = b"not the CIFAR-10 archive, but made to pass an md5 check"
    clean_env.mkdir(parents=True, exist_ok=True)
    (clean_env / relpath).write_bytes(payload)
    entry = data.REGISTRY[relpath]
    monkeypatch.setitem(data.REGISTRY, relpath, data.DataFile(
        entry.dataset, relpath, len(payload), entry.sha256, entry.urls,
        md5=hashlib.md5(payload).hexdigest()))
    unpacked = []
    monkeypatch.setattr(data, "_cifar_from_tarball", lambda *a: unpacked.append(a))
    with pytest.raises(data.ChecksumError, match="sha256"):
        data.load_cifar10(train=False)
    assert unpacked == []


def test_offline_error_names_file_place_and_source(clean_env, toy_entry, monkeypatch):
    monkeypatch.setenv(data.OFFLINE_ENV, "1")
    with pytest.raises(data.DataUnavailableError) as err:
        data.fetch(toy_entry.relpath)
    message = str(err.value)
    assert "toy/measurements.csv" in message                         # which file
    assert str(clean_env.resolve() / "toy" / "measurements.csv") in message  # where to put it
    assert "http://192.0.2.1/measurements.csv" in message           # where it comes from
    assert leftovers(clean_env) == []


def test_no_network_gives_the_same_clear_error(clean_env, toy_entry, no_network):
    with pytest.raises(data.DataUnavailableError, match="download from http://192.0.2.1"):
        data.fetch(toy_entry.relpath)
    assert leftovers(clean_env) == []


@pytest.mark.parametrize("dataset", ["mnist", "wine_quality", "california_housing", "cifar10",
                                     "resnet18_weights"])
def test_real_datasets_fail_clearly_offline_with_empty_data_dir(clean_env, no_network, dataset):
    with pytest.raises(data.DataUnavailableError, match="Put a copy at"):
        data.fetch_dataset(dataset)


def test_mirror_is_linked_and_left_untouched(clean_env, toy_entry, tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    (mirror / "toy").mkdir(parents=True)
    original = mirror / "toy" / "measurements.csv"
    original.write_bytes(CONTENT)
    original.chmod(stat.S_IREAD)
    (mirror / "toy").chmod(stat.S_IREAD | stat.S_IEXEC)      # read-only, like ../shared
    monkeypatch.setenv(data.MIRROR_ENV, f"{tmp_path / 'elsewhere'}{os.pathsep}{mirror}")
    try:
        path = data.fetch(toy_entry.relpath)
        assert path == clean_env.resolve() / toy_entry.relpath
        assert path.read_bytes() == CONTENT
        assert sorted(p.name for p in (mirror / "toy").iterdir()) == ["measurements.csv"]
        assert data.fetch(toy_entry.relpath) == path      # second call: already staged
    finally:
        (mirror / "toy").chmod(stat.S_IRWXU)


def test_corrupt_mirror_file_is_refused(clean_env, toy_entry, tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    (mirror / "toy").mkdir(parents=True)
    (mirror / "toy" / "measurements.csv").write_bytes(CONTENT.replace(b"300", b"301"))
    monkeypatch.setenv(data.MIRROR_ENV, str(mirror))
    with pytest.raises(data.ChecksumError, match="should have"):
        data.fetch(toy_entry.relpath)
    assert leftovers(clean_env) == []


def test_corrupt_file_in_data_dir_is_refused(clean_env, toy_entry):
    target = clean_env / toy_entry.relpath
    target.parent.mkdir(parents=True)
    target.write_bytes(CONTENT[:-2] + b"9\n")   # same size, different bytes
    with pytest.raises(data.ChecksumError, match="sha256"):
        data.fetch(toy_entry.relpath)


def test_download_from_web_mirror_is_verified(clean_env, toy_entry, web_mirror, monkeypatch):
    www, url = web_mirror
    (www / "toy").mkdir()
    (www / "toy" / "measurements.csv").write_bytes(CONTENT)
    monkeypatch.setenv(data.MIRROR_URL_ENV, url)
    path = data.fetch(toy_entry.relpath)
    assert path.read_bytes() == CONTENT
    assert leftovers(clean_env) == ["measurements.csv"]


def test_bad_download_leaves_no_partial_file(clean_env, toy_entry, web_mirror, monkeypatch):
    www, url = web_mirror
    (www / "toy").mkdir()
    (www / "toy" / "measurements.csv").write_bytes(CONTENT[:10])   # truncated copy
    monkeypatch.setenv(data.MIRROR_URL_ENV, url)
    with pytest.raises(data.ChecksumError):
        data.fetch(toy_entry.relpath)
    assert leftovers(clean_env) == []


def test_interrupted_download_leaves_no_partial_file(clean_env, toy_entry, monkeypatch):
    import pooch

    def write_half_then_fail(url, known_hash, fname, path, progressbar):
        Path(path, fname).write_bytes(CONTENT[:5])
        raise ConnectionError("connection reset (simulated)")

    monkeypatch.setattr(pooch, "retrieve", write_half_then_fail)
    with pytest.raises(data.DataUnavailableError, match="ConnectionError"):
        data.fetch(toy_entry.relpath)
    assert leftovers(clean_env) == []


def test_stage_command_reports_and_fails_on_missing(clean_env, toy_entry, tmp_path, monkeypatch,
                                                    capsys):
    from dlps.__main__ import main

    mirror = tmp_path / "mirror"
    (mirror / "toy").mkdir(parents=True)
    (mirror / "toy" / "measurements.csv").write_bytes(CONTENT)
    monkeypatch.setenv(data.MIRROR_ENV, str(mirror))
    monkeypatch.setenv(data.OFFLINE_ENV, "1")
    assert main(["stage", "toy"]) == 0
    assert "1 of 1 files ready" in capsys.readouterr().out
    assert main(["stage", "toy", "wine_quality"]) == 1    # wine is not in this mirror
    out = capsys.readouterr().out
    assert "winequality-red.csv" in out and "is missing" in out


@pytest.mark.skipif(not SHARED.is_dir(), reason="needs the shared offline dataset folder")
def test_shared_folder_serves_every_offline_dataset(clean_env, monkeypatch, no_network):
    """The course's real data, read from the read-only shared folder, verifies and loads."""
    import pandas as pd
    import torchvision
    from sklearn.datasets import fetch_california_housing

    monkeypatch.setenv(data.MIRROR_ENV, str(SHARED))
    red = pd.read_csv(data.fetch("wine-quality/winequality-red.csv"), sep=";")
    white = pd.read_csv(data.fetch("wine-quality/winequality-white.csv"), sep=";")
    assert (len(red), len(white)) == (1599, 4898)
    housing = fetch_california_housing(data_home=data.fetch_dataset("california_housing"),
                                       download_if_missing=False)
    assert housing.data.shape == (20640, 8)
    for name, cls in [("mnist", torchvision.datasets.MNIST),
                      ("fashion_mnist", torchvision.datasets.FashionMNIST)]:
        test_set = cls(root=data.fetch_dataset(name), train=False, download=True)
        assert len(test_set) == 10000
    assert leftovers(SHARED / "MNIST") == sorted(
        p.name for p in (SHARED / "MNIST" / "raw").iterdir())   # nothing unpacked into the mirror


@pytest.fixture(scope="module")
def fixture_index(tmp_path_factory):
    sys.path.insert(0, str(ROOT / "tests"))
    import make_fixtures

    return make_fixtures.main(tmp_path_factory.mktemp("fixtures"))


def test_fixture_fills_in_only_inside_a_test_data_folder(clean_env, fixture_index, monkeypatch,
                                                         capsys):
    monkeypatch.setenv(data.OFFLINE_ENV, "1")
    monkeypatch.setenv(data.FIXTURES_ENV, str(fixture_index))
    images, labels = data.load_cifar10(train=True)
    assert "TEST FIXTURE in use for cifar-10-python.tar.gz" in capsys.readouterr().out
    assert images.dtype == torch_uint8() and images.shape == (500, 3, 32, 32)
    assert labels.shape == (500,) and int(labels.max()) < 10
    assert data.is_fixture("cifar-10-python.tar.gz")
    test_images, _ = data.load_cifar10(train=False)
    assert test_images.shape == (100, 3, 32, 32)

    # Outside the test harness the same staged file is rejected: it is not the real CIFAR-10.
    monkeypatch.delenv(data.FIXTURES_ENV)
    assert not data.is_fixture("cifar-10-python.tar.gz")
    with pytest.raises(data.ChecksumError):
        data.fetch("cifar-10-python.tar.gz")


def test_fixture_never_enters_the_real_data_folder(clean_env, fixture_index, monkeypatch):
    monkeypatch.delenv(data.DATA_ENV)        # the checkout's own data/ folder
    monkeypatch.setenv(data.OFFLINE_ENV, "1")
    monkeypatch.setenv(data.FIXTURES_ENV, str(fixture_index))
    monkeypatch.setenv(data.MIRROR_ENV, str(clean_env / "empty"))
    if (ROOT / "data" / "cifar-10-python.tar.gz").exists():
        pytest.skip("a real CIFAR-10 tarball is present in data/")
    with pytest.raises(RuntimeError, match="must never enter a real data directory"):
        data.fetch("cifar-10-python.tar.gz")
    assert not (ROOT / "data" / "cifar-10-python.tar.gz").exists()


def test_resnet18_fixture_loads_through_torchvision_weights_api(clean_env, fixture_index,
                                                                monkeypatch):
    import torchvision

    monkeypatch.setenv(data.OFFLINE_ENV, "1")
    monkeypatch.setenv(data.FIXTURES_ENV, str(fixture_index))
    monkeypatch.delenv("TORCH_HOME", raising=False)
    home = data.fetch_dataset("resnet18_weights")
    assert os.environ["TORCH_HOME"] == str(home)
    weights = torchvision.models.ResNet18_Weights.IMAGENET1K_V1
    model = torchvision.models.resnet18(weights=weights)   # read from TORCH_HOME, no network
    assert model.fc.out_features == 1000


def test_cifar_jpeg_copy_is_used_only_without_the_archive_and_is_checksummed(
        clean_env, monkeypatch, tmp_path, capsys):
    import numpy as np

    mirror = tmp_path / "mirror"
    rng = np.random.default_rng(1)
    arrays = {"test_images.npy": rng.integers(0, 256, (7, 32, 32, 3), dtype=np.uint8),
              "test_labels.npy": rng.integers(0, 10, 7),
              "train_images.npy": rng.integers(0, 256, (5, 32, 32, 3), dtype=np.uint8),
              "train_labels.npy": rng.integers(0, 10, 5)}
    for name, array in arrays.items():
        relpath = f"cifar-10-npy/{name}"
        (mirror / relpath).parent.mkdir(parents=True, exist_ok=True)
        np.save(mirror / relpath, array)
        content = (mirror / relpath).read_bytes()
        monkeypatch.setitem(data.REGISTRY, relpath, data.DataFile(
            "cifar10_jpeg", relpath, len(content), hashlib.sha256(content).hexdigest()))
    monkeypatch.setenv(data.MIRROR_ENV, str(mirror))
    monkeypatch.setenv(data.OFFLINE_ENV, "1")
    assert data.cifar10_source() == "jpeg-reencoding"
    images, labels = data.load_cifar10(train=False)
    assert images.shape == (7, 3, 32, 32) and labels.shape == (7,)
    assert "JPEG re-encoding" in capsys.readouterr().out          # said wherever it is used
    assert (images.permute(0, 2, 3, 1).numpy() == arrays["test_images.npy"]).all()

    for linked in (clean_env / "cifar-10-npy").iterdir():          # a fresh data folder
        linked.unlink()
    np.save(mirror / "cifar-10-npy" / "test_labels.npy", rng.integers(0, 10, 7))  # tampered
    with pytest.raises(data.ChecksumError):
        data.load_cifar10(train=False)


CIFAR_JPEG = ROOT.parent / "shared" / "cifar10-jpeg"


@pytest.mark.skipif(not (CIFAR_JPEG / "cifar-10-mosaic").is_dir(),
                    reason="needs the shared CIFAR-10 JPEG copy")
def test_cifar_mosaic_serves_gpu_machines_that_take_in_little_data(clean_env, tmp_path,
                                                                   monkeypatch, capsys):
    """With only the 20 MB mosaic and the label files (what a GPU machine is sent), CIFAR-10
    loads, checksummed, as the same images within the mosaic's second JPEG encoding."""
    import numpy as np

    mirror = tmp_path / "mirror"
    (mirror / "cifar-10-npy").mkdir(parents=True)
    (mirror / "cifar-10-mosaic").symlink_to(CIFAR_JPEG / "cifar-10-mosaic")
    for split in ("train", "test"):
        name = f"{split}_labels.npy"
        (mirror / "cifar-10-npy" / name).symlink_to(CIFAR_JPEG / "cifar-10-npy" / name)
    monkeypatch.setenv(data.MIRROR_ENV, str(mirror))
    monkeypatch.setenv(data.OFFLINE_ENV, "1")
    assert data.cifar10_source() == "jpeg-reencoding"
    images, labels = data.load_cifar10(train=False)
    assert "two lossy encodings" in capsys.readouterr().out
    arrays = np.load(CIFAR_JPEG / "cifar-10-npy" / "test_images.npy")
    assert images.shape == (10000, 3, 32, 32)
    assert (labels.numpy() == np.load(CIFAR_JPEG / "cifar-10-npy" / "test_labels.npy")).all()
    difference = np.abs(images.permute(0, 2, 3, 1).numpy().astype(int) - arrays)
    assert difference.mean() < 1.5                 # the README measured 1.06 grey levels
    assert np.abs(difference.reshape(10000, -1).mean(axis=1)).max() < 6  # no tile shifted


def torch_uint8():
    import torch

    return torch.uint8
