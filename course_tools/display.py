"""Show the real, installed source of scratchnn on a page: what the reader sees is what the tests test.

    from course_tools.display import source
    source(layers.Dense.call)                      # one function, class or method
    source(Sequential.backward, layers.Dense.backward)
"""
import inspect

from IPython.display import Code


def source(*objects):
    """The source code of functions, methods or classes, as installed, highlighted as Python."""
    if not objects:
        raise ValueError("source() needs at least one function, method or class to show.")
    return Code("\n\n".join(inspect.getsource(obj) for obj in objects), language="python")
