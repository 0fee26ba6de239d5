"""Exercises are derived from solutions, stay in sync, run up to their first gap, and give
feedback: every gap has a visible check cell that fails, with its message, on each wrong answer
written next to the solution, and passes on the solution (CONTRIBUTING.md, "Exercise checks")."""

import ast
import random
import re
import textwrap

import jupytext
import make_exercises
import nbclient
import nbformat
import numpy as np
import pytest
import torch
from layout import ROOT, notebooks, page_name

from dlps import checks

EXERCISES = notebooks(["exercises"])
SOLUTIONS = notebooks(["solutions"])


def test_every_exercise_matches_its_solution():
    assert make_exercises.main(["--check"]) == 0, "run: python tools/make_exercises.py"


def test_every_solution_has_an_exercise_with_a_gap():
    solutions = sorted((ROOT / "solutions").glob("*.md"))
    assert solutions, "no solution notebooks found"
    for _source, target in make_exercises.pairs():
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
        '<!-- WRONG "off by"', "secret = 41", "-->",
        "```{code-cell} ipython3", "check.secret(secret)", "```",
    ])
    out = make_exercises.derive(source, "x.md")
    assert "only in the exercise" in out and "<!-- EXERCISE-ONLY" not in out
    assert "answer text" not in out and "secret = " not in out and ":label:" not in out
    assert "WRONG" not in out and "41" not in out and "check.secret(secret)" in out
    assert f"    {make_exercises.GAP}" in out           # indentation kept
    assert "setup = 1" in out and "after = 2" in out and "Do it." in out
    assert out.splitlines()[3].startswith("<!-- Generated from x.md")
    assert "# Lesson 9 exercises: title" in out


def test_derive_rejects_unclosed_region():
    with pytest.raises(ValueError, match="never closed"):
        make_exercises.derive("# BEGIN SOLUTION\nx = 1\n", "x.md")
    with pytest.raises(ValueError, match="WRONG block is never closed"):
        make_exercises.derive('<!-- WRONG "sign"\nx = 1\n', "x.md")


@pytest.mark.parametrize("path", EXERCISES, ids=[p.name for p in EXERCISES])
def test_exercise_runs_until_its_first_gap(path, tmp_path):
    """Every cell before the first gap runs cleanly; the gap itself raises NotImplementedError."""
    notebook = jupytext.read(path)
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    first_gap = next(i for i, cell in enumerate(code_cells) if make_exercises.GAP in cell.source)
    prose = [c for c in notebook.cells if c.cell_type != "code"]
    notebook.cells = prose + code_cells[:first_gap + 1]
    client = nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    with pytest.raises(nbclient.exceptions.CellExecutionError) as err:
        client.execute()
    assert err.value.ename == "NotImplementedError", err.value
    failed = [c for c in code_cells[:first_gap + 1]
              if any(o.get("output_type") == "error" for o in c.get("outputs", []))]
    assert failed == [code_cells[first_gap]], "a cell before the first gap failed"


# ----------------------------------------------------------------------------- exercise checks
def test_gaps_finds_wrong_answers_and_check_cells():
    source = "\n".join([
        "---", "jupytext:", "  text_representation:", "    format_name: myst",
        "kernelspec:", "  display_name: Python 3", "  name: python3", "---",
        "# Lesson 9 solutions: title",
        "```{code-cell} ipython3", "def f(x):", "    # BEGIN SOLUTION", "    return 2 * x",
        "    # END SOLUTION", "```",
        '<!-- WRONG "opposite sign"', "return -2 * x", "", "-->",
        '<!-- WRONG "factor"', "return x", "-->",
        "```{code-cell} ipython3", "check.f(f)", "```",
    ])
    notebook = jupytext.reads(source, fmt="md:myst")
    [gap] = make_exercises.gaps(notebook)
    assert [text for text, _ in gap.wrong] == ["opposite sign", "factor"]
    assert notebook.cells[gap.check].source == "check.f(f)"
    assert gap.source() == "def f(x):\n    return 2 * x"
    assert gap.source(gap.wrong[0][1]) == "def f(x):\n    return -2 * x"


def test_gaps_rejects_two_regions_in_one_cell():
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "# BEGIN SOLUTION\na = 1\n# END SOLUTION\n# BEGIN SOLUTION\nb = 2\n# END SOLUTION")])
    with pytest.raises(ValueError, match="one solution region per code cell"):
        make_exercises.gaps(notebook)


@pytest.mark.parametrize("source, ok", [
    ("check.f(f)", True),
    ("check.fit(model, X_val, y_val)\ncheck.other(a.b)", True),
    ("check.f(f, tolerance=tol)", True),
    ("check.f(2.0)", False),                      # a literal could be the answer
    ("check.f(np.cos(0.5) * 4)", False),          # so could a formula
    ("expected = 3\ncheck.f(expected)", False),
    ("assert f == 2", False),
    ("print(check.f(f))", False),
    ("", False),
])
def test_is_check_cell(source, ok):
    assert make_exercises.is_check_cell(source) is ok


