"""Workshop timetables (dlps/schedule.py): every format fits its day, from the course's own files.

* Exercises: every exercise of every solution page is marked core or optional with its minutes,
  the exercise page (generated) carries the same marks, and the core ones fit the lesson's slot.
* Cuts: the lesson notes give each lesson cuts with the minutes they save, naming sections that
  exist in the lesson.
* Timetables: three full days keep every lesson whole (the best such split); two full days and
  four half-days make the cuts and keep the core exercises; every session has its opening and
  its pauses and ends in time (17:00, or 210 minutes for a half-day); a lesson added later joins
  where it fits and is listed as left out where it does not.
"""

from __future__ import annotations

import itertools
import re

import pytest

from dlps import schedule

LESSONS = schedule.read_lessons()
#: The lessons the course was planned with; later lessons may be left out of a format.
PLANNED = [lesson for lesson in LESSONS if lesson.number <= 6]
DAY_PAUSES = ["coffee", "lunch", "coffee"]


def exercise_page(number: int):
    return next((schedule.ROOT / "exercises").glob(f"{number:02d}_*.md"))


def solution_page(number: int):
    return next(schedule.SOLUTION_DIR.glob(f"{number:02d}_*.md"))


# ----------------------------------------------------------------------------- exercises
@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: f"lesson{lesson.number}")
def test_every_exercise_is_marked_and_the_core_ones_fit_the_slot(lesson):
    exercises = schedule.read_exercises(solution_page(lesson.number))
    assert exercises, f"Lesson {lesson.number} has no exercises"
    unmarked = [e.number for e in exercises if e.core is None]
    assert not unmarked, (f"{solution_page(lesson.number).name}: exercises {unmarked} need a "
                          "line '**Core exercise** · about N min' (or '**Optional exercise**')")
    assert all(e.minutes > 0 and e.minutes % 5 == 0 for e in exercises)
    core = sum(e.minutes for e in exercises if e.core)
    assert 0 < core <= lesson.exercises, (
        f"Lesson {lesson.number}: core exercises take {core} min, the slot is "
        f"{lesson.exercises} min")


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: f"lesson{lesson.number}")
def test_the_exercise_page_carries_the_same_marks(lesson):
    marks = [(e.minutes, e.core) for e in schedule.read_exercises(solution_page(lesson.number))]
    shown = [(e.minutes, e.core) for e in schedule.read_exercises(exercise_page(lesson.number))]
    assert shown == marks, "regenerate the exercises: python tools/make_exercises.py"


def test_an_unmarked_exercise_is_read_as_unmarked(tmp_path):
    page = tmp_path / "07_test.md"
    page.write_text("## Exercise 1: a\n\n:::{exercise}\n:label: x\n\n"
                    "**Core exercise** · about 15 min\n\nDo it.\n:::\n\n"
                    "## Exercise 2: b\n\n::::{exercise}\nNo mark.\n::::\n")
    first, second = schedule.read_exercises(page)
    assert (first.lesson, first.number, first.title, first.minutes, first.core) == (
        7, 1, "Exercise 1: a", 15, True)
    assert (second.number, second.minutes, second.core) == (2, None, None)


# ----------------------------------------------------------------------------- cuts
def headings(lesson) -> set[str]:
    text = (schedule.ROOT / f"{lesson.name}.md").read_text()
    return {re.sub(r"\s+", " ", h).strip() for h in re.findall(r"^#{2,4} (.+)$", text, re.M)}


@pytest.mark.parametrize("lesson", PLANNED, ids=lambda lesson: f"lesson{lesson.number}")
def test_cuts_save_minutes_and_name_sections_of_their_lesson(lesson):
    cuts = schedule.read_cuts().get(lesson.number, [])
    assert cuts, f"the lesson notes give Lesson {lesson.number} no cuts with minutes"
    assert all(cut.minutes > 0 and cut.minutes % 5 == 0 for cut in cuts)
    assert sum(cut.minutes for cut in cuts) < lesson.teaching / 2 + 45
    names = headings(lesson)
    for cut in cuts:
        for name in re.findall(r"(?<![*\w])\*([^*]+)\*(?![*\w])", cut.what):
            assert name in names, f"Lesson {lesson.number}: no section '{name}' ({cut.what})"


