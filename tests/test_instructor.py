"""The instructor's seat (issue 25), through the real commands on a small class of assignment 1:
the complete export (grades.csv and Canvas's CSV), reasons that say what to do, renamed notebooks,
feedback that says who got none, and commands that print only what the instructor needs.

The class: alice (the solution), bob (a typical mistake), carol (a file that is not JSON), dave
(the solution, renamed by the browser to 'assignment_01 (1).ipynb'), erin (only a .py file), gina
(two renamed copies), frank (no folder for assignment 1; an untouched assignment 2, never graded).
"""
import csv
import json
import os
import shutil
import subprocess
import sys

import pytest

from grader import names
from grader.course import REPO
from tests.mistakes.a01_neuron import MISTAKES
from tests.test_grading import SECRET, submission

A1, NB1, A2, NB2 = "01_neuron", "assignment_01.ipynb", "02_mlp", "assignment_02.ipynb"
STUDENTS = ["alice", "bob", "carol", "dave", "erin", "frank", "gina"]


def command(course, *args):
    """(exit status, stdout, stderr) of `python -m grader --root course *args`."""
    env = {**os.environ, "GRADING_SECRET": SECRET, "OPENBLAS_NUM_THREADS": "1"}
    run = subprocess.run([sys.executable, "-m", "grader", "--root", str(course), *args], capture_output=True,
                         text=True, timeout=600, env=env)
    return run.returncode, run.stdout, run.stderr


def put(course, student, assignment, name, content):
    folder = course / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(content if isinstance(content, str) else json.dumps(content))


def make_class(course):
    """The submissions of the class described above (the course released)."""
    released, source = course / "release" / A1 / NB1, course / "solutions" / A1 / NB1
    solved = submission(released, source, {})
    put(course, "alice", A1, NB1, solved)
    put(course, "bob", A1, NB1, submission(released, source, next(iter(MISTAKES.values()))["code"]))
    put(course, "carol", A1, NB1, "{ this is not json")
    put(course, "dave", A1, "assignment_01 (1).ipynb", solved)
    put(course, "erin", A1, "assignment_01.py", "print('my answers')\n")
    put(course, "gina", A1, "assignment_01 (1).ipynb", solved)
    put(course, "gina", A1, "assignment_01 (2).ipynb", solved)
    put(course, "frank", A2, NB2, (course / "release" / A2 / NB2).read_text())


@pytest.fixture(scope="module")
def cycle(tmp_path_factory):
    """Release, autograde (twice: the second run skips who was graded), feedback for both
    assignments, export: {step: (status, stdout, stderr)} and the course folder."""
    course = tmp_path_factory.mktemp("class")
    shutil.copy(REPO / "nbgrader_config.py", course)
    for assignment in (A1, A2):
        shutil.copytree(REPO / "solutions" / assignment, course / "solutions" / assignment)
    steps = {"release": command(course, "release")}
    make_class(course)
    steps["autograde"] = command(course, "autograde", A1, "--jobs", "2")
    steps["again"] = command(course, "autograde", A1, "--jobs", "2")
    steps["feedback"] = command(course, "feedback", A1)
    steps["feedback-nothing-graded"] = command(course, "feedback", A2)
    steps["grades"] = command(course, "export")
    return steps, course


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as file:
        return list(csv.reader(file))


def complete_rows(course):
    header, *rows = read_csv(course / "grades.csv")
    return {(row[0], row[1]): dict(zip(header, row)) for row in rows}, header


# --- 1. the complete export -------------------------------------------------------------------

def test_export_has_a_row_per_student_and_assignment_with_a_status(cycle):
    steps, course = cycle
    assert steps["grades"][0] == 0, steps["grades"]
    rows, header = complete_rows(course)
    assert set(rows) == {(student, a) for student in STUDENTS for a in (A1, A2)}
    assert header[:6] == ["student", "assignment", "status", "reason", "score", "max_score"]
    status = {key: row["status"] for key, row in rows.items()}
    assert [status[s, A1] for s in STUDENTS] == ["graded", "graded", "not graded", "graded", "not graded",
                                                 "missing", "not graded"]
    assert status["frank", A2] == "not graded" and status["alice", A2] == "missing"


def test_ungraded_never_looks_like_zero(cycle):
    rows, header = complete_rows(cycle[1])
    for (student, assignment), row in rows.items():
        tasks = [row[column] for column in header[6:] if column.startswith(assignment + "/")]
        if row["status"] == "graded":
            assert row["score"] != "" and all(value != "" for value in tasks), row
        else:
            assert row["score"] == "" and all(value == "" for value in tasks), row
            assert row["reason"], row            # every row that is not graded says why


def test_export_has_one_column_per_task_summing_to_the_score(cycle):
    rows, header = complete_rows(cycle[1])
    tasks = [column for column in header[6:] if column.startswith(A1 + "/")]
    assert tasks == [f"{A1}/{task}" for task in ("softmax", "crossentropy", "gradient", "perceptron", "sgd_step")]
    assert all(column.startswith((A1 + "/", A2 + "/")) for column in header[6:])
    for student in ("alice", "bob", "dave"):
        row = rows[student, A1]
        assert sum(float(row[column]) for column in tasks) == pytest.approx(float(row["score"])), row
    assert rows["alice", A1]["score"] == "12" and rows["dave", A1]["score"] == "12"
    assert float(rows["bob", A1]["score"]) < 12 and rows["bob", A1]["max_score"] == "12"


