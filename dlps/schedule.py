"""Workshop timing without torch: lesson minutes, reference run times, predictions, schedules.

Used by the self-check (``dlps/selfcheck.py``), by ``python -m dlps calibrate`` and by the
book's instructor pages (``_ext/workshop.py`` loads this file by path, so the Sphinx process
never imports torch).  Nothing here is typed by hand:

* a lesson's teaching and exercise minutes come from the ``Overview`` box of its MyST source
  (``**Teaching:** 100 min`` and ``**Exercises:** 40 min``);
* its reference run time, per profile, comes from ``dlps/reference_times.py``, which
  ``python -m dlps calibrate RUN_LOG_FOLDER`` writes from the run records of ``dlps.record_run``
  together with the micro-benchmark score measured on the same machine.

Prediction.  A lesson's run time on a machine is its reference time in the same profile times
``reference score / this machine's score`` (the score is the benchmark's training throughput).

Budgets.  The schedule gives a lesson its teaching plus exercise minutes: a lesson predicted to
run longer than that cannot be taught on the machine (the self-check fails and points to Colab).
A lesson predicted to run longer than ``WAIT_FRACTION`` of its teaching minutes still fits, but
learners would spend much of the lesson waiting for cells (the self-check adds a note: start the
notebook before a break, or use Colab).
"""

from __future__ import annotations

import math
import pprint
import re
from dataclasses import dataclass
from pathlib import Path

#: The course checkout this file sits in.
ROOT = Path(__file__).resolve().parent.parent
#: Where the lessons live in a checkout.
LESSON_DIR = ROOT / "lessons"
#: The generated file of reference run times (see ``write_reference``).
REFERENCE_FILE = Path(__file__).resolve().with_name("reference_times.py")
#: A lesson whose notebook runs longer than this fraction of its teaching minutes keeps the room
#: waiting: the self-check adds a note.
WAIT_FRACTION = 0.25
#: Minutes of the pauses between the parts of a workshop session.
COFFEE_MINUTES = 15
LUNCH_MINUTES = 60
#: A session or part boundary moves to the nearest lesson or exercise boundary within this many
#: minutes; otherwise it falls inside a block, which is continued after the pause.
SNAP_MINUTES = 20

_TITLE = re.compile(r"^# Lesson (\d+): (.+?)\s*$", re.M)
_TEACHING = re.compile(r"\*\*Teaching:\*\*\s*(\d+)\s*min")
_EXERCISES = re.compile(r"\*\*Exercises:\*\*\s*(\d+)\s*min")


@dataclass(frozen=True)
class Lesson:
    """A lesson as its MyST source declares it."""

    name: str          # 'lessons/01_tensors_autograd' (the run records' notebook name)
    number: int
    title: str
    teaching: int      # minutes
    exercises: int     # minutes

    @property
    def minutes(self) -> int:
        """The time the schedule gives the lesson: teaching plus exercises."""
        return self.teaching + self.exercises


def read_lesson(path: Path) -> Lesson:
    """Parse one lesson's title and Overview minutes; a lesson without them is an error."""
    text = Path(path).read_text()
    title, teaching, exercises = (_TITLE.search(text), _TEACHING.search(text),
                                  _EXERCISES.search(text))
    if not (title and teaching and exercises):
        raise ValueError(f"{path}: no '# Lesson N: Title' heading or no '**Teaching:** N min' "
                         "and '**Exercises:** N min' in its Overview")
    return Lesson(name=f"{Path(path).parent.name}/{Path(path).stem}", number=int(title[1]),
                  title=title[2], teaching=int(teaching[1]), exercises=int(exercises[1]))


def read_lessons(folder: Path = LESSON_DIR) -> list[Lesson]:
    """Every lesson of the course, in order (empty outside a checkout, e.g. in Colab)."""
    if not Path(folder).is_dir():
        return []
    return sorted((read_lesson(p) for p in Path(folder).glob("[0-9]*.md")),
                  key=lambda lesson: lesson.number)


# --------------------------------------------------------------------------- reference times
def load_reference(path: Path = REFERENCE_FILE) -> dict | None:
    """The ``REFERENCE`` dict of the generated reference file, or None if there is none."""
    path = Path(path)
    if not path.is_file():
        return None
    namespace: dict = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)   # a generated literal
    return namespace.get("REFERENCE")


