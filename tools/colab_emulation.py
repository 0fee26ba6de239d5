"""Run every exported lesson and solution notebook the way Google Colab would.

    python tools/colab_emulation.py            (or: make colab-test)
        [--source CHECKOUT] [--out _build/colab] [--only lessons/03_classification ...]
        [--jobs 2] [--rebuild]

What a learner who presses the Colab button gets, emulated on this machine:

1. **A Colab-like Python.** A virtual environment (``OUT/base``) made from Python 3.12
   (``$COLAB_PYTHON``, else pyenv's 3.12.1 or ``python3.12``) with the *current* releases of
   what Colab ships (``COLAB_SHIPS``: torch with CUDA from PyPI, torchvision, numpy, pandas,
   scikit-learn, matplotlib, seaborn, tqdm, ipywidgets, ipykernel) and none of what it lacks
   (``COLAB_LACKS``: myst-nb, jupytext, dscribe, ase, torchviz); both are checked.  The base is
   built once and reused until ``OUT`` is removed (``make clean``) or ``--rebuild`` is given.
2. **A fresh runtime per notebook.** Each notebook gets its own empty virtual environment layered
   on the base (a ``.pth`` file), so what one notebook's setup cell installs is not there for
   the next one, as with a new Colab session.  Two notebooks run side by side (``--jobs``), one
   thread each; the ones whose setup cell calls apt-get run one after the other.
3. **The runtime looks like Colab.** The kernel imports a stand-in ``google.colab`` module at
   start-up (an IPython start-up file), as Colab's kernel has it loaded; the setup cell tests
   exactly ``"google.colab" in sys.modules``.
4. **The notebooks are the exported ones** (``tools/export_notebooks.py``, what ``make notebooks``
   writes), setup cell included.  Two changes only: the setup cell installs ``dlps`` from the
   checkout (a copy of the exported ``dlps/``) instead of the repository URL, and a cell
   ``%env DLPS_PROFILE=smoke`` follows it, the documented way to choose a profile inside a
   notebook; the check that each run printed ``Profile: smoke`` tests that way too.
5. **Data** come from ``$DLPS_MIRROR`` (offline); files this environment cannot have (the ResNet18
   ImageNet weights, CIFAR-10 where no mirror holds it) are the test suite's stand-ins
   (``tests/make_fixtures.py``), which the notebooks announce.

Everything is written under ``OUT`` (default ``_build/colab``): the base environment, the
runtimes, pip's cache, a home folder, the executed notebooks (``OUT/executed``) and the results
(``OUT/results.json``, one entry per notebook: status, seconds, kernel Python, profile, first
error).  The exit status is 1 if any notebook failed.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: What a stock Colab runtime has (installed at their newest release), plus the kernel.
COLAB_SHIPS = ["torch", "torchvision", "numpy", "pandas", "scikit-learn", "matplotlib",
               "seaborn", "tqdm", "ipywidgets", "ipykernel"]
#: Import names Colab does not have: the setup cell must install what a notebook needs of them.
COLAB_LACKS = ["myst_nb", "jupytext", "dscribe", "ase", "torchviz"]
#: The exported folders that are executed (exercises stop at their gaps by design).
EXECUTED = ("lessons", "solutions")
CELL_TIMEOUT = 1200           # seconds; a cell that runs longer counts as a failure

GOOGLE_COLAB_STUB = '''"""Stand-in for Colab's google.colab package (tools/colab_emulation.py).

Its presence in sys.modules is what the course's setup cell takes as "running in Colab".
"""
'''
STARTUP = "import google.colab  # Colab's kernel has it loaded from the start\n"
SETUP_URL = re.compile(r'"dlps @ git\+[^"]+"')


def log(message: str) -> None:
    print(f"[colab] {message}", flush=True)


def colab_python() -> str:
    """Python 3.12 from this machine: $COLAB_PYTHON, pyenv's 3.12.1, or python3.12."""
    candidates = [os.environ.get("COLAB_PYTHON"),
                  str(Path.home() / ".pyenv/versions/3.12.1/bin/python3.12"),
                  "/root/.pyenv/versions/3.12.1/bin/python3.12", shutil.which("python3.12")]
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            return candidate
    sys.exit("colab_emulation: no Python 3.12 found; set COLAB_PYTHON to one")


