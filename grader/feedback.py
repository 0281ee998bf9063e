"""Feedback without the answers, and inert: a preprocessor for `nbgrader generate_feedback` that
removes the code of hidden tests and the tracebacks that would quote it, keeps each test's
verdict and message, and leaves nothing of the student's that a browser would run (registered in
nbgrader_config.py); and `make_inert`, which puts a Content-Security-Policy into every feedback
page written (python -m grader feedback).

What the student's notebook made is shown as text: outputs keep only plain text and PNG/JPEG
images (HTML, JavaScript, SVG, widgets and every other kind are dropped, their plain-text form
kept); markdown is rendered, then cleaned of every tag and attribute that could run or load
something (`safe_markdown`); raw cells are shown as markdown. nbconvert escapes streams,
tracebacks and code itself. The maths is typeset by a local MathJax 3 (the one the site ships,
from the sphinx-mathjax-offline package): copied once into feedback/.mathjax/, hard-linked into a
mathjax/ folder beside each page and loaded from there, so feedback shows maths offline. The policy
then allows scripts from the page's own place only (those two files: no inline script, no other
host), images only from inside the page, and no connection anywhere: even something this filter
missed could not run or send anything out.
"""
import os
import re
import shutil
from pathlib import Path

from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import List

from .course import CannotRun

HIDDEN = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[ \t]*\n?", re.S | re.M)
NOTICE = "# Hidden tests ran here when your notebook was graded; their messages are below.\n"
SHOWN = ("text/plain", "image/png", "image/jpeg")     # output kinds a page shows without running anything
BASE64 = re.compile(r"[A-Za-z0-9+/=\s]*")
# nbgrader's feedback template loads MathJax 2 from a CDN (this block); the pages load a local copy instead
CDN_MATHJAX = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.S)
LOCAL = "mathjax"                           # the folder beside each page
MATHJAX_FILES = ("tex-chtml-full.js", "output/chtml/fonts/woff-v2")   # MathJax 3: TeX in, HTML out, its fonts
CONFIG = ("window.MathJax = {tex: {inlineMath: [['$', '$'], ['\\\\(', '\\\\)']], processEscapes: true, "
          "tags: 'ams'}, options: {enableMenu: false}};\n")
LOADER = (f'<script src="{LOCAL}/config.js"></script>\n'
          f'<script src="{LOCAL}/{MATHJAX_FILES[0]}"></script>')
# scripts, styles and fonts from the page's own place only (MathJax and its configuration: no inline
# script, no other host); MathJax's styles are inline
POLICY = ("default-src 'none'; script-src 'self'; style-src 'unsafe-inline' 'self'; font-src 'self' data:; "
          "img-src data:; connect-src 'none'; form-action 'none'; base-uri 'none'; object-src 'none'; frame-src 'none'")
META = f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">'


class HideHiddenTests(NbGraderPreprocessor):
    """Replace hidden test code with a notice; reduce the errors of those cells to 'Name: message';
    make every output and every markdown cell the student wrote inert."""

    # nbconvert's HTML exporter configures this for every NbConvertBase; nbgrader's preprocessors
    # declare it without config=True, which made nbgrader warn "not recognized" on every run
    display_data_priority = List(list(SHOWN), help="unused: outputs are filtered by inert_output").tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and HIDDEN.search(cell.source):
            cell.source = HIDDEN.sub(NOTICE, cell.source)
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
        if cell.cell_type == "code":
            cell.outputs = [inert_output(output) for output in cell.get("outputs", [])]
        elif cell.cell_type == "raw":         # nbconvert would copy its text into the page as it is
            cell.cell_type, cell.metadata = "markdown", {}
        cell.get("metadata", {}).pop("attachments", None)
        cell.pop("attachments", None)
        return cell, resources


MARKDOWN_TAGS = {"a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em", "h1", "h2",
                 "h3", "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre", "span", "strong", "sub", "sup",
                 "table", "tbody", "td", "th", "thead", "tr", "ul"}
