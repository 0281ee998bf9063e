"""`make pdf` prints the book with tools/book_pdf.py: here its printing function runs on a small page
marked up as Sphinx marks up the book (MathJax from sphinx-mathjax-offline, the course's CSS, a
figure, a folded answer, a long code line, a wide formula, table and text table), in a few seconds, instead of
on the whole book (a singlehtml build takes minutes).

It must write a PDF with the pages, the figure and the opened answer, with the maths typeset and
the code wrapped; and it must refuse to print (no PDF) a page whose maths does not typeset, whose
image is missing, or whose code would be cut at the margin.
"""
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tools import book_pdf

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
MATHJAX = Path(sysconfig.get_paths()["purelib"]) / "sphinx-mathjax-offline" / "static" / "mathjax"


LONG_CODE = ("weights = layer.get_weights()  # a line far longer than the A4 column, whose end "
             "the reader needs: END_OF_LONG_LINE  # (m, d)")
PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>A test page</title>
<link rel="stylesheet" href="course.css"><link rel="stylesheet" href="print.css">
<script>window.MathJax = {{tex: {{inlineMath: [['\\\\(', '\\\\)']], displayMath: [['\\\\[', '\\\\]']]}},
  options: {{processHtmlClass: 'tex2jax_process|mathjax_process|math|output_area'}}}};</script>
