"""Lessons show scratchnn's real source with `course_tools.display.source(...)`. Every object a lesson
shows must say, in its docstring, which page teaches it (so a reader of the library finds the page),
and no lesson defines its own copy of the helper."""
import ast
import inspect
import json

import pytest

import scratchnn
from course_tools import gradients, tied, trajectories
from grader.course import REPO
from scratchnn import (activations, callbacks, gradient_check, initializers, layers, losses, metrics, optimizers,
                       regularizers, trainer)
from scratchnn.models import Sequential

LESSONS = sorted(p for p in REPO.glob("chapters/*/*.ipynb") if not p.name.startswith("assignment_"))
NAMESPACE = dict(scratchnn=scratchnn, activations=activations, callbacks=callbacks, initializers=initializers,
                 layers=layers, regularizers=regularizers,
                 losses=losses, metrics=metrics, optimizers=optimizers, trainer=trainer,
                 Sequential=Sequential, numerical_gradient=gradient_check.numerical_gradient,
                 kernel_gradient_norms=gradients.kernel_gradient_norms, dead_fraction=gradients.dead_fraction,
                 pre_activations=gradients.pre_activations, path=trajectories.path,
                 keras_path=trajectories.keras_path, tied=tied)


def code_cells(path):
    return ["".join(cell["source"]) for cell in json.loads(path.read_text())["cells"] if cell["cell_type"] == "code"]


def shown_objects(path):
    """The argument expressions of every source(...) call in the lesson's code cells."""
    shown = []
    for code in code_cells(path):
        tree = ast.parse("\n".join(line for line in code.splitlines() if not line.lstrip().startswith(("%", "!"))))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "source":
                shown += [ast.unparse(arg) for arg in node.args]
    return shown


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_every_shown_object_names_the_page_that_teaches_it(path):
    missing = []
    for expression in shown_objects(path):
        if expression.startswith("keras."):
            continue                                   # Keras's own source, shown for comparison
        obj = eval(expression, dict(NAMESPACE))        # noqa: S307  (the lesson's own expressions)
        if path.stem not in (inspect.getdoc(obj) or ""):
            missing.append(expression)
    assert not missing, f"{path.name} shows {missing}, whose docstrings do not mention {path.stem}"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_lessons_use_the_shared_source_helper(path):
    assert not any("def source(" in code for code in code_cells(path)), \
        f"{path.name} defines its own source(); import it: from course_tools.display import source"


def test_a_long_listing_is_folded_under_a_summary_that_names_it():
    from course_tools.display import FOLD, source
    from scratchnn import layers
    long, short = source(layers.Dropout), source(layers.Dense.call)
    assert len(long.data.splitlines()) > FOLD >= len(short.data.splitlines())
    folded = long._repr_html_()
    assert folded.startswith('<details class="source-listing"><summary>The source of Dropout (')
    assert "Dropout</span>" in folded and folded.rstrip().endswith("</details>")
    assert "<details" not in short._repr_html_()
