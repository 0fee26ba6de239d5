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
    """One row per dataset: title, source, licence, and how the course uses it."""
    rows = []
    for name, entry in table.items():
        use = ("read by the notebooks; packed into the workshop kit" if entry.get("kit", True)
               else "only to measure run times where the official files cannot be had; "
                    "never shown to readers or packed into the kit")
        rows.append([entry["title"], entry["source"], entry["licence"], use, name])
    return rows


def _table(headers: list[str], rows: list[list[str]]) -> nodes.table:
    table = nodes.table(classes=["data-licences"])
    group = nodes.tgroup(cols=len(headers))
    table += group
    for width in (3, 4, 2, 3, 2):
        group += nodes.colspec(colwidth=width)
    head, body = nodes.thead(), nodes.tbody()
    group += head
    group += body
    for parent, cells in [(head, headers)] + [(body, row) for row in rows]:
        line = nodes.row()
        for number, text in enumerate(cells):
            entry = nodes.entry()
            paragraph = nodes.paragraph()
            # The registry name is code: a reader can find it in dlps/registry.py.
            paragraph += (nodes.literal(text=text) if parent is body and number == 4
                          else nodes.Text(text))
            entry += paragraph
            line += entry
        parent += line
    return table


class DataLicences(SphinxDirective):
    """``{data-licences}``: the licence of every dataset in the course data registry."""

    has_content = False

    def run(self):
        # Rebuild this page whenever the registry changes.
        self.env.note_dependency(str(REGISTRY_PATH))
        headers = ["Data set", "Source", "Licence", "Use in the course", "Registry name"]
        return [_table(headers, licence_rows(registry_table()))]


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