def site_packages(venv: Path) -> Path:
    return next((venv / "lib").glob("python3.*/site-packages"))


def quiet_run(command: list[str], env: dict, what: str) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-30:])
        sys.exit(f"colab_emulation: {what} failed:\n{tail}")


def build_base(out: Path, env: dict, rebuild: bool) -> dict:
    """The Colab-like base environment; returns what it holds (name -> version)."""
    base = out / "base"
    freeze = base / "colab-freeze.json"
    if freeze.exists() and not rebuild:
        versions = json.loads(freeze.read_text())
        log(f"reusing {base}, built {versions.get('_built', '?')} (--rebuild, or make clean, "
            "for today's releases)")
        return versions
    shutil.rmtree(base, ignore_errors=True)
    python = colab_python()
    start = time.perf_counter()
    log(f"creating {base} from {python} with the current {', '.join(COLAB_SHIPS)}")
    quiet_run([python, "-m", "venv", str(base)], env, "creating the base venv")
    pip = [str(base / "bin" / "python"), "-m", "pip"]
    quiet_run(pip + ["install", "--quiet", "--upgrade", "pip"], env, "upgrading pip")
    # no pip cache: the CUDA wheels are gigabytes and this base is built once
    quiet_run(pip + ["install", "--quiet", "--no-cache-dir", "--upgrade"] + COLAB_SHIPS, env,
              "installing what Colab ships")
    # Colab's kernel has google.colab loaded: a stand-in module and a start-up file.
    colab = site_packages(base) / "google" / "colab"      # google/ stays a namespace package
    colab.mkdir(parents=True, exist_ok=True)
    (colab / "__init__.py").write_text(GOOGLE_COLAB_STUB)
    listing = subprocess.run(pip + ["list", "--format=json"], env=env, capture_output=True,
                             text=True, check=True)
    versions = {p["name"].lower(): p["version"] for p in json.loads(listing.stdout)}
    versions["python"] = subprocess.run(
        [str(base / "bin" / "python"), "-c", "import platform; print(platform.python_version())"],
        capture_output=True, text=True, check=True).stdout.strip()
    versions["_build_seconds"] = round(time.perf_counter() - start)
    versions["_built"] = time.strftime("%Y-%m-%d %H:%M")
    freeze.write_text(json.dumps(versions, indent=1))
    log(f"base built in {versions['_build_seconds']} s")
    return versions


def check_base(out: Path, env: dict) -> None:
    """The base has what Colab ships and none of what it lacks."""
    probe = ("import importlib.util, json; print(json.dumps({n: importlib.util.find_spec(n) "
             f"is not None for n in {COLAB_LACKS + ['torch', 'sklearn', 'seaborn']!r}}}))")
    found = json.loads(subprocess.run([str(out / "base" / "bin" / "python"), "-c", probe],
                                      env=env, capture_output=True, text=True,
                                      check=True).stdout)
    present = [name for name in COLAB_LACKS if found[name]]
    missing = [name for name in ("torch", "sklearn", "seaborn") if not found[name]]
    if present or missing:
        sys.exit(f"colab_emulation: the base is not Colab-like: has {present}, lacks {missing}")


def export(source: Path, out: Path) -> Path:
    """The exported notebooks of ``source`` (its own export tool), in OUT/notebooks."""
    folder = out / "notebooks"
    shutil.rmtree(folder, ignore_errors=True)
    subprocess.run([sys.executable, str(source / "tools" / "export_notebooks.py"), str(folder)],
                   check=True, capture_output=True, text=True)
    return folder


def prepare(notebook_path: Path, package_source: Path):
    """The exported notebook as Colab would open it; the two changes described above."""
    import nbformat

    notebook = nbformat.read(notebook_path, as_version=4)
    setup = notebook.cells[0]
    if "colab-setup" not in setup.metadata.get("tags", []):
        raise ValueError(f"{notebook_path}: the first cell is not the Colab setup cell")
    setup.source, count = SETUP_URL.subn(f'"dlps @ file://{package_source}"', setup.source)
    if count != 1:
        raise ValueError(f"{notebook_path}: the setup cell does not install dlps from a URL")
    notebook.cells.insert(1, nbformat.v4.new_code_cell("%env DLPS_PROFILE=smoke"))
    return notebook


