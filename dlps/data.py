"""The course data directory and the registry of every file the course reads.

Where files live
    ``data_dir()`` is ``$DLPS_DATA`` when that is set, else the git-ignored ``data/`` folder
    of a course checkout, else ``~/.cache/dlps``.  It must be writable: torchvision unpacks
    archives next to them.

Where files come from, in this order
    1. the data directory itself (already staged earlier);
    2. read-only local mirrors listed in ``$DLPS_MIRROR`` (folders with the same layout, such
       as a workshop kit or a shared course folder); the file is linked, never changed;
    3. a byte-identical web mirror ``$DLPS_MIRROR_URL`` (a URL prefix; useful where an official
       host is slow, as CIFAR-10's is for many users);
    4. the official URLs in the registry, unless ``$DLPS_OFFLINE=1``.
Every file is checked against its published checksum before it is used.  Downloads go to a
temporary name and are renamed only when complete and verified, so a partial file never
appears.  When nothing works, ``DataUnavailableError`` says which file is missing, where to
put it and where it comes from.

Lessons use it like this (Lesson 3 shows the raw call)::

    path = dlps.data.fetch("wine-quality/winequality-red.csv")
    root = dlps.data.fetch_dataset("mnist")          # then torchvision.datasets.MNIST(root=root)
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import tarfile
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "DATASETS",
    "REGISTRY",
    "ChecksumError",
    "DataFile",
    "DataUnavailableError",
    "california_housing_home",
    "data_dir",
    "fetch",
    "fetch_dataset",
    "file_status",
    "is_fixture",
    "load_cifar10",
    "stage_all",
    "write_kit_readme",
    "torch_home",
]

DATA_ENV = "DLPS_DATA"
MIRROR_ENV = "DLPS_MIRROR"
MIRROR_URL_ENV = "DLPS_MIRROR_URL"
OFFLINE_ENV = "DLPS_OFFLINE"
#: Set only by the test harness (tests/make_fixtures.py): a JSON file naming stand-in files for
#: registry entries that cannot be obtained in the test environment.
FIXTURES_ENV = "DLPS_TEST_FIXTURES"


class DataUnavailableError(RuntimeError):
    """A course data file is missing and could not be obtained."""


class ChecksumError(RuntimeError):
    """A data file exists but its content differs from the published checksum."""


@dataclass(frozen=True)
class DataFile:
    """One file of the registry.

    ``relpath`` is the path inside the data directory (and inside any mirror); ``sha256`` and
    ``md5`` are published checksums (at least one is given); ``urls`` are official sources,
    tried in order.
    """

    dataset: str
    relpath: str
    size: int | None
    urls: tuple[str, ...]
    source: str
    sha256: str | None = None
    md5: str | None = None


_MNIST_URLS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
_MNIST_SOURCE = "MNIST, Y. LeCun, C. Cortes and C. J. C. Burges (CC BY-SA 3.0), mirrored by torchvision"
_FASHION_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
_FASHION_SOURCE = "Fashion-MNIST, Xiao, Rasul and Vollgraf 2017, Zalando Research (MIT licence)"
_WINE_URL = "https://archive.ics.uci.edu/ml/machine-learning-databases/wine-quality/"
_WINE_SOURCE = "Wine Quality, Cortez et al. 2009, UCI Machine Learning Repository (CC BY 4.0)"


def _mnist_like(dataset, folder, base_urls, source, files):
    return [
        DataFile(dataset, f"{folder}/raw/{name}", size, tuple(u + name for u in base_urls), source,
                 sha256=sha, md5=md5)
        for name, size, md5, sha in files
    ]


_FILES = (
    _mnist_like("mnist", "MNIST", _MNIST_URLS, _MNIST_SOURCE, [
        ("train-images-idx3-ubyte.gz", 9912422, "f68b3c2dcbeaaa9fbdd348bbdeb94873",
         "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
        ("train-labels-idx1-ubyte.gz", 28881, "d53e105ee54ea40749a09fcbcd1e9432",
         "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
        ("t10k-images-idx3-ubyte.gz", 1648877, "9fb629c4189551a2d022fa330f9573f3",
         "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
        ("t10k-labels-idx1-ubyte.gz", 4542, "ec29112dd5afa0611ce80d1b7f02629c",
         "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
    ])
    + _mnist_like("fashion_mnist", "FashionMNIST", (_FASHION_URL,), _FASHION_SOURCE, [
        ("train-images-idx3-ubyte.gz", 26421880, "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
         "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"),
        ("train-labels-idx1-ubyte.gz", 29515, "25c81989df183df01b3e8a0aad5dffbe",
         "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"),
        ("t10k-images-idx3-ubyte.gz", 4422102, "bef4ecab320f06d8554ea6380940ec79",
         "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"),
        ("t10k-labels-idx1-ubyte.gz", 5148, "bb300cfdad3c16e7a12a480ee83cd310",
         "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"),
    ])
    + [
        DataFile("wine_quality", "wine-quality/winequality-red.csv", 84199,
                 (_WINE_URL + "winequality-red.csv",), _WINE_SOURCE,
                 sha256="4a402cf041b025d4566d954c3b9ba8635a3a8a01e039005d97d6a710278cf05e"),
        DataFile("wine_quality", "wine-quality/winequality-white.csv", 264426,
                 (_WINE_URL + "winequality-white.csv",), _WINE_SOURCE,
                 sha256="76c3f809815c17c07212622f776311faeb31e87610d52c26d87d6e361b169836"),
        # scikit-learn's own cache of the data (see california_housing_home).  It has no URL of
        # its own: online, scikit-learn downloads cal_housing.tgz, checks it and builds this file.
        DataFile("california_housing", "california_housing/cal_housing_py3.pkz", 366871, (),
                 "California housing, Pace and Barry 1997, StatLib; built by scikit-learn's "
                 "fetch_california_housing from https://ndownloader.figshare.com/files/5976036 "
                 "(cal_housing.tgz, sha256 aaa5c9a6afe2225cc2aed2723682ae403280c4a3695a2ddda4ff"
                 "b5d8215ea681)",
                 sha256="740b911884b5405599c461cf5c9a620aad36c63a0d32494567de2ebee803a42f"),
        DataFile("cifar10", "cifar-10-python.tar.gz", 170498071,
                 ("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",),
                 "CIFAR-10, A. Krizhevsky 2009, University of Toronto",
                 md5="c58f30108f718f92721af3b95e74349a"),
        DataFile("resnet18_weights", "torch/hub/checkpoints/resnet18-f37072fd.pth", 46830571,
                 ("https://download.pytorch.org/models/resnet18-f37072fd.pth",),
                 "torchvision ResNet18_Weights.IMAGENET1K_V1 (BSD-3-Clause)",
                 sha256="f37072fd47e89c5e827621c5baffa7500819f7896bbacec160b1a16c560e07ec"),
    ]
)

#: Every file the course reads, by its path inside the data directory.
REGISTRY: dict[str, DataFile] = {f.relpath: f for f in _FILES}
#: Dataset name -> the registry paths that make it up.
DATASETS: dict[str, list[str]] = {}
for _f in _FILES:
    DATASETS.setdefault(_f.dataset, []).append(_f.relpath)


# --------------------------------------------------------------------------- locations
def _checkout_root() -> Path | None:
    """The course checkout this package sits in (it has ``_config.yml``), if any."""
    root = Path(__file__).resolve().parent.parent
    return root if (root / "_config.yml").is_file() else None


def data_dir() -> Path:
    """The course data directory (created if needed).  See the module docstring."""
    if os.environ.get(DATA_ENV):
        path = Path(os.environ[DATA_ENV]).expanduser()
    elif _checkout_root() is not None:
        path = _checkout_root() / "data"
    else:
        path = Path.home() / ".cache" / "dlps"
    path.mkdir(parents=True, exist_ok=True)
    return path.resolve()


def _mirror_dirs() -> list[Path]:
    raw = os.environ.get(MIRROR_ENV, "")
    return [Path(p).expanduser() for p in raw.split(os.pathsep) if p.strip()]


def _offline() -> bool:
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in {"1", "true", "yes"}


# --------------------------------------------------------------------------- checksums
def _digest(path: Path, algorithm: str) -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _check(path: Path, entry: DataFile) -> None:
    """Raise ChecksumError unless ``path`` has the published size and checksum."""
    size = path.stat().st_size
    if entry.size is not None and size != entry.size:
        raise ChecksumError(
            f"{path} has {size} bytes, but {entry.relpath} should have {entry.size} "
            f"(source: {entry.source}). Delete it and fetch it again."
        )
    algorithm, expected = ("sha256", entry.sha256) if entry.sha256 else ("md5", entry.md5)
    actual = _digest(path, algorithm)
    if actual != expected:
        raise ChecksumError(
            f"{path} has {algorithm} {actual}, but {entry.relpath} should have {expected} "
            f"(source: {entry.source}). Delete it and fetch it again."
        )


# --------------------------------------------------------------------------- fetching
def _link_or_copy(source: Path, target: Path) -> None:
    """Put ``source`` at ``target`` without ever leaving a half-written target."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        try:
            os.symlink(source.resolve(), tmp)
        except OSError:  # file systems without symlinks: copy instead
            shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    finally:
        if tmp.is_symlink() or tmp.exists():
            tmp.unlink()


