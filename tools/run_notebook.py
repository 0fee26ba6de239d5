"""Execute MyST notebooks the way a learner's kernel would, and time them.

    python tools/run_notebook.py lessons/04_cnn_overfitting.md [more.md ...] [--profile laptop]
        [--save OUTDIR]

Each notebook runs top to bottom in a fresh kernel with nbclient (cells may take as long as they
need); the wall time of the whole notebook and its run record (``dlps.record_run``) are printed.
With ``--save``, the executed notebook is written as .ipynb into OUTDIR for inspection; without
it, into ``$DLPS_RUN_LOG/executed`` when that is set (e.g. by ``python -m dlps calibrate --run``),
so the outputs behind every run record can be read afterwards.  The
profile is set with ``--profile`` (else ``$DLPS_PROFILE``); data come from the usual places
(``$DLPS_DATA``, ``$DLPS_MIRROR``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import jupytext
import nbclient
import nbformat


def run(path: Path, save: Path | None = None) -> float:
    notebook = jupytext.read(path)
    client = nbclient.NotebookClient(notebook, timeout=None, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    try:
        client.execute()
    finally:
        seconds = time.perf_counter() - start
        if save is not None:
            save.mkdir(parents=True, exist_ok=True)
            nbformat.write(notebook, save / f"{path.parent.name}__{path.stem}.ipynb")
    return seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--profile", choices=("smoke", "laptop", "full"))
    parser.add_argument("--save", type=Path, help="write executed notebooks here")
    args = parser.parse_args(argv)
    if args.profile:
        os.environ["DLPS_PROFILE"] = args.profile
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from dlps import runlog

    save = args.save
    if save is None and os.environ.get("DLPS_RUN_LOG"):
        save = Path(os.environ["DLPS_RUN_LOG"]) / "executed"
    failed = 0
    for path in args.notebooks:
        try:
            seconds = run(path.resolve(), save)
            status = "ok"
        except nbclient.exceptions.CellExecutionError as err:
            seconds, status, failed = float("nan"), f"FAILED: {str(err)[-2000:]}", failed + 1
        record = runlog.read_records().get(f"{path.parent.name}/{path.stem}")
        print(f"{path}: {status}, {seconds:.0f} s wall (kernel start included)")
        if record:
            print(json.dumps(record, indent=1))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