def new_runtime(out: Path, name: str, package_dir: Path) -> Path:
    """An empty virtual environment that sees the base's packages after its own, with a copy
    of the package sources (pip builds in the source folder: one copy per runtime)."""
    runtime = out / "runtimes" / name
    shutil.rmtree(runtime, ignore_errors=True)
    base_python = os.path.realpath(out / "base" / "bin" / "python")
    subprocess.run([base_python, "-m", "venv", "--without-pip", str(runtime)], check=True)
    # addsitedir, not a bare path: the base's own .pth files must run too (setuptools'
    # distutils shim, which torchviz needs on Python 3.12, is one).
    (site_packages(runtime) / "colab-base.pth").write_text(
        f"import site; site.addsitedir({str(site_packages(out / 'base'))!r})\n")
    source = runtime / "dlps-source"
    shutil.copytree(package_dir / "dlps", source / "dlps",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(package_dir / "pyproject.toml", source / "pyproject.toml")
    return runtime


def kernel_env(out: Path, runtime: Path, threads: int | None) -> dict:
    env = {key: value for key, value in os.environ.items()
           if key not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "JUPYTER_PATH")
           and not (key.startswith("DLPS_") and key not in ("DLPS_MIRROR", "DLPS_OFFLINE"))}
    env.update({
        "PATH": f"{runtime / 'bin'}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(out / "home"),                      # Colab's /root
        "IPYTHONDIR": str(out / "ipython"),
        "PIP_CACHE_DIR": str(out / "pip-cache"),
        "DLPS_DATA": str(out / "data"),
        "DLPS_TEST_FIXTURES": str(out / "fixtures" / "fixtures.json"),
        "DLPS_OFFLINE": os.environ.get("DLPS_OFFLINE", "1"),
        "TQDM_DISABLE": "1",
    })
    if threads:                      # notebooks run side by side share the cores
        env["OMP_NUM_THREADS"] = str(threads)
    return env


def first_error(notebook) -> str:
    for number, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                return f"cell {number}: {output['ename']}: {output['evalue']}"[:400]
    return ""


def printed_profile(notebook) -> str:
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            match = re.search(r"Profile: (\w+)", output.get("text", ""))
            if match:
                return match.group(1)
    return ""


def execute(out: Path, notebook_path: Path, package_dir: Path,
            threads: int | None = None) -> dict:
    import nbclient
    import nbformat
    from jupyter_client import KernelManager
    from jupyter_client.kernelspec import KernelSpecManager

    page = f"{notebook_path.parent.name}/{notebook_path.stem}"
    runtime = new_runtime(out, page.replace("/", "__"), package_dir)
    spec_dir = runtime / "share" / "jupyter" / "kernels" / "colab"
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [str(runtime / "bin" / "python"), "-m", "ipykernel_launcher",
                 "-f", "{connection_file}"],
        "display_name": "Python 3 (Colab emulation)", "language": "python"}))
    manager = KernelManager(kernel_name="colab", kernel_spec_manager=KernelSpecManager(
        kernel_dirs=[str(spec_dir.parent)], ensure_native_kernel=False))
    notebook = prepare(notebook_path, runtime / "dlps-source")
    workdir = out / "home" / "content"                # Colab's working folder is /content
    workdir.mkdir(parents=True, exist_ok=True)
    client = nbclient.NotebookClient(notebook, km=manager, timeout=CELL_TIMEOUT,
                                     resources={"metadata": {"path": str(workdir)}})
    start = time.perf_counter()
    error = ""
    try:
        client.execute(env=kernel_env(out, runtime, threads))
    except Exception as exc:        # a cell error, a timeout or a dead kernel: all failures
        error = first_error(notebook) or f"{type(exc).__name__}: {str(exc)[-400:]}"
    finally:
        if manager.has_kernel:      # nbclient leaves a kernel it did not create running
            manager.shutdown_kernel(now=True)
    seconds = round(time.perf_counter() - start, 1)
    executed = out / "executed" / f"{page.replace('/', '__')}.ipynb"
    executed.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, executed)
    profile = printed_profile(notebook)
    if not error and profile != "smoke":
        error = f"the notebook printed profile {profile!r}, not 'smoke' (chosen with %env)"
    shutil.rmtree(runtime, ignore_errors=True)
    return {"notebook": page, "ok": not error, "seconds": seconds, "profile": profile,
            "python": notebook.metadata.get("language_info", {}).get("version", ""),
            "error": error}


