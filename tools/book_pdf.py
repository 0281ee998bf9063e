"""The whole book as one PDF, printed by a real browser: `make pdf` runs

    python -m tools.book_pdf              # build _build/singlehtml, print it to _build/pdf/book.pdf
    python -m tools.book_pdf --no-build   # print the _build/singlehtml already there
    python -m tools.book_pdf --publish    # and put it next to the website (_build/html/book.pdf)

The book is built once more as a single HTML page (`jupyter-book build . --builder singlehtml`,
which reuses the executed notebooks of _build/.jupyter_cache that `make book` left, so nothing is
executed again), served on localhost and printed by Debian's Chromium (`/usr/bin/chromium`, or
$CHROMIUM) through Playwright's Python package, as the browser tests drive it: no browser, TeX or
font is downloaded, and a request leaving localhost is refused.

Before printing, the page is checked as a reader of the paper would see it, and no PDF is written
when a check fails: every formula typeset by MathJax (no raw `$$` or `\\frac` left in the text),
every image loaded, no code line, formula, table or figure wider than the A4 text column (the
course's print CSS wraps long code lines; a formula or table that is still too wide is scaled
down to fit), the folded answers of the exercises opened. It is also made a book: a title page
for each part, the answers gathered at the end of each chapter, an outline down to the sections
of the pages. jupyter-book's own `pdfhtml` builder
would need pyppeteer, which downloads a Chromium of its own, and `pdflatex` a TeX installation.

The JavaScript run in the page is in the book_pdf_*.js files beside this one.
"""
import argparse
import functools
import http.server
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

REPO = Path(__file__).resolve().parents[1]
SINGLE = REPO / "_build" / "singlehtml"
OUT = REPO / "_build" / "pdf" / "book.pdf"
HTML = REPO / "_build" / "html"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# A4 with 15 mm margins at the sides: the text column is 180 mm, 680 CSS px (96 px per inch).
MARGIN = {"top": "14mm", "bottom": "16mm", "left": "15mm", "right": "15mm"}
COLUMN_PX = round((210 - 15 - 15) / 25.4 * 96)
FOOTER = ('<div style="width:100%; font-size:8px; color:#555; padding:0 15mm; display:flex;'
          ' justify-content:space-between; font-family:sans-serif">'
          '<span class="title"></span><span><span class="pageNumber"></span> / '
          '<span class="totalPages"></span></span></div>')


# The theme's scroll-spy takes the single page's anchors (#document-chapters/01_neuron/index) for CSS
# selectors: an error on screen only, nothing to do with the print.
_HARMLESS = re.compile(r"'#document-[^']*' is not a valid selector")


class PrintError(RuntimeError):
    """The page is not fit to print (what is wrong is in the message); no PDF was written."""


def _script(name):
    """The JavaScript function in book_pdf_<name>.js, as a string for Playwright's page.evaluate."""
    return Path(__file__).with_name(f"book_pdf_{name}.js").read_text()


