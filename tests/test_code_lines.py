"""Code lines short enough not to wrap on a desktop (issue 24): a static check, no execution.

LIMIT was measured in Chromium at a 1280 px viewport with scrollbars shown: the <pre> of a code
cell is 654 px wide on an assignment page (672 px on a lesson page), 622 px inside its 16 px
paddings; one character of the theme's 14 px monospace stack (SFMono-Regular, Menlo, Consolas,
Monaco, "Liberation Mono", ...) is 8.40 px wide with Liberation Mono or DejaVu Sans Mono, as with
SF Mono on a Mac: 622 / 8.40 = 74.0 characters (76.2 on a lesson page). Consolas on Windows is
narrower (7.7 px, 80 characters).

Checked: every code line of the lessons, of the student notebooks (chapters/*/assignment_*.ipynb)
and of the assignments' sources (solutions/*/assignment_*.ipynb) except the hidden tests, which
no student sees. There is no exception: even the install cell's address has a short line of its
own (tools/repository.py writes it).
"""
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LIMIT = 74


def notebooks(root=REPO):
    found = (sorted(root.glob("chapters/*/*.ipynb"))
             + sorted(root.glob("solutions/*/assignment_*.ipynb")))
    return [path for path in found if path.is_file()]


def long_lines(path, limit=LIMIT):
    """[(cell index, line number from 1, length, line)] for every code line over `limit`
    characters, nbgrader's hidden tests left out."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    out = []
    for index, cell in enumerate(cells):
        if cell["cell_type"] != "code":
            continue
        hidden = False
        for number, line in enumerate("".join(cell["source"]).split("\n"), start=1):
            if "### BEGIN HIDDEN TESTS" in line:
                hidden = True
            if len(line) > limit and not hidden:
                out.append((index, number, len(line), line))
            if "### END HIDDEN TESTS" in line:
                hidden = False
    return out


def report(path, found, root=REPO):
    name = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
    return "\n".join(f"{name}, cell {index}, line {number}: {length} characters "
                     f"(limit {LIMIT}): {line}" for index, number, length, line in found)


def test_the_notebooks_are_found():
    names = {path.name for path in notebooks()}
    assert "backprop.ipynb" in names and "assignment_01.ipynb" in names
    assert len(notebooks()) >= 36


@pytest.mark.parametrize("path", notebooks(), ids=lambda p: p.relative_to(REPO).as_posix())
def test_code_lines_fit_the_desktop_column(path):
    found = long_lines(path)
    assert not found, f"{len(found)} code line(s) would wrap at 1280 px:\n" + report(path, found)


def _notebook(tmp_path, *sources):
    cells = [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
              "source": source.splitlines(keepends=True)} for source in sources]
    cells.insert(0, {"cell_type": "markdown", "metadata": {}, "source": ["x" * 200]})
    path = tmp_path / "lesson.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                                "nbformat_minor": 5}), encoding="utf-8")
    return path


def test_a_long_line_is_reported_with_its_notebook_cell_and_line(tmp_path):
    long = "x = " + "1 + " * 20 + "1"
    path = _notebook(tmp_path, "import numpy as np\n", f"y = 2\n{long}\nz = 3")
    found = long_lines(path)
    assert found == [(2, 2, len(long), long)]      # cell 0 is the markdown cell
    message = report(path, found)
    assert "lesson.ipynb, cell 2, line 2" in message and long in message


def test_hidden_tests_are_the_only_exception(tmp_path):
    hidden = "### BEGIN HIDDEN TESTS\nassert " + "1 + " * 20 + "1\n### END HIDDEN TESTS"
    install = 'COURSE = "nn-from-scratch[course] @ git+https://github.com/nn-from-scratch/course"'
    path = _notebook(tmp_path, hidden, "# " + "y" * (LIMIT - 2), install)
    assert long_lines(path) == [(3, 1, len(install), install)]
