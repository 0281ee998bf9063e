"""The website as readers see it: every page of the built book, opened in headless Chromium at a
desktop width (1280 px) and a phone width (375 px).

Each page is visited once per width; what the visit measured is kept in `reports`, and each test
below checks one thing over all of them, so a failure names the check, the width and the pages.

The site is _build/html, reused when it is newer than every source, otherwise built here with the
same command as `make book`. The browser is Debian's Chromium (`/usr/bin/chromium`, or $CHROMIUM),
driven by Playwright's Python package; no browser is downloaded. Every visit also runs axe-core
(the copy that the axe-playwright-python package ships) with the WCAG 2.1 A and AA rules.
Screenshots of a few pages at both widths go to _build/screenshots/.
The last test prints the whole book as `make pdf` does.
"""
import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
HTML = REPO / "_build" / "html"
SHOTS = REPO / "_build" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
WIDTHS = {"desktop": 1280, "phone": 375}
SCREENSHOT_PAGES = ["intro.html", "chapters/01_neuron/neuron.html", "chapters/02_mlp/backprop.html",
                    "chapters/03_activations/activations.html", "chapters/09_autoencoders/autoencoders.html",
                    "chapters/04_keras_workflow/callbacks.html",
                    "chapters/04_keras_workflow/assignment_04.html"]
# Everything that changes the website.
SOURCES = ["_config.yml", "_toc.yml", "intro.md", "chapters", "_static", "_ext", "scratchnn", "course_tools"]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]     # WCAG 2.1, levels A and AA

# one browser, one worker (pytest.ini: --dist loadfile keeps a file on one worker)
pytestmark = pytest.mark.xdist_group("browser")


def _newest(paths):
    newest = 0.0
    for p in paths:
        p = REPO / p
        files = [p] if p.is_file() else (f for f in p.rglob("*") if f.is_file()) if p.exists() else []
        for f in files:
            if "__pycache__" not in f.parts and ".ipynb_checkpoints" not in f.parts:
                newest = max(newest, f.stat().st_mtime)
    return newest


def _ensure_site():
    stamp = HTML / "searchindex.js"             # Sphinx rewrites it on every build
    if stamp.exists() and stamp.stat().st_mtime >= _newest(SOURCES):
        return
    book = Path(sys.executable).with_name("jupyter-book")
    subprocess.run([str(book), "build", ".", "--all", "--warningiserror", "--nitpick", "--keep-going"],
                   cwd=REPO, check=True)


@pytest.fixture(scope="session")
def site():
    _ensure_site()
    handler = functools.partial(_QuietHandler, directory=str(HTML))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def browser():
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"No Chromium at {CHROMIUM}: the browser tests need one. On Debian/Ubuntu run "
                    "`sudo apt-get install chromium` (`make test` does it when run as root), or "
                    "point $CHROMIUM at a Chromium/Chrome executable.", pytrace=False)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("The Python package playwright is missing: run `make test` (it installs "
                    "requirements.txt into .venv).", pytrace=False)
    profile = tempfile.mkdtemp(prefix="course-chromium-")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            # scrollbars shown, as on Windows and Linux desktops (they take room and show what scrolls)
            ignore_default_args=["--hide-scrollbars"],
            viewport={"width": WIDTHS["desktop"], "height": 900}, service_workers="block")
        try:
            yield context
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)


def _pages():
    if not HTML.exists():
        _ensure_site()
    pages = []
    for f in sorted(HTML.rglob("*.html")):
        rel = f.relative_to(HTML).as_posix()
        skipped = rel in {"search.html", "genindex.html", "index.html"}
        if rel.split("/")[0] in {"_static", "_sources", "_images"} or skipped:
            continue
        pages.append(rel)
    return pages


