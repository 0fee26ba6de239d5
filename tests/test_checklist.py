"""CONTRIBUTING's new-lesson checklist, followed by a test for every lesson."""

import re
import sys

import export_notebooks
import jupytext
import layout
import make_fixtures
import pytest
from layout import ROOT, notebooks, page_name, toc_pages

from dlps import data

LESSONS = notebooks(["lessons"])
SHARED = ROOT.parent / "shared"
#: Read-only folders that hold real copies of course data on test machines (see .ci/run).
SHARED_MIRRORS = [SHARED / "datasets", SHARED / "cifar10-jpeg"]


def code_cells(path):
    return [cell for cell in jupytext.read(path).cells if cell.cell_type == "code"]


def datasets_used(path) -> set[str]:
    """Registry datasets a notebook reads, from its dlps.data calls."""
    text = path.read_text()
    names = set(re.findall(r'fetch_dataset\(\s*"([^"]+)"', text))
    names |= {data.REGISTRY[p].dataset for p in re.findall(r'data\.fetch\(\s*"([^"]+)"', text)}
    if "load_cifar10(" in text:
        names.add("cifar10")
    return names


#: Import names a stock Colab runtime has (tools/colab_emulation.py installs their newest
#: releases as COLAB_SHIPS; scipy and PIL come with them), and the course's own package.
COLAB_HAS = {"torch", "torchvision", "numpy", "pandas", "sklearn", "scipy", "matplotlib",
             "seaborn", "tqdm", "ipywidgets", "PIL", "dlps"}


def imported_packages(path) -> set[str]:
    text = "\n".join(cell.source for cell in code_cells(path))
    return set(re.findall(r"^\s*(?:from|import)\s+(\w+)", text, flags=re.M))


def available_in_tests(name: str) -> bool:
    """A real copy on the test machines, or a stand-in from tests/make_fixtures.py."""
    files = data.DATASETS[name].files
    real = all(any((mirror / relpath).is_file() for mirror in SHARED_MIRRORS)
               for relpath in files)
    standins = all(relpath in make_fixtures.MAKERS for relpath in files)
    return real or standins


@pytest.mark.parametrize("path", LESSONS, ids=[page_name(p) for p in LESSONS])
def test_lesson_follows_the_new_lesson_checklist(path):
    page, code = page_name(path), code_cells(path)
    # 1. In the table of contents.
    assert page in toc_pages(), f"{page} is not in _toc.yml"
    # 2. The setup cell first (after Lesson 1's self-check); one record_run cell naming this page.
    setup = [cell for cell in code if not layout.is_self_check(cell.source)]
    assert "dlps.show_setup(" in setup[0].source
    records = [cell for cell in code if "dlps.record_run(" in cell.source]
    assert len(records) == 1, "exactly one dlps.record_run cell"
    assert f'"{page}"' in records[0].source, f"record_run must be called with {page!r}"
    # 3. Data: every dataset is in the registry, and the tests can run it (real copy or stand-in).
    for name in datasets_used(path):
        assert name in data.DATASETS, f"{name} is not in dlps/registry.py"
        assert name == "cifar10" and available_in_tests("cifar10_jpeg") or \
            available_in_tests(name), f"{name}: no copy in ../shared and no test stand-in"
    # 4. Colab: every import is in Colab's runtime, the standard library, or installed by the
    # notebook's setup cell (COLAB_MISSING).
    for package in imported_packages(path):
        assert (package in COLAB_HAS or package in sys.stdlib_module_names
                or package in export_notebooks.COLAB_MISSING), (
            f"{package}: add it to COLAB_MISSING in tools/export_notebooks.py")
    # 5. Hidden checks (tests/test_sources.py counts them) and a solution/exercise pair,
    # linked from the lesson. An appendix (a lessons/ page without a number, e.g.
    # lessons/appendix_distributed) is self-study outside the workshop timetable: no exercises.
    if not path.name[0].isdigit():
        assert path.stem.startswith("appendix_"), "a lesson's file name starts with its number"
        return
    for folder in ("solutions", "exercises"):
        assert (ROOT / folder / path.name).is_file(), f"{folder}/{path.name} is missing"
    assert f"../exercises/{path.stem}" in path.read_text(), "the lesson does not link its exercises"


def test_checklist_is_in_contributing():
    text = (ROOT / "CONTRIBUTING.md").read_text()
    assert "## New-lesson checklist" in text
    for item in ("_toc.yml", "dlps.show_setup", "dlps.record_run", "dlps/registry.py",
                 "tests/make_fixtures.py", "COLAB_MISSING", "remove-cell", "make exercises"):
        assert item in text, f"the checklist does not mention {item}"

