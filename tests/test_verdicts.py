"""The pieces of grading that decide verdicts outside the kernel: plain data both ways, hidden
inputs drawn per student, the course secret, and the local runner of the test cells."""
import json

import numpy as np
import pytest

from grader import verdicts
from grader.course import CannotRun
from grader.checks import a01_neuron, a07_regularization, core, for_assignment, plain


def round_trip(value):
    return plain.decode(json.loads(json.dumps(plain.encode(value))))


@pytest.mark.parametrize("dtype", ["float64", "float32", "int64", "int8", "uint16", "bool"])
def test_arrays_cross_exactly(dtype):
    a = (np.random.default_rng(0).normal(size=(3, 4)) * 100).astype(dtype)
    b = round_trip(a)
    assert b.dtype == a.dtype and b.shape == a.shape and np.array_equal(a, b)


def test_floats_cross_bit_for_bit_with_nan_and_infinity():
    a = np.array([0.1, -0.0, np.nan, np.inf, -np.inf, 5e-324, 1.7976931348623157e308])
    assert round_trip(a).tobytes() == a.tobytes()
    assert round_trip(float("nan")) != round_trip(float("nan"))   # still a NaN


def test_containers_and_scalars_keep_their_kind():
    value = {"w": (np.zeros(2), 1.5), "list": [1, "two", None, True], "scalar": np.float32(0.5), "n": np.int64(3)}
    back = round_trip(value)
    assert isinstance(back["w"], tuple) and isinstance(back["list"], list)
    assert back["list"] == [1, "two", None, True] and back["scalar"] == 0.5
    assert back["n"] == 3 and type(back["n"]) is int


@pytest.mark.parametrize("value", [lambda: 0, object(), np.zeros(2).view(type("Sub", (np.ndarray,), {})),
                                   type("F", (float,), {})(1.0), np.array([object()]), {1: "not a str key"}])
def test_what_is_not_plain_data_arrives_as_unsupported(value):
    assert isinstance(round_trip(value), plain.Unsupported)


@pytest.mark.parametrize("data", [{"__array__": "", "dtype": "object", "shape": [0]}, {"__pickle__": "x"},
                                  {"unknown": 1}, {"__array__": "AAAA", "dtype": "O", "shape": [1]}])
def test_decoding_refuses_anything_else(data):
    with pytest.raises(ValueError):
        plain.decode(data)


def test_hidden_inputs_differ_per_student_cell_and_secret():
    draw = lambda *key: verdicts.hidden_rng(*key).normal(size=4)   # noqa: E731
    base = draw("s" * 20, "01_neuron", "ada", "softmax_hidden")
    assert np.array_equal(base, draw("s" * 20, "01_neuron", "ada", "softmax_hidden"))   # reproducible
    for other in [("s" * 20, "01_neuron", "bob", "softmax_hidden"), ("s" * 20, "01_neuron", "ada", "gradient_hidden"),
                  ("t" * 20, "01_neuron", "ada", "softmax_hidden"), ("s" * 20, "02_mlp", "ada", "softmax_hidden")]:
        assert not np.array_equal(base, draw(*other))


def test_hidden_inputs_depend_on_the_submitted_answers():
    import nbformat
    draw = lambda answers: verdicts.hidden_rng("s" * 20, "01_neuron", "ada", "softmax_hidden", answers).normal(size=4)  # noqa: E731

    def notebook(answer, extra=""):
        cells = [nbformat.v4.new_code_cell(answer), nbformat.v4.new_markdown_cell(extra),
                 nbformat.v4.new_code_cell("1")]
        cells[0].metadata["nbgrader"] = {"solution": True, "grade_id": "softmax_code"}
        return nbformat.v4.new_notebook(cells=cells)
    first = verdicts.answers_digest(notebook("def softmax(Z):\n    return Z\n"))
    assert first == verdicts.answers_digest(notebook("def softmax(Z):\n    return Z\n", "other prose"))   # a regrade
    second = verdicts.answers_digest(notebook("def softmax(Z):\n    return Z + 0\n"))
    assert first != second and not np.array_equal(draw(first), draw(second))   # a resubmission draws anew
    assert np.array_equal(draw(first), draw(first))
    assert verdicts.answers_digest(notebook("x = '\ud800'\n"))             # lone surrogates are digested too


