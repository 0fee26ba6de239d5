"""The course data directory, and fetching the files that ``dlps/registry.py`` declares.

Where files live
    ``data_dir()`` is ``$DLPS_DATA`` when that is set, else the git-ignored ``data/`` folder
    of a course checkout, else ``~/.cache/dlps``.  It must be writable: torchvision unpacks
    archives next to them.

Where files come from, in this order
    1. the data directory itself (already staged earlier);
    2. read-only local mirrors listed in ``$DLPS_MIRROR`` (folders with the same layout, such
       as a workshop kit or a shared course folder); the file is linked, never changed;
    3. a byte-identical web mirror ``$DLPS_MIRROR_URL`` (a URL prefix);
    4. the official URLs in the registry, unless ``$DLPS_OFFLINE=1``;
    5. for datasets with a ``builder`` (scikit-learn's California housing cache), that builder.
Every file is checked against its size and sha256 (and md5, where published) before it is used;
pooch does the hashing and the downloads.  Downloads go to a temporary name and are renamed
only when complete and verified, so a partial file never appears.  When nothing works,
``DataUnavailableError`` says which file is missing, where to put it and where it comes from.

What pooch does not do, and this module adds: read-only mirror folders, an offline switch, the
workshop kit, and the test harness's stand-ins (``$DLPS_TEST_FIXTURES``).

Lessons use it like this (taught in Lesson 3, section "Loading the data")::

    path = dlps.data.fetch("wine-quality/winequality-red.csv")
    root = dlps.data.fetch_dataset("mnist")          # then torchvision.datasets.MNIST(root=root)
"""

from __future__ import annotations

import importlib
import json
import os
import pickle
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .registry import TABLE