class Tab:
    """One browser tab at one width, reused for every page; it records console errors, failed and
    outgoing requests of the page it is on."""

    def __init__(self, context, site, width):
        self.site, self.width = site, width
        self.page = context.new_page()
        self.page.set_default_timeout(8000)
        self.page.set_viewport_size({"width": width, "height": 900 if width > 600 else 800})
        self.reset()
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        # a missing file is an HTTP error (below); net::ERR_ABORTED is a request the page itself gave up
        # (a font still loading when the test moves to the next page), not a broken page
        self.page.on("requestfailed", lambda r: "ERR_ABORTED" not in str(r.failure)
                     and self.failed.append(f"{r.url} ({r.failure})"))
        self.page.on("response", lambda r: r.status >= 400 and self.failed.append(f"{r.url} (HTTP {r.status})"))
        self.page.route("**/*", self._route)

    def reset(self):
        self.errors, self.failed, self.outgoing = [], [], []

    def _route(self, route):
        url = route.request.url
        host = urlparse(url).hostname
        if url.startswith(("data:", "blob:", "about:")) or host == "127.0.0.1":
            route.continue_()
        else:
            self.outgoing.append(url)
            route.abort("blockedbyclient")

    def open(self, rel):
        self.reset()
        self.page.goto(self.site + rel, wait_until="load")
        self.page.evaluate(WAIT_FOR_MATH)
        # _static/scroll_regions.js has marked what scrolls, after MathJax (<html data-regions>)
        self.page.wait_for_function("() => document.documentElement.dataset.regions === 'marked'")

    def accessibility(self):
        """axe-core's WCAG 2.1 A/AA violations on the page: 'rule: element (what to fix)' each."""
        # the page at rest: a colour caught halfway through one of the theme's transitions is no reader's colour
        self.page.add_style_tag(content="*, *::before, *::after { transition: none !important; }")
        self.page.add_script_tag(content=_axe_source())
        found = self.page.evaluate("""async tags => (await axe.run(document, {runOnly: {type: 'tag', values: tags}}))
            .violations.flatMap(v => v.nodes.map(n => v.id + ': ' + n.target.join(' ') + ' ('
              + (n.failureSummary || '').replace(/\\s+/g, ' ').slice(0, 160) + ')'))""", AXE_TAGS)
        return found


@functools.cache
def _axe_source():
    try:
        import axe_playwright_python
    except ImportError:
        pytest.fail("The Python package axe-playwright-python (it ships axe-core) is missing: run `make test` "
                    "(it installs requirements.txt into .venv).", pytrace=False)
    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()


WAIT_FOR_MATH = """async () => {
  const imgs = [...document.images];
  imgs.forEach(i => { i.loading = 'eager'; });
  await Promise.all(imgs.map(i => i.decode().catch(() => null)));
  if (!document.querySelector('.math')) return;
  for (let t = 0; t < 200 && !(window.MathJax && MathJax.startup && MathJax.startup.promise); t++)
    await new Promise(r => setTimeout(r, 50));
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
}"""