def test_a_reply_that_is_not_plain_data_is_a_wrong_answer():
    class Patched(core.Student):
        def __init__(self, reply):
            self.reply = reply

        def _reply(self, name, payload, harness=""):
            return self.reply
    for reply in [{"result": {}, "args": {"__tuple__": []}}, {"result": 1.0, "args": {"unknown": 1}},
                  {"result": {"__array__": "!!", "dtype": "float64", "shape": [3]}, "args": {"__tuple__": []}},
                  {"result": 1.0, "args": [1, 2, 3]}]:
        with pytest.raises(core.Failed):
            Patched(reply).call("softmax")
    for reply in [{"error": "no"}, {"error": ["a", "b", "c"]}, {"missing": 3}, {"result": 1}, [], "x"]:
        assert not verdicts.well_formed(reply)


def test_a_numpy_scalar_subclass_is_not_plain_data():
    F = type("F", (np.float64,), {"item": lambda self: {}})
    assert isinstance(round_trip(F(1.0)), plain.Unsupported)
    assert round_trip(np.float32(0.5)) == 0.5 and round_trip(np.bool_(True)) is True


def test_grading_refuses_to_start_without_a_secret(monkeypatch):
    monkeypatch.delenv(verdicts.SECRET_VARIABLE, raising=False)
    with pytest.raises(CannotRun, match="Set GRADING_SECRET"):
        verdicts.course_secret()
    monkeypatch.setenv(verdicts.SECRET_VARIABLE, "short")
    with pytest.raises(CannotRun, match="16 characters"):
        verdicts.course_secret()


def test_every_graded_cell_of_a_converted_assignment_has_a_check():
    import nbformat
    from grader.course import REPO, assignments
    for assignment in assignments():
        checks = for_assignment(assignment)
        if checks is None:
            continue
        for path in (REPO / "solutions" / assignment).glob("*.ipynb"):
            graded = {c.metadata.nbgrader.grade_id for c in nbformat.read(str(path), as_version=4).cells
                      if verdicts.is_test_cell(c)}
            assert graded == set(checks.TASKS.checks), (assignment, graded ^ set(checks.TASKS.checks))


def test_the_local_runner_gives_the_graders_messages():
    namespace = {"np": np}
    exec("def l1l2_penalty(W, l1, l2):\n    return l1 * np.abs(W).sum() + l2 * (W**2).sum(), l1 * np.sign(W) + l2 * W\n"
         "def layernorm_backward(Z, gamma, dY, epsilon=1e-3):\n    import keras\n    return Z, gamma, gamma\n",
         namespace)
    with pytest.raises(AssertionError, match="has an L2 part half what it should be"):
        a07_regularization.run("penalty_test", namespace)
    with pytest.raises(AssertionError, match="layernorm_backward uses keras: write it yourself"):
        a07_regularization.run("layernorm_test", namespace)
    with pytest.raises(AssertionError, match="fold_batchnorm is not defined"):
        a07_regularization.run("fold_test", namespace)


def test_a_function_that_changes_its_arguments_is_told():
    namespace = {"np": np}
    exec("def l1l2_penalty(W, l1, l2):\n    np.abs(W, out=W)\n    return l1 * W.sum(), l1 * np.ones_like(W)\n",
         namespace)
    with pytest.raises(AssertionError, match="l1l2_penalty changed its argument 1"):
        a07_regularization.run("penalty_test", namespace)