def _download(url: str, target: Path, entry: DataFile) -> None:
    """Download ``url`` to ``target`` through a temporary file, checked before renaming."""
    import pooch  # imported here so that `import dlps` stays quick

    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".download-") as tmpdir:
        known = f"sha256:{entry.sha256}" if entry.sha256 else f"md5:{entry.md5}"
        try:
            fetched = pooch.retrieve(url, known_hash=known, fname=target.name, path=tmpdir,
                                     progressbar=False)
        except ValueError as err:  # pooch's message for a hash mismatch
            raise ChecksumError(f"{url} did not match the published checksum: {err}") from err
        os.replace(fetched, target)


def _unavailable(entry: DataFile, target: Path, reasons: list[str]) -> DataUnavailableError:
    why = "; ".join(reasons) if reasons else "no source was tried"
    checksum = f"sha256 {entry.sha256}" if entry.sha256 else f"md5 {entry.md5}"
    return DataUnavailableError(
        f"Course data file '{entry.relpath}' is missing and could not be obtained ({why}).\n"
        f"  Put a copy at: {target}\n"
        f"  (or point {MIRROR_ENV} at a folder that holds '{entry.relpath}', e.g. a workshop kit)\n"
        f"  It comes from: {', '.join(entry.urls) or 'see below'}\n"
        f"  Dataset: {entry.source}; expected {checksum}."
    )