def execute_in_turn(out: Path, paths: list[Path], package_dir: Path,
                    threads: int | None) -> list[dict]:
    results = []
    for path in paths:
        log(f"running {path.parent.name}/{path.name} ...")
        result = execute(out, path, package_dir, threads)
        log(f"  {result['notebook']}: {'ok' if result['ok'] else 'FAILED'} in "
            f"{result['seconds']:.0f} s" + (f": {result['error']}" if result["error"] else ""))
        results.append(result)
    return results


def queues(pages: list[Path], jobs: int) -> list[list[Path]]:
    """Split the notebooks over ``jobs`` workers. Setup cells that call apt-get go to the same
    worker, one after the other: two apt-gets at once would fight over dpkg's lock."""
    with_apt = [p for p in pages if "apt-get" in p.read_text()]
    others = [p for p in pages if p not in with_apt]
    lanes = [with_apt] + [[] for _ in range(jobs - 1)]
    for path in others:                       # then the rest, to the shortest queue
        min(lanes, key=len).append(path)
    return [lane for lane in lanes if lane]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, default=ROOT,
                        help="checkout whose notebooks and dlps are run (default: this one)")
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "colab")
    parser.add_argument("--only", nargs="+", help="pages to run, e.g. lessons/03_classification")
    parser.add_argument("--rebuild", action="store_true",
                        help="rebuild the base environment with today's releases")
    parser.add_argument("--jobs", type=int, default=2,
                        help="notebooks run side by side (default 2, one per core)")
    args = parser.parse_args(argv)
    source, out = args.source.resolve(), args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    for folder in ("home", "ipython/profile_default/startup", "data", "runtimes"):
        (out / folder).mkdir(parents=True, exist_ok=True)
    (out / "ipython/profile_default/startup/00-google-colab.py").write_text(STARTUP)
    env = {**os.environ, "HOME": str(out / "home"), "PIP_CACHE_DIR": str(out / "pip-cache")}
    env.pop("PYTHONPATH", None)

    start = time.perf_counter()
    versions = build_base(out, env, args.rebuild)
    check_base(out, env)
    shown = ", ".join(f"{name} {versions[name]}" for name in ["python"] + COLAB_SHIPS
                      if name in versions)
    log(f"Colab-like base: {shown}")
    subprocess.run([sys.executable, str(ROOT / "tests" / "make_fixtures.py"),
                    str(out / "fixtures")], check=True, capture_output=True)
    exported = export(source, out)
    package_dir = exported                       # the exported copy of dlps/ and pyproject.toml
    pages = sorted(p for folder in EXECUTED for p in (exported / folder).glob("*.ipynb"))
    if args.only:
        pages = [p for p in pages if f"{p.parent.name}/{p.stem}" in args.only]

    threads = 1 if args.jobs > 1 else None
    with concurrent.futures.ProcessPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(execute_in_turn, out, lane, package_dir, threads)
                   for lane in queues(pages, args.jobs)]
        results = sorted((r for future in futures for r in future.result()),
                         key=lambda r: r["notebook"])
    total = round(time.perf_counter() - start)
    summary = {"source": str(source), "base": versions, "seconds": total, "notebooks": results}
    (out / "results.json").write_text(json.dumps(summary, indent=1))

    print(f"\nColab emulation ({shown}); {total} s in all:")
    for r in results:
        print(f"  {'ok    ' if r['ok'] else 'FAILED'}  {r['notebook']:32} {r['seconds']:6.0f} s  "
              f"Python {r['python']}  profile {r['profile'] or '-'}"
              + (f"\n          {r['error']}" if r["error"] else ""))
    failed = [r for r in results if not r["ok"]]
    print(f"{len(results) - len(failed)} of {len(results)} notebooks ran as in Colab; "
          f"results in {out / 'results.json'}")
    return 1 if failed or not results else 0


if __name__ == "__main__":
    sys.exit(main())
