"""Small Sphinx fixes for the course's website (loaded from _config.yml's local_extensions).

- sphinx-thebe's and sphinx-togglebutton's inline scripts are registered twice (the second copy
  with filename '' instead of None), so every page logged
  "Identifier 'THEBE_JS_URL' has already been declared": each page keeps one copy of every script.
- "book (PDF)" in every page's download menu, shown only where the site has the PDF: `make pdf`
  puts book.pdf next to the pages after they are built, so each page loads _static/book_pdf.css,
  which hides the entry while book.pdf is missing (written at the end of every build, and again
  by `make pdf` through mark_book_pdf).
- The sidebar's expand/collapse toggles (pydata-sphinx-theme's <summary> elements hold only a
  chevron) get a name that screen readers announce: "Pages of 1. The artificial neuron"
  (WCAG 4.1.2; axe-core's rule summary-name).
"""
from pathlib import Path

from bs4 import BeautifulSoup


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    seen, kept = set(), []
    for script in context.get("script_files", []):
        # the second copy of an inline script has filename "" where the first has None
        key = (str(getattr(script, "filename", script) or ""),
               tuple(sorted((k, str(v)) for k, v in getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            kept.append(script)
    if "script_files" in context:
        context["script_files"][:] = kept


BOOK_PDF = "book.pdf"


def _book_pdf_button(app, pagename, templatename, context, doctree):
    if app.builder.name != "html":          # the single page that is printed has no use for it
        return
    for button in context.get("header_buttons", []):
        if button.get("label") == "download-buttons":
            button["buttons"].append({
                "type": "link", "url": context["pathto"](BOOK_PDF, 1), "text": "book (PDF)",
                "tooltip": "Download the whole book as one PDF", "icon": "fas fa-book",
                "label": "download-book-pdf-button"})


def _named_toggles(app, pagename, templatename, context, doctree):
    generate = context.get("generate_toctree_html")
    if generate is None:
        return

    def named(kind, *args, **kwargs):
        html = generate(kind, *args, **kwargs)
        if kind != "sidebar":
            return html
        soup = BeautifulSoup(str(html), "html.parser")
        for summary in soup.select("summary"):
            if summary.get_text(strip=True) or summary.has_attr("aria-label"):
                continue
            link = summary.parent.find_previous_sibling("a")
            summary["aria-label"] = f"Pages of {link.get_text(' ', strip=True)}" if link else "Pages of this part"
        return str(soup)

    context["generate_toctree_html"] = named


BOOK_PDF_CSS = "book_pdf.css"
_HIDE_ENTRY = ("/* No book.pdf next to the pages (`make pdf` makes it): its download entry is hidden. */\n"
               ".btn-download-book-pdf-button { display: none !important; }\n")
_SHOW_ENTRY = "/* book.pdf is next to the pages: its download entry is shown. */\n"


def mark_book_pdf(html_dir):
    """Write html_dir/_static/book_pdf.css: hide the "book (PDF)" entry unless html_dir/book.pdf
    exists. Returns True when the entry is shown."""
    html_dir = Path(html_dir)
    shown = (html_dir / BOOK_PDF).is_file()
    (html_dir / "_static").mkdir(parents=True, exist_ok=True)
    (html_dir / "_static" / BOOK_PDF_CSS).write_text(_SHOW_ENTRY if shown else _HIDE_ENTRY)
    return shown


def _mark_after_build(app, exception):
    if exception is None and app.builder.format == "html":     # the pages link it (html, singlehtml)
        mark_book_pdf(app.outdir)


def setup(app):
    app.add_css_file(BOOK_PDF_CSS)
    app.connect("build-finished", _mark_after_build)
    app.connect("html-page-context", _dedupe_scripts, priority=999)
    # after sphinx-book-theme's add_header_buttons (priority 501) made the menu
    app.connect("html-page-context", _book_pdf_button, priority=600)
    # after pydata-sphinx-theme's add_toctree_functions (priority 500) put generate_toctree_html there
    app.connect("html-page-context", _named_toggles, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
