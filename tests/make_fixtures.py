"""Make stand-in files for the registry entries that this test environment cannot obtain.

    python tests/make_fixtures.py OUTDIR

Writes, in the official file formats, a tiny CIFAR-10 python tarball (random images) and a
ResNet18 state_dict with random weights, plus OUTDIR/fixtures.json naming them.  The test run
points DLPS_TEST_FIXTURES at that JSON file and DLPS_DATA at a separate test data folder; dlps
then uses a fixture only when the real file cannot be had, says so loudly, and never accepts
one outside such a test run.  Fixtures exercise code paths and claim nothing.
"""

import hashlib
import io
import json
import pickle
import sys
import tarfile
from pathlib import Path

import numpy as np
import torch
import torchvision

IMAGES_PER_BATCH = 100   # 5 training batches + 1 test batch, 10 classes


def _add(tar, name, payload: bytes):
    info = tarfile.TarInfo(name)
    info.size = len(payload)
    tar.addfile(info, io.BytesIO(payload))


def make_cifar10(path: Path, seed=0):
    rng = np.random.default_rng(seed)
    with tarfile.open(path, "w:gz") as tar:
        meta = {b"label_names": [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog",
                                 b"frog", b"horse", b"ship", b"truck"], b"num_vis": 3072}
        _add(tar, "cifar-10-batches-py/batches.meta", pickle.dumps(meta))
        for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            batch = {b"batch_label": b"fixture " + name.encode(),
                     b"labels": [int(v) for v in rng.integers(0, 10, IMAGES_PER_BATCH)],
                     b"data": rng.integers(0, 256, (IMAGES_PER_BATCH, 3072), dtype=np.uint8),
                     b"filenames": [f"fixture_{i}.png".encode() for i in range(IMAGES_PER_BATCH)]}
            _add(tar, f"cifar-10-batches-py/{name}", pickle.dumps(batch))


def make_resnet18(path: Path, seed=0):
    torch.manual_seed(seed)
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), path)


#: Registry path -> (file name of the stand-in, function that makes it).
MAKERS = {
    "cifar-10-python.tar.gz": ("cifar-10-python.tar.gz", make_cifar10),
    "torch/hub/checkpoints/resnet18-f37072fd.pth": ("resnet18-f37072fd.pth", make_resnet18),
}


def main(outdir: Path) -> Path:
    outdir.mkdir(parents=True, exist_ok=True)
    registry = {}
    for relpath, (name, maker) in MAKERS.items():
        path = outdir / name
        if not path.exists():
            maker(path)
        registry[relpath] = {"path": str(path.resolve()),
                             "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    index = outdir / "fixtures.json"
    index.write_text(json.dumps(registry, indent=1))
    return index


if __name__ == "__main__":
    print(main(Path(sys.argv[1])))