def test_export_says_why_a_student_is_not_graded(cycle):
    rows, _ = complete_rows(cycle[1])
    assert "not a valid notebook" in rows["carol", A1]["reason"]
    assert "only assignment_01.py" in rows["erin", A1]["reason"]
    assert rows["frank", A1]["reason"] == f"no folder submitted/frank/{A1}"
    assert f"not autograded yet: run make autograde ASSIGNMENT={A2}" in rows["frank", A2]["reason"]


def test_canvas_export_leaves_ungraded_cells_empty(cycle):
    header, points, *students = read_csv(cycle[1] / "grades-canvas.csv")
    assert header == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", A1, A2]
    assert points == ["Points Possible", "", "", "", "", "12", "10"]
    scores = {row[3]: row[5:] for row in students}
    assert set(scores) == set(STUDENTS)
    assert scores["alice"] == ["12", ""] and scores["dave"] == ["12", ""]
    assert scores["carol"] == ["", ""] and scores["frank"] == ["", ""]
    assert all(row[0] for row in students)       # Canvas shows a name (the id where the gradebook has none)


def test_export_without_a_gradebook_says_what_to_do(tmp_path):
    shutil.copy(REPO / "nbgrader_config.py", tmp_path)
    status, out, err = command(tmp_path, "export")
    assert status != 0 and "No gradebook" in err and "make release" in err and "Traceback" not in err


# --- 2. reasons that say what to do, renamed notebooks, feedback ----------------------------------

def test_a_renamed_notebook_alone_in_its_folder_is_graded(cycle):
    steps, course = cycle
    out = steps["autograde"][1]
    assert "'assignment_01 (1).ipynb' graded as assignment_01.ipynb" in out, out
    assert (course / "autograded" / "dave" / A1 / NB1).is_file()


def test_a_renamed_notebook_is_not_graded_again_when_unchanged(cycle):
    again = cycle[0]["again"][1]
    assert f"{A1}: 6 submissions, 3 to grade" in again, again     # carol, erin and gina: failures are retried
    assert any(line.startswith("dave") and "graded before" in line for line in again.splitlines()), again


def test_reasons_say_what_to_do(cycle):
    out = cycle[0]["autograde"][1]
    assert (f"no assignment_01.ipynb in submitted/gina/{A1}: found 'assignment_01 (1).ipynb', "
            "'assignment_01 (2).ipynb'; rename the one to grade to assignment_01.ipynb") in out, out
    assert f"no notebook in submitted/erin/{A1}, only assignment_01.py: submit assignment_01.ipynb" in out, out
    assert "open it in Jupyter, save it" in out, out


def test_feedback_names_who_got_none_and_why(cycle):
    steps, course = cycle
    status, out, err = steps["feedback"]
    assert status == 1 and "Traceback" not in err, err
    assert out.splitlines()[0] == f"{A1}: feedback for 3 students in feedback/<student>/{A1}/; none for 3:", out
    for student, why in [("carol", "not graded: assignment_01.ipynb is not a valid notebook"),
                         ("erin", "not graded: no notebook in"), ("gina", "not graded: no assignment_01.ipynb")]:
        assert any(line.strip().startswith(f"{student}: {why}") for line in out.splitlines()), out
    assert sorted(p.parent.parent.name for p in (course / "feedback").glob(f"*/{A1}/*.html")) == [
        "alice", "bob", "dave"]


def test_feedback_for_an_assignment_nobody_was_graded_on(cycle):
    status, out, err = cycle[0]["feedback-nothing-graded"]
    assert status == 1 and "Traceback" not in err and not err.strip(), err
    assert out.splitlines() == [f"{A2}: feedback for 0 students in feedback/<student>/{A2}/; none for 1:",
                                f"  frank: not autograded yet (make autograde ASSIGNMENT={A2})"], out


@pytest.mark.parametrize("uploaded, others, graded, says", [
    (["a.ipynb"], [], {"a.ipynb": "a.ipynb"}, []),
    (["a (1).ipynb"], [], {"a (1).ipynb": "a.ipynb"}, ["'a (1).ipynb' graded as a.ipynb"]),
    (["a.ipynb", "scratch.ipynb"], [], {"a.ipynb": "a.ipynb"}, ["ignored scratch.ipynb"]),
    (["a (1).ipynb", "a (2).ipynb"], [], {},
     ["found 'a (1).ipynb', 'a (2).ipynb'; rename the one to grade to a.ipynb"]),
    ([], ["a.py", "notes.txt"], {}, ["no notebook in F, only a.py, notes.txt: submit a.ipynb"]),
    ([], [], {}, ["F is empty: submit a.ipynb"]),
])
def test_match_of_submitted_names(uploaded, others, graded, says):
    found = names.match(["a.ipynb"], uploaded, others, "F")
    assert found.graded == graded
    said = found.missing + found.notes
    assert len(said) == len(says) and all(text in line for text, line in zip(says, said)), said
