"""The book builds with warnings as errors, and a lesson page has what it should."""

import re
import shutil


def test_book_builds_with_warnings_as_errors(built_book):
    """The executed book (smoke profile in the test suite) builds with -W: any warning fails."""
    code, log = built_book
    assert code == 0, log


def test_lesson_one_page_has_equations_plots_and_graphs(html):
    lesson = (html / "lessons" / "01_tensors_autograd.html").read_text()
    assert "Traceback" not in lesson and "NameError" not in lesson
    assert lesson.count('class="math') >= 5, "equations missing"
    plots = re.findall(r'<img[^>]+src="[^"]*_images/[^"]+\.png"', lesson)
    assert len(plots) >= 4, "plots missing from the lesson page"
    if shutil.which("dot"):
        graphs = re.findall(r'<img[^>]+src="[^"]*_images/[^"]+\.svg"', lesson)
        assert len(graphs) >= 2, "torchviz graphs missing"
    else:
        assert "Graphviz's `dot` program is not installed" in lesson