def median(values) -> float:
    values = sorted(values)
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def _machine(device: str, name: str) -> tuple[str, str]:
    """(device, machine) without the thread count: some lessons choose one thread themselves,
    and their records say so, on the same machine."""
    return device, re.sub(r", \d+ threads?$", "", name)


def build_reference(records: dict[str, dict | list[dict]], benchmarks: list[dict],
                    lessons: list[Lesson], command: str) -> dict:
    """The reference data from run records and benchmark results of one machine.

    ``records`` maps a notebook to its record, or to several records of repeated runs; a
    lesson's reference time is then the median of its runs (one run of a short lesson can be
    off by a fifth on a quiet machine). Only lesson records are used (not solutions), and every
    record and benchmark must come from the same machine and device: a reference that mixes
    machines would predict nothing.
    """
    if not benchmarks:
        raise ValueError("no benchmark results: run `python -m dlps benchmark --record FOLDER` "
                         "on the machine that ran the notebooks")
    machines = {_machine(b["device"], b["machine"]) for b in benchmarks}
    used = {name: r if isinstance(r, list) else [r] for name, r in records.items()
            if name.startswith(f"{LESSON_DIR.name}/")}
    if not used:
        raise ValueError("no lesson run records in the folder")
    machines |= {_machine(r["device"], r["device_name"]) for runs in used.values() for r in runs}
    if len(machines) > 1:
        raise ValueError(f"records and benchmarks come from different machines: {machines}")
    minutes = {lesson.name: [lesson.teaching, lesson.exercises] for lesson in lessons}
    lesson_times: dict[str, dict[str, float]] = {}
    finished: dict[str, dict[str, list[str]]] = {}
    for name, runs in sorted(used.items()):
        for profile in sorted({r["profile"] for r in runs}):
            chosen = [r for r in runs if r["profile"] == profile]
            if any(r["seconds"] is None for r in chosen):
                raise ValueError(f"a record of {name} has no run time")
            lesson_times.setdefault(name, {})[profile] = round(
                median([r["seconds"] for r in chosen]), 1)
            finished.setdefault(name, {})[profile] = sorted(r["finished"] for r in chosen)
    scores = [b["score"] for b in benchmarks]
    (device, machine), = machines
    return {
        "command": command,
        "device": device,
        "machine": machine,
        "torch": sorted({r["torch"] for runs in used.values() for r in runs}),
        "finished": finished,
        "benchmark": {"score": round(median(scores), 1), "runs": len(scores),
                      "lowest": min(scores), "highest": max(scores)},
        "lessons": lesson_times,
        "minutes": {name: minutes[name] for name in lesson_times if name in minutes},
    }


def write_reference(reference: dict, path: Path = REFERENCE_FILE) -> Path:
    """Write the generated reference file (a Python literal, so that pip installs it too)."""
    text = (
        '"""Reference run times of the lessons, for the self-check\'s predictions.\n\n'
        f"GENERATED by `{reference['command']}`: do not edit by hand; run the command again.\n"
        "``lessons``: seconds per lesson and profile, from the run records (dlps.record_run),\n"
        "the median where a lesson ran more than once;\n"
        "``benchmark``: the micro-benchmark score (median of its runs) on the same machine;\n"
        "``finished``: when each of those runs ended (which runs they were);\n"
        "``minutes``: [teaching, exercises] of each lesson's Overview when it was measured.\n"
        '"""\n\n'
        f"REFERENCE = {pprint.pformat(reference, width=96, sort_dicts=False)}\n"
    )
    Path(path).write_text(text)
    return Path(path)


# --------------------------------------------------------------------------- predictions
def predict(reference: dict, score: float, profile: str) -> dict[str, float]:
    """Predicted seconds per lesson on a machine with benchmark ``score``, in ``profile``."""
    if not score or score <= 0 or not math.isfinite(score):
        raise ValueError(f"benchmark score must be positive, not {score!r}")
    ratio = reference["benchmark"]["score"] / score
    return {name: seconds[profile] * ratio for name, seconds in reference["lessons"].items()
            if profile in seconds}


def lesson_minutes(reference: dict | None, lessons: list[Lesson]) -> dict[str, tuple[int, int]]:
    """(teaching, exercises) per lesson: from the lesson sources, else from the reference."""
    if lessons:
        return {lesson.name: (lesson.teaching, lesson.exercises) for lesson in lessons}
    return {name: tuple(pair) for name, pair in (reference or {}).get("minutes", {}).items()}