def test_cut_lists_are_read_with_continued_items(tmp_path):
    notes = tmp_path / "notes.md"
    notes.write_text("## Lesson 3: x\n\n**When late, skip** (these):\n\n"
                     "- *A section*, which is long and continues\n  here (saves 10 min)\n"
                     "- another (saves 5 min)\n\nKeep the rest.\n\n- not a cut (saves 5 min)\n"
                     "## Lesson 4: y\n\nNothing to cut.\n")
    cuts = schedule.read_cuts(notes)
    assert cuts == {3: [schedule.Cut(3, "*A section*, which is long and continues here", 10),
                        schedule.Cut(3, "another", 5)]}


# ----------------------------------------------------------------------------- timetables
def check_sessions(table):
    """What every timetable must satisfy; returns {lesson number: sessions it is taught in}."""
    fmt = table.format
    assert len(table.sessions) == fmt.sessions
    where: dict[int, set[int]] = {}
    for index, blocks in enumerate(table.sessions):
        assert blocks[0].start == fmt.start and blocks[0].kind == "opening"
        assert blocks[0].minutes == (schedule.OPENING if index == 0 else schedule.RECAP)[1]
        assert all(a.end == b.start for a, b in zip(blocks, blocks[1:]))
        assert blocks[-1].end <= fmt.latest_end, (fmt.key, index, schedule.clock(blocks[-1].end))
        assert table.length(index) <= fmt.length
        assert [b.kind for b in blocks if b.lesson is None and b.kind != "opening"] == list(
            fmt.pauses)
        assert blocks[-1].lesson is not None, "a session ends with teaching or exercises"
        for block in blocks:
            if block.lesson is not None:
                where.setdefault(block.lesson.number, set()).add(index)
        if "lunch" in fmt.pauses:
            lunch = next(b for b in blocks if b.kind == "lunch")
            assert 11 * 60 + 30 <= lunch.start <= 13 * 60 + 30, schedule.clock(lunch.start)
    taught = [b for blocks in table.sessions for b in blocks if b.lesson is not None]
    assert [b.lesson.number for b in taught] == sorted(b.lesson.number for b in taught)
    for plan in table.plans:
        for kind in ("teaching", "exercises"):
            minutes = sum(b.minutes for b in taught if b.lesson == plan.lesson and b.kind == kind)
            assert minutes == getattr(plan, kind), (plan.lesson.number, kind)
    assert [p.lesson for p in table.plans + table.left_out] == LESSONS
    return where


@pytest.mark.parametrize("key", sorted(schedule.FORMATS))
def test_every_timetable_fits_its_day_with_opening_and_breaks(key):
    table = schedule.timetable(key)
    check_sessions(table)
    assert {plan.lesson for plan in table.plans} >= set(PLANNED), (
        f"{key}: left out {[p.lesson.number for p in table.left_out]}")
    if key == "half-days":
        assert all(table.length(i) <= 210 for i in range(4))


def test_three_days_keep_every_lesson_whole_in_the_best_split():
    table = schedule.timetable("three-days")
    where = check_sessions(table)
    assert all(len(sessions) == 1 for sessions in where.values()), where
    for plan in table.plans:     # the whole lesson, the Overview's exercise slot
        assert (plan.teaching, plan.exercises) == (plan.lesson.teaching, plan.lesson.exercises)
    loads = [table.content(i) + table.sessions[i][0].minutes for i in range(3)]
    # no other split at lesson boundaries has a shorter longest day
    minutes = [plan.minutes for plan in table.plans]
    best = min(max(sum(minutes[a:b]) + (30 if a == 0 else 10)
                   for a, b in zip((0, i, j), (i, j, len(minutes))))
               for i, j in itertools.combinations(range(1, len(minutes)), 2))
    assert max(loads) == best, (loads, best)
    print("three days:", [table.content(i) for i in range(3)], "min of teaching and exercises")