def fetch(relpath: str) -> Path:
    """Return the local path of a verified registry file, staging or downloading it if needed."""
    try:
        entry = REGISTRY[relpath]
    except KeyError:
        raise KeyError(f"{relpath!r} is not in the course data registry") from None
    target = data_dir() / relpath
    if is_fixture(relpath):
        return target
    if target.exists():
        _check(target, entry)
        return target
    try:
        return _obtain(entry, target)
    except DataUnavailableError:
        if relpath not in _fixtures():
            raise
        return _use_fixture(relpath, target)


def _obtain(entry: DataFile, target: Path) -> Path:
    """Stage ``entry`` at ``target`` from a mirror folder or a download."""
    reasons = []
    for mirror in _mirror_dirs():
        candidate = mirror / entry.relpath
        if candidate.is_file():
            _check(candidate, entry)
            _link_or_copy(candidate, target)
            return target
        reasons.append(f"not in mirror {mirror}")

    if _offline():
        reasons.append(f"{OFFLINE_ENV} is set, so nothing was downloaded")
        raise _unavailable(entry, target, reasons)
    if not entry.urls and not os.environ.get(MIRROR_URL_ENV):
        reasons.append("it has no download URL of its own")
        raise _unavailable(entry, target, reasons)

    urls = list(entry.urls)
    if os.environ.get(MIRROR_URL_ENV):
        urls.insert(0, os.environ[MIRROR_URL_ENV].rstrip("/") + "/" + entry.relpath)
    for url in urls:
        try:
            _download(url, target, entry)
            return target
        except ChecksumError:
            raise
        except Exception as err:  # network errors differ by library and platform
            reasons.append(f"download from {url} failed: {type(err).__name__}")
    raise _unavailable(entry, target, reasons)


# --------------------------------------------------------------------------- test fixtures
def _fixtures() -> dict:
    path = os.environ.get(FIXTURES_ENV)
    return json.loads(Path(path).read_text()) if path else {}


