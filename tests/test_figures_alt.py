"""Every lesson figure described (issue 24): a static check, no execution.

MyST-NB 1.4 gives a code cell's image outputs the options of the cell metadata
`{"mystnb": {"image": {...}}}` (`render_image_options`, cell key "image", read by
`NbParserConfig.get_cell_level_config`; `render_image` passes its "alt" to the <img>). Without it
Sphinx writes the image's file path as its alt text.

A lesson code cell draws a figure when its top-level code (function bodies left out) calls
- anything on `plt` or `plots` (`plt.subplots`, `plots.decision_regions`, ...),
- a drawing function of `course_tools` (one that takes an `ax` or calls `plt`, found by reading
  `course_tools/*.py`), or `keras.utils.plot_model`,
- a function defined on the same page that draws (a local `plot_curves`, `overlay`, ...),
- `.show()`, `display(fig)` or `display(Image(...))`.
Such a cell must have an alt text that is not empty, not path-like (no '/', not ending in an
image extension), and not the same as another figure's alt on the same page; and it must put
only one figure on the page, since every image output of a cell gets the cell's one alt text.
The figures are counted from the code (one per plt.show() or call of a function that shows, one
for a figure still open at the end, one more for a returned figure not silenced with ';', several
for a loop that shows): on the executed lessons the count matched every cell's image outputs.
Markdown images (`![alt](path)`, `{figure}`, `{image}` and `<img>`) need an alt too.
"""
import ast
import functools
import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PLOT_MODULES = {"plt", "plots"}
ALWAYS_DRAWING = {"plot_model"}
IMAGE_END = re.compile(r"\.(png|svg|jpe?g|gif|pdf)\s*$", re.IGNORECASE)


def lessons(root=REPO):
    return [path for path in sorted(root.glob("chapters/*/*.ipynb"))
            if not path.name.startswith("assignment_")]


def _parse(source):
    """Python source of a cell, IPython magics and shell lines blanked out."""
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.split("\n")]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return None


def _called_name(call):
    func = call.func
    if isinstance(func, ast.Name):
        return func.id, None
    if isinstance(func, ast.Attribute):
        owner = func.value.id if isinstance(func.value, ast.Name) else None
        return func.attr, owner
    return None, None


def _calls_drawing(nodes, drawing):
    """True when one of `nodes` (statements or expressions) calls a drawing function, outside
    the bodies of the functions and classes it defines."""
    stack = list(nodes)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(node, ast.Call):
            name, owner = _called_name(node)
            if owner in PLOT_MODULES or name in drawing or name in ALWAYS_DRAWING:
                return True
            if name == "show" and isinstance(node.func, ast.Attribute):   # fig.show()
                return True
            if name == "display" and node.args:
                first = node.args[0]
                if isinstance(first, ast.Name) and "fig" in first.id.lower():
                    return True
                if isinstance(first, ast.Call) and _called_name(first)[0] in {"Image", "SVG"}:
                    return True
        stack.extend(ast.iter_child_nodes(node))
    return False


def _drawing_functions(trees, known):
    """Names of the functions defined in `trees` that draw (directly, or through another one),
    added to `known`."""
    drawing = set(known)
    functions = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                args = node.args.args + node.args.kwonlyargs
                takes_ax = any(arg.arg in {"ax", "axes", "fig"} for arg in args)
                functions[node.name] = (node, takes_ax)
    changed = True
    while changed:
        changed = False
        for name, (node, takes_ax) in functions.items():
            if name in drawing:
                continue
            if takes_ax or _calls_drawing(node.body, drawing):
                drawing.add(name)
                changed = True
    return drawing


@functools.lru_cache(maxsize=None)
def course_tools_returning(root=REPO):
    """The course_tools functions that return their figure (show_digits, ...)."""
    return _figure_returning([ast.parse(path.read_text(encoding="utf-8"))
                              for path in sorted((root / "course_tools").glob("*.py"))])


@functools.lru_cache(maxsize=None)
def course_tools_drawing(root=REPO):
    trees = [ast.parse(path.read_text(encoding="utf-8"))
             for path in sorted((root / "course_tools").glob("*.py"))]
    return _drawing_functions(trees, set())


def _is_show(call, showing):
    name, owner = _called_name(call)
    return (name == "show" and owner in PLOT_MODULES) or name in showing


