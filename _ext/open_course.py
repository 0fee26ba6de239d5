"""Sphinx extension for what makes the course reusable: the data licences, and the single-page
HTML from which ``make pdf`` prints the book.

``{data-licences}`` tabulates every dataset and weight file of the course data registry
(``dlps/registry.py``): its title, source and licence, exactly as the registry states them, so
that the page can never disagree with what the notebooks download or the workshop kit packs.
Copies that are only used to measure run times (``kit: False``) are marked as such.

The registry is pure data; it is loaded by path (as ``workshop`` loads ``dlps/schedule.py``), so
the Sphinx process never imports ``dlps`` and therefore never imports torch.

``singlehtml`` builds (the PDF edition, ``tools/make_pdf.py``) need one repair: Sphinx looks up
the HTML handlers of custom nodes by builder name first and falls back to the format ("html")
only when that name has none. sphinx-exercise registers handlers under "singlehtml", so every
other extension's HTML handlers (MyST-NB's hidden-cell node, for one) would be missing there.
``share_html_handlers`` copies them over, keeping any that "singlehtml" defines itself.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

REGISTRY_PATH = Path(__file__).resolve().parent.parent / "dlps" / "registry.py"


def registry_table() -> dict[str, dict]:
    """The registry's ``TABLE`` (dataset name -> entry), read from ``dlps/registry.py``."""
    spec = importlib.util.spec_from_file_location("dlps_registry", REGISTRY_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.TABLE


def licence_rows(table: dict[str, dict]) -> list[list[str]]:
    """One row per dataset: title (with a note for measuring-only copies), source, licence and
    the registry name."""
    rows = []
    for name, entry in table.items():
        title = entry["title"]
        if not entry.get("kit", True):
            title += " (not distributed: never shown to readers or packed into the workshop kit)"
        rows.append([title, entry["source"], entry["licence"], name])
    return rows


def _breakable(text: str, every: int = 16) -> str:
    """Long unbroken tokens (URLs, checksums) get invisible break points, so that the table
    wraps to the page width instead of hiding its last column."""
    def soften(token: str) -> str:
        if len(token) <= 24:
            return token
        return "\u200b".join(token[i:i + every] for i in range(0, len(token), every))
    return " ".join(soften(token) for token in text.split(" "))


def _cell(text: str, code: str | None = None) -> nodes.entry:
    entry = nodes.entry()
    paragraph = nodes.paragraph()
    paragraph += nodes.Text(_breakable(text))
    if code is not None:
        # The registry name is code: a reader can find the entry in dlps/registry.py.
        paragraph += nodes.Text(" ")
        paragraph += nodes.literal(text=code)
    entry += paragraph
    return entry


def _table(rows: list[list[str]]) -> nodes.table:
    table = nodes.table(classes=["data-licences", "colwidths-given"])
    group = nodes.tgroup(cols=3)
    table += group
    for width in (35, 45, 20):
        group += nodes.colspec(colwidth=width)
    head, body = nodes.thead(), nodes.tbody()
    group += head
    group += body
    line = nodes.row()
    for header in ("Data set (registry name)", "Source", "Licence"):
        line += _cell(header)
    head += line
    for title, source, licence, name in rows:
        line = nodes.row()
        line += _cell(title, code=name)
        line += _cell(source)
        line += _cell(licence)
        body += line
    return table


class DataLicences(SphinxDirective):
    """``{data-licences}``: the licence of every dataset in the course data registry."""

    has_content = False

    def run(self):
        # Rebuild this page whenever the registry changes.
        self.env.note_dependency(str(REGISTRY_PATH))
        return [_table(licence_rows(registry_table()))]


def share_html_handlers(app):
    """Give the singlehtml builder every HTML node handler it does not define itself."""
    if app.builder.name != "singlehtml":
        return
    handlers = app.registry.translation_handlers
    single = handlers.setdefault("singlehtml", {})
    for node_name, visit_depart in handlers.get("html", {}).items():
        single.setdefault(node_name, visit_depart)


def setup(app):
    app.add_directive("data-licences", DataLicences)
    app.connect("builder-inited", share_html_handlers)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
