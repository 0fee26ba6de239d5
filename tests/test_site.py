"""The built site as a product: launch links, notebooks export, provenance, images and links."""

import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import export_notebooks
import nbformat
import numpy as np
import pytest
from layout import notebook_pages
from PIL import Image

from conftest import book_pages

NOTEBOOK_PAGES = notebook_pages()


class Tags(HTMLParser):
    """Collect every tag with its attributes."""

    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def tags(path: Path, name: str):
    parser = Tags()
    parser.feed(path.read_text())
    return [attrs for tag, attrs in parser.tags if tag == name]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("notebooks")
    export_notebooks.export(out)
    return out


def test_export_has_one_stripped_notebook_per_source(exported):
    for page in NOTEBOOK_PAGES:
        notebook = nbformat.read(exported / f"{page}.ipynb", as_version=4)
        first = notebook.cells[0]
        assert "colab-setup" in first.metadata["tags"] and "remove-cell" in first.metadata["tags"]
        assert 'if "google.colab" in sys.modules:' in first.source
        assert all(not c.get("outputs") for c in notebook.cells if c.cell_type == "code")
    for needed in ("requirements.txt", "pyproject.toml", "dlps/__init__.py", "binder/apt.txt"):
        assert (exported / needed).exists()


def test_colab_cell_installs_what_the_notebook_imports(exported):
    lesson1 = nbformat.read(exported / "lessons/01_tensors_autograd.ipynb", as_version=4)
    setup = lesson1.cells[0].source
    assert "torchviz==0.0.3" in setup and "graphviz" in setup and "dlps @ git+https://" in setup
    assert "dscribe" not in setup          # only what this notebook imports
    # Outside Colab the cell does nothing at all.
    run = subprocess.run([sys.executable, "-c", setup], capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout == "" and run.stderr == ""


def test_launch_buttons_point_at_exported_notebooks(html, exported):
    for page in NOTEBOOK_PAGES:
        links = [a["href"] for a in tags(html / f"{page}.html", "a")
                 if "colab.research.google.com" in a.get("href", "")
                 or "mybinder.org" in a.get("href", "")]
        colab = [u for u in links if "colab" in u]
        binder = [u for u in links if "mybinder" in u]
        assert len(colab) == 1 and len(binder) == 1, f"{page}: launch buttons missing"
        colab_path = re.sub(r"^.*/blob/[^/]+/", "", colab[0])
        binder_path = unquote(binder[0]).split("urlpath=lab/tree/")[1]
        for path in (colab_path, binder_path):
            assert path == f"{page}.ipynb" and (exported / path).is_file(), path


def test_status_page_and_provenance_badges_come_from_run_records(html):
    status = (html / "status.html").read_text()
    lessons = [p for p in NOTEBOOK_PAGES if p.startswith("lessons/")]
    for page in lessons:
        assert f'href="{page}.html"' in status, f"{page} missing from the status page"
        text = (html / f"{page}.html").read_text()
        assert "Provenance" in text and "profile on" in text, f"{page} has no provenance badge"
    assert "'smoke' profile" in (html / f"{lessons[0]}.html").read_text()


def test_every_image_loads_has_alt_text_and_an_opaque_background(html):
    for page in book_pages(html):
        for img in tags(page, "img"):
            src = img.get("src", "")
            if src.startswith("data:") or "logo" in src:
                continue
            target = (page.parent / unquote(urlparse(src).path)).resolve()
            assert target.is_file(), f"{page.name}: missing image {src}"
            alt = img.get("alt", "")
            assert alt and Path(alt).name != target.name, f"{page.name}: {src} has no alt text"
            if target.suffix == ".png":
                pixels = np.asarray(Image.open(target).convert("RGBA"))
                assert pixels[..., 3].min() == 255, f"{target.name} is transparent (dark mode)"


def test_internal_links_resolve(html):
    for page in book_pages(html):
        for a in tags(page, "a"):
            href = a.get("href", "")
            parsed = urlparse(href)
            if not href or parsed.scheme or href.startswith(("#", "mailto:")):
                continue
            target = (page.parent / unquote(parsed.path)).resolve()
            assert target.exists(), f"{page.relative_to(html)} links to missing {href}"


def test_math_is_served_locally(html):
    for page in book_pages(html):
        scripts = [s.get("src", "") for s in tags(page, "script")]
        assert not any("cdn.jsdelivr" in s or "mathjax" in s and s.startswith("http")
                       for s in scripts), page.name
    assert (html / "_static" / "mathjax" / "tex-chtml.js").is_file()


def test_exercises_and_solutions_link_both_ways(html):
    for page in [p for p in NOTEBOOK_PAGES if p.startswith("exercises/")]:
        name = page.split("/")[1]
        exercise = html / "exercises" / f"{name}.html"
        solution = html / "solutions" / f"{name}.html"
        assert f"../solutions/{name}.html" in exercise.read_text(), f"{name}: no link to solutions"
        text = solution.read_text()
        assert f"../exercises/{name}.html" in text, f"{name}: no link back to the exercises"
        assert re.search(r'class="[^"]*solution[^"]*dropdown', text), f"{name}: solution not folded"
        assert "# BEGIN SOLUTION" not in exercise.read_text()


def test_instructor_pages_are_computed_from_lessons_and_run_records(html):
    """The guide tabulates every lesson with reference and build run times; the schedule page
    lays out every lesson in each of its timetables (no minute typed by hand)."""
    from dlps import schedule

    lessons = schedule.read_lessons()
    guide = (html / "instructors" / "guide.html").read_text()
    table = guide[guide.index('class="workshop-lessons'):]
    table = table[:table.index("</table>")]
    for lesson in lessons:
        assert f"Lesson {lesson.number}: {lesson.title}" in table
        assert f"{lesson.teaching} + {lesson.exercises} min" in table
    assert "not measured" not in table and "not recorded" not in table
    assert re.search(r"Written by <code[^>]*><span class=\"pre\">python</span>", guide), guide
    page = (html / "instructors" / "schedule.html").read_text()
    timetables = page.count('class="workshop-schedule')
    assert timetables == 3 + 2 + 4, timetables     # three days, two days, four half-days
    # each format teaches a lesson (a teaching and an exercise row) or lists it as left out
    tables = [schedule.timetable(key, lessons) for key in schedule.FORMATS]
    for lesson in lessons:
        expected = sum(2 if lesson in [plan.lesson for plan in table.plans] else 1
                       for table in tables)
        assert page.count(f"Lesson {lesson.number}: {lesson.title}") >= expected
    assert page.count("Not in this timetable") == sum(bool(t.left_out) for t in tables)
