"""Exercises are derived from solutions, stay in sync, and run up to their first gap."""

import sys
from pathlib import Path

import jupytext
import nbclient
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import make_exercises  # noqa: E402

EXERCISES = sorted((ROOT / "exercises").glob("*.md"))


def test_every_exercise_matches_its_solution():
    assert make_exercises.main(["--check"]) == 0, "run: python tools/make_exercises.py"


def test_every_solution_has_an_exercise_with_a_gap():
    solutions = sorted((ROOT / "solutions").glob("*.md"))
    assert solutions, "no solution notebooks found"
    for source, target in make_exercises.pairs():
        assert target.exists(), f"{target.name} missing: run python tools/make_exercises.py"
        assert make_exercises.GAP in target.read_text(), f"{target.name} has no gap"
        assert "# BEGIN SOLUTION" not in target.read_text()


def test_derive_markers():
    source = "\n".join([
        "---", "jupytext: {}", "---", "# Lesson 9 solutions: title",
        "<!-- EXERCISE-ONLY: only in the exercise -->",
        "<!-- BEGIN SOLUTION -->", "answer text", "<!-- END SOLUTION -->",
        ":::{exercise}", ":label: ex-a", "Do it.", ":::",
        "```{code-cell} ipython3", "setup = 1", "    # BEGIN SOLUTION", "    secret = 42",
        "    # END SOLUTION", "after = 2", "```",
    ])
    out = make_exercises.derive(source, "x.md")
    assert "only in the exercise" in out and "<!-- EXERCISE-ONLY" not in out
    assert "answer text" not in out and "secret" not in out and ":label:" not in out
    assert f"    {make_exercises.GAP}" in out           # indentation kept
    assert "setup = 1" in out and "after = 2" in out and "Do it." in out
    assert out.splitlines()[3].startswith("<!-- Generated from x.md")
    assert "# Lesson 9 exercises: title" in out


def test_derive_rejects_unclosed_region():
    with pytest.raises(ValueError, match="never closed"):
        make_exercises.derive("# BEGIN SOLUTION\nx = 1\n", "x.md")


@pytest.mark.parametrize("path", EXERCISES, ids=[p.name for p in EXERCISES])
def test_exercise_runs_until_its_first_gap(path, tmp_path):
    """Every cell before the first gap runs cleanly; the gap itself raises NotImplementedError."""
    notebook = jupytext.read(path)
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    first_gap = next(i for i, cell in enumerate(code_cells) if make_exercises.GAP in cell.source)
    notebook.cells = [c for c in notebook.cells if c.cell_type != "code"] + code_cells[:first_gap + 1]
    client = nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    with pytest.raises(nbclient.exceptions.CellExecutionError) as err:
        client.execute()
    assert err.value.ename == "NotImplementedError", err.value
    failed = [c for c in code_cells[:first_gap + 1]
              if any(o.get("output_type") == "error" for o in c.get("outputs", []))]
    assert failed == [code_cells[first_gap]], "a cell before the first gap failed"
