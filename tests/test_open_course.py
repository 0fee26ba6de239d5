"""An open course people may reuse, cite and teach: licences, citation file, bibliography,
glossary and notation, feedback button, the data licences page and the PDF edition.

CITATION.cff is validated against its schema by cffconvert and the workflows by actionlint in
``make lint`` (see the Makefile); here the sources are checked, then the suite's one book build
(``built_book``), and the PDF printed from that build's execution cache.
"""

import re
import shutil
import subprocess
import sys
from html import unescape
from pathlib import Path

import pytest
import yaml
from layout import ROOT, toc_pages

from conftest import BOOK_OUT

sys.path.insert(0, str(ROOT / "_ext"))
import open_course  # noqa: E402

ROLE = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]+)`")
TERM = re.compile(r"\{term\}`([^`]+)`")
BIB_KEY = re.compile(r"^@\w+\{\s*([^,\s]+)\s*,", re.MULTILINE)
LESSON_TITLE = re.compile(r"^# (Lesson \d+: .+)$", re.MULTILINE)
MIN_CITATIONS = 3


def lessons() -> list[Path]:
    """Every lesson page: a file in lessons/ whose title reads "Lesson N: ..."."""
    return [path for path in sorted((ROOT / "lessons").glob("*.md"))
            if LESSON_TITLE.search(path.read_text())]


def cited_keys(text: str) -> set[str]:
    return {key.strip() for keys in ROLE.findall(text) for key in keys.split(",")}


def bib_keys() -> list[str]:
    return BIB_KEY.findall((ROOT / "references.bib").read_text())


def glossary_terms() -> set[str]:
    """The terms of glossary.md: the unindented lines inside its glossary directive."""
    text = (ROOT / "glossary.md").read_text()
    body = text.split("```{glossary}", 1)[1].split("```", 1)[0]
    return {line.strip().lower() for line in body.splitlines()
            if line.strip() and not line.startswith((" ", "\t"))}


# ----------------------------------------------------------------------------- sources
def test_licences_and_citation_file():
    code = (ROOT / "LICENSE").read_text()
    assert code.startswith("MIT License") and "Permission is hereby granted" in code
    content = (ROOT / "LICENSE-CONTENT.md").read_text()
    assert "Creative Commons Attribution 4.0 International" in content
    assert "https://creativecommons.org/licenses/by/4.0/legalcode" in content
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert citation["cff-version"] == "1.2.0"
    assert set(citation["license"]) == {"CC-BY-4.0", "MIT"}
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert citation["repository-code"] == config["repository"]["url"]
    assert citation["title"] == config["title"]


def test_bibliography_has_unique_keys():
    keys = bib_keys()
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    assert not repeated, f"repeated keys in references.bib: {repeated}"


def test_every_cited_key_is_in_the_bibliography():
    known = set(bib_keys())
    unknown = {}
    for page in toc_pages():
        path = ROOT / f"{page}.md"
        missing = cited_keys(path.read_text()) - known if path.exists() else set()
        if missing:
            unknown[page] = sorted(missing)
    assert not unknown, f"keys not in references.bib: {unknown}"


@pytest.mark.parametrize("lesson", [p.stem for p in lessons()])
def test_each_lesson_cites_the_works_it_uses(lesson):
    keys = cited_keys((ROOT / "lessons" / f"{lesson}.md").read_text())
    assert len(keys) >= MIN_CITATIONS, (
        f"lessons/{lesson}.md cites {len(keys)} works ({sorted(keys)}); cite at least "
        f"{MIN_CITATIONS} of the methods and data sets it uses with {{cite:p}}`key`")


@pytest.mark.parametrize("lesson", ["01_tensors_autograd", "02_regression",
                                    "03_classification"])
def test_lessons_link_first_uses_to_the_glossary(lesson):
    text = (ROOT / "lessons" / f"{lesson}.md").read_text()
    targets = [re.sub(r"^.*<(.+)>$", r"\1", term).strip().lower() for term in TERM.findall(text)]
    assert len(targets) >= 5, f"{lesson}: only {len(targets)} glossary links"
    missing = sorted(set(targets) - glossary_terms())
    assert not missing, f"{lesson} links to terms the glossary lacks: {missing}"


def test_one_symbol_for_the_learning_rate():
    """eta in every lesson (the notation page): no update rule or "learning rate $..." with
    another letter."""
    notation = (ROOT / "notation.md").read_text()
    assert "| $\\eta$ | the learning rate, in every lesson" in notation
    other = re.compile(r"\\leftarrow\s*[\w\\]+\s*-\s*\\(lambda|alpha|epsilon)\b"
                       r"|learning rate\s*\$\\(lambda|alpha|epsilon)")
    offenders = [path.name for path in lessons() if other.search(path.read_text())]
    assert not offenders, f"a learning rate other than eta in {offenders}"


@pytest.mark.parametrize("lesson", ["01_tensors_autograd", "02_regression",
                                    "03_classification"])
def test_sigma_without_subscript_is_the_sigmoid(lesson):
    """A bare sigma takes an argument (the sigmoid); every other sigma has a subscript."""
    text = (ROOT / "lessons" / f"{lesson}.md").read_text()
    bare = [m.group(0) for m in re.finditer(r"\\sigma(?![_(')a-zA-Z])(.{0,12})", text)]
    assert not bare, f"{lesson}: sigma without argument or subscript: {bare}"


def test_data_licence_rows_come_from_the_registry():
    table = open_course.registry_table()
    rows = open_course.licence_rows(table)
    assert [row[-1] for row in rows] == list(table)
    assert all(row[2] == table[row[-1]]["licence"] for row in rows)


def test_new_pages_are_in_the_table_of_contents():
    pages = toc_pages()
    for page in ("glossary", "notation", "references", "licences"):
        assert page in pages, page


def test_an_unknown_citation_key_fails_the_build(tmp_path):
    """The bibliography setup of _config.yml turns an unknown key into a warning, so the
    book build (warnings as errors) fails. A small book with the course configuration and the
    bibliography: once with a known key (builds), once with an unknown one (fails)."""
    for name in ("_config.yml", "references.bib", "glossary.md", "notation.md",
                 "references.md"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "fig").mkdir()
    shutil.copy(ROOT / "fig" / "favicon.png", tmp_path / "fig" / "favicon.png")
    for folder in ("_ext", "dlps"):     # the extension loads dlps's plain-data modules
        shutil.copytree(ROOT / folder, tmp_path / folder,
                        ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "_build" / "vendor").mkdir(parents=True)    # html_static_path
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nchapters:\n  - file: glossary\n  - file: notation\n"
        "  - file: references\n")
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    results = {}
    for key in ("rumelhart1986learning", "nosuchkey1999"):
        (tmp_path / "intro.md").write_text(
            f"# Intro\n\nBackpropagation {{cite:p}}`{key}`; a {{term}}`tensor`.\n")
        build = subprocess.run(
            [str(jupyter_book), "build", str(tmp_path), "--path-output",
             str(tmp_path / key), "--warningiserror", "--nitpick"],
            capture_output=True, text=True)
        results[key] = (build.returncode, build.stdout + build.stderr)
    code, log = results["rumelhart1986learning"]
    assert code == 0, log[-3000:]
    code, log = results["nosuchkey1999"]
    assert code != 0 and 'could not find bibtex key "nosuchkey1999"' in log, log[-3000:]


# ----------------------------------------------------------------------------- the site
def test_site_has_licence_footer_issues_button_and_references(html):
    lesson = (html / "lessons" / "01_tensors_autograd.html").read_text()
    assert "creativecommons.org/licenses/by/4.0/" in lesson and "MIT licence" in lesson
    assert "/issues/new" in lesson, "the issues button is missing"
    assert 'class="bibtex-citation"' in lesson or "references.html#" in lesson
    references = (html / "references.html").read_text()
    assert "Learning representations by back-propagating errors" in references


def test_data_licences_page_lists_every_registry_entry(html):
    # As a reader sees it: entities decoded, invisible break points and curly quotes undone.
    page = unescape((html / "licences.html").read_text())
    page = page.replace("\u200b", "").replace("\u2019", "'")
    for entry in open_course.registry_table().values():
        for field in ("title", "licence"):
            assert entry[field] in page, f"licences page lacks {entry[field]!r}"


# ----------------------------------------------------------------------------- the PDF
@pytest.fixture(scope="module")
def pdf(built_book, tmp_path_factory):
    """The PDF edition printed from the suite's book build (its execution cache: no notebook
    runs again), with the problems the printer found on the way."""
    code, log = built_book
    assert code == 0, log
    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        pytest.skip("needs Chromium (apt install chromium)")
    if not shutil.which("pdftotext"):
        pytest.skip("needs poppler's pdftotext (apt install poppler-utils)")
    import make_pdf

    single = make_pdf.build_single_page(BOOK_OUT)
    path = tmp_path_factory.mktemp("pdf") / "book.pdf"
    report = make_pdf.print_pdf(single, path)
    return path, report


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def test_pdf_holds_the_whole_book(pdf):
    path, report = pdf
    assert not report["problems"], report["problems"]
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True,
                          check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE).group(1))
    # Six lessons with their exercises and solutions fill well over a hundred A4 pages.
    assert pages >= 20 * len(lessons()), pages
    text = " ".join(pdf_text(path).split())
    for lesson in lessons():
        title = " ".join(LESSON_TITLE.search(lesson.read_text()).group(1).split())
        assert title in text, f"{title!r} is not in the PDF"
    # Every page of the table of contents, by its title: exercises, solutions, instructor
    # guide and reference pages included.
    for page in toc_pages():
        source = (ROOT / f"{page}.md").read_text()
        title = " ".join(re.search(r"^# (.+)$", source, re.MULTILINE).group(1).split())
        assert title.replace("`", "") in text, f"{page}: {title!r} is not in the PDF"
    # The worked solutions (folded into dropdowns on the web page) are printed unfolded.
    assert "BEGIN SOLUTION" in text


def test_pdf_equations_are_typeset_and_figures_embedded(pdf):
    path, _ = pdf
    squeezed = "".join(pdf_text(path).split())
    # Lesson 1's first equation and the sigmoid, as MathJax typeset them.
    assert "f(x1,x2)=3x1" in squeezed
    assert "σ(z)=1/(1+e−z)" in squeezed
    # No raw TeX left over (MathJax would have replaced it).
    assert "\\frac" not in squeezed and "$$" not in squeezed
    images = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True,
                            text=True, check=True).stdout.splitlines()[2:]
    assert len(images) >= 10, f"only {len(images)} raster figures in the PDF"
