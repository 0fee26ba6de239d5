"""The PDF edition: the whole book (lessons, exercises, solutions, instructor guide, reference
pages) as one PDF, made offline.

    python tools/make_pdf.py --path-output _build/book-laptop --pdf _build/book.pdf

1. ``jupyter-book build --builder singlehtml`` writes the book as one HTML page.  It uses the
   same output folder, flags and therefore the same execution cache as the HTML build, so no
   notebook runs again after ``make book`` (or the test suite's build).
2. Chromium, driven by Playwright (the system's browser; nothing is downloaded), opens that page
   from a local web server with every other request blocked, unfolds what the web page folds
   (solutions, hidden code cells), waits until MathJax has typeset every equation and every image
   has loaded, and prints it with ``page.pdf()``.

A TeX route (``jupyter-book build --builder pdflatex``) would need a TeX Live installation of
several GB; Chromium is already needed for the browser tests, and it prints the equations and
figures exactly as the web page shows them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml
from local_server import serve

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic",
                 "--no-first-run"]

# Print styles: each page of the book (in the single page, a section after an anchor
# <span id="document-NAME">) starts on a new sheet; code wraps instead of being cut
# off at the margin; web-only controls (header buttons, "#" links, copy buttons) are dropped.
PRINT_CSS = """
@page { size: A4; margin: 16mm 14mm 18mm 14mm; }
html, body { font-size: 10.5pt; }
.bd-header, .bd-sidebar-primary, .bd-sidebar-secondary, .header-article, .prev-next-area,
.headerlink, .copybtn, .toggle-button, .bd-footer-article, #pst-back-to-top,
.bd-header-announcement, .search-button-field { display: none !important; }
.bd-main, .bd-content, .bd-article-container, .bd-article { max-width: 100% !important;
  width: 100% !important; padding: 0 !important; margin: 0 !important; }
span[id^="document-"] + section { break-before: page; }
pre, pre code { white-space: pre-wrap !important; word-break: break-word;
  overflow: visible !important; }
div.highlight, div.cell_output, .output { overflow: visible !important;
  max-height: none !important; }
