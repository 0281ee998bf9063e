"""The complete gradebook export: every student x every assignment, graded or not, and why.

    python -m grader export        (make grades)

writes two files in the course folder:

- grades.csv: one row per student and assignment, with a `status` (graded, not graded, missing),
  the `reason` when it is not graded (what the grader said, and what to do), the score and its
  maximum, and one column per task (`<assignment>/<task>`: the sum of the task's visible and
  hidden cells). A score is written only for a graded submission: a student who could not be
  graded, or did not submit, has an empty score, never a 0.
- grades-canvas.csv: Canvas's gradebook import format (Grades > Import): the columns Student, ID,
  SIS User ID, SIS Login ID, Section, then one column per assignment, a "Points Possible" row, and
  one row per student, the student id in SIS Login ID. Empty cells are left alone by Canvas's
  import, so an ungraded or missing submission changes nothing there.

The students are those of the gradebook (add a roster with `nbgrader db student add`) and those
with a folder in submitted/; the assignments are those of the gradebook (released or graded).
Why a submission was not graded comes from the last autograde run's record
(.grading/<assignment>/outcomes.json, written by grader.autograde).
"""
import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from . import submission
from .course import CannotRun, plural

GRADED, NOT_GRADED, MISSING = "graded", "not graded", "missing"
CANVAS_FIXED = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


@dataclass
class Row:
    """One student's standing on one assignment."""
    student: str
    assignment: str
    status: str
    reason: str = ""
    score: float = None
    max_score: float = 0.0
    tasks: dict = field(default_factory=dict)      # task -> score (graded rows only)


def task_of(cell_name):
    """The task a graded cell belongs to: softmax_test and softmax_hidden -> softmax."""
    return cell_name.rsplit("_", 1)[0] if cell_name.endswith(("_test", "_hidden")) else cell_name


def outcomes_path(root, assignment):
    """Where grader.autograde records each student's last outcome for `assignment`."""
    return Path(root) / ".grading" / assignment / "outcomes.json"


def read_outcomes(root, assignment):
    """{student: {"graded": bool, "problems": [...], "seconds": float}} of the last runs ({} if none)."""
    try:
        return json.loads(outcomes_path(root, assignment).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def assignment_tasks(assignment):
    """{task: maximum score} of an nbgrader Assignment, in the order of its graded cells."""
    tasks = {}
    for notebook in assignment.notebooks:
        for cell in notebook.grade_cells:
            tasks[task_of(cell.name)] = tasks.get(task_of(cell.name), 0.0) + cell.max_score
    return tasks


def submitted_students(root, assignment):
    """Students with a folder (or something refused) at submitted/<student>/<assignment>."""
    found, refused = submission.students(root, assignment)
    return set(found) | set(refused)


def row(gradebook, assignment, student, submitted, outcomes):
    """The Row of `student` on `assignment` (an nbgrader Assignment)."""
    base = Row(student, assignment.name, MISSING, f"no folder submitted/{student}/{assignment.name}",
               max_score=assignment.max_score)
    last = outcomes.get(student, {})
    if last and not last.get("graded", True):
        base.status, base.reason = NOT_GRADED, "; ".join(last.get("problems", [])) or "the grader gave no reason"
        return base
    try:
        found = gradebook.find_submission(assignment.name, student)
    except MissingEntry:
        if student in submitted:
            base.status, base.reason = NOT_GRADED, (
                f"submitted, not autograded yet: run make autograde ASSIGNMENT={assignment.name}")
        return base
    base.status, base.reason, base.score = GRADED, "", found.score
    for notebook in found.notebooks:
        for grade in notebook.grades:
            base.tasks[task_of(grade.name)] = base.tasks.get(task_of(grade.name), 0.0) + grade.score
    return base


def collect(root):
    """(rows, {assignment: {task: max score}}, {student: display name}) for the whole course: every
    student of the gradebook or of submitted/, on every assignment of the gradebook."""
    root = Path(root)
    rows, tasks, names = [], {}, {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        assignments = sorted(gradebook.assignments, key=lambda a: a.name)
        submitted = {a.name: submitted_students(root, a.name) for a in assignments}
        students = {s.id: " ".join(filter(None, [s.first_name, s.last_name])) for s in gradebook.students}
        for folders in submitted.values():
            students.update({name: "" for name in folders if name not in students})
        names = dict(sorted(students.items()))
        for assignment in assignments:
            tasks[assignment.name] = assignment_tasks(assignment)
            outcomes = read_outcomes(root, assignment.name)
            rows += [row(gradebook, assignment, student, submitted[assignment.name], outcomes)
                     for student in names]
    return rows, tasks, names


def _number(value):
    return "" if value is None else f"{value:g}"


def write_complete(rows, tasks, path):
    """grades.csv: a row per student x assignment, status and reason, score, a column per task."""
    task_columns = [f"{assignment}/{task}" for assignment, names in tasks.items() for task in names]
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["student", "assignment", "status", "reason", "score", "max_score", *task_columns])
        for r in rows:
            cells = {f"{r.assignment}/{task}": _number(score) for task, score in r.tasks.items()}
            writer.writerow([r.student, r.assignment, r.status, r.reason, _number(r.score), _number(r.max_score),
                             *[cells.get(column, "") for column in task_columns]])


def write_canvas(rows, tasks, names, path):
    """grades-canvas.csv: Canvas's gradebook import (empty cell = left as it is in Canvas)."""
    assignments = list(tasks)
    scores = {(r.student, r.assignment): _number(r.score) for r in rows}
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow([*CANVAS_FIXED, *assignments])
        writer.writerow(["Points Possible", "", "", "", "", *[_number(sum(tasks[a].values())) for a in assignments]])
        for student, name in names.items():
            writer.writerow([name or student, "", "", student, "",
                             *[scores.get((student, a), "") for a in assignments]])


def export(root):
    """Write grades.csv and grades-canvas.csv in root; return (rows, the two paths)."""
    root = Path(root)
    if not (root / "gradebook.db").is_file():
        raise CannotRun(f"No gradebook in {root}: release an assignment (make release) and autograde it first.")
    rows, tasks, names = collect(root)
    complete, canvas = root / "grades.csv", root / "grades-canvas.csv"
    write_complete(rows, tasks, complete)
    write_canvas(rows, tasks, names, canvas)
    return rows, (complete, canvas)


def summary(rows, paths, root):
    """The one line `python -m grader export` prints."""
    counts = {status: sum(r.status == status for r in rows) for status in (GRADED, NOT_GRADED, MISSING)}
    students = len({r.student for r in rows})
    assignments = len({r.assignment for r in rows})
    written = " and ".join(str(Path(p).relative_to(root)) for p in paths)
    return (f"grades: {plural(students, 'student')} x {plural(assignments, 'assignment')}: {counts[GRADED]} graded, "
            f"{counts[NOT_GRADED]} not graded, {counts[MISSING]} missing -> {written}")