<script defer src="mathjax/tex-chtml.js"></script>
<style>/* sphinx-togglebutton's folded admonition */
.admonition.toggle-hidden .admonition-title ~ * {{ height: 0; opacity: 0; visibility: hidden; }}</style></head>
<body><article class="bd-article">
<span id="document-chapters/01_test/index"></span><section><h3>Chapter one</h3>
<span id="document-chapters/01_test/page"></span><section><h4>A test page</h4>
<p>The softmax <span class="math notranslate nohighlight">\\(\\frac{{e^{{z_i}}}}{{\\sum_j e^{{z_j}}}}\\)</span>.</p>
<div class="math notranslate nohighlight">\\[{display}\\]</div>
<div class="cell_input"><pre>{code}</pre></div>
<div class="cell_output"><img src="figure.png" alt="a figure"></div>
<div class="cell_output"><pre style="white-space:pre">{summary}</pre></div>
<table><tr>{cells}</tr></table>
<div class="admonition tip"><p class="admonition-title">Exercise 1: THE_QUESTION</p><p>Why?</p></div>
<div class="admonition dropdown toggle toggle-hidden"><p class="admonition-title">Answer</p>
<p>THE_FOLDED_ANSWER</p></div>
<p style="break-before: page">A second page.</p>
</section></section>
</article></body></html>"""
WIDE = " + ".join(f"w_{{{i}}} x_{{{i}}}" for i in range(40))


def _page(tmp_path, *, display=r"\frac{\partial L}{\partial W} = X^\top \delta", image=True, css=True):
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"No Chromium at {CHROMIUM}: `sudo apt-get install chromium`, or set $CHROMIUM.",
                    pytrace=False)
    assert MATHJAX.is_dir(), f"sphinx-mathjax-offline's MathJax is missing at {MATHJAX}"
    (tmp_path / "mathjax").symlink_to(MATHJAX)
    if css:
        for css_file in ("course.css", "print.css"):
            shutil.copy(REPO / "_static" / css_file, tmp_path / css_file)
    if image:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(9, 2))
        ax.plot([0, 1, 2], [1, 0, 1])
        fig.savefig(tmp_path / "figure.png", dpi=100)
        plt.close(fig)
    cells = "".join(f"<td>column_{i}_value</td>" for i in range(14))
    html = tmp_path / "index.html"
    summary = "\u250f" + "\u2501" * 90 + "\u2513"   # a box-drawn table as rich prints model.summary()
    html.write_text(PAGE.format(display=display, code=LONG_CODE, cells=cells, summary=summary),
                    encoding="utf-8")
    return html


PARTS = [("chapters/01_test/index", "Part I. THE_PART")]


def print_in_own_process(html, out, parts=PARTS):
    """book_pdf.print_pdf(html, out) run in a fresh Python: its result dict, or {"error": message}.

    Playwright's sync API refuses to start in a process that already runs an event loop, and the
    browser tests keep one open for the whole session in whichever test worker they share with us.
    """
    script = (
        "import json\n"
        "from tools import book_pdf\n"
        "try:\n"
        f"    result = book_pdf.print_pdf({str(html)!r}, {str(out)!r}, chromium={CHROMIUM!r}, timeout=60,\n"
        f"                            parts={[list(p) for p in parts]!r})\n"
        "except book_pdf.PrintError as error:\n"
        "    result = {'error': str(error)}\n"
        "print(json.dumps(result, default=str))\n")
    run = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, f"the printing process failed:\n{run.stderr[-3000:]}"
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_a_page_prints_with_maths_figure_wrapped_code_and_answers(tmp_path):
    out = tmp_path / "out" / "book.pdf"
    html = _page(tmp_path, display=WIDE)
    r = print_in_own_process(html, out)
    assert "error" not in r, r["error"] if "error" in r else r
    # the part's title page, the chapter's page, the lesson's two pages, the chapter's answers
    assert out.exists() and r["pdf_pages"] == 5, r
    assert r["arranged"] == {"parts": 1, "answers": 1, "missingParts": []}, r
    assert r["math"] == 2 and r["pdf_images"] >= 1, r
    assert {"mjx-container", "table", "pre"} <= set(r["scaled"]), \
        f"the wide formula, table and unwrappable output should be scaled to the column: {r['scaled']}"
    if shutil.which("pdftotext"):              # poppler-utils, where installed: read the text back
        text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True,
                              text=True, check=True).stdout
        assert "END_OF_LONG_LINE" in text and "THE_FOLDED_ANSWER" in text, text
        order = ["THE_PART", "Exercise 1: THE_QUESTION", "Answer 1.1 is at the end of the chapter",
                 "A second page", "Answers to the exercises of chapter 1",
                 "Answer 1.1 (Exercise 1: THE_QUESTION)", "THE_FOLDED_ANSWER"]
        assert all(s in text for s in order), [s for s in order if s not in text]
        assert [text.index(s) for s in order] == sorted(text.index(s) for s in order), \
            "part, question, pointer, the rest of the page, then the answers: " + text
        assert "\\frac" not in text and "$$" not in text, text


def test_a_part_whose_chapter_is_missing_gives_no_pdf(tmp_path):
    out = tmp_path / "out" / "book.pdf"
    r = print_in_own_process(_page(tmp_path), out, parts=[("chapters/99_gone/index", "Part IX")])
    assert "chapters/99_gone/index" in r.get("error", ""), r
    assert not out.exists()


@pytest.mark.parametrize("case, kwargs, problem", [
    ("an undefined macro", {"display": r"\frac{1}{\badmacro{x}}"}, "MathJax errors"),
    ("unbalanced braces", {"display": r"\frac{1}{x"}, "math left untypeset"),
    ("missing figure", {"image": False}, "images that did not load"),
    ("code without the course's CSS", {"css": False}, "cut at the right margin"),
])
def test_a_page_unfit_to_print_gives_no_pdf(tmp_path, case, kwargs, problem):
    out = tmp_path / "out" / "book.pdf"
    r = print_in_own_process(_page(tmp_path, **kwargs), out)
    assert problem in r.get("error", ""), f"{case}: expected a refusal naming {problem!r}; got {r}"
    assert not out.exists(), case


def test_pdf_facts_reject_a_truncated_file(tmp_path):
    bad = tmp_path / "cut.pdf"
    bad.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Page >> endobj\n")
    with pytest.raises(book_pdf.PrintError, match="not a complete PDF"):
        book_pdf.pdf_facts(bad)


def test_the_download_menu_offers_the_pdf_only_where_it_is(tmp_path):
    course_sphinx = book_pdf._course_sphinx()   # as `make pdf --publish` loads it
    css = tmp_path / "_static" / "book_pdf.css"
    assert course_sphinx.mark_book_pdf(tmp_path) is False
    assert "display: none" in css.read_text() and ".btn-download-book-pdf-button" in css.read_text()
    (tmp_path / "book.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    assert course_sphinx.mark_book_pdf(tmp_path) is True
    assert "display: none" not in css.read_text()
