"""The course sources are complete, and the book builds with warnings as errors."""

import re
import shutil
from pathlib import Path

import jupytext
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("lessons", "exercises", "solutions")
SOURCES = [p for folder in FOLDERS for p in sorted((ROOT / folder).glob("*.md"))]


def toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part["chapters"]]
    return files


def softmax_calls(source):
    """The argument lists of every softmax/log_softmax/Softmax call in a code string."""
    # torch.softmax, F.log_softmax, nn.Softmax, tensor.softmax: PyTorch's own, never a function
    # the lesson defines itself.
    for match in re.finditer(r"\.(?:log_)?[sS]oftmax\(", source):
        depth, start = 1, match.end()
        for end in range(start, len(source)):
            depth += {"(": 1, ")": -1}.get(source[end], 0)
            if depth == 0:
                yield source[start:end]
                break


def test_softmax_check_catches_missing_dim():
    assert list(softmax_calls("torch.softmax(f(x), dim=1) + nn.Softmax()")) == ["f(x), dim=1", ""]
    assert list(softmax_calls("def softmax(logits):\n    return F.log_softmax(z, dim=-1)")) == [
        "z, dim=-1"]
    assert list(softmax_calls("p = softmax(z)")) == []


def test_every_notebook_is_in_the_toc():
    listed = set(toc_files())
    for path in SOURCES:
        assert f"{path.parent.name}/{path.stem}" in listed, f"{path} is not in _toc.yml"


@pytest.mark.parametrize("path", SOURCES, ids=[f"{p.parent.name}/{p.name}" for p in SOURCES])
def test_notebook_follows_course_conventions(path):
    text = path.read_text()
    notebook = jupytext.read(path)
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    assert notebook.metadata["jupytext"]["text_representation"]["format_name"] == "myst"
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert "dlps.show_setup(" in code[0].source, "first code cell must report profile and device"
    assert all(not c.get("outputs") for c in code), "outputs must not be committed"
    code_text = "\n".join(c.source for c in code)  # prose may name a pitfall; code must avoid it
    for pitfall in ("Variable(", "pretrained=True", "set_calculator", "torch.save(model)"):
        assert pitfall not in code_text, f"obsolete or unsafe call in code: {pitfall}"
    for cell in code:
        for call in softmax_calls(cell.source):
            assert "dim" in call, f"softmax needs an explicit dim: {call}"
    if path.parent.name != "exercises":
        hidden = [c for c in code if "remove-cell" in c.metadata.get("tags", [])
                  and "assert" in c.source]
        assert hidden, "needs hidden assertion cells tagged remove-cell"
    if path.parent.name == "lessons":
        assert ":::{admonition} Overview" in text and "**Questions**" in text
        assert "**Objectives**" in text and ":::{admonition} Keypoints" in text
        assert len(hidden) >= 3


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