def _showing_functions(trees):
    """Names of the functions defined in `trees` that end in plt.show() (directly or through
    another one): each call of one puts a figure on the page."""
    functions = {node.name: node for tree in trees for node in ast.walk(tree)
                 if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    showing, changed = set(), True
    while changed:
        changed = False
        for name, node in functions.items():
            if name not in showing and any(
                    isinstance(sub, ast.Call) and _is_show(sub, showing)
                    for sub in ast.walk(node) if sub is not node):
                showing.add(name)
                changed = True
    return showing


def _figure_returning(trees):
    """Names of the functions defined in `trees` that return a figure (`return fig`)."""
    return {node.name for tree in trees for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and any(isinstance(sub, ast.Return) and isinstance(sub.value, ast.Name)
                    and "fig" in sub.value.id.lower() for sub in ast.walk(node))}


def _top_level(node):
    """The nodes under `node`, function and class bodies left out."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(child for child in ast.iter_child_nodes(current)
                     if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef,
                                               ast.ClassDef, ast.Lambda)))


def figures_drawn(tree, source, drawing, showing, returning=frozenset()):
    """How many figures a cell puts on the page, as far as the code tells: one per plt.show()
    (or call of a function that shows), one for a figure still open at the end of the cell, one
    more when its last line is a drawing call whose value is not silenced by ';' (Jupyter shows
    a returned figure a second time), and "several" (2) when a loop shows figures."""
    count, open_figure = 0, False
    for statement in tree.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        calls = [node for node in _top_level(statement) if isinstance(node, ast.Call)]
        shows = [call for call in calls if _is_show(call, showing)]
        loops = [node for node in _top_level(statement) if isinstance(node, (ast.For, ast.While))]
        if any(isinstance(sub, ast.Call) and _is_show(sub, showing)
               for loop in loops for sub in _top_level(loop)):
            count += 2
            open_figure = False
        elif shows:
            count += len(shows)
            open_figure = False
        elif _calls_drawing([statement], drawing):
            open_figure = True
    count += open_figure
    last = tree.body[-1] if tree.body else None
    if (isinstance(last, ast.Expr) and isinstance(last.value, ast.Call)
            and _called_name(last.value)[1] not in PLOT_MODULES
            and _called_name(last.value)[0] in returning
            and not source.rstrip().endswith(";")):
        count += 1
    return count


def _cell_trees(cells):
    return {index: _parse("".join(cell["source"])) for index, cell in enumerate(cells)
            if cell["cell_type"] == "code"}


def figure_cells(cells, library_drawing):
    """[(index, cell)] of the code cells that draw a figure."""
    trees = _cell_trees(cells)
    drawing = _drawing_functions([tree for tree in trees.values() if tree], library_drawing)
    return [(index, cells[index]) for index, tree in trees.items()
            if tree is not None and _calls_drawing(tree.body, drawing)]


def several_figures(cells, library_drawing):
    """[(index, count)] of the code cells that put more than one figure on the page: they would
    all get the cell's one alt text."""
    trees = _cell_trees(cells)
    found = [tree for tree in trees.values() if tree]
    drawing = _drawing_functions(found, library_drawing)
    showing = _showing_functions(found)
    returning = _figure_returning(found) | course_tools_returning()
    out = []
    for index, tree in trees.items():
        if tree is not None and _calls_drawing(tree.body, drawing):
            count = figures_drawn(tree, "".join(cells[index]["source"]), drawing, showing,
                                  returning)
            if count > 1:
                out.append((index, count))
    return out


def alt_of(cell):
    image = cell.get("metadata", {}).get("mystnb", {}).get("image", {})
    return image.get("alt") if isinstance(image, dict) else None


def bad_alt(alt):
    """Why `alt` does not describe a figure, or None."""
    if not isinstance(alt, str) or not alt.strip():
        return "no alt text"
    if "/" in alt or IMAGE_END.search(alt):
        return f"alt text looks like a path: {alt!r}"
    return None


MARKDOWN_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)]*)\)")
DIRECTIVE = re.compile(r"(?:```|:::)\{(figure|image)\}[^\n]*\n((?:[ \t]*:[^\n]*\n)*)")
HTML_IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)


def markdown_image_problems(text):
    out = []
    for match in MARKDOWN_IMAGE.finditer(text):
        reason = bad_alt(match.group(1))
        if reason:
            out.append(f"markdown image {match.group(2)}: {reason}")
    for match in DIRECTIVE.finditer(text):
        options = dict(re.findall(r":(\w+):[ \t]*([^\n]*)", match.group(2)))
        reason = bad_alt(options.get("alt"))
        if reason:
            out.append(f"{{{match.group(1)}}} directive: {reason}")
    for match in HTML_IMG.finditer(text):
        alt = re.search(r'\balt\s*=\s*"([^"]*)"', match.group(0))
        reason = bad_alt(alt.group(1) if alt else None)
        if reason:
            out.append(f"<img>: {reason}")
    return out