def test_expect_close_diagnoses_without_revealing_the_answer():
    right = torch.tensor([2.0104, 1.7927])

    def message(got, **options):
        with pytest.raises(checks.CheckFailed) as err:
            checks.expect_close("g", got, right, rtol=1e-4, **options)
        text = str(err.value)
        assert "2.01" not in text and "1.79" not in text, text   # never the expected value
        return text

    checks.expect_close("g", right * (1 + 1e-6), right, rtol=1e-4)   # within tolerance
    assert "opposite sign" in message(-right)
    assert "wrong order" in message(right.flip(0))
    assert "constant factor" in message(2 * right)
    assert "shape (3,)" in message(torch.ones(3))
    assert "NaN" in message(torch.tensor([float("nan"), 1.0]))
    assert "dh/dy is wrong (dh/dx is right). dh/dy has the wrong sign" in message(
        right * torch.tensor([1.0, -1.0]), labels=["dh/dx", "dh/dy"])
    assert "up to 5 %" in message(right * torch.tensor([1.0, 1.05]))
    assert "is None" in message(None)
    assert "str" in message("2.01")
    matrix = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(checks.CheckFailed, match="transpose"):
        checks.expect_close("m", matrix.T, matrix)
    with pytest.raises(checks.CheckFailed, match="has shape \\(4,\\), which is not right"):
        checks.expect_close("m", matrix.flatten(), matrix, reveal_shape=False)


def test_check_failed_shows_a_short_message_in_ipython(capsys):
    err = checks.CheckFailed("w", "is off by a constant factor.", "Look at the mean.")
    assert str(err) == "w: is off by a constant factor. Hint: Look at the mean."
    lines = err._render_traceback_()           # what Jupyter and Colab print
    assert "Not yet: w" in lines[0] and lines[1:] == [
        "  is off by a constant factor.", "  Hint: Look at the mean."]
    checks.passed("w", torch.tensor([1.5, 2.0]), "checked")
    printed = re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().out)  # without the colours
    assert printed == "✓ Correct: w = [1.5, 2. ]  (checked)\n"


def test_exercise_check_leaves_the_random_streams_alone():
    @checks.exercise_check
    def noisy_check():
        return random.random(), np.random.rand(), torch.rand(1).item()

    torch.manual_seed(1), np.random.seed(1), random.seed(1)
    expected = random.random(), np.random.rand(), torch.rand(1).item()
    torch.manual_seed(1), np.random.seed(1), random.seed(1)
    noisy_check()
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == expected


def test_call_turns_the_learners_exceptions_into_readable_failures():
    def broken(x):
        return x.grad.zero_()

    with pytest.raises(checks.CheckFailed, match="raised AttributeError"):
        checks.call("broken", broken, 1.0)
    with pytest.raises(checks.CheckFailed, match="not a function"):
        checks.call("f", 3)

    def unfinished():
        raise NotImplementedError("Exercise: replace this line with your code")

    with pytest.raises(checks.CheckFailed, match="still raises NotImplementedError"):
        checks.call("unfinished", unfinished)


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.name for p in SOLUTIONS])
def test_every_solution_dropdown_is_closed(path):
    """sphinx-exercise stops the book build at a solution-start without its solution-end."""
    text = path.read_text()
    starts, ends = text.count("::::{solution-start}"), text.count("::::{solution-end}")
    assert starts == ends, f"{path.name}: {starts} solution-start, {ends} solution-end"


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.name for p in SOLUTIONS])
def test_every_gap_has_a_check_cell_and_wrong_answers(path):
    notebook = jupytext.read(path)
    exercise = (ROOT / "exercises" / path.name).read_text()
    page_gaps = make_exercises.gaps(notebook)
    assert page_gaps, f"{path.name} has no gaps"
    for gap in page_gaps:
        where = f"{path.name}, gap in cell {gap.cell} ({gap.solution[:1]})"
        assert gap.check is not None, f"{where}: no code cell after it"
        check_source = notebook.cells[gap.check].source
        assert make_exercises.is_check_cell(check_source), (
            f"{where}: the next code cell is not a check cell: {check_source[:80]!r}")
        assert check_source in exercise, f"{where}: its check cell is not on the exercise page"
        assert gap.wrong, f"{where}: needs at least one <!-- WRONG \"...\" --> block"
    assert any(" as check" in c.source and "checks_lesson" in c.source
               for c in notebook.cells if c.cell_type == "code"), (
        f"{path.name}: never imports its checks (from dlps import checks_lessonN as check)")