def judge(seconds: float, teaching: int, exercises: int) -> str:
    """'fail' above the scheduled minutes, 'wait' above WAIT_FRACTION of teaching, else 'ok'."""
    if seconds > 60 * (teaching + exercises):
        return "fail"
    if seconds > 60 * WAIT_FRACTION * teaching:
        return "wait"
    return "ok"


# --------------------------------------------------------------------------- schedules
@dataclass(frozen=True)
class Block:
    """A stretch of a session: part of a lesson's teaching or exercises, or a pause."""

    start: int         # minutes after midnight
    minutes: int
    kind: str          # 'teaching', 'exercises', 'coffee', 'lunch'
    lesson: Lesson | None = None
    part: str = ""     # '', 'starts', 'continued', 'continues', 'middle'

    @property
    def end(self) -> int:
        return self.start + self.minutes


def _cut_points(boundaries: list[int], total: int, pieces: int) -> list[int]:
    """Cut [0, total] into ``pieces`` near-equal parts, moving each cut to a block boundary
    within SNAP_MINUTES when there is one (else a multiple of 5 minutes)."""
    cuts = []
    for k in range(1, pieces):
        ideal = total * k / pieces
        near = [b for b in boundaries if abs(b - ideal) <= SNAP_MINUTES and 0 < b < total]
        cut = min(near, key=lambda b: abs(b - ideal)) if near else int(5 * round(ideal / 5))
        cuts.append(max(cut, cuts[-1] if cuts else 0))
    return cuts


def _content(lessons: list[Lesson]) -> list[tuple[int, int, str, Lesson]]:
    """(from, to, kind, lesson) on one time line of all teaching and exercise minutes."""
    line, now = [], 0
    for lesson in lessons:
        for kind, minutes in (("teaching", lesson.teaching), ("exercises", lesson.exercises)):
            line.append((now, now + minutes, kind, lesson))
            now += minutes
    return line


def _slice(line, start: int, stop: int) -> list[tuple[int, int, str, Lesson, str]]:
    """The pieces of the time line between ``start`` and ``stop`` (with continuation marks)."""
    pieces = []
    for begin, end, kind, lesson in line:
        lo, hi = max(begin, start), min(end, stop)
        if hi <= lo:
            continue
        part = {(True, True): "", (True, False): "starts", (False, True): "continued",
                (False, False): "middle"}[(lo == begin, hi == end)]
        pieces.append((lo, hi, kind, lesson, part))
    return pieces


def plan(lessons: list[Lesson], sessions: int, day_start: int = 9 * 60,
         pauses: tuple[str, ...] = ("coffee",)) -> list[list[Block]]:
    """A workshop of ``sessions`` sessions that teaches every lesson in order.

    The lessons' teaching and exercise minutes are laid on one time line and cut into
    ``sessions`` near-equal sessions; each session is cut again into ``len(pauses) + 1`` parts
    with the pauses between them (e.g. ('coffee', 'lunch', 'coffee') for a full day).  Cuts
    prefer the boundaries between lessons and exercise blocks (see ``SNAP_MINUTES``).
    """
    line = _content(lessons)
    total = line[-1][1] if line else 0
    boundaries = sorted({end for _, end, _, _ in line})
    edges = [0] + _cut_points(boundaries, total, sessions) + [total]
    days = []
    for first, last in zip(edges, edges[1:]):
        inner = [b - first for b in boundaries if first < b < last]
        cuts = [first + c for c in _cut_points(inner, last - first, len(pauses) + 1)]
        parts = [first] + cuts + [last]
        clock, blocks = day_start, []
        for index, (lo, hi) in enumerate(zip(parts, parts[1:])):
            for begin, end, kind, lesson, part in _slice(line, lo, hi):
                blocks.append(Block(clock, end - begin, kind, lesson, part))
                clock += end - begin
            if index < len(pauses):
                length = LUNCH_MINUTES if pauses[index] == "lunch" else COFFEE_MINUTES
                blocks.append(Block(clock, length, pauses[index]))
                clock += length
        days.append(blocks)
    return days


def clock(minutes: int) -> str:
    """'09:05' for 545 minutes after midnight."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