__all__ = [
    "CIFAR10_CLASSES",
    "DATASETS",
    "REGISTRY",
    "ChecksumError",
    "DataFile",
    "DataUnavailableError",
    "Dataset",
    "cifar10_source",
    "data_dir",
    "fetch",
    "fetch_dataset",
    "file_status",
    "is_fixture",
    "load_cifar10",
    "stage_all",
    "write_kit_readme",
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
    """One file of the registry: its path inside the data directory (and inside any mirror),
    size, sha256, optional md5 and official URLs, tried in order."""

    dataset: str
    relpath: str
    size: int
    sha256: str
    urls: tuple[str, ...] = ()
    md5: str | None = None

    @property
    def source(self) -> str:
        return DATASETS[self.dataset].citation


@dataclass(frozen=True)
class Dataset:
    """One dataset of the registry (see ``dlps/registry.py`` for the meaning of each field)."""

    name: str
    title: str
    source: str
    licence: str
    home: str
    opened_by: str
    files: tuple[str, ...]
    env: str | None = None
    builder: str | None = None
    builder_home: str | None = None
    kit: bool = True
    notice: str | None = None

    @property
    def citation(self) -> str:
        return f"{self.title}, {self.source} ({self.licence})"


def _load_table(table: dict) -> tuple[dict[str, Dataset], dict[str, DataFile]]:
    datasets, files = {}, {}
    for name, entry in table.items():
        for relpath, size, sha256, md5, urls in entry["files"]:
            files[relpath] = DataFile(name, relpath, size, sha256, tuple(urls), md5)
        fields = {k: v for k, v in entry.items() if k != "files"}
        datasets[name] = Dataset(name=name, files=tuple(f[0] for f in entry["files"]), **fields)
    return datasets, files


#: Dataset name -> its registry entry; file path -> its registry entry.
DATASETS, REGISTRY = _load_table(TABLE)


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
    import pooch  # imported here so that `import dlps` stays quick

    return pooch.file_hash(str(path), alg=algorithm)


def _check(path: Path, entry: DataFile) -> None:
    """Raise ChecksumError unless ``path`` has the published size, sha256 and md5."""
    size = path.stat().st_size
    if size != entry.size:
        raise ChecksumError(
            f"{path} has {size} bytes, but {entry.relpath} should have {entry.size} "
            f"(source: {entry.source}). Delete it and fetch it again."
        )
    expected = {"sha256": entry.sha256, "md5": entry.md5}
    for algorithm, digest in expected.items():
        if digest is None:
            continue
        actual = _digest(path, algorithm)
        if actual != digest:
            raise ChecksumError(
                f"{path} has {algorithm} {actual}, but {entry.relpath} should have {digest} "
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
    """Download ``url`` to ``target`` through a temporary folder; checked before renaming."""
    import pooch

    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".download-") as tmpdir:
        try:
            fetched = pooch.retrieve(url, known_hash=f"sha256:{entry.sha256}", fname=target.name,
                                     path=tmpdir, progressbar=False)
        except ValueError as err:  # pooch's message for a hash mismatch
            raise ChecksumError(f"{url} did not match the published checksum: {err}") from err
        _check(Path(fetched), entry)   # size and md5 too
        os.replace(fetched, target)


def _unavailable(entry: DataFile, target: Path, reasons: list[str]) -> DataUnavailableError:
    why = "; ".join(reasons) if reasons else "no source was tried"
    return DataUnavailableError(
        f"Course data file '{entry.relpath}' is missing and could not be obtained ({why}).\n"
        f"  Put a copy at: {target}\n"
        f"  (or point {MIRROR_ENV} at a folder that holds '{entry.relpath}', e.g. a workshop kit)\n"
        f"  It comes from: {', '.join(entry.urls) or 'see below'}\n"
        f"  Dataset: {entry.source}; expected sha256 {entry.sha256}."
    )


def fetch(relpath: str) -> Path:
    """Return the local path of a verified registry file, staging or downloading it if needed."""
    try:
        return _fetch_real(relpath)
    except DataUnavailableError:
        if relpath not in _fixtures():
            raise
        return _use_fixture(relpath, data_dir() / relpath)


def _fetch_real(relpath: str) -> Path:
    """``fetch`` without the test harness's stand-ins (an already staged stand-in is kept)."""
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
    return _obtain(entry, target)


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
    urls = list(entry.urls)
    if os.environ.get(MIRROR_URL_ENV):
        urls.insert(0, os.environ[MIRROR_URL_ENV].rstrip("/") + "/" + entry.relpath)
    if not urls:
        reasons.append("it has no download URL of its own")
    for url in urls:
        try:
            _download(url, target, entry)
            return target
        except ChecksumError:
            raise
        except Exception as err:  # network errors differ by library and platform
            reasons.append(f"download from {url} failed: {type(err).__name__}")
    raise _unavailable(entry, target, reasons)


def fetch_dataset(name: str) -> Path:
    """Fetch and verify every file of one dataset; return the folder to open it from.

    That folder is the dataset's ``home`` inside the data directory: torchvision's ``root``,
    scikit-learn's ``data_home``, or ``TORCH_HOME`` (which is then also set, so that
    torchvision's weight loader finds the file without a network).  A dataset with a
    ``builder`` whose files cannot be fetched is built by it, online, into its
    ``builder_home`` (the builder verifies its own download), and that folder is returned.
    """
    if name not in DATASETS:
        raise KeyError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
    dataset = DATASETS[name]
    home = data_dir() / dataset.home
    try:
        for relpath in dataset.files:
            fetch(relpath)
    except DataUnavailableError as missing:
        if dataset.builder is None:
            raise
        home = data_dir() / dataset.builder_home
        if not all((home / Path(p).name).exists() for p in dataset.files):
            if _offline():
                raise
            module, function = dataset.builder.split(":")
            try:
                getattr(importlib.import_module(module), function)(data_home=home)
            except Exception as err:
                raise missing from err
    if dataset.env:
        os.environ[dataset.env] = str(home)
    if dataset.notice:
        print(f"[dlps] NOTE: {dataset.notice}")
    return home


# --------------------------------------------------------------------------- test fixtures
def _fixtures() -> dict:
    path = os.environ.get(FIXTURES_ENV)
    return json.loads(Path(path).read_text()) if path else {}


def is_fixture(relpath: str) -> bool:
    """True when this run uses the test harness's stand-in for ``relpath`` (never for readers).

    Notebooks call it in hidden cells to skip accuracy floors that random stand-in data cannot
    meet; the data layer itself says loudly when a stand-in is used.
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


def _cifar_from_arrays(home: Path, train: bool):
    import numpy as np

    split = "train" if train else "test"
    images = np.load(home / f"{split}_images.npy", allow_pickle=False)   # (N, 32, 32, 3)
    labels = np.load(home / f"{split}_labels.npy", allow_pickle=False)
    return images.transpose(0, 3, 1, 2), labels.astype(np.int64)


#: The mosaic: 240 rows of 250 tiles of 32 x 32 pixels; 50 000 training images, then 10 000 test.
_MOSAIC_TILES_PER_ROW, _MOSAIC_TRAIN = 250, 50_000


def _cifar_from_mosaic(mosaic: Path, labels_home: Path, train: bool):
    import numpy as np
    from PIL import Image

    with Image.open(mosaic) as picture:
        pixels = np.asarray(picture.convert("RGB"))                      # (7680, 8000, 3)
    rows = pixels.shape[0] // 32
    tiles = pixels.reshape(rows, 32, _MOSAIC_TILES_PER_ROW, 32, 3).transpose(0, 2, 1, 3, 4)
    tiles = tiles.reshape(-1, 32, 32, 3)
    images = tiles[:_MOSAIC_TRAIN] if train else tiles[_MOSAIC_TRAIN:]
    split = "train" if train else "test"
    labels = np.load(labels_home / f"{split}_labels.npy", allow_pickle=False)
    if len(labels) != len(images):
        raise ValueError(f"{mosaic} holds {len(images)} {split} images, the labels {len(labels)}")
    return images.transpose(0, 3, 1, 2), labels.astype(np.int64)


def _present(relpaths) -> bool:
    places = [data_dir()] + _mirror_dirs()
    return all(any((place / p).is_file() for place in places) for p in relpaths)


def _cifar_copy() -> str:
    """'official', 'arrays' (the JPEG re-encoding), 'mosaic' (the same in one JPEG) or
    'test-fixture': the copy ``load_cifar10`` reads."""
    relpath = DATASETS["cifar10"].files[0]
    try:
        _fetch_real(relpath)
    except DataUnavailableError:
        if _present(DATASETS["cifar10_jpeg"].files):
            return "arrays"
        labels = [p for p in DATASETS["cifar10_jpeg"].files if p.endswith("_labels.npy")]
        if _present(DATASETS["cifar10_mosaic"].files + tuple(labels)):
            return "mosaic"
        fetch(relpath)   # the test harness's stand-in, or the clear missing-file error
    return "test-fixture" if is_fixture(relpath) else "official"


def cifar10_source() -> str:
    """Which copy ``load_cifar10`` reads: 'official', 'jpeg-reencoding' or 'test-fixture'.

    The official archive always comes first (staged, mirrored or downloaded).  The JPEG
    re-encoding is used only when the archive cannot be had and the copy sits in the data
    directory or a mirror (as arrays, or as the 20 MB mosaic of the same images that GPU
    machines taking in little data get); the test harness's stand-in only when none exists.
    """
    copy = _cifar_copy()
    return "jpeg-reencoding" if copy in ("arrays", "mosaic") else copy


def load_cifar10(train: bool = True):
    """CIFAR-10 as ``(images, labels)`` tensors: uint8 (N, 3, 32, 32) and int64 (N,).

    Reads the official python archive (sha256-checked before it is unpickled), without
    unpacking it.  Only when that cannot be had and a verified array copy rebuilt from a JPEG
    re-encoding sits in a mirror (for measuring; never in a reader's default run) does it read
    that copy, and it says so.  Taught in Lesson 4, section "CIFAR-10: colour photographs".
    """
    import numpy as np
    import torch

    copy = _cifar_copy()
    if copy == "arrays":
        images, labels = _cifar_from_arrays(fetch_dataset("cifar10_jpeg"), train)
    elif copy == "mosaic":
        split = "train" if train else "test"
        labels_file = fetch(f"{DATASETS['cifar10_jpeg'].home}/{split}_labels.npy")
        images, labels = _cifar_from_mosaic(
            fetch_dataset("cifar10_mosaic") / "cifar10_all_q75.jpg", labels_file.parent, train)
    else:
        images, labels = _cifar_from_tarball(fetch(DATASETS["cifar10"].files[0]), train)
    return torch.from_numpy(np.ascontiguousarray(images)), torch.from_numpy(labels)


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
    """Fetch and verify every file of the kit's datasets (or of ``datasets``); report each one.

    This is what ``python -m dlps stage`` runs to prepare an offline workshop.
    Returns ``{relpath: 'ok' | error message}`` and never stops at the first failure.
    """
    names = datasets or [name for name, dataset in DATASETS.items() if dataset.kit]
    report = {}
    for name in names:
        dataset = DATASETS[name]
        for relpath in dataset.files:
            try:
                fetch(relpath)
                report[relpath] = "ok"
            except (DataUnavailableError, ChecksumError) as err:
                report[relpath] = str(err).splitlines()[0]
        if dataset.builder and any(report[p] != "ok" for p in dataset.files):
            try:
                home = fetch_dataset(name)
            except (DataUnavailableError, ChecksumError):
                continue
            for relpath in dataset.files:
                report[relpath] = f"ok (built by {dataset.builder} in {home})"
    return report


def _in_kit(kit: Path, dataset: Dataset, relpath: str) -> bool:
    built = dataset.builder_home and (kit / dataset.builder_home / Path(relpath).name).exists()
    return (kit / relpath).exists() or bool(built)


def write_kit_readme(kit) -> Path:
    """Write README.txt into a workshop kit made by ``stage``: contents, checksums, use."""
    kit = Path(kit)
    lines = [
        "Deep Learning for the Physical Sciences: offline workshop kit",
        "",
        "Every file below was checked against its published checksum when the kit was made",
        f"({__name__}.stage_all). Missing files are marked MISSING.",
        "",
        "On each participant's machine, with the course installed (`make env` in the course",
        "folder; that step needs internet, or pip's wheel files: see the book's Instructor guide):",
        "  1. copy this folder, e.g. to ~/dlps-data (or put it on a shared drive);",
        f"  2. export {DATA_ENV}=~/dlps-data   (or {MIRROR_ENV}=/shared/dlps-data to keep the kit",
        "     read-only; files are then linked into a private data folder). In a room without",
        f"     internet, also export {OFFLINE_ENV}=1: a missing file then fails at once, by name;",
        "  3. run the self-check in the course folder:",
        "         .venv/bin/python -m dlps check",
        "     It checks Python and the pinned packages, the device (CUDA, MPS or CPU), Graphviz,",
        "     every dataset of this kit, and trains for about ten seconds to predict how long each",
        "     lesson's notebook will run on this machine. Each line is marked [ ok ], [note] or",
        "     [FAIL]; the last line says PASS or FAIL. Fix every [FAIL] before the workshop:",
        "       Packages: run `make env` again;",
        "       Data: check step 2 (the path must be this folder);",
        "       Run times: this machine is too slow for the schedule; follow that lesson in Google",
        "       Colab with a GPU runtime instead (the rocket button on the lesson's page);",
        "  4. .venv/bin/jupyter lab, and open lessons/01_tensors_autograd.md.",
        "  The same check runs in a notebook cell:",
        "      from dlps.selfcheck import self_check; self_check()",
        "",
        "Contents:",
    ]
    for dataset in DATASETS.values():
        if not dataset.kit:
            continue
        lines.append(f"  {dataset.citation}; opened by {dataset.opened_by}")
        for relpath in dataset.files:
            entry = REGISTRY[relpath]
            mark = "" if _in_kit(kit, dataset, relpath) else "MISSING  "
            lines.append(f"    {relpath}  sha256 {entry.sha256}  {mark}"
                         f"from {', '.join(entry.urls) or 'no URL of its own'}")
    path = kit / "README.txt"
    path.write_text("\n".join(lines) + "\n")
    return path