@pytest.mark.parametrize("key", ["two-days", "half-days"])
def test_short_formats_make_the_cuts_and_keep_the_core_exercises(key):
    table = schedule.timetable(key)
    cuts, exercises = schedule.read_cuts(), schedule.read_all_exercises()
    for plan in table.plans:
        number = plan.lesson.number
        assert plan.cuts == tuple(cuts.get(number, []))
        assert plan.teaching == plan.lesson.teaching - sum(c.minutes for c in plan.cuts)
        assert plan.exercises == sum(e.minutes for e in exercises[number] if e.core)
    print(key, [table.content(i) for i in range(table.format.sessions)])


def test_a_new_lesson_joins_where_it_fits_and_is_left_out_where_it_does_not():
    small = schedule.Lesson("lessons/07_small", 7, "A short lesson", teaching=20, exercises=10)
    large = schedule.Lesson("lessons/07_large", 7, "A long lesson", teaching=120, exercises=45)
    marks = {7: [schedule.Exercise(7, 1, "one", 10, True)]}
    cuts = {7: [schedule.Cut(7, "something", 10)]}
    for key in schedule.FORMATS:
        exercises = {**schedule.read_all_exercises(), **marks}
        all_cuts = {**schedule.read_cuts(), **cuts}
        with_small = schedule.timetable(key, LESSONS[:6] + [small], exercises, all_cuts)
        with_large = schedule.timetable(key, LESSONS[:6] + [large], exercises, all_cuts)
        for table in (with_small, with_large):
            assert all(blocks[-1].end <= table.format.latest_end for blocks in table.sessions)
        assert small in [plan.lesson for plan in with_small.plans], key
        assert [plan.lesson for plan in with_large.left_out] == [large], key


def test_a_shorter_day_leaves_lessons_out_instead_of_overrunning():
    fmt = schedule.FORMATS["two-days"]
    short_day = schedule.Format("test", "test", 2, "Day", fmt.start, 6 * 60, fmt.pauses,
                                fmt.pause_times, whole_lessons=False, short=True)
    table = schedule.timetable(short_day)
    assert table.left_out and all(blocks[-1].end <= fmt.start + 6 * 60
                                  for blocks in table.sessions)


def test_a_lesson_timed_later_joins_the_reference_at_the_reference_speed():
    """calibrate --add: a lesson timed on a machine half as fast (benchmark score 50 against
    100) counts half its seconds; runs from another kind of machine are refused."""
    import pytest

    reference = {"command": "python -m dlps calibrate --run A", "device": "cpu",
                 "machine": "x86_64", "torch": ["2.15.0"], "benchmark": {"score": 100.0},
                 "finished": {"lessons/01_a": {"laptop": ["t1"]}},
                 "lessons": {"lessons/01_a": {"laptop": 10.0}},
                 "minutes": {"lessons/01_a": [60, 30]}}
    new = {**reference, "command": "python -m dlps calibrate --add B",
           "benchmark": {"score": 50.0}, "finished": {"lessons/07_b": {"laptop": ["t2"]}},
           "lessons": {"lessons/07_b": {"laptop": 40.0}}, "minutes": {"lessons/07_b": [90, 45]}}
    merged = schedule.add_to_reference(reference, new)
    assert merged["lessons"] == {"lessons/01_a": {"laptop": 10.0},
                                 "lessons/07_b": {"laptop": 20.0}}
    assert merged["minutes"]["lessons/07_b"] == [90, 45]
    assert merged["benchmark"] == {"score": 100.0}
    assert merged["added"]["lessons/07_b"]["scaled_by"] == 0.5
    with pytest.raises(ValueError, match="come from"):
        schedule.add_to_reference(reference, {**new, "machine": "arm64"})
