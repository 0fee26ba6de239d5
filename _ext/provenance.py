"""Provenance: every number on the site says which run produced it.

Each notebook run leaves a JSON record (``dlps.record_run``) in the run-log folder.  After all
notebooks have executed, the records are read once; every page with a record gets a
*Provenance* admonition under its title, and the directive ``{course-status}`` renders a table
of all records (the book's status page).  The folder and the record keys come from
``dlps/runlog.py``, loaded by path so that the Sphinx process never imports torch.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

_spec = importlib.util.spec_from_file_location(
    "dlps_runlog", Path(__file__).resolve().parent.parent / "dlps" / "runlog.py")
runlog = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(runlog)


def _number(value: float) -> str:
    return f"{value:.4g}"


def _seconds(record: dict) -> str:
    return "?" if record["seconds"] is None else f"{record['seconds']:.0f} s"


def _memory(record: dict) -> str:
    text = f"peak memory {record['peak_memory_gb']:.2f} GB"
    if record.get("peak_gpu_memory_gb") is not None:
        text += f", peak GPU memory {record['peak_gpu_memory_gb']:.2f} GB"
    return text


def summary(record: dict) -> str:
    metrics = ", ".join(f"{k} = {_number(v)}" for k, v in record["metrics"].items())
    return (f"Outputs on this page come from a run in the '{record['profile']}' profile on "
            f"{record['device']} ({record['device_name']}), torch {record['torch']}: "
            f"{_seconds(record)}, {_memory(record)}, finished "
            f"{record['finished']}. Headline results: {metrics}.")


class status_placeholder(nodes.General, nodes.Element):
    pass


class CourseStatus(SphinxDirective):
    """``{course-status}``: the table of every recorded notebook run."""

    def run(self):
        return [status_placeholder()]


def status_table(records: dict[str, dict], order: list[str],
                 titles: dict[str, str]) -> nodes.table:
    # Four columns, not six: the book's text column is narrow, and a wide table would scroll.
    headers = ["page", "profile and device", "time and peak memory", "headline results"]
    table = nodes.table(classes=["course-status"])
    group = nodes.tgroup(cols=len(headers))
    table += group
    for _ in headers:
        group += nodes.colspec(colwidth=1)
    head = nodes.thead()
    group += head
    body = nodes.tbody()
    group += body

    def row(cells, parent):
        line = nodes.row()
        for cell in cells:
            entry = nodes.entry()
            entry += cell if isinstance(cell, nodes.Node) else nodes.paragraph(text=str(cell))
            line += entry
        parent += line

    row(headers, head)
    names = [n for n in order if n in records] + sorted(set(records) - set(order))
    for name in names:
        record = records[name]
        link = nodes.paragraph()
        link += nodes.reference("", titles.get(name, name), internal=True,
                                refuri=f"{name}.html")
        # One metric per line: a run-on sentence of numbers is hard to scan in a table cell.
        metrics = nodes.line_block()
        for key, value in record["metrics"].items():
            metrics += nodes.line(text=f"{key} = {_number(value)}")
        row([link,
             f"{record['profile']}, {record['device']} ({record['device_name']})",
             f"{_seconds(record)}, {_memory(record)}",
             metrics], body)
    return table


def read_records(app, env):
    """Read the run records once per build, after every notebook has executed (reading phase)."""
    app.course_records = runlog.read_records()


def add_provenance(app, doctree, docname):
    records = app.course_records
    for placeholder in doctree.findall(status_placeholder):
        if records:
            order = list(app.env.found_docs)
            titles = {name: title.astext() for name, title in app.env.titles.items()}
            placeholder.replace_self(status_table(records, sorted(order), titles))
        else:
            placeholder.replace_self(nodes.paragraph(
                text="No notebook runs are recorded in this build."))
    record = records.get(docname)
    if record is None:
        return
    badge = nodes.admonition(classes=["note", "course-provenance"])
    badge += nodes.title(text="Provenance")
    badge += nodes.paragraph(text=summary(record))
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is not None:
        title = next(iter(section.findall(nodes.title)))
        section.insert(section.index(title) + 1, badge)


def setup(app):
    app.add_node(status_placeholder)
    app.add_directive("course-status", CourseStatus)
    app.connect("env-updated", read_records)
    app.connect("doctree-resolved", add_provenance)
