"""The checks of the assignments, one module per assignment (a01_neuron.py for 01_neuron).

Each module has TASKS (grade id -> check, see core.Tasks), PRELUDE (the code that stands for the
notebook's setup cell when it is graded: imports only) and `run`, what its test cells call:

    from grader.checks import a01_neuron as tests
    tests.run("softmax_test", globals())

`for_assignment("01_neuron")` gives the module, or None for an assignment graded the old way.
"""
import importlib


def for_assignment(assignment):
    """The checks module of an assignment id, or None if it has none."""
    try:
        return importlib.import_module(f"{__name__}.a{assignment}")
    except ModuleNotFoundError as error:
        if error.name != f"{__name__}.a{assignment}":
            raise
        return None
