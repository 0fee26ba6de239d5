"""Shared fixtures: one executed build of the book per test session."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BOOK_OUT = ROOT / "_build" / "test-book"
HTML = BOOK_OUT / "_build" / "html"


@pytest.fixture(scope="session")
def built_book():
    """Build the book once (smoke profile in the test suite) with warnings as errors.

    Returns the build's exit code and log tail; tests that need the HTML assert on it first.
    """
    shutil.rmtree(BOOK_OUT, ignore_errors=True)
    env = dict(os.environ, DLPS_RUN_LOG=str(BOOK_OUT / "runs"))
    jb = Path(sys.executable).parent / "jupyter-book"
    result = subprocess.run(
        [str(jb), "build", str(ROOT), "--path-output", str(BOOK_OUT), "--warningiserror",
         "--nitpick", "--keep-going"], capture_output=True, text=True, env=env)
    return result.returncode, result.stdout[-6000:] + result.stderr[-6000:]


@pytest.fixture(scope="session")
def html(built_book):
    code, log = built_book
    assert code == 0, log
    return HTML
