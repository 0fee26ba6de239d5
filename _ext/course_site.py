"""Sphinx extension of the course book.

1. Launch buttons: Colab and Binder cannot open MyST markdown, so their links are pointed at the
   generated .ipynb copies (tools/export_notebooks.py) published on the branch named by
   ``course_notebooks_branch``.
2. Provenance: each notebook run leaves a JSON record (``dlps.record_run``) in ``$DLPS_RUN_LOG``.
   Every page with a record gets a one-line admonition under its title, and the directive
   ``{course-status}`` renders a table of all records (the book's status page).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

ROOT = Path(__file__).resolve().parent.parent


# ----------------------------------------------------------------------------- launch links
def notebook_links(repository_url: str, branch: str, pagename: str) -> dict[str, str]:
    """Colab and Binder URLs of the generated notebook for ``pagename``."""
    org_repo = re.sub(r"^https://github\.com/", "", repository_url).strip("/")
    path = f"{pagename}.ipynb"
    return {
        "Colab": f"https://colab.research.google.com/github/{org_repo}/blob/{branch}/{path}",
        "Binder": f"https://mybinder.org/v2/gh/{org_repo}/{branch}?urlpath=lab/tree/{path}",
    }


def rewrite_launch_links(app, pagename, templatename, context, doctree):
    options = app.config.html_theme_options
    links = notebook_links(options.get("repository_url", ""), app.config.course_notebooks_branch,
                           pagename)
    for group in context.get("header_buttons", []):
        if group.get("label") != "launch-buttons":
            continue
        for button in group["buttons"]:
            if button.get("text") in links:
                button["url"] = links[button["text"]]


def drop_duplicate_scripts(app, pagename, templatename, context, doctree):
    """Keep one copy of scripts that extensions registered twice (sphinx-thebe's inline
    configuration is added twice under Jupyter Book, which redeclares a const in browsers)."""
    seen, unique = set(), []
    for script in context.get("script_files", []):
        # Same file or inline body, whatever priority each registration gave it.
        key = (str(getattr(script, "filename", script) or ""),   # None and "" both mean inline
               repr(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"][:] = unique   # in place: it is the builder's own list


def place_widget_fonts(app, exception):
    """Put the widget renderer's fonts where its stylesheet looks for them.

    The renderer (served from _static/widgets, see Makefile) works out where its icon fonts
    live from the AMD module that happens to load them: ``@jupyter-widgets/base`` and
    ``@jupyter-widgets/controls`` look in ``@jupyter-widgets/``, the embed module in
    ``@jupyter-widgets/html-manager/dist/``, both relative to the page. Which one wins depends
    on load order, so every folder with pages gets a copy in both places: the fonts then load
    without a CDN.
    """
    if exception is not None or app.builder.format != "html":
        return
    import shutil

    outdir = Path(app.outdir)
    fonts = [p for p in (outdir / "_static" / "widgets").glob("*")
             if p.suffix in {".woff", ".woff2", ".ttf", ".eot", ".svg"}]
    folders = {page.parent for page in outdir.rglob("*.html")
               if not page.relative_to(outdir).parts[0].startswith("_")}
    # Browsers ask for /favicon.ico on pages without an icon link (Jupyter Book's index.html
    # redirect); serve the book's icon there too.
    icon = outdir / "_static" / "favicon.png"
    if icon.is_file():
        shutil.copy2(icon, outdir / "favicon.ico")
    for folder in folders:
        for target in (folder / "@jupyter-widgets",
                       folder / "@jupyter-widgets" / "html-manager" / "dist"):
            target.mkdir(parents=True, exist_ok=True)
            for font in fonts:
                shutil.copy2(font, target / font.name)


# ----------------------------------------------------------------------------- provenance
def run_log() -> Path:
    return Path(os.environ.get("DLPS_RUN_LOG") or ROOT / "_build" / "runs")


def load_records() -> dict[str, dict]:
    records = {}
    for path in sorted(run_log().rglob("*.json")):
        record = json.loads(path.read_text())
        records[record["notebook"]] = record
    return records


def _number(value: float) -> str:
    return f"{value:.4g}"


def _seconds(record: dict) -> str:
    return "?" if record["seconds"] is None else f"{record['seconds']:.0f} s"


def summary(record: dict) -> str:
    metrics = ", ".join(f"{k} = {_number(v)}" for k, v in record["metrics"].items())
    return (f"Outputs on this page come from a run in the '{record['profile']}' profile on "
            f"{record['device']} ({record['device_name']}), torch {record['torch']}: "
            f"{_seconds(record)}, peak memory {record['peak_memory_gb']:.2f} GB, finished "
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
             f"{_seconds(record)}, {record['peak_memory_gb']:.2f} GB",
             metrics], body)
    return table


def read_records(app, env):
    """Read the run records once per build, after every notebook has executed (reading phase)."""
    app.course_records = load_records()


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
    app.add_config_value("course_notebooks_branch", "notebooks", "html")
    app.add_node(status_placeholder)
    app.add_directive("course-status", CourseStatus)
    # After sphinx-book-theme has added its launch buttons (it uses the default priority 500).
    app.connect("html-page-context", rewrite_launch_links, priority=900)
    app.connect("html-page-context", drop_duplicate_scripts, priority=900)
    app.connect("env-updated", read_records)
    app.connect("doctree-resolved", add_provenance)
    app.connect("build-finished", place_widget_fonts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
