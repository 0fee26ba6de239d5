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

Workshops.  ``timetable`` lays the lessons out as one of the ``FORMATS`` (three full days with
each lesson kept whole; two full days or four half-days with the cuts of the lesson notes made
and only the core exercises): an opening slot and the pauses in every session, and no session
past its latest end.  The cuts, with the minutes each saves, come from the lists under "When
late, skip" in ``instructors/lesson-notes.md``; the exercises, each marked core or optional with
its minutes, from the solution pages (``**Core exercise** · about 15 min``).  A lesson added to
``lessons/`` joins every timetable it fits into; the ones that do not fit are listed as left out.

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
#: Largest ratio of the highest to the lowest benchmark score that a reference may rest on. On
#: a quiet 2-core machine the scores of one calibration spread by about 1.1x; a reference once
#: taken while other programs were computing spread 1.6x and made every prediction optimistic.
MAX_BENCHMARK_SPREAD = 1.25

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
    if max(scores) > MAX_BENCHMARK_SPREAD * min(scores):
        raise ValueError(
            f"the benchmark scores range from {min(scores):.0f} to {max(scores):.0f} "
            f"({max(scores) / min(scores):.2f}x, more than {MAX_BENCHMARK_SPREAD}x): the machine "
            "was busy with other work while it was measured, so its times would predict too "
            "little. Run the calibration again with nothing else computing.")
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


def add_to_reference(reference: dict, new: dict) -> dict:
    """``reference`` with the lessons of ``new`` (measured later, with a benchmark of its own)
    added or replaced, their times rescaled to the reference machine's benchmark score.

    Predictions assume run time inversely proportional to the benchmark score, so a lesson timed
    at score b on a machine of the same kind counts as ``seconds * b / reference score``. For a
    lesson added after the last full calibration, instead of rerunning every lesson.
    """
    if (new["device"], new["machine"]) != (reference["device"], reference["machine"]):
        raise ValueError(f"the new runs come from {new['device']}/{new['machine']}, the "
                         f"reference from {reference['device']}/{reference['machine']}")
    factor = new["benchmark"]["score"] / reference["benchmark"]["score"]
    merged = {**reference, "lessons": dict(reference["lessons"]),
              "finished": dict(reference["finished"]), "minutes": dict(reference["minutes"]),
              "torch": sorted(set(reference["torch"]) | set(new["torch"])),
              "command": reference["command"] + "; then " + new["command"]}
    for name, times in new["lessons"].items():
        merged["lessons"][name] = {profile: round(seconds * factor, 1)
                                   for profile, seconds in times.items()}
        merged["finished"][name] = new["finished"][name]
        if name in new["minutes"]:
            merged["minutes"][name] = new["minutes"][name]
    merged["added"] = {**reference.get("added", {}),
                       **{name: {"benchmark": new["benchmark"]["score"],
                                 "scaled_by": round(factor, 3)} for name in new["lessons"]}}
    return merged


