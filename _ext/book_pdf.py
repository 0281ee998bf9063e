"""The whole book as one PDF, printed by a real browser: `make pdf` runs

    python _ext/book_pdf.py              # build _build/singlehtml, print it to _build/pdf/book.pdf
    python _ext/book_pdf.py --no-build   # print the _build/singlehtml already there
    python _ext/book_pdf.py --publish    # and put it next to the website (_build/html/book.pdf)

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
"""
import argparse
import functools
import http.server
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


def build_single_page():
    """`jupyter-book build . --builder singlehtml` (warnings are errors, as for `make book`); the
    page is _build/singlehtml/intro.html."""
    book = Path(sys.executable).with_name("jupyter-book")
    subprocess.run([str(book), "build", ".", "--builder", "singlehtml", "--warningiserror",
                    "--nitpick", "--keep-going"], cwd=REPO, check=True)
    return SINGLE / "intro.html"


# Run in the page before printing, in this order: WAIT loads every image and waits for MathJax;
# ARRANGE makes the web pages a book; PREPARE opens what is folded and scales down what is still
# wider than the column after the print CSS wrapped code.
WAIT = """async () => {
  const imgs = [...document.images];
  imgs.forEach(i => { i.loading = 'eager'; });
  await Promise.all(imgs.map(i => i.decode().catch(() => null)));
  if (document.querySelector('.math')) {
    for (let t = 0; t < 600 && !(window.MathJax && MathJax.startup && MathJax.startup.promise); t++)
      await new Promise(r => setTimeout(r, 50));
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
  }
}"""

# The single page has the book's pages in order but not its parts, answers to the exercises right
# under their questions, and six levels of headings. ARRANGE(parts), parts = [[first chapter's
# docname, caption], ...]: a title page for each part (an h2, so the outline nests its chapters);
# every exercise's answer moved to "Answers to the exercises" at the end of its chapter, with a
# link each way; h6 headings set as bold paragraphs, so the PDF's outline stops at the pages'
# sections. Returns the counts, and the parts whose chapter is missing.
ARRANGE = """(parts) => {
  const article = document.querySelector('article.bd-article') || document.body;
  const text = el => { const c = el.cloneNode(true); c.querySelectorAll('.headerlink, button').forEach(x => x.remove());
                       return c.textContent.trim().replace(/\\s+/g, ' '); };
  const make = (tag, cls, content) => { const e = document.createElement(tag); e.className = cls;
                                        if (content) e.textContent = content; return e; };
  const done = {parts: 0, answers: 0, missingParts: []};
  for (const [doc, caption] of parts) {
    const span = document.getElementById('document-' + doc);
    if (!span) { done.missingParts.push(doc); continue; }
    const part = make('section', 'book-part');
    part.appendChild(make('h2', 'book-part-title', caption));
    span.parentNode.insertBefore(part, span);
    done.parts++;
  }
  const titleOf = el => el.querySelector('.admonition-title');
  const isAnswer = a => titleOf(a) && /^Answer\\b/.test(text(titleOf(a)));
  for (const span of article.querySelectorAll('span[id^="document-chapters/"][id$="/index"]')) {
    const chapter = span.nextElementSibling;
    const answers = chapter ? [...chapter.querySelectorAll('div.admonition.dropdown')].filter(isAnswer) : [];
    if (!answers.length) continue;
    const number = (span.id.match(/chapters\\/0*(\\d+)/) || [])[1] || '';
    const block = make('section', 'book-answers');
    block.appendChild(make('h4', 'book-answers-title', `Answers to the exercises of chapter ${number}`));
    let lastPage = null;
    answers.forEach((answer, k) => {
      const label = `${number}.${k + 1}`, id = `book-answer-${number}-${k + 1}`;
      let page = answer.closest('section');
      while (page && !(page.previousElementSibling && /^document-/.test(page.previousElementSibling.id || '')))
        page = page.parentElement.closest('section');
      const exercise = answer.previousElementSibling;
      const asked = exercise && titleOf(exercise) && /^Exercise\\b/.test(text(titleOf(exercise))) ? exercise : null;
      if (asked && !asked.id) asked.id = `book-exercise-${number}-${k + 1}`;
      if (page && page !== lastPage) {
        block.appendChild(make('p', 'book-answers-page', text(page.querySelector('h1, h2, h3, h4, h5, h6'))));
        lastPage = page;
      }
      const moved = make('div', 'book-answer'); moved.id = id;
      const head = make('p', 'book-answer-title');
      const back = make('a', '', `Answer ${label}` + (asked ? ` (${text(titleOf(asked))})` : ''));
      if (asked) back.href = '#' + asked.id;
      head.appendChild(back); moved.appendChild(head);
      [...answer.children].filter(c => c !== titleOf(answer)).forEach(c => moved.appendChild(c));
      block.appendChild(moved);
      const pointer = make('p', 'book-answer-pointer');
      const there = make('a', '', `Answer ${label}`); there.href = '#' + id;
      pointer.append(there, ' is at the end of the chapter.');
      answer.replaceWith(pointer);
      done.answers++;
    });
    chapter.appendChild(block);
  }
  // the contents page lists the parts too: as headings they would enter the outline twice
  document.querySelectorAll('#jb-print-toc [role="heading"]').forEach(c => {
    c.removeAttribute('role'); c.removeAttribute('aria-level'); });
  for (const h of [...article.querySelectorAll('h6')]) {
    const p = make('p', 'book-h6'); if (h.id) p.id = h.id;
    while (h.firstChild) p.appendChild(h.firstChild);
    h.replaceWith(p);
  }
  return done;
}"""