def _names_bound(code: str) -> set[str]:
    """The answers a solution region defines: names it assigns (not loop variables) and the
    functions and classes it defines.  The region may be a function body."""
    region = ast.parse("def _region():\n" + textwrap.indent(textwrap.dedent(code), "    "))
    names = set()

    def collect(statements):
        for node in statements:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                names.add(node.name)
                continue
            targets = (node.targets if isinstance(node, ast.Assign) else
                       [node.target] if isinstance(node, (ast.AnnAssign, ast.AugAssign))
                       else [])
            for target in targets:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name)
                             and isinstance(n.ctx, ast.Store))
            for block in ("body", "orelse", "finalbody"):
                collect(getattr(node, block, []))

    collect(region.body[0].body)
    return names


def _names_used(code: str) -> set[str]:
    return {node.id for node in ast.walk(ast.parse(code)) if isinstance(node, ast.Name)}


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.name for p in SOLUTIONS])
def test_exercise_page_says_how_to_check_and_hides_no_answer(path):
    """The exercise page opens with how to check answers, and none of its hidden cells uses a
    name that a gap defines: remove-cell hides a cell only in the book, while in Jupyter and
    Colab a learner reads it, so such a cell could show an answer (as Lesson 1's once did)."""
    exercise = jupytext.read(ROOT / "exercises" / path.name)
    first_code = next(i for i, c in enumerate(exercise.cells) if c.cell_type == "code")
    intro = "\n".join(c.source for c in exercise.cells[:first_code])
    assert make_exercises.CHECK_INTRO in intro, f"{path.name}: no line on how to check answers"
    answers = set().union(*(_names_bound("\n".join(gap.solution))
                            for gap in make_exercises.gaps(jupytext.read(path))))
    assert answers, f"{path.name}: no names found in its solution regions"
    for cell in exercise.cells:
        if cell.cell_type == "code" and "remove-cell" in cell.metadata.get("tags", []):
            leaked = _names_used(cell.source) & answers
            assert not leaked, (f"exercises/{path.name}: a hidden cell uses the answers "
                                f"{sorted(leaked)}: {cell.source[:80]!r}")


_SAVE_RANDOM_STATE = (
    "import random as _r, numpy as _n, torch as _t\n"
    "_dlps_test_random = (_r.getstate(), _n.random.get_state(), _t.random.get_rng_state())")
_RESTORE_RANDOM_STATE = (
    "_r.setstate(_dlps_test_random[0]); _n.random.set_state(_dlps_test_random[1]); "
    "_t.random.set_rng_state(_dlps_test_random[2])")


def _stdout(cell) -> str:
    return "".join(out.get("text", "") for out in cell.get("outputs", [])
                   if out.get("output_type") == "stream")


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.name for p in SOLUTIONS])
def test_checks_fail_on_wrong_answers_and_pass_on_solutions(path, tmp_path):
    """One kernel runs the solution page top to bottom.  At each gap it first runs every wrong
    answer followed by the check cell, which must fail with CheckFailed and the promised
    message, then the solution and the check cell, which must print "Correct".  The random
    state is reset before each variant, so the solution computes what it computes under nbval.
    """
    notebook = jupytext.read(path)
    page_gaps = {gap.cell: gap for gap in make_exercises.gaps(notebook)}
    check_cells = {gap.check for gap in page_gaps.values()}
    client = nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})

    def run(source, index):
        return client.execute_cell(nbformat.v4.new_code_cell(source), index)

    with client.setup_kernel():
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type != "code":
                continue
            gap = page_gaps.get(index)
            if gap is not None:
                run(_SAVE_RANDOM_STATE, index)
                for promised, code in gap.wrong:
                    where = f"{page_name(path)} cell {index}, wrong answer {promised!r}"
                    run(_RESTORE_RANDOM_STATE, index)
                    try:
                        run(gap.source(code), index)
                    except nbclient.exceptions.CellExecutionError as err:
                        pytest.fail(f"{where}: the wrong answer itself raised {err.ename}: "
                                    f"{err.evalue}; it must run, and its check must catch it")
                    try:
                        run(notebook.cells[gap.check].source, gap.check)
                    except nbclient.exceptions.CellExecutionError as err:
                        assert err.ename == "CheckFailed", f"{where}: {err}"
                        assert promised.lower() in err.evalue.lower(), (
                            f"{where}: the check said {err.evalue!r}")
                    else:
                        pytest.fail(f"{where}: the check accepted this wrong answer")
                run(_RESTORE_RANDOM_STATE, index)
            client.execute_cell(cell, index)
            if index in check_cells:
                assert "✓ Correct" in _stdout(cell), (
                    f"{page_name(path)} cell {index}: the check printed no 'Correct': "
                    f"{_stdout(cell)[:300]!r}")
