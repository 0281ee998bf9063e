"""The grading round trip, through nbgrader itself, in a throw-away copy of the course.

For every assignment: generate the student version, make submissions from it, autograde them all
in one nbgrader call, and read the scores from the gradebook:
- the solutions filled in get full marks;
- the release, untouched, gets 0 (and grading it does not crash);
- typical mistakes get the partial marks written below, and the student sees the message that
  names the mistake.
A task's score is the sum over its graded cells. Cells are named <task>_code (the student's
solution), <task>_test (visible tests) and <task>_hidden (hidden tests).
"""
import importlib
import json
import os
import pkgutil
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from grader.course import assignments, release

# Typical mistakes, one module per assignment in tests/mistakes/ (a01_neuron.py for 01_neuron):
# submission name -> the code written into solution cells, the expected score of every task, and
# text expected in the error a test cell shows.
MISTAKES = {module.name[1:]: importlib.import_module(f"tests.mistakes.{module.name}").MISTAKES
            for module in pkgutil.iter_modules([str(Path(__file__).parent / "mistakes")])}
SOLUTION, UNTOUCHED = "solution", "untouched"
SECRET = "a-course-secret-for-the-tests-only"   # instructors set their own: see README, grading


def grader_command(course, *args):
    """Run `python -m grader --root <course> *args`, the instructor's real command; return what it printed.
    (Exit code 1 means some submission could not be graded, which some tests intend.)"""
    result = subprocess.run([sys.executable, "-m", "grader", "--root", str(course), *args],
                            capture_output=True, text=True, timeout=900, env=dict(os.environ, GRADING_SECRET=SECRET))
    assert result.returncode in (0, 1) and "Traceback" not in result.stderr and result.stdout, result.stderr[-3000:]
    return result.stdout


def grade(course, assignment, *options):
    """Autograde every submission of `assignment`, sandboxed, in parallel."""
    return grader_command(course, "autograde", assignment, *options)


def task(grade_id):
    """The task a graded cell belongs to: softmax_test -> softmax."""
    return grade_id.rsplit("_", 1)[0]


def points(assignment):
    """{task: points} of an assignment, in the order of its source notebook (the tests that need the
    tasks or the maximum read them here, so that a rebuilt assignment needs no change there)."""
    from grader.course import REPO
    by_task = Counter()
    for path in sorted((REPO / "solutions" / assignment).glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            meta = cell["metadata"].get("nbgrader", {})
            if meta.get("grade"):
                by_task[task(meta["grade_id"])] += meta["points"]
    return by_task


def submission(release_path, source_path, code):
    """The released notebook with every solution cell filled in: from `code` (grade id -> source)
    where given, else with the solution of the source notebook; the release as it is if code is None."""
    nb = json.loads(release_path.read_text())
    if code is None:
        return nb
    solutions = {c["metadata"]["nbgrader"]["grade_id"]: "".join(c["source"])
                 for c in json.loads(source_path.read_text())["cells"] if "nbgrader" in c["metadata"]}
    for cell in nb["cells"]:
        grading = cell["metadata"].get("nbgrader", {})
        if grading.get("solution"):
            gid = grading["grade_id"]
            cell["source"] = code.get(gid) or re.sub(r"(?m)^[ \t]*### (BEGIN|END) SOLUTION\n", "", solutions[gid])
    return nb


@pytest.fixture(scope="module")
def graded(course):
    """Release the course copy, submit the solution, the untouched release and the typical
    mistakes of every assignment, and autograde them. Returns {(assignment, student): {task:
    score}}, {(assignment, student): [autograded notebook JSON]} and {assignment: {task: max score}}."""
    release(course)
    for assignment in assignments(course):
        students = {SOLUTION: {}, **{name: m["code"] for name, m in MISTAKES.get(assignment, {}).items()}}
        for release_path in (course / "release" / assignment).glob("*.ipynb"):
            source_path = course / "solutions" / assignment / release_path.name
            for student, code in [(UNTOUCHED, None), *students.items()]:
                folder = course / "submitted" / student / assignment
                folder.mkdir(parents=True, exist_ok=True)
                nb = submission(release_path, source_path, code)
                (folder / release_path.name).write_text(json.dumps(nb, indent=1))
        grade(course, assignment)

    scores, outputs, max_scores = {}, {}, {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for assignment in assignments(course):
            for sub in gradebook.assignment_submissions(assignment):
                totals = Counter()
                for notebook in sub.notebooks:
                    for cell_grade in notebook.grades:
                        totals[task(cell_grade.name)] += cell_grade.score
                scores[assignment, sub.student.id] = dict(totals)
                graded = course / "autograded" / sub.student.id / assignment
                outputs[assignment, sub.student.id] = [json.loads(p.read_text()) for p in graded.glob("*.ipynb")]
            max_scores[assignment] = Counter()
            for notebook in gradebook.find_assignment(assignment).notebooks:
                for cell in notebook.grade_cells:
                    max_scores[assignment][task(cell.name)] += cell.max_score
    return scores, outputs, max_scores


def errors(notebooks, grade_id):
    """The error messages shown by the cell grade_id in the autograded notebooks."""
    return [out.get("evalue", "") for nb in notebooks for cell in nb["cells"]
            if cell["metadata"].get("nbgrader", {}).get("grade_id") == grade_id
            for out in cell.get("outputs", []) if out["output_type"] == "error"]


@pytest.mark.parametrize("assignment", assignments())
def test_solution_gets_full_marks(graded, assignment):
    scores, _, max_scores = graded
    assert scores[assignment, SOLUTION] == max_scores[assignment]


@pytest.mark.parametrize("assignment", assignments())
def test_untouched_release_gets_zero_without_crashing(graded, assignment):
    scores, outputs, max_scores = graded
    assert outputs[assignment, UNTOUCHED], "nbgrader wrote no autograded notebook"
    assert scores[assignment, UNTOUCHED] == {t: 0 for t in max_scores[assignment]}


@pytest.mark.parametrize("assignment", assignments())
def test_every_assignment_has_typical_mistakes(assignment):
    assert MISTAKES.get(assignment), f"add typical mistakes of {assignment} in tests/mistakes/a{assignment}.py"


@pytest.mark.parametrize("assignment, student", [(a, s) for a in MISTAKES for s in MISTAKES[a]])
def test_typical_mistake_gets_partial_marks_and_says_why(graded, assignment, student):
    scores, outputs, _ = graded
    expected = MISTAKES[assignment][student]
    assert scores[assignment, student] == expected["scores"]
    for grade_id, text in expected["messages"].items():
        shown = errors(outputs[assignment, student], grade_id)
        assert any(text in message for message in shown), f"{grade_id} shows {shown}, not {text!r}"