PREPARE = """async () => {
  // sphinx-togglebutton opens them on 'beforeprint', which a headless print does not send
  document.querySelectorAll('.admonition.toggle.toggle-hidden').forEach(a => a.classList.remove('toggle-hidden'));
  document.querySelectorAll('details.toggle-details').forEach(d => { d.open = true; });
  await document.fonts.ready;
  const scaled = [];
  const article = document.querySelector('article.bd-article') || document.body;
  const fit = el => {
    const parent = el.parentElement.getBoundingClientRect();
    const avail = Math.min(parent.width, article.getBoundingClientRect().width);
    const w = Math.max(el.scrollWidth, el.getBoundingClientRect().width);
    if (avail > 0 && w > avail + 1) { el.style.zoom = (avail / w).toFixed(3); scaled.push(el.tagName.toLowerCase()); }
  };
  article.querySelectorAll('mjx-container[display="true"], table, div.cell_output img, figure img').forEach(fit);
  // an inline formula cannot break across lines: one longer than its paragraph's line is scaled
  article.querySelectorAll('mjx-container:not([display="true"])').forEach(m => {
    const block = m.parentElement.closest('p, li, dd, td, div');
    if (!block) return;
    const cs = getComputedStyle(block);
    const line = block.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
    const w = m.getBoundingClientRect().width;
    if (line > 0 && w > line + 1) { m.style.zoom = (line / w).toFixed(3); scaled.push('inline formula'); }
  });
  // a text table that an HTML output asks not to wrap (rich's, as Keras's model.summary() writes,
  // is a <pre style="white-space: pre">); code itself wraps (course.css)
  article.querySelectorAll('pre').forEach(p => {
    if (p.style.whiteSpace && p.clientWidth > 0 && p.scrollWidth > p.clientWidth + 1) {
      p.style.zoom = (p.clientWidth / p.scrollWidth).toFixed(3); p.style.overflow = 'visible'; scaled.push('pre');
    }
  });
  return scaled;
}"""

# What the printed page would show wrong; each list names the offending elements.
CHECK = """() => {
  const describe = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ' "' +
    (el.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 60) + '"';
  const visible = el => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
  const article = document.querySelector('article.bd-article') || document.body;
  const col = article.getBoundingClientRect();
  const maths = [...article.querySelectorAll('.math')];
  // TeX left in the prose (outside code, which may well show TeX on purpose)
  const rawTex = [];
  const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (n.parentElement.closest('pre, code, mjx-container, script, style, .cell_input, .cell_output')) continue;
    if (/\\$\\$|\\\\(frac|begin|mathbf|partial|sum|sqrt)\\b/.test(n.textContent) && visible(n.parentElement))
      rawTex.push(n.textContent.trim().slice(0, 60));
  }
  // what sticks out of the column, or hides text: a code line past the margin, or a box that
  // would scroll on screen (paper cannot scroll, so it cuts)
  const wide = [], cutCode = [];
  const walk = el => {
    for (const c of el.children) {
      if (!visible(c) || c.tagName === 'SCRIPT' || c.tagName === 'STYLE') continue;
      const b = c.getBoundingClientRect();
      if (b.width > 0 && (b.right > col.right + 1 || b.left < col.left - 1)) {
        wide.push(describe(c) + ` (${Math.round(b.width)} px, the column ${Math.round(col.width)} px)`);
        continue;
      }
      if (c.scrollWidth > c.clientWidth + 1 && c.clientWidth > 0 &&
          (c.tagName === 'PRE' || getComputedStyle(c).overflowX !== 'visible')) {
        cutCode.push(describe(c) + ` (${c.scrollWidth} px of content in ${c.clientWidth} px)`);
        continue;
      }
      if (c.tagName.toLowerCase() !== 'mjx-container') walk(c);
    }
  };
  walk(article);
  return {
    pages: document.querySelectorAll('section[id^="document-"], div[id^="document-"], span[id^="document-"]').length,
    headings: [...article.querySelectorAll('h1')].filter(visible).length,
    math: maths.length,
    untypeset: maths.filter(m => !m.querySelector('mjx-container')).map(describe),
    mathErrors: [...document.querySelectorAll('mjx-merror')].map(e => e.getAttribute('data-mjx-error') || describe(e))
      // an undefined macro is not an error to MathJax: it shows its name in red (noundefined)
      .concat([...document.querySelectorAll('mjx-assistive-mml mtext[mathcolor="red"]')]
              .map(t => 'undefined macro ' + t.textContent)),
    rawTex,
    images: [...article.querySelectorAll('img')].filter(visible).length,
    brokenImages: [...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.getAttribute('src')),
    wide, cutCode,
  };
}"""

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
                        help=f"also put it next to the website, {(HTML / 'book.pdf').relative_to(REPO)}, in its download menu")
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
        sys.path.insert(0, str(Path(__file__).parent))
        from course_sphinx import mark_book_pdf
        mark_book_pdf(HTML)                  # the website's download menu now offers it
    print(f"{args.out}: {r['pdf_pages']} pages, {r['pdf_bytes'] / 1e6:.1f} MB, {r['pdf_images']} images; "
          f"{r['arranged']['parts']} parts, {r['arranged']['answers']} answers moved to the ends of their chapters, "
          f"{r['math']} formulas typeset, {len(r['scaled'])} wide formulas/tables/figures scaled to the column "
          f"(single page built in {built - start:.0f} s, printed in {time.time() - built:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