def is_fixture(relpath: str) -> bool:
    """True when this run uses the test harness's stand-in for ``relpath`` (never for readers).

    Notebooks call it to say so loudly and to skip accuracy floors that random stand-in data
    cannot meet; the code path still runs end to end.
    """
    fixture = _fixtures().get(relpath)
    target = data_dir() / relpath
    return bool(fixture) and target.exists() and _digest(target, "sha256") == fixture["sha256"]


def _use_fixture(relpath: str, target: Path) -> Path:
    """Stage the test harness's stand-in for a file the tests cannot obtain."""
    if not os.environ.get(DATA_ENV) or _checkout_root() and data_dir() == _checkout_root() / "data":
        raise RuntimeError(f"{FIXTURES_ENV} is set but {DATA_ENV} is not a separate test data "
                           "folder: test fixtures must never enter a real data directory.")
    fixture = _fixtures()[relpath]
    source = Path(fixture["path"])
    if _digest(source, "sha256") != fixture["sha256"]:
        raise ChecksumError(f"test fixture {source} does not match its recorded sha256")
    _link_or_copy(source, target)
    print(f"[dlps] TEST FIXTURE in use for {relpath}: random stand-in data, results mean nothing.")
    return target


# --------------------------------------------------------------------------- CIFAR-10
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
                   "dog", "frog", "horse", "ship", "truck")
#: Optional offline copy of CIFAR-10 as plain arrays: <mirror or data dir>/cifar-10-npy/ holding
#: {train,test}_{images,labels}.npy (images uint8 N x 32 x 32 x 3, labels integers) and a
#: SHA256SUMS file ("<sha256>  <file name>" per line) against which every array is checked.
CIFAR10_ARRAY_DIR = "cifar-10-npy"


