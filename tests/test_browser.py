"""Open every page of the built book in headless Chromium, as a reader would, with no network."""

import os
import shutil

import pytest

from conftest import book_pages, serve

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]

if CHROMIUM is None and os.environ.get("CI"):
    raise RuntimeError("CI must install Debian's chromium for the browser tests (.ci/run does)")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium (apt install chromium)")


@pytest.fixture(scope="module")
def site(html):
    with serve(html) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield instance
        instance.close()


def is_redirect(path):
    return 'http-equiv="refresh"' in path.read_text().lower()


def page_paths(html, redirects=False):
    return [str(p.relative_to(html)) for p in book_pages(html) if is_redirect(p) == redirects]


def test_redirect_pages_lead_to_a_real_page(html, site, browser):
    redirects = page_paths(html, redirects=True)
    assert "index.html" in redirects        # Jupyter Book's landing redirect
    for path in redirects:
        page = browser.new_page()
        page.goto(f"{site}/{path}")
        page.wait_for_url(f"{site}/intro.html", timeout=10000)
        assert page.title()
        page.close()


def test_every_page_renders_cleanly_offline(html, site, browser):
    problems = []
    for path in page_paths(html):
        page = browser.new_page()
        errors, outside = [], []
        # The page is closed before the next iteration, so these handlers only ever see this
        # iteration's lists; binding them as defaults says so.
        page.on("console", lambda msg, errors=errors: errors.append(msg.text)
                if msg.type == "error" else None)
        page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
        page.on("response", lambda r, errors=errors: errors.append(f"HTTP {r.status} for {r.url}")
                if r.status >= 400 else None)
        page.on("request", lambda req, outside=outside: outside.append(req.url)
                if not req.url.startswith((site, "data:", "blob:")) else None)
        page.goto(f"{site}/{path}", wait_until="load")
        has_math = page.locator(".math").count() > 0
        if has_math:
            page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise")
            page.evaluate("MathJax.startup.promise")
            if page.locator("mjx-container").count() == 0:
                problems.append(f"{path}: equations not rendered by MathJax")
            if page.locator("mjx-merror").count():
                problems.append(f"{path}: MathJax reported a TeX error")
        broken = page.evaluate("""Array.from(document.images)
            .filter(img => !(img.complete && img.naturalWidth > 0)).map(img => img.src)""")
        problems += [f"{path}: image did not load: {src}" for src in broken]
        problems += [f"{path}: console error: {e}" for e in errors]
        problems += [f"{path}: request leaves the machine: {u}" for u in outside]
        if path.startswith(("lessons/", "exercises/", "solutions/")):
            launch = page.locator(".dropdown-launch-buttons a")
            texts = " ".join(launch.all_text_contents())
            if "Colab" not in texts or "Binder" not in texts:
                problems.append(f"{path}: launch buttons missing")
        page.close()
    assert not problems, "\n".join(problems)


def test_search_finds_lessons(site, browser):
    page = browser.new_page()
    page.goto(f"{site}/search.html?q=gradient", wait_until="load")
    results = page.locator("#search-results li, .search li")
    results.first.wait_for(timeout=15000)
    assert results.count() >= 1
    assert "Lesson 1" in " ".join(results.all_text_contents())
    page.close()


def test_solutions_are_folded_until_clicked(html, site, browser):
    page = browser.new_page()
    page.goto(f"{site}/solutions/01_tensors_autograd.html", wait_until="load")
    solution = page.locator(".solution.dropdown").first
    body = solution.locator("section, .solution-content, p").last
    assert not body.is_visible(), "the worked answer is visible before clicking"
    solution.locator(".toggle-button, button, summary").first.click()
    body.wait_for(state="visible", timeout=5000)
    page.close()