MARKDOWN_ATTRIBUTES = {"*": ["class", "id", "title"], "a": ["href"], "img": ["src", "alt"], "td": ["align"],
                       "th": ["align"]}


def safe_markdown(source):
    """Markdown as HTML with only harmless tags and attributes (no script, no event handler, no
    style, no frame, no form, no meta): the `markdown2html` filter of the feedback pages (given to
    nbgrader by `python -m grader feedback`). Math and code are escaped by the renderer itself."""
    import bleach
    from nbconvert.filters.markdown_mistune import markdown2html_mistune
    return bleach.clean(markdown2html_mistune(source), tags=MARKDOWN_TAGS, attributes=MARKDOWN_ATTRIBUTES,
                        protocols=["http", "https", "mailto", "data"], strip=False, strip_comments=True)


def inert_output(output):
    """`output` with only what a page shows as text or as a bitmap."""
    if output.get("output_type") in ("display_data", "execute_result"):
        data = output.get("data", {})
        kept = {kind: value for kind, value in data.items() if kind in SHOWN and isinstance(value, (str, list))}
        for kind in ("image/png", "image/jpeg"):
            if kind in kept and not BASE64.fullmatch("".join(kept[kind])):
                kept.pop(kind)
        if not kept:
            kept["text/plain"] = f"[output of kind {', '.join(sorted(data)) or 'none'} not shown in feedback]"
        output["data"], output["metadata"] = kept, {}
    return output


def make_inert(path):
    """Put the Content-Security-Policy at the top of the feedback page `path` (an HTML file), and
    load MathJax from the page's mathjax/ folder (see local_mathjax) instead of a CDN."""
    with open(path, encoding="utf-8") as file:
        page = file.read()
    if META in page:
        return
    head = re.search(r"<head[^>]*>", page)
    if head is None:
        raise ValueError(f"{path}: no <head> to put the Content-Security-Policy in")
    page = page[:head.end()] + "\n" + META + page[head.end():]
    page = readable(page)
    page, found = CDN_MATHJAX.subn(lambda match: LOADER, page, count=1)
    if not found:
        raise ValueError(f"{path}: no MathJax loader of nbgrader's feedback template found (between "
                         "'<!-- Load mathjax -->' and '<!-- End of mathjax configuration -->'): "
                         "has the template changed?")
    with open(path, "w", encoding="utf-8") as file:
        file.write(page)


# nbgrader's template lists every test cell as "Test cell" and prompts it "In [ ]:" (the grader decides
# test cells, it does not run them), and its <pre> blocks do not wrap: a message cut at 1280 px
CONTENTS_ENTRY = re.compile(r'<li><a href="#([A-Za-z0-9_.-]+)">Test cell</a>')
TEST_PROMPT = re.compile("<div class=\"prompt input_prompt\">In(?:&nbsp;| |\u00a0)\\[(?:&nbsp;| |\u00a0)\\]:</div>"
                         r'(?=<div class="panel panel-primary nbgrader_cell">)')
# (and on a phone a wide equation or table scrolls inside the page instead of widening it)
WRAP = ("<style>div.output_subarea pre, div.output_area pre {white-space: pre-wrap; overflow-wrap: anywhere}\n"
        "mjx-container[display=\"true\"], .text_cell_render table "
        "{display: block; max-width: 100%; overflow-x: auto; overflow-y: hidden}</style>\n")


def contents_label(grade_id):
    """What the contents list calls a test cell: softmax_test -> 'softmax: visible tests'."""
    task, _, kind = grade_id.rpartition("_")
    return {"test": f"{task}: visible tests", "hidden": f"{task}: hidden tests"}.get(kind, grade_id)


def readable(page):
    """The feedback page with task names in its contents list, no empty prompt on test cells, and
    messages that wrap instead of running off the screen."""
    page = CONTENTS_ENTRY.sub(lambda m: f'<li><a href="#{m[1]}">{contents_label(m[1])}</a>', page)
    page = TEST_PROMPT.sub('<div class="prompt input_prompt"></div>', page)
    return page.replace("</head>", WRAP + "</head>", 1)