def _course_sphinx():
    """The course's Sphinx extension, _ext/course_sphinx.py, loaded from its file."""
    spec = importlib.util.spec_from_file_location("course_sphinx", REPO / "_ext" / "course_sphinx.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_single_page():
    """`jupyter-book build . --builder singlehtml` (warnings are errors, as for `make book`); the
    page is _build/singlehtml/intro.html."""
    book = Path(sys.executable).with_name("jupyter-book")
    subprocess.run([str(book), "build", ".", "--builder", "singlehtml", "--warningiserror",
                    "--nitpick", "--keep-going"], cwd=REPO, check=True)
    return SINGLE / "intro.html"


# Run in the page before printing, in this order: WAIT loads every image and waits for MathJax;
# ARRANGE makes the web pages a book; PREPARE opens what is folded and scales down what is too
# wide; CHECK lists what the printed page would show wrong. Each .js file says more.
WAIT, ARRANGE, PREPARE, CHECK = (_script(name) for name in ("wait", "arrange", "prepare", "check"))

PROBLEMS = {"untypeset": "math left untypeset", "mathErrors": "MathJax errors",
            "rawTex": "raw TeX in the text", "brokenImages": "images that did not load",
            "wide": "wider than the A4 column", "cutCode": "code or content cut at the right margin",
            "outgoing": "requests leaving localhost", "failed": "failed requests",
            "errors": "console errors", "missingParts": "parts whose first chapter is not in the page"}


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def _serve(directory):
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def book_parts(toc=REPO / "_toc.yml"):
    """[(docname of the part's first chapter, the part's caption), ...] from _toc.yml."""
    import yaml
    return [(part["chapters"][0]["file"], part["caption"])
            for part in yaml.safe_load(Path(toc).read_text()).get("parts", [])]


def print_pdf(html, out=OUT, chromium=CHROMIUM, timeout=300, parts=()):
    """Print the HTML file `html` (with the files next to it) to the PDF `out` and return what was
    checked: a dict of counts (pages, math, images, scaled, arranged) and of problems, each a list.
    `parts` as book_parts() gives them. Raises PrintError, writing nothing, when a problem list is
    not empty."""
    html, out = Path(html).resolve(), Path(out)
    if not (os.path.isfile(chromium) and os.access(chromium, os.X_OK)):
        raise PrintError(f"No Chromium at {chromium}: install it (`sudo apt-get install chromium`) "
                         "or point $CHROMIUM at a Chromium/Chrome executable.")
    from playwright.sync_api import sync_playwright

    server = _serve(html.parent)
    report = {"outgoing": [], "failed": [], "errors": []}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": COLUMN_PX, "height": 1100})
                page.set_default_timeout(timeout * 1000)
                page.on("console", lambda m: m.type == "error" and not _HARMLESS.search(m.text)
                        and report["errors"].append(m.text))
                page.on("pageerror", lambda e: not _HARMLESS.search(str(e)) and report["errors"].append(str(e)))
                page.on("response", lambda r: r.status >= 400 and report["failed"].append(f"{r.url} (HTTP {r.status})"))

                def route(r):
                    url = r.request.url
                    if url.startswith(("data:", "blob:", "about:")) or urlparse(url).hostname == "127.0.0.1":
                        r.continue_()
                    else:
                        report["outgoing"].append(url)
                        r.abort("blockedbyclient")
                page.route("**/*", route)
                page.emulate_media(media="print")
                page.goto(f"http://127.0.0.1:{server.server_address[1]}/{html.name}", wait_until="load")
                page.evaluate(WAIT)
                report["arranged"] = page.evaluate(ARRANGE, [list(p) for p in parts])
                report["missingParts"] = report["arranged"]["missingParts"]
                report["scaled"] = page.evaluate(PREPARE)
                report.update(page.evaluate(CHECK))
                bad = {k: report[k] for k in PROBLEMS if report.get(k)}
                if bad:
                    raise PrintError("not printed, the page has:\n" + "\n".join(
                        f"  {PROBLEMS[k]} ({len(v)}): " + "; ".join(map(str, v[:5])) for k, v in bad.items()))
                out.parent.mkdir(parents=True, exist_ok=True)
                tmp = out.with_suffix(".part")
                page.pdf(path=str(tmp), format="A4", print_background=True, margin=MARGIN,
                         display_header_footer=True, header_template="<span></span>",
                         footer_template=FOOTER, outline=True, tagged=True)
                tmp.replace(out)
            finally:
                browser.close()
    finally:
        server.shutdown()
        server.server_close()
    report.update(pdf_facts(out))
    return report


def pdf_facts(path):
    """Pages, embedded images and size of a PDF written by Chromium (whose page and image objects
    are plain dictionaries, so no PDF library is needed to count them)."""
    data = Path(path).read_bytes()
    if not data.startswith(b"%PDF-") or b"%%EOF" not in data[-1024:]:
        raise PrintError(f"{path} is not a complete PDF")
    return {"pdf_pages": len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", data)),
            "pdf_images": len(re.findall(rb"/Subtype\s*/Image\b", data)),
            "pdf_bytes": len(data)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-build", action="store_true", help="print the existing _build/singlehtml")
    parser.add_argument("--out", type=Path, default=OUT, help=f"the PDF (default {OUT.relative_to(REPO)})")
    parser.add_argument("--publish", action="store_true",
                        help=f"also put it next to the website, {(HTML / 'book.pdf').relative_to(REPO)}, "
                             "in its download menu")
    args = parser.parse_args(argv)
    start = time.time()
    html = SINGLE / "intro.html"            # the root document (index.html only redirects to it)
    if not args.no_build:
        html = build_single_page()
    elif not html.exists():
        parser.error(f"{html.relative_to(REPO)} is missing: run without --no-build")
    built = time.time()
    try:
        r = print_pdf(html, args.out, parts=book_parts())
    except PrintError as e:
        print(e, file=sys.stderr)
        return 1
    if args.publish:
        shutil.copyfile(args.out, HTML / "book.pdf")
        _course_sphinx().mark_book_pdf(HTML)   # the website's download menu now offers it
    print(f"{args.out}: {r['pdf_pages']} pages, {r['pdf_bytes'] / 1e6:.1f} MB, {r['pdf_images']} images; "
          f"{r['arranged']['parts']} parts, {r['arranged']['answers']} answers moved to the ends of their chapters, "
          f"{r['math']} formulas typeset, {len(r['scaled'])} wide formulas/tables/figures scaled to the column "
          f"(single page built in {built - start:.0f} s, printed in {time.time() - built:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