img { max-width: 100% !important; break-inside: avoid; }
figure, table, mjx-container[display="true"] { break-inside: avoid; }
/* A code cell or its output moves whole to the next sheet when it fits on one. */
div.cell_input, div.cell_output, div.highlight { break-inside: avoid; }
mjx-container { overflow: visible !important; }
/* Chromium prints shadows as large grey raster images: drop them. */
html[data-theme] { --pst-color-shadow: transparent !important; }
html body * { box-shadow: none !important; text-shadow: none !important; }
"""

# Unfold what the web page folds: <details> (MyST-NB hidden cells, dropdown admonitions) and
# sphinx-togglebutton's hidden blocks (the worked solutions).
UNFOLD_JS = """() => {
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  document.querySelectorAll('.toggle-hidden').forEach(e => e.classList.remove('toggle-hidden'));
  document.querySelectorAll('.toggle-details__container, .toggle-content')
    .forEach(e => { e.style.display = 'block'; });
  return document.querySelectorAll('.toggle-hidden').length;
}"""

# Resolves once MathJax has typeset the page (or at once if the page has no MathJax).
MATHJAX_DONE_JS = """async () => {
  if (!window.MathJax) { return 'no MathJax'; }
  for (let i = 0; i < 600 && !(MathJax.startup && MathJax.startup.promise); i++) {
    await new Promise(r => setTimeout(r, 100));
  }
  await MathJax.startup.promise;
  if (MathJax.typesetPromise) { await MathJax.typesetPromise(); }
  return 'typeset';
}"""

IMAGES_DONE_JS = """async () => {
  const images = Array.from(document.images);
  await Promise.all(images.map(img => img.complete ? null :
    new Promise(r => { img.addEventListener('load', r); img.addEventListener('error', r); })));
  return images.filter(img => !(img.complete && img.naturalWidth > 0)).map(img => img.src);
}"""


def root_page(source: Path = ROOT) -> str:
    """The name of the book's first page (the root of _toc.yml): the single page's file name."""
    return yaml.safe_load((source / "_toc.yml").read_text())["root"]


def build_single_page(path_output: Path, source: Path = ROOT) -> Path:
    """Build the one-page HTML edition into ``path_output/_build/singlehtml``.

    The flags match the HTML build of ``make book`` and of the test suite, so Sphinx sees the
    same configuration and both builds share the execution cache in ``path_output``."""
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    command = [str(jupyter_book), "build", str(source), "--builder", "singlehtml",
               "--path-output", str(path_output), "--warningiserror", "--nitpick",
               "--keep-going"]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-6000:] + result.stderr[-6000:])
        raise RuntimeError(f"the single-page build failed (exit code {result.returncode})")
    return path_output / "_build" / "singlehtml"




def find_chromium() -> str:
    chromium = (os.environ.get("CHROMIUM") or shutil.which("chromium")
                or shutil.which("chromium-browser"))
    if chromium is None:
        raise SystemExit("make pdf needs Chromium: install Debian's `chromium` (apt install "
                         "chromium) or set CHROMIUM to a Chromium or Chrome executable")
    return chromium


def print_pdf(single: Path, pdf: Path, source: Path = ROOT) -> dict:
    """Print ``single/<root>.html`` to ``pdf``; returns what was checked on the way."""
    from playwright.sync_api import sync_playwright

    pdf.parent.mkdir(parents=True, exist_ok=True)
    with serve(single) as site, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1100, "height": 1400})
        page.set_default_timeout(300_000)
        blocked = []

        def only_local(route):
            # The PDF is made offline: nothing outside the local server may be fetched.
            if route.request.url.startswith((site, "data:", "blob:")):
                route.continue_()
            else:
                blocked.append(route.request.url)
                route.abort()

        page.route("**/*", only_local)
        page.goto(f"{site}/{root_page(source)}.html", wait_until="load")
        still_folded = page.evaluate(UNFOLD_JS)
        page.add_style_tag(content=PRINT_CSS)
        page.emulate_media(media="print")
        mathjax = page.evaluate(MATHJAX_DONE_JS)
        errors = page.locator("mjx-merror").count()
        broken = page.evaluate(IMAGES_DONE_JS)
        title = yaml.safe_load((source / "_config.yml").read_text())["title"]
        footer = ('<div style="font-size:8px;width:100%;text-align:center;color:#555">'
                  f'{title} · <span class="pageNumber"></span> / '
                  '<span class="totalPages"></span></div>')
        page.pdf(path=str(pdf), format="A4", print_background=True,
                 display_header_footer=True, header_template="<div></div>",
                 footer_template=footer,
                 margin={"top": "16mm", "bottom": "18mm", "left": "14mm", "right": "14mm"})
        browser.close()
    problems = []
    if mathjax != "typeset":
        problems.append(f"MathJax did not run ({mathjax})")
    if errors:
        problems.append(f"MathJax reported {errors} TeX errors")
    problems += [f"image did not load: {src}" for src in broken]
    problems += [f"blocked a request that leaves the machine: {url}" for url in blocked]
    if still_folded:
        problems.append(f"{still_folded} folded blocks could not be unfolded")
    return {"problems": problems, "bytes": pdf.stat().st_size}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--path-output", type=Path, required=True,
                        help="the book's output folder (shared with its HTML build and cache)")
    parser.add_argument("--pdf", type=Path, required=True, help="where to write the PDF")
    parser.add_argument("--skip-build", action="store_true",
                        help="print the single page already built in --path-output")
    parser.add_argument("--source", type=Path, default=ROOT,
                        help="the book's source folder (default: this repository)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    single = (args.path_output / "_build" / "singlehtml" if args.skip_build
              else build_single_page(args.path_output, args.source))
    built = time.perf_counter()
    report = print_pdf(single, args.pdf, args.source)
    for problem in report["problems"]:
        print(f"make pdf: {problem}", file=sys.stderr)
    print(f"PDF written to {args.pdf} ({report['bytes'] / 1e6:.1f} MB; single page built in "
          f"{built - start:.0f} s, printed in {time.perf_counter() - built:.0f} s)")
    return 1 if report["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