def mathjax_source():
    """The folder of MathJax 3 in the installed sphinx-mathjax-offline (the grading extra has it)."""
    from importlib import metadata
    try:
        dist = metadata.distribution("sphinx-mathjax-offline")
    except metadata.PackageNotFoundError:
        raise CannotRun("Feedback needs MathJax from the package sphinx-mathjax-offline: "
                         "pip install 'sphinx-mathjax-offline==0.0.2' (or the course's [grading] extra).") from None
    folder = Path(dist.locate_file("sphinx-mathjax-offline/static/mathjax"))
    missing = [name for name in MATHJAX_FILES if not (folder / name).exists()]
    if missing:
        raise CannotRun(f"sphinx-mathjax-offline {dist.version} has no {', '.join(missing)} in {folder}: "
                         "install version 0.0.2 (MathJax 3)")
    return folder


def local_mathjax(feedback, pages):
    """Copy MathJax once into feedback/.mathjax/ (with its configuration), then hard-link that copy
    into a mathjax/ folder beside every page in `pages` (copied where links are impossible), so
    that each student's feedback folder holds what its pages load."""
    feedback, shared = Path(feedback), Path(feedback) / ".mathjax"
    if not (shared / ".complete").exists():
        source, building = mathjax_source(), Path(f"{shared}.{os.getpid()}")
        shutil.rmtree(building, ignore_errors=True)
        for name in MATHJAX_FILES:
            copy = shutil.copytree if (source / name).is_dir() else shutil.copyfile
            (building / name).parent.mkdir(parents=True, exist_ok=True)
            copy(source / name, building / name)
        (building / "config.js").write_text(CONFIG)
        (building / ".complete").touch()
        shutil.rmtree(shared, ignore_errors=True)
        building.rename(shared)
    for folder in sorted({Path(page).parent / LOCAL for page in pages}):
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(shared, folder, copy_function=_link_or_copy, ignore=shutil.ignore_patterns(".complete"))


def _link_or_copy(source, target):
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def generate(root, assignment, out):
    """`python -m grader feedback <assignment>`: nbgrader's generate_feedback for every graded
    student, made inert and given a local MathJax; then one line saying what was written, and who
    got no feedback and why. Returns 0 when every submission has its feedback, else 1."""
    from .course import nbgrader, plural
    from .export import read_outcomes, submitted_students
    root = Path(root)
    graded = sorted(path.parent.name for path in (root / "autograded").glob(f"*/{assignment}"))
    written = []
    if graded:   # markdown (the student's answers, and any cell they edited) is cleaned of anything active
        nbgrader("generate_feedback", assignment, "--force", "--log-level=ERROR",
                 "--HTMLExporter.filters=markdown2html=grader.feedback.safe_markdown", root=root, quiet=True)
        written = sorted((root / "feedback").glob(f"*/{assignment}/*.html"))
        for page in written:
            make_inert(page)       # a Content-Security-Policy: no inline script, no connection; MathJax local
        local_mathjax(root / "feedback", written)
    served = {page.parent.parent.name for page in written}
    outcomes = read_outcomes(root, assignment)
    without = {student: _why_no_feedback(outcomes.get(student), assignment)
               for student in sorted(submitted_students(root, assignment) - served)}
    print(f"{assignment}: feedback for {plural(len(served), 'student')} "
          f"in feedback/<student>/{assignment}/" + (f"; none for {len(without)}:" if without else ""), file=out)
    for student, why in without.items():
        print(f"  {student}: {why}", file=out)
    return 1 if without else 0


def _why_no_feedback(outcome, assignment):
    """Why a student who submitted has no feedback page, from their last autograde outcome."""
    if outcome is None:
        return f"not autograded yet (make autograde ASSIGNMENT={assignment})"
    if not outcome.get("graded"):
        return "not graded: " + ("; ".join(outcome.get("problems", [])) or "no reason recorded")
    return "graded, but no feedback page was written (see nbgrader's messages above)"
