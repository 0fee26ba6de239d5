"""Launch buttons that open the generated .ipynb copies in Colab and Binder.

Colab and Binder cannot open MyST markdown, so sphinx-book-theme's launch links (which point at
the ``.md`` source) are rewritten to the ``.ipynb`` copies that ``tools/export_notebooks.py``
writes and that are published on the branch named by ``course_notebooks_branch``.
"""

from __future__ import annotations

import re


def notebook_links(repository_url: str, branch: str, pagename: str) -> dict[str, str]:
    """Colab and Binder URLs of the generated notebook for ``pagename``."""
    org_repo = re.sub(r"^https://github\.com/", "", repository_url).strip("/")
    path = f"{pagename}.ipynb"
    return {
        "Colab": f"https://colab.research.google.com/github/{org_repo}/blob/{branch}/{path}",
        "Binder": f"https://mybinder.org/v2/gh/{org_repo}/{branch}?urlpath=lab/tree/{path}",
    }


def rewrite_launch_links(app, pagename, templatename, context, doctree):
    """Point the page's Colab and Binder buttons at its exported notebook."""
    options = app.config.html_theme_options
    links = notebook_links(options.get("repository_url", ""), app.config.course_notebooks_branch,
                           pagename)
    for group in context.get("header_buttons", []):
        if group.get("label") != "launch-buttons":
            continue
        for button in group["buttons"]:
            if button.get("text") in links:
                button["url"] = links[button["text"]]


def setup(app):
    app.add_config_value("course_notebooks_branch", "notebooks", "html")
    # After sphinx-book-theme has added its launch buttons (it uses the default priority 500).
    app.connect("html-page-context", rewrite_launch_links, priority=900)
