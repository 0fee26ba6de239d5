"""The test suite owns its setup: a bare ``pytest`` does what ``make test`` does.

(This file sits at the repository root because its notebook collector must see lessons/ and
solutions/, not only tests/.)

* Test defaults: the smoke profile, a separate test data folder, the stand-in files of
  ``tests/make_fixtures.py`` for what cannot be had, and a run-log folder of its own.
* nbval executes every lesson and solution notebook, collected straight from its MyST source
  (no .ipynb is written).  Each notebook that runs without error is stored in the book's
  execution cache, so the book build that follows reuses those outputs instead of executing
  every notebook a second time: one execution serves both, and nbval stays the gate.
* One executed build of the book per test run (``built_book``), the list of its pages, and a
  local web server.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
# Everything the suite writes goes here; set DLPS_TEST_BUILD to run two suites side by side.
BUILD = Path(os.environ.get("DLPS_TEST_BUILD") or ROOT / "_build").resolve()
sys.path[:0] = [str(ROOT / "tools"), str(ROOT / "tests")]

import layout  # noqa: E402
from local_server import serve  # noqa: E402, F401  (tests import it from here)

# Set before anything imports torch, in the controller and in every xdist worker.
TEST_ENV = {
    "DLPS_PROFILE": "smoke",
    "TQDM_DISABLE": "1",
    "OMP_NUM_THREADS": "1",              # two notebooks run at once on two cores
    "DLPS_DATA": str(BUILD / "test-data"),
    "DLPS_TEST_FIXTURES": str(BUILD / "test-fixtures" / "fixtures.json"),
    "DLPS_RUN_LOG": str(BUILD / "test-runs"),
    "DLPS_BOOK_BUILD": "1",              # notebook runs feed the book: glue for MyST-NB
}
os.environ.update(TEST_ENV)
# Files already in the checkout's data/ folder count as a mirror (verified, never modified).
os.environ["DLPS_MIRROR"] = os.pathsep.join(
    [str(ROOT / "data")] + [p for p in os.environ.get("DLPS_MIRROR", "").split(os.pathsep)
                            if p and p != str(ROOT / "data")])

import pytest  # noqa: E402
from nbval.plugin import IPyNbCell, IPyNbFile  # noqa: E402

BOOK_OUT = BUILD / "test-book"
HTML = BOOK_OUT / "_build" / "html"
JUPYTER_CACHE = BOOK_OUT / "_build" / ".jupyter_cache"   # where `jupyter-book build` looks
DONE = BUILD / "test-notebooks"                           # one marker per executed notebook
LOCK = BUILD / "test-suite.lock"
BOOK_WAIT_SECONDS = 1800


def _is_controller(config) -> bool:
    return not hasattr(config, "workerinput")


def pytest_configure(config):
    """Fresh test folders for this run (controller only), then the stand-in files."""
    from filelock import FileLock

    BUILD.mkdir(parents=True, exist_ok=True)
    if _is_controller(config):
        for folder in (DONE, BUILD / "test-data", BUILD / "test-runs", JUPYTER_CACHE):
            shutil.rmtree(folder, ignore_errors=True)
        (BOOK_OUT / "test-book.result.json").unlink(missing_ok=True)
    with FileLock(str(LOCK)):
        import make_fixtures

        make_fixtures.main(Path(TEST_ENV["DLPS_TEST_FIXTURES"]).parent)


# ----------------------------------------------------------------------------- notebooks
def pytest_collect_file(file_path, parent):
    """Collect lessons/*.md and solutions/*.md notebooks for nbval (with --nbval-lax)."""
    option = parent.config.option
    if not (option.nbval or option.nbval_lax) or file_path.parent.parent != ROOT:
        return None
    if file_path.parent.name in layout.EXECUTED_FOLDERS and layout.is_notebook(file_path):
        return MystNotebook.from_parent(parent, path=file_path)
    return None


class NotebookCell(IPyNbCell):
    """One code cell run by nbval; remembers whether it passed."""

    passed = False

    def runtest(self):
        super().runtest()
        self.passed = True


class MystNotebook(IPyNbFile):
    """nbval's notebook collector, reading the MyST source with jupytext; when the last cell
    has run, a notebook without errors goes into the book's execution cache."""

    def collect(self):
        from collections import defaultdict

        import jupytext
        from nbval.plugin import find_comment_markers, find_metadata_tags

        self.nb = jupytext.read(self.path)
        self.started = time.perf_counter()
        code = [cell for cell in self.nb.cells if cell.cell_type == "code"]
        for number, cell in enumerate(code):
            options = defaultdict(bool, find_metadata_tags(cell.metadata))
            options.update(dict(find_comment_markers(cell.source)))
            options.setdefault("check", self.compare_outputs)
            yield NotebookCell.from_parent(self, name=f"Cell {number}", cell_num=number,
                                           cell=cell, options=options)

    def teardown(self):
        super().teardown()
        cells = [item for item in self.session.items if item.parent is self]
        passed = bool(cells) and all(item.passed for item in cells)
        if passed:
            self._cache_executed_notebook(cells)
        DONE.mkdir(parents=True, exist_ok=True)
        (DONE / f"{layout.page_name(self.path).replace('/', '__')}.json").write_text(
            json.dumps({"passed": passed}))

    def _cache_executed_notebook(self, cells):
        import nbformat
        from filelock import FileLock
        from jupyter_cache import get_cache
        from jupyter_cache.base import CacheBundleIn

        notebook = nbformat.from_dict(json.loads(nbformat.writes(self.nb)))
        code = [cell for cell in notebook.cells if cell.cell_type == "code"]
        for count, (cell, item) in enumerate(zip(code, cells), start=1):
            cell.execution_count = count
            cell.outputs = [nbformat.from_dict(dict(out)) for out in item.test_outputs]
            for out in cell.outputs:
                if out.output_type == "execute_result":
                    out.execution_count = count
                    out.setdefault("metadata", {})
        JUPYTER_CACHE.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(LOCK)):
            get_cache(str(JUPYTER_CACHE)).cache_notebook_bundle(
                CacheBundleIn(notebook, str(self.path),
                              data={"execution_seconds": time.perf_counter() - self.started}),
                check_validity=False, overwrite=True)


def _needs_book(item) -> bool:
    return "built_book" in getattr(item, "fixturenames", ())


def pytest_collection_modifyitems(session, config, items):
    """Notebooks first, then tests that do not need the book, then those that do: a worker
    that reaches the book build then finds nearly every notebook already executed."""
    items.sort(key=lambda item: 0 if isinstance(item, NotebookCell) else
               2 if _needs_book(item) else 1)


# ----------------------------------------------------------------------------- the book
def _wait_for_notebooks(session) -> None:
    """Wait until every notebook this session collected has run (in any worker)."""
    expected = {layout.page_name(item.parent.path).replace("/", "__")
                for item in session.items if isinstance(item, NotebookCell)}
    deadline = time.monotonic() + BOOK_WAIT_SECONDS
    while time.monotonic() < deadline:
        done = {path.stem for path in DONE.glob("*.json")} if DONE.is_dir() else set()
        if expected <= done:
            return
        time.sleep(2)


@pytest.fixture
def no_network(monkeypatch):
    """Make every attempt to open a network connection fail, as on an offline laptop."""
    import socket

    def refuse(*args, **kwargs):
        raise OSError("network is unreachable (blocked by the test)")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.fixture(scope="session")
def built_book(request):
    """Build the book once per test run (smoke profile) with warnings as errors.

    Notebooks that nbval ran cleanly in this session come from the execution cache; any other
    is executed by the build itself.  With pytest-xdist several workers may ask for the book:
    a file lock lets the first one build and the others reuse its result.  Returns the exit
    code and the log tail.
    """
    from filelock import FileLock

    _wait_for_notebooks(request.session)
    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID", str(os.getpid()))
    result_file = BOOK_OUT / "test-book.result.json"
    with FileLock(str(LOCK)):
        if result_file.exists():
            saved = json.loads(result_file.read_text())
            if saved["run"] == run_id:
                return saved["code"], saved["log"]
        shutil.rmtree(BOOK_OUT / "_build" / "html", ignore_errors=True)
        shutil.rmtree(BOOK_OUT / "_build" / ".doctrees", ignore_errors=True)
        jb = Path(sys.executable).parent / "jupyter-book"
        result = subprocess.run(
            [str(jb), "build", str(ROOT), "--path-output", str(BOOK_OUT), "--warningiserror",
             "--nitpick", "--keep-going"], capture_output=True, text=True)
        log = result.stdout[-6000:] + result.stderr[-6000:]
        result_file.write_text(json.dumps({"run": run_id, "code": result.returncode, "log": log}))
        return result.returncode, log


@pytest.fixture(scope="session")
def html(built_book):
    code, log = built_book
    assert code == 0, log
    return HTML


def book_pages(html: Path) -> list[Path]:
    """Every reader-facing HTML page of a built book (not Sphinx's index and search pages)."""
    skip = ("_static", "_sources", "_images", "reports")
    return [p for p in sorted(html.rglob("*.html"))
            if p.relative_to(html).parts[0] not in skip and "@jupyter-widgets" not in p.parts
            and p.name not in ("search.html", "genindex.html")]


