"""Derive each exercise notebook from its solution notebook (the single source).

    python tools/make_exercises.py          # write exercises/*.md from solutions/*.md
    python tools/make_exercises.py --check  # fail if any exercise differs from what it would be

Markers in a solution notebook (solutions/NAME.md -> exercises/NAME.md):

* In code cells, lines between ``# BEGIN SOLUTION`` and ``# END SOLUTION`` become a gap: a
  comment and ``raise NotImplementedError(...)``, indented like the markers.  The gap raises,
  so an unfinished exercise can never pass for a finished one.
* In markdown, everything between ``<!-- BEGIN SOLUTION -->`` and ``<!-- END SOLUTION -->`` is
  dropped (the worked answer, its dropdown, links that only make sense on the solution page).
* A line ``<!-- EXERCISE-ONLY: some text -->`` becomes ``some text`` in the exercise and stays an
  invisible comment on the solution page.
* ``:label:`` options are dropped from the exercise, so both pages can hold the same
  ``{exercise}`` directive without a duplicate label; solutions point at the labelled one.
* The page title ``# Lesson N solutions: topic`` becomes ``# Lesson N exercises: topic``.

Exercise checks (CONTRIBUTING.md, section "Exercise checks"):

* A code cell that holds a solution region is a *gap*.  The first code cell after it must be its
  *check cell*: only calls ``check.<name>(<variables>)`` (the lesson's ``dlps.checks_lessonN``),
  visible on both pages, which prints "Correct" or raises ``dlps.checks.CheckFailed``.
* After the gap cell, in the markdown before the check cell, one or more *wrong answers*::

      <!-- WRONG "opposite sign"
      grad = -grad_right
      -->

  The lines replace the gap's solution region (re-indented like the markers); the quoted text
  must appear in the check's failure message.  They are invisible on the solution page (an
  HTML comment) and dropped from the exercise.  ``gaps()`` finds all of this for the tests,
  which run every wrong answer and assert that its check fails with that message, then run
  the solution and assert that the check passes.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from layout import ROOT

SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"

GAP = "raise NotImplementedError(\"Exercise: replace this line with your code\")"
#: Every exercise page says, before its first code cell, how to check answers (a test looks
#: for this text): what the check cells do and what "correct" means (tolerances, ranges).
CHECK_INTRO = "**Checking your answers:**"
HEADER_NOTE = ("<!-- Generated from {source} by tools/make_exercises.py: "
               "edit the solution, not this file. -->")

_code_begin = re.compile(r"^(\s*)# BEGIN SOLUTION\s*$")
_code_end = re.compile(r"^\s*# END SOLUTION\s*$")
_md_begin = re.compile(r"^\s*<!-- BEGIN SOLUTION -->\s*$")
_md_end = re.compile(r"^\s*<!-- END SOLUTION -->\s*$")
_exercise_only = re.compile(r"^(\s*)<!-- EXERCISE-ONLY: (.*) -->\s*$")
_label = re.compile(r"^\s*:label:")
_wrong_begin = re.compile(r'^<!-- WRONG "([^"]+)"\s*$')
_wrong_end = re.compile(r"^-->\s*$")


def derive(text: str, source_name: str) -> str:
    """Return the exercise version of one solution notebook's text."""
    out: list[str] = []
    titled = False
    mode = None  # None, "code", "markdown" or "wrong": which kind of region we are inside
    lines = text.splitlines()
    for number, line in enumerate(lines, start=1):
        if mode == "code":
            if _code_end.match(line):
                mode = None
            continue
        if mode == "markdown":
            if _md_end.match(line):
                mode = None
            continue
        if mode == "wrong":
            if _wrong_end.match(line):
                mode = "after-wrong"
            continue
        if mode == "after-wrong":
            mode = None
            if not line.strip() and (not out or not out[-1].strip()):
                continue  # no run of empty lines where wrong answers were
        if match := _code_begin.match(line):
            indent = match.group(1)
            out += [f"{indent}# YOUR CODE HERE", f"{indent}{GAP}"]
            mode = "code"
        elif _md_begin.match(line):
            mode = "markdown"
        elif _wrong_begin.match(line):
            mode = "wrong"
        elif match := _exercise_only.match(line):
            out.append(match.group(1) + match.group(2))
        elif _code_end.match(line) or _md_end.match(line):
            raise ValueError(f"{source_name}:{number}: END SOLUTION without BEGIN")
        elif _label.match(line):
            continue
        elif not titled and line.startswith("# "):
            out.append(line.replace(" solutions:", " exercises:", 1))
            titled = True
        else:
            out.append(line)
    if mode == "wrong":
        raise ValueError(f"{source_name}: a WRONG block is never closed (a line -->)")
    if mode not in (None, "after-wrong"):
        raise ValueError(f"{source_name}: a BEGIN SOLUTION region is never closed")
    # Put the "generated" note right after the notebook's front matter.
    if out and out[0] == "---":
        end = out.index("---", 1)
        out.insert(end + 1, HEADER_NOTE.format(source=source_name))
    return "\n".join(out) + "\n"