MEASURE = """() => {
  const describe = el => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += '#' + el.id;
    if (typeof el.className === 'string' && el.className.trim())
      s += '.' + el.className.trim().split(/\\s+/).slice(0, 2).join('.');
    return s + ' "' + (el.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 50) + '"';
  };
  const visible = el => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
  const art = document.querySelector('article.bd-article') || document.querySelector('main') || document.body;
  const col = art.getBoundingClientRect();
  const styleCache = new Map();
  const ox = el => {
    if (!styleCache.has(el)) styleCache.set(el, getComputedStyle(el).overflowX);
    return styleCache.get(el);
  };
  const scrolls = el => ['auto', 'scroll'].includes(ox(el));
  const r = {
    docWidth: document.documentElement.scrollWidth, viewport: document.documentElement.clientWidth,
    math: art.querySelectorAll('.math').length,
    untypeset: [...art.querySelectorAll('.math')].filter(m => !m.querySelector('mjx-container')).map(describe),
    mathErrors: [...document.querySelectorAll('mjx-merror')].map(e => e.getAttribute('data-mjx-error') || describe(e)),
    images: [...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.getAttribute('src')),
    wide: [], cutCode: [], cut: [],
    // every figure: its size in the PNG and on the screen (a PNG has ~100 px per inch of figsize)
    figures: [...art.querySelectorAll('img')].filter(i => i.naturalWidth > 0).map(i => ({
      src: (i.getAttribute('src') || '').split('/').pop().slice(0, 12), natural: i.naturalWidth,
      shown: Math.round(i.getBoundingClientRect().width)})),
    // inline maths never scrolls; display maths fits the column on a desktop (may scroll on a phone)
    inlineScroll: [...art.querySelectorAll('mjx-container:not([display="true"])')]
      .filter(m => m.classList.contains('wide-inline') || (scrolls(m) && m.scrollWidth > m.clientWidth + 1)
                   || (scrolls(m.parentElement) && m.parentElement.scrollWidth > m.parentElement.clientWidth + 1))
      .map(describe),
    // every figure's alt text (a lesson figure's comes from its cell's mystnb.image.alt)
    alts: [...art.querySelectorAll('img')].map(i => i.getAttribute('alt')),
    displayScroll: [...art.querySelectorAll('div.math')].filter(m => m.scrollWidth > m.clientWidth + 1)
      .map(m => describe(m) + ` (${m.scrollWidth} px in ${m.clientWidth} px)`),
    // code cells never wrap: on a desktop no line is wider than the column, on a phone it scrolls
    codeScroll: [...art.querySelectorAll('div.cell_input pre')].filter(p => p.scrollWidth > p.clientWidth + 1)
      .map(p => describe(p) + ` (${p.scrollWidth} px of code in ${p.clientWidth} px)`),
    tfLog: [...art.querySelectorAll('div.cell_output')].map(o => o.textContent)
      .filter(t => /absl::InitializeLog|oneDNN custom operations|cpu_feature_guard/.test(t))
      .map(t => t.trim().slice(0, 80)),
  };
  const reported = new Set();
  for (const el of art.querySelectorAll('*')) {
    if (el.closest('mjx-container') && el.tagName.toLowerCase() !== 'mjx-container') continue;
    let p = el.parentElement, skip = false;
    while (p && p !== art) { if (reported.has(p) || scrolls(p)) { skip = true; break; } p = p.parentElement; }
    if (skip || !visible(el)) continue;
    const b = el.getBoundingClientRect();
    if (b.width > 0 && (b.right > col.right + 1 || b.left < col.left - 1)) {
      reported.add(el);
      r.wide.push(describe(el) + ` (${Math.round(b.width)} px wide, the column ${Math.round(col.width)} px)`);
      continue;
    }
    if (el.tagName === 'PRE' && el.scrollWidth > el.clientWidth + 1 && !scrolls(el)) {
      r.cutCode.push(describe(el) + ` (${el.scrollWidth} px of text in ${el.clientWidth} px)`);
    } else if (['hidden', 'clip'].includes(ox(el)) && el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0) {
      r.cut.push(describe(el) + ` (${el.scrollWidth} px of content in ${el.clientWidth} px)`);
    }
  }
  return r;
}"""


