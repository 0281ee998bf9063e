"""Bind a number on a page to the run that made it: `glue("name", value)` in a code cell,
{glue:text}`name:.3f` in the prose (MyST-NB). The book build then quotes the value this run computed.

    from course_tools.glue import glue
    glue("test_accuracy", accuracy)

Outside a book build (Colab, plain Jupyter) MyST-NB may be missing: then nothing is shown or stored,
so a page runs the same everywhere. It returns nothing, so a cell ending in `glue(...)` shows no output.
"""
try:
    from myst_nb import glue as _myst_glue
except ImportError:  # pragma: no cover - MyST-NB is only needed to build the book
    _myst_glue = None


def glue(name, value, display=False):
    """Store `value` under `name` for {glue:text} in the page's Markdown.

    A NumPy scalar is stored as the Python number it holds (its repr, `np.float64(0.5)`, could
    not be formatted by {glue:text}`name:.3f`).
    """
    if getattr(value, "shape", None) == () and hasattr(value, "item"):
        value = value.item()
    if _myst_glue is not None:
        _myst_glue(name, value, display=display)
