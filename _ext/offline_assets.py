"""Pages that work offline: each script once, widget fonts where the renderer looks, a favicon.

MathJax and the Jupyter widget renderer themselves are copied into the book by the Makefile
(``_build/vendor``, published under ``_static/``); this module fixes what that copy alone
does not:

* ``drop_duplicate_scripts``: sphinx-thebe's inline configuration is registered twice under
  Jupyter Book, which redeclares a ``const`` in browsers; keep one copy of each script.
* ``place_widget_fonts``: copy the widget renderer's icon fonts into every folder it may look
  in, and serve the book's icon at ``/favicon.ico``.
"""

from __future__ import annotations

import shutil
from pathlib import Path


def drop_duplicate_scripts(app, pagename, templatename, context, doctree):
    """Keep one copy of scripts that extensions registered twice."""
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

    The renderer (served from _static/widgets) works out where its icon fonts live from the
    AMD module that happens to load them: ``@jupyter-widgets/base`` and
    ``@jupyter-widgets/controls`` look in ``@jupyter-widgets/``, the embed module in
    ``@jupyter-widgets/html-manager/dist/``, both relative to the page.  Which one wins depends
    on load order, so every folder with pages gets a copy in both places: the fonts then load
    without a CDN.  Browsers also ask for /favicon.ico on pages without an icon link (Jupyter
    Book's index.html redirect), so the book's icon is copied there too.
    """
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    fonts = [p for p in (outdir / "_static" / "widgets").glob("*")
             if p.suffix in {".woff", ".woff2", ".ttf", ".eot", ".svg"}]
    folders = {page.parent for page in outdir.rglob("*.html")
               if not page.relative_to(outdir).parts[0].startswith("_")}
    icon = outdir / "_static" / "favicon.png"
    if icon.is_file():
        shutil.copy2(icon, outdir / "favicon.ico")
    for folder in folders:
        for target in (folder / "@jupyter-widgets",
                       folder / "@jupyter-widgets" / "html-manager" / "dist"):
            target.mkdir(parents=True, exist_ok=True)
            for font in fonts:
                shutil.copy2(font, target / font.name)


def setup(app):
    app.connect("html-page-context", drop_duplicate_scripts, priority=900)
    app.connect("build-finished", place_widget_fonts)