@pytest.fixture(scope="session")
def reports(browser, site):
    """{(width name, page): what the visit measured}; screenshots of SCREENSHOT_PAGES on the way."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, width in WIDTHS.items():
        tab = Tab(browser, site, width)
        for rel in _pages():
            tab.open(rel)
            rep = tab.page.evaluate(MEASURE)
            rep.update(errors=list(tab.errors), failed=list(tab.failed), outgoing=list(tab.outgoing),
                       axe=tab.accessibility())
            out[name, rel] = rep
            if rel in SCREENSHOT_PAGES:
                shot = SHOTS / f"{rel.replace('/', '_').removesuffix('.html')}_{width}px.png"
                height = tab.page.evaluate("document.documentElement.scrollHeight")
                tab.page.screenshot(path=str(shot), full_page=True,
                                    clip={"x": 0, "y": 0, "width": width, "height": min(height, 8000)})
        tab.page.close()
    return out


def _check(reports, key, what):
    bad = {f"{w} {page}": rep[key] for (w, page), rep in reports.items() if rep[key]}
    if bad:
        pytest.fail(f"{what} on {len(bad)} page visits:\n" + "\n".join(
            f"  {k}: " + "; ".join(map(str, v[:3])) + (f" (+{len(v) - 3} more)" if len(v) > 3 else "")
            for k, v in sorted(bad.items())), pytrace=False)


def test_every_page_is_visited(reports):
    pages = {p for _, p in reports}
    assert "intro.html" in pages and "chapters/02_mlp/backprop.html" in pages, sorted(pages)
    assert len(reports["desktop", "chapters/02_mlp/backprop.html"]["figures"]) >= 4   # the figures are measured


def test_no_console_errors(reports):
    _check(reports, "errors", "console errors")


def test_every_request_succeeds(reports):
    _check(reports, "failed", "failed requests (missing files)")


def test_no_request_leaves_localhost(reports):
    _check(reports, "outgoing", "requests leaving localhost")


def test_math_is_typeset(reports):
    _check(reports, "untypeset", "math left untypeset")
    _check(reports, "mathErrors", "MathJax errors")
    assert reports["desktop", "chapters/02_mlp/backprop.html"]["math"] > 10


def test_every_image_loads(reports):
    _check(reports, "images", "images that did not load")


def test_page_no_wider_than_the_screen(reports):
    bad = {k: r for k, r in reports.items() if r["docWidth"] > r["viewport"]}
    if bad:
        pytest.fail("pages wider than the viewport (the reader scrolls sideways):\n" + "\n".join(
            f"  {w} {p}: {r['docWidth']} px in {r['viewport']} px" for (w, p), r in sorted(bad.items())),
            pytrace=False)


def test_nothing_wider_than_its_column(reports):
    _check(reports, "wide", "elements sticking out of the text column")


def test_code_and_outputs_not_cut(reports):
    _check(reports, "cutCode", "code cells or outputs with hidden text on the right")
    _check(reports, "cut", "content cut off by overflow: hidden")


# The text column is 676 px on a desktop with scrollbars shown (688 px where they overlay) and 343
# px on a phone. A figure no wider than the column shows at full size there (a 6.9-inch figure,
# 691 px, at 98 %) and at about 50 % on a phone (matplotlib's 10-pt labels ~7 px); a 13-inch row
# of panels showed at 54 % and 27 % (labels 4 px).
SMALLEST_SHOWN = {"desktop": 0.97, "phone": 0.45}


def test_figures_fit_the_column(reports):
    bad = {}
    for (w, page), rep in reports.items():
        small = [f"{f['src']}... {f['natural']} px shown at {f['shown']} px ({f['shown'] / f['natural']:.0%})"
                 for f in rep["figures"] if f["shown"] < SMALLEST_SHOWN[w] * f["natural"]]
        if small:
            bad[f"{w} {page}"] = small
    if bad:
        pytest.fail(f"figures shrunk below {SMALLEST_SHOWN} of their size (restack the panels so the figure "
                    "is at most 688 px, about 6.8 in, wide) on " + f"{len(bad)} page visits:\n" + "\n".join(
                        f"  {k}: " + "; ".join(v[:3]) + (f" (+{len(v) - 3} more)" if len(v) > 3 else "")
                        for k, v in sorted(bad.items())), pytrace=False)


def test_wcag_21_aa(reports):
    """axe-core finds no violation of a WCAG 2.1 A or AA rule on any page, at either width."""
    _check(reports, "axe", "WCAG 2.1 A/AA violations (axe-core)")


def test_inline_maths_never_scrolls(reports):
    _check(reports, "inlineScroll", "inline formulas that scroll or stick out of the column (make them display maths)")


def test_display_maths_fits_the_desktop_column(reports):
    _check({k: r for k, r in reports.items() if k[0] == "desktop"}, "displayScroll",
           "display equations wider than the column (break them over lines with aligned)")


def test_code_never_wraps_and_fits_the_desktop_column(reports):
    """Code keeps its lines (white-space: pre, so indentation and numbers stay whole): on a desktop
    every line fits the column (tests/test_code_lines.py limits their length); on a phone a code
    cell scrolls sideways (and is reachable by keyboard, which axe checks)."""
    _check({k: r for k, r in reports.items() if k[0] == "desktop"}, "codeScroll",
           "code cells with lines wider than the column")
    phone = [r for (w, _), r in reports.items() if w == "phone" and r["codeScroll"]]
    assert phone, "no code cell scrolls on a phone: do code cells wrap again?"


PATH_LIKE = re.compile(r"[/\\]|\.(png|svg|jpe?g|gif)$|^[0-9a-f]{16,}", re.IGNORECASE)


def test_every_figure_is_described(reports):
    """Every image in a page's text has alt text that says what it shows: not missing, not empty,
    not a file's path or name (MyST-NB's default for a cell's figure), not the same as another
    figure's on the page (a cell with two figures would give both its one alt)."""
    bad = {}
    for (w, page), rep in reports.items():
        if w != "desktop":
            continue
        alts = [(a or "").strip() for a in rep["alts"]]
        problems = [f"missing alt ({i + 1}. image)" for i, a in enumerate(alts) if not a]
        problems += [f"a path as alt: {a!r}" for a in alts if a and PATH_LIKE.search(a)]
        problems += [f"{alts.count(a)} images share the alt {a[:60]!r}"
                     for a in sorted(set(alts)) if a and alts.count(a) > 1]
        if problems:
            bad[page] = problems
    assert sum(len(r["alts"]) for r in reports.values()) > 100, \
        "fewer figures than the course has: are images measured?"
    if bad:
        pytest.fail("figures without a description (set the cell's metadata mystnb.image.alt) on "
                    f"{len(bad)} pages:\n" + "\n".join(
                        f"  {p}: " + "; ".join(v[:3]) + (f" (+{len(v) - 3} more)" if len(v) > 3 else "")
                        for p, v in sorted(bad.items())), pytrace=False)


