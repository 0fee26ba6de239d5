"""Workshop pages: schedules and run times built from the lessons and the run records.

Directives for the instructor guide, so that no minute and no second on those pages is typed
by hand:

* ``{workshop-schedule}`` with ``:format:`` (a key of ``dlps/schedule.py: FORMATS``:
  ``three-days``, ``two-days``, ``half-days``) lays the lessons out as that workshop
  (``schedule.timetable``): the opening slot, teaching and exercise blocks (which exercises are
  core), the pauses, each session's length, and the lessons that do not fit.
* ``{workshop-cuts}`` lists what the short formats (two days, four half-days) leave out of each
  lesson, from the lesson notes, with the minutes each cut saves, and the optional exercises.
* ``{workshop-exercises}`` lists every exercise with its minutes, core or optional, from the
  marks on the solution pages.
* ``{workshop-lessons}`` tabulates every lesson: its scheduled minutes, the run time measured
  on the reference machine in each profile (``dlps/reference_times.py``, generated from run
  records by ``python -m dlps calibrate``) and the run behind this build of the book (the run
  records that ``provenance`` reads).

``dlps/schedule.py`` is loaded by path, like ``dlps/runlog.py`` in ``provenance``, so the
Sphinx process never imports torch.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import re
import sys
from pathlib import Path

import provenance
from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util.docutils import SphinxDirective

_spec = importlib.util.spec_from_file_location(
    "dlps_schedule", Path(__file__).resolve().parent.parent / "dlps" / "schedule.py")
schedule = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = schedule    # its dataclasses look their module up there
_spec.loader.exec_module(schedule)

PAUSE_NAMES = {"coffee": "Break", "lunch": "Lunch"}


def _inline(text: str) -> list[nodes.Node]:
    """The few inline Markdown forms of the lesson notes: *emphasis* and `code`."""
    out = []
    for piece in re.split(r"(\*[^*]+\*|`[^`]+`)", text):
        if piece.startswith("*") and piece.endswith("*") and len(piece) > 1:
            emphasis = nodes.emphasis()
            emphasis.extend(_inline(piece[1:-1]))
            out.append(emphasis)
        elif piece.startswith("`") and piece.endswith("`") and len(piece) > 1:
            out.append(nodes.literal(text=piece[1:-1]))
        elif piece:
            out.append(nodes.Text(piece))
    return out


def _numbers(items) -> str:
    """'4 and 6' for [4, 6]; '1, 2 and 5' for [1, 2, 5]."""
    items = [str(item) for item in items]
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _table(headers: list[str], rows: list[list], classes: list[str],
           widths: list[int] | None = None) -> nodes.table:
    """A docutils table; a cell is a string or a list of inline nodes."""
    table = nodes.table(classes=classes + (["colwidths-given"] if widths else []))
    group = nodes.tgroup(cols=len(headers))
    table += group
    for width in widths or [1] * len(headers):
        group += nodes.colspec(colwidth=width)
    head, body = nodes.thead(), nodes.tbody()
    group += head
    group += body
    for parent, cells in [(head, headers)] + [(body, row) for row in rows]:
        line = nodes.row()
        for cell in cells:
            entry = nodes.entry()
            paragraph = nodes.paragraph()
            if isinstance(cell, str):
                paragraph += nodes.Text(cell)
            else:
                paragraph.extend(cell)
            entry += paragraph
            line += entry
        parent += line
    return table


def _lesson_link(lesson: dict, fromdoc: str, app) -> nodes.reference:
    text = f"Lesson {lesson['number']}: {lesson['title']}"
    return nodes.reference("", text, internal=True,
                           refuri=app.builder.get_relative_uri(fromdoc, lesson["name"]))


def _plain(block) -> dict:
    """A Block as a plain dict (node attributes are pickled with the doctree)."""
    return {"start": block.start, "end": block.end, "minutes": block.minutes,
            "kind": block.kind, "part": block.part, "text": block.text,
            "lesson": None if block.lesson is None else dataclasses.asdict(block.lesson)}


def _plain_plan(plan) -> dict:
    return {"lesson": dataclasses.asdict(plan.lesson), "teaching": plan.teaching,
            "exercises": plan.exercises, "minutes": plan.minutes,
            "cuts": [dataclasses.asdict(cut) for cut in plan.cuts],
            "core": [dataclasses.asdict(e) for e in plan.core],
            "optional": [dataclasses.asdict(e) for e in plan.optional]}


def _span(finished: dict) -> str:
    stamps = sorted(t for runs in finished.values() for times in runs.values()
                    for t in ([times] if isinstance(times, str) else times))
    return stamps[0] if stamps[0] == stamps[-1] else f"between {stamps[0]} and {stamps[-1]}"


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min"


class lessons_placeholder(nodes.General, nodes.Element):
    pass


class schedule_placeholder(nodes.General, nodes.Element):
    pass


class cuts_placeholder(nodes.General, nodes.Element):
    pass


class exercises_placeholder(nodes.General, nodes.Element):
    pass


class _WorkshopDirective(SphinxDirective):
    def lessons(self):
        # re-read this page when a lesson, an exercise mark or a cut changes
        for path in [*sorted(schedule.LESSON_DIR.glob("*.md")),
                     *sorted(schedule.SOLUTION_DIR.glob("[0-9]*.md")), schedule.NOTES_FILE]:
            self.env.note_dependency(str(path))
        self.env.note_dependency(str(schedule.REFERENCE_FILE))
        return schedule.read_lessons()


class WorkshopSchedule(_WorkshopDirective):
    """``{workshop-schedule}``: the timetable of one workshop format."""

    option_spec = {"format": directives.unchanged_required}

    def run(self):
        key = self.options.get("format", "")
        if key not in schedule.FORMATS:
            raise self.error(f"unknown :format: {key!r}; use one of {sorted(schedule.FORMATS)}")
        table = schedule.timetable(key, self.lessons())
        node = schedule_placeholder()
        node["days"] = [[_plain(block) for block in blocks] for blocks in table.sessions]
        node["label"] = table.format.label
        node["latest_end"] = table.format.latest_end
        node["short"] = table.format.short
        node["plans"] = [_plain_plan(plan) for plan in table.plans]
        node["left_out"] = [_plain_plan(plan) for plan in table.left_out]
        node["appendices"] = schedule.read_appendices()
        return [node]


class WorkshopCuts(_WorkshopDirective):
    """``{workshop-cuts}``: what the short formats leave out of each lesson."""

    def run(self):
        lessons = self.lessons()
        exercises, cuts = schedule.read_all_exercises(), schedule.read_cuts()
        node = cuts_placeholder()
        node["plans"] = [_plain_plan(schedule.lesson_plan(
            lesson, True, exercises.get(lesson.number, []), cuts.get(lesson.number, [])))
            for lesson in lessons]
        return [node]


class WorkshopExercises(_WorkshopDirective):
    """``{workshop-exercises}``: every exercise with its minutes, core or optional."""

    def run(self):
        lessons = self.lessons()
        exercises = schedule.read_all_exercises()
        node = exercises_placeholder()
        node["lessons"] = [dataclasses.asdict(lesson) for lesson in lessons]
        node["exercises"] = {lesson.number: [dataclasses.asdict(e) for e in
                                             exercises.get(lesson.number, [])]
                             for lesson in lessons}
        return [node]


class WorkshopLessons(_WorkshopDirective):
    """``{workshop-lessons}``: minutes and measured run times of every lesson."""

    def run(self):
        node = lessons_placeholder()
        node["lessons"] = [dataclasses.asdict(lesson) for lesson in self.lessons()]
        node["reference"] = schedule.load_reference()
        return [node]


def _part_text(block: dict, first: bool, last: bool, label: str) -> str:
    """How a lesson block that a pause or the end of a session cuts is marked."""
    before = {"continued": True, "middle": True}.get(block["part"], False)
    after = {"starts": True, "middle": True}.get(block["part"], False)
    words = []
    if before:
        words.append(f"continued from the previous {label.lower()}" if first else "continued")
    if after:
        words.append(f"continues in the next {label.lower()}" if last
                     else "continues after the break")
    return f" ({'; '.join(words)})" if words else ""


def _exercise_text(block: dict, plan: dict | None, short: bool) -> str:
    """Which exercises an exercise block is for."""
    if plan is None:
        return ""
    core = [e["number"] for e in plan["core"]]
    optional = [e["number"] for e in plan["optional"]]
    if not core:
        return ""
    if short or not optional:
        return f" {_numbers(core)} (core)"
    others = f"then {optional[0]}" if len(optional) == 1 else f"then any of {_numbers(optional)}"
    return f" {_numbers(core)} (core), {others}"


def schedule_tables(node, fromdoc: str, app) -> list[nodes.Node]:
    out = []
    plans = {plan["lesson"]["number"]: plan for plan in node["plans"]}
    for number, blocks in enumerate(node["days"], start=1):
        content = sum(b["minutes"] for b in blocks if b["lesson"] is not None)
        opening = sum(b["minutes"] for b in blocks if b["kind"] == "opening")
        pauses = sum(b["minutes"] for b in blocks if b["kind"] in PAUSE_NAMES)
        first, last = blocks[0]["start"], blocks[-1]["end"]
        out.append(nodes.rubric(text=(
            f"{node['label']} {number}: {schedule.clock(first)} to {schedule.clock(last)}, "
            f"{last - first} min: {content} min of teaching and exercises, {opening} min "
            f"opening, {pauses} min of breaks")))
        rows = []
        for index, block in enumerate(blocks):
            # word joiners keep "09:00–10:40" on one line in a narrow column
            when = f"{schedule.clock(block['start'])}\u2060–\u2060{schedule.clock(block['end'])}"
            if block["kind"] == "opening":
                rows.append([when, block["text"], f"{block['minutes']} min"])
                continue
            if block["lesson"] is None:
                rows.append([when, PAUSE_NAMES[block["kind"]], f"{block['minutes']} min"])
                continue
            kind = block["kind"]
            if kind == "exercises":
                kind += _exercise_text(block, plans.get(block["lesson"]["number"]),
                                       node["short"])
            elif node["short"] and plans.get(block["lesson"]["number"], {}).get("cuts"):
                kind += " with the cuts below"
            what = [_lesson_link(block["lesson"], fromdoc, app),
                    nodes.Text(f", {kind}" + _part_text(
                        block, index == 1, index == len(blocks) - 1, node["label"]))]
            rows.append([when, what, f"{block['minutes']} min"])
        out.append(_table(["time", "what", "length"], rows, ["workshop-schedule"],
                          widths=[2, 9, 2]))
        if last > node["latest_end"]:     # cannot happen: schedule.timetable leaves lessons out
            note = nodes.admonition(classes=["warning"])
            note += nodes.title(text="Longer than a session may be")
            note += nodes.paragraph(text=f"{node['label']} {number} ends at "
                                         f"{schedule.clock(last)}.")
            out.append(note)
    if node["left_out"]:
        note = nodes.admonition(classes=["warning"])
        note += nodes.title(text="Not in this timetable")
        paragraph = nodes.paragraph()
        paragraph += nodes.Text("These lessons do not fit after the ones above: ")
        for index, plan in enumerate(node["left_out"]):
            if index:
                paragraph += nodes.Text("; ")
            paragraph += _lesson_link(plan["lesson"], fromdoc, app)
            paragraph += nodes.Text(f" ({plan['minutes']} min)")
        paragraph += nodes.Text(". Teach them in an extra session, or leave them for "
                                "self-study.")
        note += paragraph
        out.append(note)
    if node["appendices"]:
        paragraph = nodes.paragraph()
        paragraph += nodes.Text("Self-study, in no timetable: ")
        for index, (name, title) in enumerate(node["appendices"]):
            if index:
                paragraph += nodes.Text("; ")
            paragraph += nodes.reference("", title, internal=True,
                                         refuri=app.builder.get_relative_uri(fromdoc, name))
        paragraph += nodes.Text(".")
        out.append(paragraph)
    return out


def cuts_table(node, fromdoc: str, app) -> list[nodes.Node]:
    """Per lesson: each cut with the minutes it saves, the optional exercises, the totals."""
    rows = []
    for plan in node["plans"]:
        lesson = plan["lesson"]
        link = [_lesson_link(lesson, fromdoc, app)]
        for cut in plan["cuts"]:
            rows.append([link, _inline(cut["what"]), f"{cut['minutes']} min"])
            link = ""
        optional = plan["optional"]
        saved = lesson["exercises"] - plan["exercises"]
        if optional and saved:
            rows.append([link, f"optional exercises {_numbers([e['number'] for e in optional])}"
                               f" (the core ones take {plan['exercises']} of the "
                               f"{lesson['exercises']} min)", f"{saved} min"])
            link = ""
        full = lesson["teaching"] + lesson["exercises"]
        rows.append([link, [nodes.strong(text=f"{full} min become {plan['minutes']} min")],
                     [nodes.strong(text=f"{full - plan['minutes']} min")]])
    return [_table(["lesson", "cut in two days and in four half-days", "saves"], rows,
                   ["workshop-cuts"], widths=[4, 9, 2])]


def exercises_table(node, fromdoc: str, app) -> list[nodes.Node]:
    rows = []
    for lesson in node["lessons"]:
        link = [_lesson_link(lesson, fromdoc, app)]
        exercises = node["exercises"].get(lesson["number"], [])
        for exercise in exercises:
            mark = {True: "core", False: "optional", None: "not marked"}[exercise["core"]]
            minutes = "?" if exercise["minutes"] is None else f"{exercise['minutes']} min"
            title = exercise["title"]
            if not title.startswith("Exercise"):
                title = f"Exercise {exercise['number']}: {title}"
            rows.append([link, title, mark, minutes])
            link = ""
        core = sum(e["minutes"] or 0 for e in exercises if e["core"])
        rows.append([link, [nodes.strong(text=f"core exercises: {core} min of the "
                                              f"{lesson['exercises']} min exercise slot")],
                     "", ""])
    return [_table(["lesson", "exercise", "", "minutes"], rows, ["workshop-exercises"],
                   widths=[4, 9, 2, 2])]


def lessons_table(node, records: dict, fromdoc: str, app) -> list[nodes.Node]:
    reference = node["reference"]
    profiles = sorted({p for times in (reference or {}).get("lessons", {}).values()
                       for p in times})
    headers = ["lesson", "teaching + exercises"]
    headers += [f"run time, {p} profile, reference machine" for p in profiles]
    headers += ["run behind this build of the book"]
    rows = []
    for lesson in node["lessons"]:
        times = (reference or {}).get("lessons", {}).get(lesson["name"], {})
        record = records.get(lesson["name"])
        this_build = ("not recorded" if record is None else
                      f"{provenance._seconds(record)} ({record['profile']} profile, "
                      f"{record['device']}: {record['device_name']})")
        rows.append([[_lesson_link(lesson, fromdoc, app)],
                     f"{lesson['teaching']} + {lesson['exercises']} min"]
                    + [_minutes(times[p]) if p in times else "not measured" for p in profiles]
                    + [this_build])
    out = [_table(headers, rows, ["workshop-lessons"])]
    if reference is None:
        out.append(nodes.paragraph(text="No reference run times are stored yet: run "
                                        "`python -m dlps calibrate` on the records of a run."))
    else:
        bench = reference["benchmark"]
        paragraph = nodes.paragraph()
        paragraph += nodes.Text(
            f"Reference machine: {reference['machine']} ({reference['device']}), torch "
            f"{', '.join(reference['torch'])}, runs finished {_span(reference['finished'])}; "
            f"benchmark score {bench['score']:.0f} (median of {bench['runs']} runs, "
            f"{bench['lowest']:.0f} to {bench['highest']:.0f}). Written by ")
        paragraph += nodes.literal(text=reference["command"])
        paragraph += nodes.Text(".")
        out.append(paragraph)
    return out


def fill(app, doctree, docname):
    records = getattr(app, "course_records", None)
    if records is None:
        records = provenance.runlog.read_records()
    for node in list(doctree.findall(schedule_placeholder)):
        node.replace_self(schedule_tables(node, docname, app))
    for node in list(doctree.findall(lessons_placeholder)):
        node.replace_self(lessons_table(node, records, docname, app))
    for node in list(doctree.findall(cuts_placeholder)):
        node.replace_self(cuts_table(node, docname, app))
    for node in list(doctree.findall(exercises_placeholder)):
        node.replace_self(exercises_table(node, docname, app))


def setup(app):
    app.add_node(schedule_placeholder)
    app.add_node(lessons_placeholder)
    app.add_node(cuts_placeholder)
    app.add_node(exercises_placeholder)
    app.add_directive("workshop-schedule", WorkshopSchedule)
    app.add_directive("workshop-cuts", WorkshopCuts)
    app.add_directive("workshop-exercises", WorkshopExercises)
    app.add_directive("workshop-lessons", WorkshopLessons)
    app.connect("doctree-resolved", fill)