def problems(path, library_drawing=None, root=REPO):
    if library_drawing is None:
        library_drawing = course_tools_drawing(root)
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    out, seen = [], {}
    for index, cell in figure_cells(cells, library_drawing):
        where = f"cell {index} (id {cell.get('id')})"
        alt = alt_of(cell)
        reason = bad_alt(alt)
        if reason:
            out.append(f"{where}: draws a figure, {reason} (set the cell's metadata "
                       "mystnb.image.alt)")
            continue
        key = " ".join(alt.split()).lower()
        if key in seen:
            out.append(f"{where}: the same alt text as cell {seen[key]}: {alt!r}")
        seen.setdefault(key, index)
    for index, count in several_figures(cells, library_drawing):
        out.append(f"cell {index} (id {cells[index].get('id')}): draws {count} or more figures, "
                   "which would share one alt text: one figure per cell (or subplots)")
    for index, cell in enumerate(cells):
        if cell["cell_type"] == "markdown":
            out += [f"cell {index} (id {cell.get('id')}): {problem}"
                    for problem in markdown_image_problems("".join(cell["source"]))]
    return out


def test_the_lessons_and_their_figures_are_found():
    found = lessons()
    assert len(found) >= 20, [path.name for path in found]
    drawing = course_tools_drawing()
    assert {"show_digits", "decision_regions", "layer_stack"} <= drawing, sorted(drawing)
    figures = sum(len(figure_cells(json.loads(path.read_text())["cells"], drawing))
                  for path in found)
    assert figures >= 80, f"only {figures} figure cells found: the heuristic lost them"


@pytest.mark.parametrize("path", lessons(), ids=lambda path: path.name)
def test_every_figure_has_its_own_alt_text(path):
    found = problems(path)
    assert not found, f"{path.relative_to(REPO)}:\n" + "\n".join(found)


def _notebook(tmp_path, cells):
    path = tmp_path / "lesson.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                                "nbformat_minor": 5}))
    return path


def _code(source, alt=None):
    metadata = {"mystnb": {"image": {"alt": alt}}} if alt is not None else {}
    return {"cell_type": "code", "id": "x", "source": source, "metadata": metadata,
            "outputs": [], "execution_count": None}


def test_a_figure_without_alt_a_path_or_a_repeat_is_reported(tmp_path):
    drawing = course_tools_drawing()
    cells = [
        _code("def curves(h):\n    plt.plot(h)\n"),              # defines, draws nothing
        _code("fig, ax = plt.subplots()\nax.plot([1, 2])"),       # no alt
        _code("curves([1, 2])", alt="_images/abc.png"),           # path-like
        _code("plots.decision_regions(f, X, y)", alt="Two classes."),
        _code("show_digits([x]);", alt="two  classes."),           # repeat
        _code("print(1)"),                                         # no figure
        {"cell_type": "markdown", "id": "m", "metadata": {},
         "source": "![](pic.png) and ```{figure} a.png\n:name: f\n```"},
    ]
    found = problems(_notebook(tmp_path, cells), drawing)
    assert [line.split(":")[0] for line in found] == [
        "cell 1 (id x)", "cell 2 (id x)", "cell 4 (id x)", "cell 6 (id m)", "cell 6 (id m)"], found
    assert "looks like a path" in found[1] and "same alt text as cell 3" in found[2]


def test_a_cell_that_draws_several_figures_is_reported(tmp_path):
    drawing = course_tools_drawing()
    cells = [
        # one figure per pass of a loop
        _code("for k in (1, 2):\n    plt.plot([k])\n    plt.show()", alt="A."),
        # show_digits returns its figure: as the cell's value it is shown a second time
        _code("show_digits([x])", alt="B."),
        # a figure shown, then another left open at the end of the cell
        _code("plt.plot([1])\nplt.show()\nshow_digits([x]);", alt="C."),
        # a function that shows, called twice
        _code("def pic(k):\n    plt.plot([k])\n    plt.show()\n\n\npic(1)\npic(2)", alt="D."),
        # one figure each: subplots in one figure, a silenced value, one call of `pic`
        _code("fig, axes = plt.subplots(1, 2)\nfor ax in axes:\n    ax.plot([1])\nplt.show()",
              alt="E."),
        _code("show_digits([x]);", alt="F."),
        _code("pic(3)", alt="G."),
    ]
    found = problems(_notebook(tmp_path, cells), drawing)
    assert [line.split(" (")[0] for line in found] == [
        "cell 0", "cell 1", "cell 2", "cell 3"], found
    assert all("which would share one alt text" in line for line in found)
