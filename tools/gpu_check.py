"""Run every lesson in the full profile on a GPU, without Jupyter, and record what happened.

    python tools/gpu_check.py [--profile full] [--out _build/gpu-check] [lessons/NN_name.md ...]
    make gpu-check

For each lesson (default: every notebook in ``lessons/``), the code cells of its MyST source are
run top to bottom in a fresh Python process, in the lesson's folder, as a learner's kernel would
run them. No Jupyter, nbclient, jupytext or jupyter-book is needed: the cells are read from the
MyST file by this script, so a bare GPU machine with torch, torchvision, NumPy, SciPy, pandas,
scikit-learn, matplotlib, tqdm and Pillow can run it. Lessons 6 and 7 also need ASE and DScribe,
and ``dlps.data`` needs pooch and platformdirs: bring them as wheels (see ``--help`` of
``wheels`` below) where the machine has no package index.

IPython syntax is handled the way a kernel would: ``%env NAME=value`` sets the variable,
``%%writefile path`` cells write their file, ``display(...)`` shows text, other magics
(``%matplotlib``, ``!pip``) are skipped. Lesson 1's self-check cell is skipped (it benchmarks the
CPU for a workshop). Plots are drawn with matplotlib's Agg backend and not shown.

Written to ``--out``: ``runs/<folder>/<lesson>.json`` (the lessons' own ``dlps.record_run``
records: profile, device, wall time, peak host and device memory, headline metrics) and
``gpu-check.json`` (per lesson: status, wall seconds, seconds per cell with the cell's first
line, the error if any). The table printed at the end is what the closing note of a GPU run
quotes. With ``--budget SECONDS`` (default 180, the course's limit per lesson on one H100) a
lesson over budget makes the exit status 1, as does a failed lesson.

CIFAR-10 and the other datasets come from the usual places (``$DLPS_DATA``, ``$DLPS_MIRROR``);
on a machine that takes in little data at a time, the 20 MB mosaic of the JPEG copy
(``cifar-10-mosaic/cifar10_all_q75.jpg`` with the two label files) is enough: ``dlps.data``
decodes it when neither the official archive nor the full arrays are present.

    python tools/gpu_check.py wheels DIR [--python-version 3.12]

downloads (here, where PyPI is reachable) the wheels of what the lessons need beyond a CUDA
image's usual packages, for Linux x86_64, into DIR; on the GPU machine install them with
``pip install --no-index --no-deps --target /tmp/site DIR/*.whl`` and
``export PYTHONPATH=/tmp/site``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import layout  # noqa: E402

#: What the lessons import beyond torch, torchvision, NumPy, SciPy, pandas, scikit-learn,
#: matplotlib, tqdm and Pillow (which a CUDA machine for deep learning usually has).
EXTRA_PACKAGES = ("pooch", "platformdirs", "packaging", "requests", "ase", "dscribe",
                  "sparse", "numba", "llvmlite", "joblib")

_CELL_START = re.compile(r"^```\{code-cell\}")
_MAGIC_ENV = re.compile(r"^%env\s+([A-Za-z_][A-Za-z0-9_]*)\s*[= ]\s*(.*)$")


def code_cells(path: Path) -> list[str]:
    """The source of every code cell of a MyST notebook, in order (cell options removed)."""
    cells, current, options = [], None, False
    for line in path.read_text().splitlines():
        if current is None:
            if _CELL_START.match(line):
                current, options = [], True
            continue
        if line.startswith("```"):
            cells.append("\n".join(current).strip("\n"))
            current = None
        elif options and (line.startswith(":") or line == "---"):
            # ':tags: [...]' lines, or a '---' YAML block, before the code
            if line == "---":
                options = "yaml" if options is True else True
            continue
        elif options == "yaml":
            continue
        else:
            options = False
            current.append(line)
    return cells


def python_source(cell: str) -> str | None:
    """Turn IPython syntax into plain Python; None for a cell to skip."""
    lines = cell.splitlines()
    if lines and lines[0].startswith("%%writefile"):
        target = lines[0].split(maxsplit=1)[1].strip()
        body = "\n".join(lines[1:]) + "\n"
        return f"from pathlib import Path\nPath({target!r}).write_text({body!r})\n"
    if layout.is_self_check(cell):
        return None
    out = []
    for line in lines:
        stripped = line.strip()
        env = _MAGIC_ENV.match(stripped)
        if env:
            indent = line[:len(line) - len(line.lstrip())]
            out.append(f"{indent}import os; os.environ[{env[1]!r}] = {env[2].strip()!r}")
        elif stripped.startswith(("%", "!")):
            out.append(line[:len(line) - len(line.lstrip())] + "pass  # " + stripped)
        else:
            out.append(line)
    return "\n".join(out)


def _display(*objects, **_):
    for obj in objects:
        print(obj)


def run_cells(path: Path, report: Path) -> int:
    """Run the notebook's cells in this process (the child); write the per-cell report."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    namespace = {"__name__": "__main__", "display": _display}
    cells, status, error = [], "ok", None
    started = time.perf_counter()
    for number, cell in enumerate(code_cells(path)):
        source = python_source(cell)
        if source is None:
            continue
        first = next((line for line in cell.splitlines() if line.strip()), "")
        tic = time.perf_counter()
        try:
            exec(compile(source, f"{path.name}, cell {number}", "exec"), namespace)
        except Exception:  # noqa: BLE001 - report any failure of the learner's code
            status, error = f"failed in cell {number}", traceback.format_exc()[-4000:]
        cells.append({"cell": number, "first_line": first[:100],
                      "seconds": round(time.perf_counter() - tic, 2)})
        plt.close("all")
        if error:
            break
    report.write_text(json.dumps({"status": status, "error": error, "cells": cells,
                                  "seconds": round(time.perf_counter() - started, 1)},
                                 indent=1))
    return 0 if error is None else 1