def test_a_function_given_a_dict_of_arrays_is_told_when_it_changes_it():
    namespace = {"np": np}
    exec("def best(results):\n    return int(np.argmin(results['loss']))\n"
         "def best_and_sort(results):\n    results['loss'].sort()\n    return 0\n"
         "def best_and_add(results):\n    results['rank'] = np.zeros(3)\n    return 0\n", namespace)
    results = {"loss": np.array([0.3, 0.1, 0.2]), "units": np.array([16, 32, 64])}
    student = core.LocalStudent(namespace)
    assert student.call("best", results) == 1
    for name in ("best_and_sort", "best_and_add"):
        with pytest.raises(core.Failed, match=f"{name} changed its argument 1"):
            student.call(name, results)


def test_sandbox_user_ids_are_unique_across_grader_processes():
    import os
    import subprocess
    import sys

    from grader import sandbox
    if os.geteuid() != 0:
        pytest.skip("user ids are only assigned as root")
    holder = subprocess.Popen([sys.executable, "-c", "from grader import sandbox; import sys\n"
                               "print(sandbox.sandbox_uid(), flush=True); sys.stdin.read()"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        held = int(holder.stdout.readline())
        mine = [sandbox.sandbox_uid() for _ in range(3)]
        assert held not in mine and len(set(mine)) == 3
    finally:
        holder.communicate("")
        for uid in mine:
            sandbox.release_uid(uid)


def test_each_graded_cell_is_decided_in_the_environment_of_its_task():
    """Assignment 4 mixes NumPy tasks (an allow-list kernel, with imports that need no Keras) and a
    Keras task; the notebook's own kernel is the Keras one, and its cells come first."""
    import nbformat

    from grader.checks import a04_keras_workflow
    FULL, NUMPY = core.FULL, core.NUMPY
    assert {a04_keras_workflow.TASKS.environment(g) for g in ("fit_hidden", "budget_test", "early_stopping_test",
                                                            "early_stopping_hidden")} == {NUMPY}
    assert a04_keras_workflow.TASKS.environment("callback_test") == FULL
    assert {a01_neuron.TASKS.environment(g) for g in a01_neuron.TASKS.checks} == {NUMPY}
    cells = [(i, nbformat.v4.new_code_cell(metadata={"nbgrader": {"grade_id": g}}))
             for i, g in enumerate(["early_stopping_test", "callback_test", "fit_hidden", "callback_hidden"])]
    deciding = verdicts.Verdicts(a04_keras_workflow, "04_keras_workflow", "ada", "s" * 16)
    groups = deciding.by_environment(cells)
    assert [(env, [i for i, _ in pairs]) for env, pairs in groups] == [(FULL, [1, 3]), (NUMPY, [0, 2])]
    assert "keras" not in deciding.prelude(NUMPY) and "import keras" in deciding.prelude(FULL)


def test_a_fault_of_a_check_is_reported_to_the_instructor(monkeypatch):
    """A check that breaks (not a wrong answer: a KeyError in the grader's own code) gives the cell no
    points with a message that blames no one, and execute() lists the fault for the summary."""
    import types

    import nbformat

    from grader import execute

    tasks = core.Tasks()

    def broken(student):
        raise KeyError("a bug in the checks")

    tasks.task("broken", 1, broken, [()], lambda rng: [])
    checks = types.SimpleNamespace(TASKS=tasks)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "tests.run('broken_test', globals())", metadata={"nbgrader": {"grade": True, "grade_id": "broken_test"}})])
    client = types.SimpleNamespace(deadline=float("inf"), total_timeout=300)
    monkeypatch.setattr(execute, "run_code", lambda *args: None)
    monkeypatch.setattr(execute, "_session", lambda nb, kernel, limits, on_ready, body: body(client, []) or [])
    _, problems = execute.execute(nb, kernel=object(), verdicts=verdicts.Verdicts(checks, "xx", "ada", "s" * 16))
    assert problems == ["the check of broken_test failed: KeyError: 'a bug in the checks'"], problems
    assert nb.cells[0].outputs[0]["ename"] == "GraderError"
