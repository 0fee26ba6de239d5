"""Workshop pages: schedules and run times built from the lessons and the run records.

Two directives for the instructor guide, so that no minute and no second on those pages is typed
by hand:

* ``{workshop-schedule}`` lays the lessons' teaching and exercise minutes (read from each
  lesson's Overview box) out as a timetable, e.g. two full days or four half-days
  (``dlps/schedule.py: plan``).  Options: ``:sessions:`` (number of sessions), ``:label:``
  ("Day", "Half-day"), ``:pauses:`` (the pauses between the parts of a session, in order:
  ``coffee lunch coffee``), ``:start:`` ("09:00"), ``:longest:`` (minutes of teaching and
  exercises a session can hold; longer sessions get a note under their table).
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
            "kind": block.kind, "part": block.part,
            "lesson": None if block.lesson is None else dataclasses.asdict(block.lesson)}


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


class _WorkshopDirective(SphinxDirective):
    def lessons(self):
        for path in sorted(schedule.LESSON_DIR.glob("[0-9]*.md")):
            self.env.note_dependency(str(path))   # re-read this page when a lesson changes
        self.env.note_dependency(str(schedule.REFERENCE_FILE))
        return schedule.read_lessons()


class WorkshopSchedule(_WorkshopDirective):
    """``{workshop-schedule}``: a timetable of every lesson."""

    option_spec = {"sessions": directives.positive_int, "label": directives.unchanged,
                   "pauses": directives.unchanged, "start": directives.unchanged,
                   "longest": directives.positive_int}

    def run(self):
        lessons = self.lessons()
        hours, minutes = self.options.get("start", "09:00").split(":")
        pauses = tuple(self.options.get("pauses", "coffee").split())
        unknown = set(pauses) - set(PAUSE_NAMES)
        if unknown:
            raise self.error(f"unknown pauses {sorted(unknown)}; use {sorted(PAUSE_NAMES)}")
        days = schedule.plan(lessons, self.options.get("sessions", 2),
                             day_start=60 * int(hours) + int(minutes), pauses=pauses)
        node = schedule_placeholder()
        node["days"] = [[_plain(block) for block in blocks] for blocks in days]
        node["label"] = self.options.get("label", "Day")
        node["longest"] = self.options.get("longest")
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


def schedule_tables(node, fromdoc: str, app) -> list[nodes.Node]:
    out = []
    for number, blocks in enumerate(node["days"], start=1):
        content = sum(b["minutes"] for b in blocks if b["lesson"] is not None)
        first, last = blocks[0]["start"], blocks[-1]["end"]
        out.append(nodes.rubric(text=f"{node['label']} {number}: {schedule.clock(first)} to "
                                     f"{schedule.clock(last)} ({content} min of teaching and "
                                     "exercises)"))
        rows = []
        for index, block in enumerate(blocks):
            # word joiners keep "09:00–10:40" on one line in a narrow column
            when = f"{schedule.clock(block['start'])}\u2060–\u2060{schedule.clock(block['end'])}"
            if block["lesson"] is None:
                rows.append([when, PAUSE_NAMES[block["kind"]], f"{block['minutes']} min"])
                continue
            what = [_lesson_link(block["lesson"], fromdoc, app),
                    nodes.Text(f", {block['kind']}" + _part_text(
                        block, index == 0, index == len(blocks) - 1, node["label"]))]
            rows.append([when, what, f"{block['minutes']} min"])
        out.append(_table(["time", "what", "length"], rows, ["workshop-schedule"],
                          widths=[2, 9, 2]))
        if node["longest"] and content > node["longest"]:
            note = nodes.admonition(classes=["warning"])
            note += nodes.title(text="Longer than a session should be")
            note += nodes.paragraph(text=(
                f"{node['label']} {number} holds {content} minutes of teaching and exercises, "
                f"{content - node['longest']} more than the {node['longest']} that fit a "
                f"{node['label'].lower()} comfortably. Shorten it with the cuts listed under "
                "'When late, skip' in the notes for each lesson, or add a session."))
            out.append(note)
    return out


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


def setup(app):
    app.add_node(schedule_placeholder)
    app.add_node(lessons_placeholder)
    app.add_directive("workshop-schedule", WorkshopSchedule)
    app.add_directive("workshop-lessons", WorkshopLessons)
    app.connect("doctree-resolved", fill)
