"""The course sources are complete and follow the course's conventions (no execution needed)."""

import re

import jupytext
import layout
import pytest
from layout import ROOT, notebooks, page_name, toc_pages

SOURCES = notebooks()


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
    listed = set(toc_pages())
    for path in SOURCES:
        assert page_name(path) in listed, f"{path} is not in _toc.yml"
    for page in listed:
        assert list(ROOT.glob(f"{page}.*")), f"_toc.yml lists {page}, which does not exist"


@pytest.mark.parametrize("path", SOURCES, ids=[page_name(p) for p in SOURCES])
def test_notebook_follows_course_conventions(path):
    text = path.read_text()
    notebook = jupytext.read(path)
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    assert notebook.metadata["jupytext"]["text_representation"]["format_name"] == "myst"
    code = [c for c in notebook.cells if c.cell_type == "code"]
    # Lesson 1 opens with the participant self-check (issue: "the first cell of Lesson 1")
    setup = [c for c in code if not layout.is_self_check(c.source)]
    assert "dlps.show_setup(" in setup[0].source, "first code cell must report profile and device"
    assert all(layout.is_self_check(c.source) for c in code[:code.index(setup[0])])
    assert all(not c.get("outputs") for c in code), "outputs must not be committed"
    code_text = "\n".join(c.source for c in code)  # prose may name a pitfall; code must avoid it
    for pitfall in ("Variable(", "pretrained=True", "set_calculator", "torch.save(model)",
                    "from myst_nb import"):
        assert pitfall not in code_text, f"obsolete, unsafe or book-only call in code: {pitfall}"
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
