"""Shared fixtures and helpers: one executed build of the book per test session, the list of
its pages, and a local web server."""

import contextlib
import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BOOK_OUT = ROOT / "_build" / "test-book"
HTML = BOOK_OUT / "_build" / "html"


@pytest.fixture(scope="session")
def built_book():
    """Build the book once per test run (smoke profile in the suite) with warnings as errors.

    With pytest-xdist several workers may ask for it: a file lock lets the first one build and
    the others reuse its result.  Returns the exit code and the log tail.
    """
    from filelock import FileLock

    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID", str(os.getpid()))
    BOOK_OUT.parent.mkdir(parents=True, exist_ok=True)
    result_file = BOOK_OUT.parent / "test-book.result.json"
    with FileLock(str(BOOK_OUT.parent / "test-book.lock")):
        if result_file.exists():
            saved = json.loads(result_file.read_text())
            if saved["run"] == run_id:
                return saved["code"], saved["log"]
        shutil.rmtree(BOOK_OUT, ignore_errors=True)
        env = dict(os.environ, DLPS_RUN_LOG=str(BOOK_OUT / "runs"))
        jb = Path(sys.executable).parent / "jupyter-book"
        result = subprocess.run(
            [str(jb), "build", str(ROOT), "--path-output", str(BOOK_OUT), "--warningiserror",
             "--nitpick", "--keep-going"], capture_output=True, text=True, env=env)
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


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve(folder: Path):
    """Serve ``folder`` over HTTP on 127.0.0.1 (a free port); yields the base URL."""
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
