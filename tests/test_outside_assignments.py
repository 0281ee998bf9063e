"""The course from a student's seat, outside this repository (see tests/outside.py): every
released assignment, filled in with its solution, passes `nbgrader validate` in a fresh environment
where the course was installed from the public repository (no TF_CPP_MIN_LOG_LEVEL set, so any
library noise on a test cell's stderr would fail it); left blank, it fails, with the tests'
messages."""
import json

import pytest

from grader.course import assignments
from tests.outside import solved, source_of, student_machine


@pytest.fixture(scope="module")
def machine(tmp_path_factory):
    return student_machine(tmp_path_factory.mktemp("student"))


def validate(machine, assignment, notebook):
    """`nbgrader validate` of `notebook` (JSON) saved as the student's file; its output."""
    path = machine.home / assignment / source_of(assignment).name
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(notebook))
    done = machine.run("-m", "nbgrader", "validate", path.name, cwd=path.parent)
    return done.stdout + done.stderr


def released(machine, assignment):
    return machine.public / "chapters" / assignment / source_of(assignment).name


@pytest.mark.parametrize("assignment", assignments())
def test_solved_work_passes_validate(machine, assignment):
    out = validate(machine, assignment, solved(released(machine, assignment), source_of(assignment)))
    assert "Success! Your notebook passes all the tests." in out, f"validate failed solved work:\n{out[-3000:]}"


@pytest.mark.parametrize("assignment", assignments())
def test_blank_work_fails_validate_with_the_tests_messages(machine, assignment):
    out = validate(machine, assignment, json.loads(released(machine, assignment).read_text()))
    assert "VALIDATION FAILED" in out, f"validate passed a blank assignment:\n{out[-3000:]}"
    assert "is not written yet" in out, out[-3000:]