@dataclass
class Gap:
    """One gap of a solution notebook, with its wrong answers and its check cell.

    ``cell`` and ``check`` index ``notebook.cells`` (jupytext's reading of the MyST source);
    ``check`` is the first code cell after the gap, or None if there is none.
    """

    cell: int
    before: list[str]
    solution: list[str]
    after: list[str]
    indent: str
    wrong: list[tuple[str, str]] = field(default_factory=list)  # (message text, code)
    check: int | None = None

    def source(self, code: str | None = None) -> str:
        """The gap cell with ``code`` in place of its solution region (None: the solution)."""
        body = self.solution if code is None else [
            (self.indent + line) if line.strip() else "" for line in code.splitlines()]
        return "\n".join(self.before + body + self.after)


def is_check_cell(source: str) -> bool:
    """A check cell holds only calls ``check.name(arg, ...)`` whose arguments are variable
    names (or attributes of them): nothing in it can spell out an answer."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False

    def plain(node):
        return isinstance(node, ast.Name) or (isinstance(node, ast.Attribute)
                                              and plain(node.value))

    calls = [statement.value for statement in tree.body if isinstance(statement, ast.Expr)]
    return bool(tree.body) and len(calls) == len(tree.body) and all(
        isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
        and isinstance(call.func.value, ast.Name) and call.func.value.id == "check"
        and all(plain(arg) for arg in call.args)
        and all(keyword.arg and plain(keyword.value) for keyword in call.keywords)
        for call in calls)


def gaps(notebook) -> list[Gap]:
    """Every gap of a solution notebook (read with jupytext), in order.

    Raises ValueError for a cell with more than one solution region (a wrong answer could
    not say which one it replaces) and for a malformed WRONG block.
    """
    found: list[Gap] = []
    current: Gap | None = None
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "markdown":
            if current is not None:
                current.wrong += _wrong_blocks(cell.source, index)
            continue
        if current is not None:
            current.check = index
            current = None
        lines = cell.source.splitlines()
        begins = [i for i, line in enumerate(lines) if _code_begin.match(line)]
        if not begins:
            continue
        if len(begins) > 1:
            raise ValueError(f"cell {index}: one solution region per code cell, found "
                             f"{len(begins)}")
        start = begins[0]
        end = next((i for i in range(start, len(lines)) if _code_end.match(lines[i])), None)
        if end is None:
            raise ValueError(f"cell {index}: BEGIN SOLUTION without END SOLUTION")
        current = Gap(cell=index, before=lines[:start], solution=lines[start + 1:end],
                      after=lines[end + 1:], indent=_code_begin.match(lines[start]).group(1))
        found.append(current)
    return found


def _wrong_blocks(markdown: str, index: int) -> list[tuple[str, str]]:
    blocks, lines, i = [], markdown.splitlines(), 0
    while i < len(lines):
        match = _wrong_begin.match(lines[i])
        i += 1
        if not match:
            continue
        body = []
        while i < len(lines) and not _wrong_end.match(lines[i]):
            body.append(lines[i])
            i += 1
        if i == len(lines):
            raise ValueError(f"cell {index}: a WRONG block is never closed (a line -->)")
        blocks.append((match.group(1), "\n".join(body).strip("\n")))
        i += 1
    return blocks


def pairs() -> list[tuple[Path, Path]]:
    return [(src, EXERCISES / src.name) for src in sorted(SOLUTIONS.glob("*.md"))]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only report drift")
    args = parser.parse_args(argv)
    stale = []
    for source, target in pairs():
        expected = derive(source.read_text(), f"solutions/{source.name}")
        current = target.read_text() if target.exists() else None
        if current == expected:
            continue
        if args.check:
            stale.append(target)
        else:
            target.write_text(expected)
            print(f"wrote {target.relative_to(ROOT)}")
    orphans = sorted(set(EXERCISES.glob("*.md")) - {t for _, t in pairs()})
    for orphan in orphans:
        print(f"{orphan.relative_to(ROOT)} has no solution source", file=sys.stderr)
    for target in stale:
        print(f"{target.relative_to(ROOT)} is out of date: run python tools/make_exercises.py",
              file=sys.stderr)
    return 1 if stale or orphans else 0


if __name__ == "__main__":
    sys.exit(main())
