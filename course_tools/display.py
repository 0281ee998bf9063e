"""Show the real, installed source of scratchnn on a page: what the reader sees is what the tests test.

    from course_tools.display import source
    source(layers.Dense.call)                      # one function, class or method
    source(Sequential.backward, layers.Dense.backward)

A listing longer than FOLD lines is folded (an HTML <details> the reader opens with one click, as
on the website, in Jupyter and in Colab), so that a long class does not bury the page's argument;
`make pdf` prints it open.
"""
import html
import inspect

from IPython.display import Code

FOLD = 30


class FoldedCode(Code):
    """A Code listing shown folded under a summary line that names what it holds."""

    def __init__(self, data, names, **kwargs):
        super().__init__(data=data, **kwargs)
        self.names = names

    def _repr_html_(self):
        lines = len(self.data.splitlines())
        summary = f"The source of {html.escape(', '.join(self.names))} ({lines} lines): click to show"
        return (f'<details class="source-listing"><summary>{summary}</summary>\n'
                f"{super()._repr_html_()}\n</details>")


def source(*objects):
    """The source code of functions, methods or classes, as installed, highlighted as Python;
    folded when it is longer than FOLD lines."""
    if not objects:
        raise ValueError("source() needs at least one function, method or class to show.")
    text = "\n\n".join(inspect.getsource(obj) for obj in objects)
    if len(text.splitlines()) <= FOLD:
        return Code(text, language="python")
    names = [getattr(obj, "__qualname__", getattr(obj, "__name__", repr(obj))) for obj in objects]
    return FoldedCode(text, names, language="python")
