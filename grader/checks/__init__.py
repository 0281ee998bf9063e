"""The checks of the assignments, one module per assignment (a01_neuron.py for 01_neuron).

Each module has TASKS (grade id -> check, see core.Tasks), perhaps a PRELUDE (what stands for the
notebook's setup cell when it is graded, imports only; core.PRELUDE if not) and `run`, what its
test cells call:

    from grader.checks import a01_neuron as tests
    tests.run("log_softmax_test", globals())

`for_assignment("01_neuron")` gives the module. Every assignment has one: a test cell is always
decided by these checks in the grader's process, never by code that runs in the student's kernel.
"""
import importlib


class NoChecks(LookupError):
    """An assignment without a checks module: it cannot be graded."""


def for_assignment(assignment):
    """The checks module of an assignment id (NoChecks if it has none)."""
    try:
        return importlib.import_module(f"{__name__}.a{assignment}")
    except ModuleNotFoundError as error:
        if error.name != f"{__name__}.a{assignment}":
            raise
        raise NoChecks(f"assignment {assignment!r} has no checks: grader/checks/a{assignment}.py is missing "
                       "(see README, instructors: how an assignment is checked)") from None
