"""Small Sphinx fixes for the course's website (loaded from _config.yml's local_extensions).

- sphinx-thebe's and sphinx-togglebutton's inline scripts are registered twice (the second copy
  with filename '' instead of None), so every page logged
  "Identifier 'THEBE_JS_URL' has already been declared": each page keeps one copy of every script.
"""


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


def setup(app):
    app.connect("html-page-context", _dedupe_scripts, priority=999)
    # after sphinx-book-theme's add_header_buttons (priority 501) made the menu
    app.connect("html-page-context", _book_pdf_button, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