def test_no_tensorflow_start_up_log_in_outputs(reports):
    _check(reports, "tfLog", "TensorFlow's start-up log in a cell's output")


# --- interaction -----------------------------------------------------------------------------

@pytest.fixture()
def tab(browser, site, request):
    t = Tab(browser, site, getattr(request, "param", WIDTHS["desktop"]))
    yield t
    t.page.close()


PRIMARY = ".bd-sidebar-primary"      # the navigation
SECONDARY = ".bd-sidebar-secondary"  # the page's contents


def _shown(page, selector):
    return page.evaluate("""s => { const e = document.querySelector(s); if (!e) return false;
        const b = e.getBoundingClientRect(), st = getComputedStyle(e);
        return b.width > 100 && b.right > 50 && b.left < innerWidth - 50 && st.visibility !== 'hidden'; }""",
                         selector)


@pytest.mark.parametrize("tab", [WIDTHS["phone"]], indirect=True)
def test_navigation_opens_on_a_phone(tab):
    tab.open("chapters/02_mlp/backprop.html")
    page = tab.page
    assert not _shown(page, PRIMARY), "the navigation should start closed on a phone"
    page.locator(".primary-toggle:visible").first.click()
    page.wait_for_timeout(400)
    assert _shown(page, PRIMARY), "the menu button did not open the navigation"
    assert page.locator(PRIMARY + " a[href*='04_keras_workflow']").first.is_visible()
    tab.open("chapters/02_mlp/backprop.html")
    page.locator(".secondary-toggle:visible").first.click()
    page.wait_for_timeout(400)
    assert _shown(page, SECONDARY), "the page-contents button did not open the contents"
    assert not tab.errors, tab.errors


