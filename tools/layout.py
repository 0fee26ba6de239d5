"""Where things are in the course repository: defined once, imported by tools and tests.

    ROOT              the repository root
    NOTEBOOK_FOLDERS  folders of MyST notebooks: lessons, exercises, solutions
    EXECUTED_FOLDERS  the folders whose notebooks the tests and the book execute
    notebooks()       the MyST notebooks of some folders, sorted
    notebook_pages()  their book page names, e.g. "lessons/01_tensors_autograd"
    toc_pages()       every page listed in _toc.yml, in order
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_FOLDERS = ("lessons", "exercises", "solutions")
# Exercises have gaps that raise on purpose; they are checked by tests/test_exercises.py.
EXECUTED_FOLDERS = ("lessons", "solutions")
JUPYTEXT_HEADER = "---\njupytext:"


def is_self_check(source: str) -> bool:
    """A code cell that only runs the participant self-check (Lesson 1 opens with one)."""
    lines = [line.split("#")[0].strip() for line in source.splitlines()]
    lines = [line for line in lines if line]
    return (len(lines) == 2 and lines[0] == "from dlps.selfcheck import self_check"
            and lines[1].replace(" ", "") in ("self_check()", "ready=self_check()"))


def is_notebook(path: Path) -> bool:
    """A MyST markdown notebook (jupytext front matter), as opposed to a plain page."""
    return path.suffix == ".md" and path.read_text().startswith(JUPYTEXT_HEADER)


def notebooks(folders=NOTEBOOK_FOLDERS) -> list[Path]:
    return [path for folder in folders for path in sorted((ROOT / folder).glob("*.md"))
            if is_notebook(path)]


def page_name(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def notebook_pages(folders=NOTEBOOK_FOLDERS) -> list[str]:
    return [page_name(path) for path in notebooks(folders)]


def toc_pages() -> list[str]:
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]]
    for part in toc.get("parts", []):
        pages += [chapter["file"] for chapter in part["chapters"]]
    return pages
