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
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"

GAP = "raise NotImplementedError(\"Exercise: replace this line with your code\")"
HEADER_NOTE = "<!-- Generated from {source} by tools/make_exercises.py: edit the solution, not this file. -->"

_code_begin = re.compile(r"^(\s*)# BEGIN SOLUTION\s*$")
_code_end = re.compile(r"^\s*# END SOLUTION\s*$")
_md_begin = re.compile(r"^\s*<!-- BEGIN SOLUTION -->\s*$")
_md_end = re.compile(r"^\s*<!-- END SOLUTION -->\s*$")
_exercise_only = re.compile(r"^(\s*)<!-- EXERCISE-ONLY: (.*) -->\s*$")
_label = re.compile(r"^\s*:label:")


def derive(text: str, source_name: str) -> str:
    """Return the exercise version of one solution notebook's text."""
    out: list[str] = []
    titled = False
    mode = None  # None, "code" or "markdown": which kind of solution region we are inside
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
        if match := _code_begin.match(line):
            indent = match.group(1)
            out += [f"{indent}# YOUR CODE HERE", f"{indent}{GAP}"]
            mode = "code"
        elif _md_begin.match(line):
            mode = "markdown"
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
    if mode is not None:
        raise ValueError(f"{source_name}: a BEGIN SOLUTION region is never closed")
    # Put the "generated" note right after the notebook's front matter.
    if out and out[0] == "---":
        end = out.index("---", 1)
        out.insert(end + 1, HEADER_NOTE.format(source=source_name))
    return "\n".join(out) + "\n"


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