def test_desktop_sidebar_toggle_hides_and_shows_the_navigation(tab):
    tab.open("chapters/02_mlp/backprop.html")
    page = tab.page
    assert _shown(page, PRIMARY)
    page.locator(".primary-toggle:visible").first.click()
    page.wait_for_timeout(400)
    assert not _shown(page, PRIMARY), "the sidebar toggle did not hide the navigation"
    page.locator(".primary-toggle:visible").first.click()
    page.wait_for_timeout(400)
    assert _shown(page, PRIMARY), "the sidebar toggle did not bring the navigation back"


def test_search_finds_a_term(tab):
    tab.open("search.html?q=backpropagation")
    page = tab.page
    page.wait_for_selector("#search-results ul.search li", timeout=15000)
    page.wait_for_function("() => !document.querySelector('#search-progress') || "
                           "!/Preparing|Searching/.test(document.querySelector('#search-progress').textContent)",
                           timeout=15000)
    hits = page.locator("#search-results ul.search li a").evaluate_all("as => as.map(a => a.getAttribute('href'))")
    assert any("backprop" in h for h in hits), hits
    snippets = " ".join(page.locator("#search-results p.context").all_text_contents())
    assert not re.search(r"\\(frac|mathbf|partial|begin)", snippets), \
        "search snippets show raw LaTeX: " + snippets[:300]


def _repository():
    cfg = yaml.safe_load((REPO / "_config.yml").read_text())
    return cfg["repository"]["url"].rstrip("/"), cfg["repository"].get("branch", "main")


# (the first as a search result opens it: its words highlighted)
DARK_PAGES = ["chapters/01_neuron/neuron.html?highlight=neuron", "chapters/04_keras_workflow/keras_workflow.html",
              "chapters/07_regularization/batch_normalization.html"]


def test_dark_mode_keeps_text_and_figures_readable(tab):
    """The theme's dark mode (the reader's choice, remembered in localStorage): text and Keras's
    coloured summaries keep WCAG AA contrast, and figures (matplotlib draws dark ink on a
    transparent or white ground) sit on a light ground."""
    tab.page.add_init_script("localStorage.setItem('mode', 'dark'); localStorage.setItem('theme', 'dark')")
    for rel in DARK_PAGES:
        tab.open(rel)
        assert tab.page.evaluate("document.documentElement.dataset.theme") == "dark", rel
        assert "highlight" not in rel or tab.page.locator("article .highlighted").count() > 0, rel
        grounds = tab.page.evaluate("""() => [...document.querySelectorAll('article img')]
            .map(i => getComputedStyle(i).backgroundColor)""")
        assert grounds and all(g in {"rgb(255, 255, 255)", "rgb(206, 214, 221)"} for g in grounds), (rel, set(grounds))
        assert tab.accessibility() == [], f"{rel} in dark mode: {tab.accessibility()[:5]}"


