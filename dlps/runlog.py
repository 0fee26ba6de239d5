"""Where notebook runs are recorded, and what a record holds (no torch import).

``dlps.record_run`` writes the records; the book's Sphinx extension (``_ext/provenance.py``)
reads them.  Both take the folder and the keys from here, so the two never disagree.  The
extension loads this file on its own, without importing the ``dlps`` package (and torch).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

#: Environment variable naming the folder of run records (set by `make book` and the tests).
RUN_LOG_ENV = "DLPS_RUN_LOG"
#: Keys of every record, in the order they are written.
RECORD_KEYS = ("notebook", "profile", "device", "device_name", "torch", "seconds",
               "peak_memory_gb", "peak_gpu_memory_gb", "finished", "metrics")
#: The course checkout this file sits in.
ROOT = Path(__file__).resolve().parent.parent


def run_log_dir() -> Path | None:
    """``$DLPS_RUN_LOG``, else ``_build/runs`` of a course checkout, else None (e.g. Colab)."""
    if os.environ.get(RUN_LOG_ENV):
        return Path(os.environ[RUN_LOG_ENV])
    if (ROOT / "_config.yml").is_file():
        return ROOT / "_build" / "runs"
    return None


def write_record(record: dict) -> Path | None:
    """Write one record as ``<folder>/<notebook>.json``; return its path.

    Returns None outside a checkout.
    """
    missing = set(RECORD_KEYS) ^ set(record)
    if missing:
        raise ValueError(f"run record keys differ from RECORD_KEYS: {sorted(missing)}")
    folder = run_log_dir()
    if folder is None:
        return None
    path = folder / f"{record['notebook']}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({key: record[key] for key in RECORD_KEYS}, indent=1))
    return path


def read_records(folder: Path | None = None) -> dict[str, dict]:
    """Every record under ``folder`` (default: ``run_log_dir()``), by notebook name."""
    folder = folder or run_log_dir()
    records = {}
    if folder is None or not folder.is_dir():
        return records
    for path in sorted(folder.rglob("*.json")):
        record = json.loads(path.read_text())
        records[record["notebook"]] = record
    return records