def run_lesson(path: Path, out: Path, profile: str, timeout: float) -> dict:
    """Run one lesson in a fresh process; return its report with the run record added."""
    name = layout.page_name(path)
    report = out / "cells" / f"{name.replace('/', '__')}.json"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.unlink(missing_ok=True)
    env = dict(os.environ, DLPS_PROFILE=profile, DLPS_RUN_LOG=str(out / "runs"),
               MPLBACKEND="Agg", TQDM_DISABLE="1", PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    tic = time.perf_counter()
    try:
        subprocess.run([sys.executable, __file__, "_child", str(path), str(report)],
                       cwd=path.parent, env=env, timeout=timeout, check=False)
        result = json.loads(report.read_text()) if report.exists() else {
            "status": "crashed (no report)", "error": None, "cells": []}
    except subprocess.TimeoutExpired:
        result = {"status": f"timed out after {timeout:.0f} s", "error": None, "cells": []}
    result["wall_seconds"] = round(time.perf_counter() - tic, 1)
    record_file = out / "runs" / f"{name}.json"
    result["record"] = json.loads(record_file.read_text()) if record_file.exists() else None
    result["lesson"] = name
    return result


def summary_table(results: list[dict]) -> str:
    rows = ["| lesson | status | wall s | peak GPU GB | slowest cells (s) | metrics |",
            "|---|---|---|---|---|---|"]
    for res in results:
        record = res.get("record") or {}
        slow = sorted(res["cells"], key=lambda c: -c["seconds"])[:3]
        slow_text = "; ".join(f"{c['seconds']:.0f}: {c['first_line'][:40]}" for c in slow)
        metrics = ", ".join(f"{k} {v:.4g}" for k, v in (record.get("metrics") or {}).items())
        rows.append(f"| {res['lesson']} | {res['status']} | {res['wall_seconds']:.0f} | "
                    f"{record.get('peak_gpu_memory_gb')} | {slow_text} | {metrics} |")
    return "\n".join(rows)


def download_wheels(folder: Path, python_version: str) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    platforms = [f"--platform=manylinux_2_{n}_x86_64" for n in (17, 24, 27, 28, 31, 34)]
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               f"--python-version={python_version}", "--implementation=cp", *platforms,
               "--platform=manylinux2014_x86_64", "--platform=any", "-d", str(folder)]
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==", 1)
            pins[name.strip().lower()] = version.strip()
    specs = [f"{name}=={pins[name]}" if name in pins else name for name in EXTRA_PACKAGES]
    return subprocess.run(command + specs, check=False).returncode


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["_child"]:
        return run_cells(Path(argv[1]), Path(argv[2]))
    if argv[:1] == ["wheels"]:
        parser = argparse.ArgumentParser(prog="gpu_check.py wheels")
        parser.add_argument("folder", type=Path)
        parser.add_argument("--python-version", default="3.12")
        args = parser.parse_args(argv[1:])
        return download_wheels(args.folder, args.python_version)
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("lessons", nargs="*", type=Path)
    parser.add_argument("--profile", default="full", choices=("smoke", "laptop", "full"))
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "gpu-check")
    parser.add_argument("--budget", type=float, default=180.0,
                        help="seconds one lesson may take (default 180)")
    parser.add_argument("--timeout", type=float, default=900.0,
                        help="seconds after which a lesson is stopped (default 900)")
    args = parser.parse_args(argv)
    lessons = [p.resolve() for p in args.lessons] or layout.notebooks(("lessons",))
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    import torch

    print(f"gpu-check: {len(lessons)} lessons, profile {args.profile}, torch {torch.__version__}, "
          f"device {torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'CPU'}",
          flush=True)
    results, failed = [], 0
    for path in lessons:
        result = run_lesson(path, out, args.profile, args.timeout)
        results.append(result)
        over = result["wall_seconds"] > args.budget
        failed += result["status"] != "ok" or over
        print(f"{result['lesson']}: {result['status']}, {result['wall_seconds']:.0f} s"
              + (f" (over the {args.budget:.0f} s budget)" if over else ""), flush=True)
        if result["error"]:
            print(result["error"], flush=True)
    (out / "gpu-check.json").write_text(json.dumps(results, indent=1))
    total = sum(r["wall_seconds"] for r in results)
    print(summary_table(results))
    print(f"total {total:.0f} s; {failed} of {len(results)} lessons failed or over budget")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