@pytest.mark.parametrize("rel", ["chapters/01_neuron/neuron", "chapters/04_keras_workflow/assignment_04"])
def test_launch_and_download_buttons(tab, rel):
    tab.open(rel + ".html")
    page = tab.page
    links = page.locator(".bd-header-article a[href]").evaluate_all("as => as.map(a => a.href)")
    url, branch = _repository()
    slug = urlparse(url).path.strip("/")
    nb = rel + ".ipynb"
    colab = f"https://colab.research.google.com/github/{slug}/blob/{branch}/{nb}"
    assert colab in links, f"no Colab button to {colab}: {links}"
    binder = [h for h in links if h.startswith("https://mybinder.org/v2/gh/" + slug + "/" + branch)]
    assert binder and nb in binder[0], f"no Binder button to {nb}: {links}"
    assert any(h.rstrip("/") == url for h in links), f"no repository button to {url}: {links}"
    download = [h for h in links if h.endswith("/_sources/" + nb)]
    assert download, f"no download button for {nb}: {links}"
    book = [h for h in links if h.endswith("/book.pdf")]   # `make pdf` puts it there (tools/book_pdf.py)
    assert book and urlparse(book[0]).path == "/book.pdf", f"no 'book (PDF)' download of /book.pdf: {links}"
    # offered only where the site has it (_build/html/_static/book_pdf.css hides it otherwise)
    entry = page.locator(".bd-header-article a[href$='book.pdf']").first
    shown = entry.evaluate("a => getComputedStyle(a).display !== 'none'")
    has_pdf = (HTML / "book.pdf").is_file()
    assert shown == has_pdf, (f"the 'book (PDF)' entry is {'shown' if shown else 'hidden'} but "
                              f"{HTML / 'book.pdf'} {'exists' if has_pdf else 'does not exist'}")
    if has_pdf:
        got = page.request.get(book[0])
        assert got.ok and got.body()[:5] == b"%PDF-", f"{book[0]}: HTTP {got.status}"
    got = page.request.get(download[0])
    assert got.ok, f"{download[0]}: HTTP {got.status}"
    assert json.loads(got.text())["nbformat"] == 4


# --- the book as one PDF (`make pdf`) ------------------------------------------------------------

def _outline(pdf):
    """The PDF's outline as nested [title, [children]] lists, read with poppler's pdftohtml."""
    xml = subprocess.run(["pdftohtml", "-xml", "-i", "-stdout", "-f", "1", "-l", "1", str(pdf)],
                         capture_output=True, text=True, check=True).stdout
    root, stack = [], []
    level = root
    for token in re.finditer(r"<outline>|</outline>|<item[^>]*>([^<]*)</item>", xml):
        if token.group(0) == "<outline>":
            stack.append(level)
            level = level[-1][1] if level else level
        elif token.group(0) == "</outline>":
            level = stack.pop()
        else:
            level.append([" ".join(token.group(1).split()), []])
    return root


def test_the_whole_book_prints_as_a_book(site, tmp_path):
    """`make pdf` on the real book (its single page reuses the notebooks executed for the site):
    it prints, with a title page per part, every answer moved to the end of its chapter, and an
    outline that nests the chapters under their parts."""
    out = tmp_path / "book.pdf"
    run = subprocess.run([sys.executable, "-m", "tools.book_pdf", "--out", str(out)],
                         cwd=REPO, capture_output=True, text=True, timeout=1500,
                         env={**os.environ, "CHROMIUM": CHROMIUM})
    assert run.returncode == 0, f"make pdf's printing failed:\n{run.stderr[-3000:]}"
    summary = run.stdout.strip().splitlines()[-1]
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())["parts"]
    answers = sum(len(re.findall(r'class="dropdown admonition"[^>]*>\s*<p class="admonition-title">Answer\b',
                                 (HTML / page).read_text())) for page in _pages())
    assert answers > 30 and f"{len(toc)} parts, {answers} answers moved" in summary, summary
    pages = int(re.search(r"(\d+) pages", summary).group(1))
    assert pages > 300, summary
    if shutil.which("pdftohtml"):                  # poppler-utils, where installed
        top = _outline(out)[0][1]                  # under the book's title
        parts = [(title, [c[0] for c in children]) for title, children in top if title.startswith("Part")]
        assert [title for title, _ in parts] == [part["caption"] for part in toc], \
            f"the outline should list each part once, in order: {[title for title, _ in top]}"
        for (title, chapters), part in zip(parts, toc):
            assert len(chapters) == len(part["chapters"]), f"{title}: its chapters in the outline are {chapters}"