def write_reference(reference: dict, path: Path = REFERENCE_FILE) -> Path:
    """Write the generated reference file (a Python literal, so that pip installs it too)."""
    text = (
        '"""Reference run times of the lessons, for the self-check\'s predictions.\n\n'
        f"GENERATED by `{reference['command']}`: do not edit by hand; run the command again.\n"
        "``lessons``: seconds per lesson and profile, from the run records (dlps.record_run),\n"
        "the median where a lesson ran more than once;\n"
        "``benchmark``: the micro-benchmark score (median of its runs) on the same machine;\n"
        "``finished``: when each of those runs ended (which runs they were);\n"
        "``minutes``: [teaching, exercises] of each lesson's Overview when it was measured;\n"
        "``added`` (if present): lessons timed later on their own, with that run's benchmark\n"
        "score and the factor that rescaled their times to the reference score.\n"
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


# --------------------------------------------------------------------------- workshop formats
#: Where the exercises (the solution pages are their source) and the instructors' notes live.
SOLUTION_DIR = ROOT / "solutions"
NOTES_FILE = ROOT / "instructors" / "lesson-notes.md"
#: Minutes of the pauses between the parts of a workshop session.
COFFEE_MINUTES = 15
LUNCH_MINUTES = 60
PAUSE_MINUTES = {"coffee": COFFEE_MINUTES, "lunch": LUNCH_MINUTES}
#: The slot that opens each session: introductions and the self-check on every machine on the
#: first one, questions and a recap on the later ones.
OPENING = ("Introductions, and the self-check on every machine", 30)
RECAP = ("Questions, and a recap of the previous session", 10)
#: A cut between sessions or parts of a session moves to the nearest lesson boundary (else the
#: nearest boundary between a lesson's teaching and its exercises) within this many minutes;
#: otherwise it falls inside a block, which continues after the pause.
SNAP_MINUTES = 20

_EXERCISE_START = re.compile(r"^(:{3,})\{exercise\}")
_EXERCISE_MARK = re.compile(r"^\*\*(Core|Optional) exercise\*\* · about (\d+) min\s*$")
_HEADING = re.compile(r"^#{2,3} (.+?)\s*$")
_NOTES_LESSON = re.compile(r"^## Lesson (\d+)\b")
_CUT = re.compile(r"^- (.+?) \(saves (\d+) min\)\.?\s*$")


@dataclass(frozen=True)
class Exercise:
    """One exercise of a lesson, as its solution page marks it."""

    lesson: int
    number: int        # its place on the page, from 1
    title: str         # the heading above it
    minutes: int | None    # None: not marked (tests/test_schedule.py fails on it)
    core: bool | None


@dataclass(frozen=True)
class Cut:
    """A part of a lesson that a short workshop leaves out (instructors/lesson-notes.md)."""

    lesson: int
    what: str          # Markdown: section names of the lesson in *italics*
    minutes: int       # minutes of teaching it saves


@dataclass(frozen=True)
class Format:
    """A kind of workshop: how many sessions, how long each may be, which pauses it has."""

    key: str
    title: str
    sessions: int
    label: str         # what a session is called: 'Day', 'Half-day'
    start: int         # minutes after midnight
    length: int        # minutes from the start to the latest end, pauses included
    pauses: tuple[str, ...]
    pause_times: tuple[int, ...] | None    # when each pause should begin (None: evenly spread)
    whole_lessons: bool    # never split a lesson between two sessions
    short: bool            # the cuts of the lesson notes, core exercises only

    @property
    def latest_end(self) -> int:
        return self.start + self.length


#: Three full days hold the whole course with each lesson in one day; two full days and four
#: half-days hold the short version (cuts made, core exercises only). A day runs from 09:00 to at
#: most 17:00, a half-day at most three and a half hours.
_DAY_PAUSES = ("coffee", "lunch", "coffee")
_DAY_PAUSE_TIMES = (10 * 60 + 30, 12 * 60 + 30, 15 * 60)     # 10:30, 12:30, 15:00
FORMATS = {
    "three-days": Format("three-days", "Three full days", 3, "Day", 9 * 60, 8 * 60,
                         _DAY_PAUSES, _DAY_PAUSE_TIMES, whole_lessons=True, short=False),
    "two-days": Format("two-days", "Two full days", 2, "Day", 9 * 60, 8 * 60,
                       _DAY_PAUSES, _DAY_PAUSE_TIMES, whole_lessons=False, short=True),
    "half-days": Format("half-days", "Four half-days", 4, "Half-day", 9 * 60, 210,
                        ("coffee",), None, whole_lessons=False, short=True),
}


def _lesson_number(path: Path) -> int:
    return int(re.match(r"(\d+)", Path(path).stem)[1])


def read_exercises(path: Path) -> list[Exercise]:
    """The exercises of one solution page, each with its mark, in page order.  Every exercise
    directive holds a line ``**Core exercise** · about N min`` (or ``**Optional exercise**``);
    tools/make_exercises.py copies it onto the exercise page.  An exercise without one is read
    with ``minutes`` and ``core`` None (the book still builds; the tests fail)."""
    lines = Path(path).read_text().splitlines()
    exercises, heading, index = [], "", 0
    while index < len(lines):
        line = lines[index]
        if _HEADING.match(line):
            heading = _HEADING.match(line)[1]
        start = _EXERCISE_START.match(line)
        if start:
            end = next(i for i in range(index + 1, len(lines)) if lines[i].strip() == start[1])
            marks = [_EXERCISE_MARK.match(text) for text in lines[index + 1:end]]
            marks = [mark for mark in marks if mark]
            minutes, core = (int(marks[0][2]), marks[0][1] == "Core") if marks else (None, None)
            exercises.append(Exercise(_lesson_number(path), len(exercises) + 1, heading,
                                      minutes, core))
            index = end
        index += 1
    return exercises


def read_all_exercises(folder: Path = SOLUTION_DIR) -> dict[int, list[Exercise]]:
    """``{lesson number: its exercises}`` for every solution page."""
    if not Path(folder).is_dir():
        return {}
    return {_lesson_number(p): read_exercises(p) for p in sorted(Path(folder).glob("[0-9]*.md"))}


def read_cuts(path: Path = NOTES_FILE) -> dict[int, list[Cut]]:
    """``{lesson number: its cuts}`` from the lists under '**When late, skip**' in the lesson
    notes, one line each: ``- *Section* of the lesson, ... (saves N min)``."""
    if not Path(path).is_file():
        return {}
    cuts: dict[int, list[Cut]] = {}
    lesson, listing, items = None, False, []
    for line in Path(path).read_text().splitlines() + [""]:
        heading = _NOTES_LESSON.match(line)
        if heading or line.startswith("## "):
            lesson, listing = (int(heading[1]) if heading else None), False
            continue
        if line.startswith("**When late, skip**"):
            listing, items = lesson is not None, []
            continue
        if not listing:
            continue
        if line.startswith("- "):
            items.append(line)
        elif line.startswith("  ") and items:
            items[-1] += " " + line.strip()       # an item continued on the next line
        elif line.strip() or items:              # the list has ended
            for item in items:
                cut = _CUT.match(item)
                if cut:
                    cuts.setdefault(lesson, []).append(Cut(lesson, cut[1], int(cut[2])))
            listing = False
    return cuts


def read_appendices(folder: Path = LESSON_DIR) -> list[tuple[str, str]]:
    """(name, title) of every page in the lessons folder that is not a numbered lesson: the
    appendices, which are self-study and in no timetable."""
    if not Path(folder).is_dir():
        return []
    pages = []
    for path in sorted(Path(folder).glob("*.md")):
        if re.match(r"\d", path.name):
            continue
        title = re.search(r"^# (.+?)\s*$", path.read_text(), re.M)
        pages.append((f"{path.parent.name}/{path.stem}", title[1] if title else path.stem))
    return pages


@dataclass(frozen=True)
class LessonPlan:
    """What a format keeps of one lesson."""

    lesson: Lesson
    teaching: int                       # minutes, after the cuts
    exercises: int                      # minutes of the exercise slot
    cuts: tuple[Cut, ...]               # made in this format
    core: tuple[Exercise, ...]
    optional: tuple[Exercise, ...]

    @property
    def minutes(self) -> int:
        return self.teaching + self.exercises


def lesson_plan(lesson: Lesson, short: bool, exercises: list[Exercise],
                cuts: list[Cut]) -> LessonPlan:
    """The whole lesson with its Overview's exercise slot, or (``short``) the lesson without its
    cuts and with a slot for its core exercises only."""
    core = tuple(e for e in exercises if e.core)
    optional = tuple(e for e in exercises if e.core is False)
    if not short:
        return LessonPlan(lesson, lesson.teaching, lesson.exercises, (), core, optional)
    saved = sum(cut.minutes for cut in cuts)
    marked = exercises and all(e.core is not None for e in exercises)
    # unmarked exercises: the Overview's whole slot, as no core ones are known
    slot = sum(e.minutes for e in core) if marked else lesson.exercises
    return LessonPlan(lesson, lesson.teaching - saved, slot, tuple(cuts), core, optional)


@dataclass(frozen=True)
class Block:
    """A stretch of a session: the opening, part of a lesson's teaching or exercises, a pause."""

    start: int         # minutes after midnight
    minutes: int
    kind: str          # 'opening', 'teaching', 'exercises', 'coffee', 'lunch'
    lesson: Lesson | None = None
    part: str = ""     # '', 'starts', 'continued', 'continues', 'middle'
    text: str = ""     # what the opening is

    @property
    def end(self) -> int:
        return self.start + self.minutes


@dataclass
class Timetable:
    """A workshop of one format: its sessions, block by block, and what it leaves out."""

    format: Format
    sessions: list[list[Block]]
    plans: list[LessonPlan]             # the lessons it teaches, in order
    left_out: list[LessonPlan]          # lessons that do not fit (after those it teaches)

    def content(self, session: int) -> int:
        """Minutes of teaching and exercises in one session (0-based)."""
        return sum(b.minutes for b in self.sessions[session] if b.lesson is not None)

    def length(self, session: int) -> int:
        """Minutes from the start to the end of one session, opening and pauses included."""
        blocks = self.sessions[session]
        return blocks[-1].end - blocks[0].start

    def fits(self) -> bool:
        return all(blocks[-1].end <= self.format.latest_end for blocks in self.sessions)


def _content(plans: list[LessonPlan]) -> list[tuple[int, int, str, Lesson]]:
    """(from, to, kind, lesson) on one time line of all teaching and exercise minutes."""
    line, now = [], 0
    for plan_ in plans:
        for kind, minutes in (("teaching", plan_.teaching), ("exercises", plan_.exercises)):
            if minutes:
                line.append((now, now + minutes, kind, plan_.lesson))
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


def _cut_points(boundaries: list[int], total: int, pieces: int,
                targets: list[int] | None = None) -> list[int]:
    """Cut [0, total] into ``pieces`` parts, near-equal or at ``targets`` (where they leave at
    least half an hour after them), moving each cut to a block boundary within SNAP_MINUTES
    when there is one (else a multiple of 5 minutes)."""
    cuts = []
    for k in range(1, pieces):
        ideal = total * k / pieces
        if targets and targets[k - 1] <= total - 30:
            ideal = targets[k - 1]
        near = [b for b in boundaries if abs(b - ideal) <= SNAP_MINUTES and 0 < b < total]
        cut = min(near, key=lambda b: abs(b - ideal)) if near else int(5 * round(ideal / 5))
        cuts.append(max(cut, cuts[-1] if cuts else 0))
    return cuts


def _session_edges(fmt: Format, plans: list[LessonPlan], capacities: list[int]) -> list[int] | None:
    """Where the sessions begin and end on the content time line, or None if they cannot hold
    it.  Whole lessons: the split at lesson boundaries with the shortest longest session.
    Otherwise: sessions of equal length (opening included), each end moved to a lesson boundary,
    else a teaching/exercise boundary, within SNAP_MINUTES where the session still fits."""
    ends = [0]
    for plan_ in plans:
        ends.append(ends[-1] + plan_.minutes)
    total, n = ends[-1], fmt.sessions
    if fmt.whole_lessons:
        best = None

        def search(first: int, k: int, chosen: list[int]):
            nonlocal best
            if k == n - 1:
                chosen = chosen + [len(plans)]
                loads = [ends[b] - ends[a] for a, b in zip([0] + chosen, chosen)]
                if all(0 < load <= cap for load, cap in zip(loads, capacities)):
                    worst = max(load + (capacities[0] - cap) for load, cap in
                                zip(loads, capacities))
                    if best is None or worst < best[0]:
                        best = (worst, [ends[i] for i in [0] + chosen])
                return
            for nxt in range(first + 1, len(plans)):
                search(nxt, k + 1, chosen + [nxt])

        search(0, 0, [])
        return None if best is None else best[1]
    lesson_ends = set(ends)
    block_ends = {end for _, end, _, _ in _content(plans)}
    overhead = [fmt.length - cap for cap in capacities]
    edges = [0]
    for k in range(n - 1):
        left = total - edges[-1]
        # equal session lengths for the sessions still to come
        share = (left + sum(overhead[k:])) / (n - k) - overhead[k]
        ideal = edges[-1] + share
        room_later = sum(capacities[k + 1:])

        def fits(cut: float, capacity: int = capacities[k], later: int = room_later) -> bool:
            return 0 < cut - edges[-1] <= capacity and total - cut <= later

        chosen = None
        for candidates in (lesson_ends, block_ends):
            near = [b for b in candidates if abs(b - ideal) <= SNAP_MINUTES and fits(b)]
            if near:
                chosen = min(near, key=lambda b: abs(b - ideal))
                break
        if chosen is None:
            chosen = int(5 * round(ideal / 5))
            while not fits(chosen) and chosen > edges[-1]:
                chosen -= 5
        if not fits(chosen):
            return None
        edges.append(chosen)
    edges.append(total)
    if not all(0 < b - a <= cap for a, b, cap in zip(edges, edges[1:], capacities)):
        return None
    return edges


def _layout(fmt: Format, plans: list[LessonPlan]) -> list[list[Block]] | None:
    """The sessions of ``fmt`` for these lessons, block by block, or None if they do not fit."""
    if not plans:
        return None
    pauses = sum(PAUSE_MINUTES[p] for p in fmt.pauses)
    openings = [OPENING] + [RECAP] * (fmt.sessions - 1)
    capacities = [fmt.length - pauses - minutes for _, minutes in openings]
    edges = _session_edges(fmt, plans, capacities)
    if edges is None:
        return None
    line = _content(plans)
    boundaries = sorted({end for _, end, _, _ in line})
    sessions = []
    for (text, opening), first, last in zip(openings, edges, edges[1:]):
        # the opening is part of the first stretch before the first pause
        inner = [opening + b - first for b in boundaries if first < b < last]
        length = opening + last - first
        # a pause meant to begin at clock time T comes after T - start - (earlier pauses)
        # minutes of opening, teaching and exercises
        targets = None if fmt.pause_times is None else [
            time - fmt.start - sum(PAUSE_MINUTES[p] for p in fmt.pauses[:k])
            for k, time in enumerate(fmt.pause_times)]
        cuts = _cut_points([opening] + inner, length, len(fmt.pauses) + 1, targets)
        cuts = [max(cut, opening) for cut in cuts]
        parts = [first] + [first + cut - opening for cut in cuts] + [last]
        clock_ = fmt.start
        blocks = [Block(clock_, opening, "opening", text=text)]
        clock_ += opening
        for index, (lo, hi) in enumerate(zip(parts, parts[1:])):
            for begin, end, kind, lesson, part in _slice(line, lo, hi):
                blocks.append(Block(clock_, end - begin, kind, lesson, part))
                clock_ += end - begin
            if index < len(fmt.pauses):
                blocks.append(Block(clock_, PAUSE_MINUTES[fmt.pauses[index]], fmt.pauses[index]))
                clock_ += PAUSE_MINUTES[fmt.pauses[index]]
        sessions.append(blocks)
    if any(blocks[-1].end > fmt.latest_end for blocks in sessions):
        return None
    return sessions


def timetable(fmt: Format | str, lessons: list[Lesson] | None = None,
              exercises: dict[int, list[Exercise]] | None = None,
              cuts: dict[int, list[Cut]] | None = None) -> Timetable:
    """The timetable of one workshop format for the course's lessons (read from the files
    unless given): as many lessons as fit, in order; the rest are listed as left out."""
    fmt = FORMATS[fmt] if isinstance(fmt, str) else fmt
    lessons = read_lessons() if lessons is None else lessons
    exercises = read_all_exercises() if exercises is None else exercises
    cuts = read_cuts() if cuts is None else cuts
    plans = [lesson_plan(lesson, fmt.short, exercises.get(lesson.number, []),
                         cuts.get(lesson.number, [])) for lesson in lessons]
    for count in range(len(plans), 0, -1):
        sessions = _layout(fmt, plans[:count])
        if sessions is not None:
            return Timetable(fmt, sessions, plans[:count], plans[count:])
    return Timetable(fmt, [], [], plans)


def clock(minutes: int) -> str:
    """'09:05' for 545 minutes after midnight."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