def _cifar_from_tarball(archive: Path, train: bool):
    import numpy as np

    names = [f"data_batch_{i}" for i in range(1, 6)] if train else ["test_batch"]
    images, labels = [], []
    with tarfile.open(archive, "r:gz") as tar:
        for name in names:
            with tar.extractfile(f"cifar-10-batches-py/{name}") as stream:
                batch = pickle.load(stream, encoding="bytes")
            images.append(np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
            labels.append(np.asarray(batch[b"labels"], dtype=np.int64))
    return np.concatenate(images), np.concatenate(labels)


def _cifar_from_arrays(train: bool):
    """Read the checksummed array copy of CIFAR-10, or return None when there is none."""
    import numpy as np

    split = "train" if train else "test"
    for folder in [data_dir() / CIFAR10_ARRAY_DIR] + [m / CIFAR10_ARRAY_DIR for m in _mirror_dirs()]:
        sums_file = folder / "SHA256SUMS"
        if not sums_file.is_file():
            continue
        sums = dict(reversed(line.split()) for line in sums_file.read_text().splitlines() if line)
        arrays = []
        for kind in ("images", "labels"):
            path = folder / f"{split}_{kind}.npy"
            if path.name not in sums or _digest(path, "sha256") != sums[path.name]:
                raise ChecksumError(f"{path} is missing from or does not match {sums_file}")
            arrays.append(np.load(path, allow_pickle=False))
        images, labels = arrays
        if images.dtype != np.uint8 or images.shape[1:] != (32, 32, 3):
            raise ChecksumError(f"{folder}: images must be uint8 with shape (N, 32, 32, 3)")
        return images.transpose(0, 3, 1, 2), labels.astype(np.int64)
    return None


def load_cifar10(train: bool = True):
    """CIFAR-10 as ``(images, labels)`` tensors: uint8 (N, 3, 32, 32) and int64 (N,).

    Reads the official python tarball (md5-checked, fetched like every registry file) without
    unpacking it, or else a checksummed array copy (see ``CIFAR10_ARRAY_DIR``).  Taught in
    Lesson 4, which explains why the images stay uint8 until they reach the device.
    """
    import numpy as np
    import torch

    try:
        archive = fetch("cifar-10-python.tar.gz")
    except DataUnavailableError:
        arrays = _cifar_from_arrays(train)
        if arrays is None:
            raise
        images, labels = arrays
    else:
        images, labels = _cifar_from_tarball(archive, train)
    return torch.from_numpy(np.ascontiguousarray(images)), torch.from_numpy(labels)


def fetch_dataset(name: str) -> Path:
    """Fetch every file of one dataset; return the data directory to use as ``root``."""
    if name not in DATASETS:
        raise KeyError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
    if name == "california_housing":
        return california_housing_home()
    if name == "resnet18_weights":
        return torch_home()
    for relpath in DATASETS[name]:
        fetch(relpath)
    return data_dir()


def california_housing_home() -> Path:
    """The ``data_home`` to pass to ``sklearn.datasets.fetch_california_housing``.

    A verified copy of scikit-learn's cache file, staged or mirrored, is used first.  Without
    one, and online, scikit-learn downloads the archive into ``<data dir>/scikit_learn_data``,
    checks its sha256 and builds its cache there (Lesson 2 shows that call).
    """
    relpath = DATASETS["california_housing"][0]
    try:
        return fetch(relpath).parent
    except DataUnavailableError as missing:
        sklearn_home = data_dir() / "scikit_learn_data"
        if (sklearn_home / Path(relpath).name).exists():
            return sklearn_home
        if _offline():
            raise
        from sklearn.datasets import fetch_california_housing

        try:
            fetch_california_housing(data_home=sklearn_home, download_if_missing=True)
        except Exception as err:
            raise missing from err
        return sklearn_home


def torch_home() -> Path:
    """Stage the pretrained ResNet18 weights and point ``TORCH_HOME`` at them.

    After this, ``torchvision.models.resnet18(weights=ResNet18_Weights.IMAGENET1K_V1)`` loads
    the file from the course data directory instead of the network.
    """
    fetch(DATASETS["resnet18_weights"][0])
    home = data_dir() / "torch"
    os.environ["TORCH_HOME"] = str(home)
    return home


# --------------------------------------------------------------------------- workshop kit
def file_status(relpath: str) -> str:
    """'ok', 'missing' or 'bad checksum' for one registry file in the data directory."""
    target = data_dir() / relpath
    if not target.exists():
        return "missing"
    try:
        _check(target, REGISTRY[relpath])
    except ChecksumError:
        return "bad checksum"
    return "ok"


def stage_all(datasets=None) -> dict[str, str]:
    """Fetch and verify every registry file (or those of ``datasets``); report each one.

    This is what ``python -m dlps stage`` runs to prepare an offline workshop.
    Returns ``{relpath: 'ok' | error message}`` and never stops at the first failure.
    """
    names = datasets or list(DATASETS)
    report = {}
    for name in names:
        for relpath in DATASETS[name]:
            try:
                if name == "california_housing":
                    home = california_housing_home()
                    report[relpath] = "ok" if home == data_dir() / Path(relpath).parent else (
                        f"ok (built by scikit-learn in {home})")
                else:
                    fetch(relpath)
                    report[relpath] = "ok"
            except (DataUnavailableError, ChecksumError) as err:
                report[relpath] = str(err).splitlines()[0]
    return report


def write_kit_readme(kit) -> Path:
    """Write README.txt into a workshop kit made by ``stage``: contents, checksums, use."""
    kit = Path(kit)
    lines = [
        "Deep Learning for the Physical Sciences: offline workshop kit",
        "",
        "Every file below was checked against its published checksum when the kit was made",
        f"({__name__}.stage_all). Missing files are marked MISSING.",
        "",
        "Use it on each participant's machine (no internet needed):",
        "  1. copy this folder, e.g. to ~/dlps-data (or put it on a shared drive);",
        f"  2. export {DATA_ENV}=~/dlps-data   (or {MIRROR_ENV}=/shared/dlps-data to keep the kit",
        "     read-only; files are then linked into a private data folder);",
        "  3. in the course folder: make env, then .venv/bin/jupyter lab;",
        "  4. python -m dlps status lists what the course can see.",
        "",
        "Contents:",
    ]
    for relpath, entry in REGISTRY.items():
        checksum = f"sha256 {entry.sha256}" if entry.sha256 else f"md5 {entry.md5}"
        present = (kit / relpath).exists()
        if not present and entry.dataset == "california_housing":
            present = (kit / "scikit_learn_data" / Path(relpath).name).exists()
        lines.append(f"  {relpath}  {checksum}  {'' if present else 'MISSING  '}"
                     f"from {', '.join(entry.urls) or entry.source}")
    path = kit / "README.txt"
    path.write_text("\n".join(lines) + "\n")
    return path
