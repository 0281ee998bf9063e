"""The gradebook's one writer process (grader.gradebook) dies in the middle of a run: the students
it did not record are reported by name, none is recorded twice, and running the same command again
records them (issue 21)."""
import io
import json
import os
import re
import shutil
import signal
import time

from nbgrader.api import Gradebook

from grader import autograde as autograde_module
from grader.course import REPO, release
from grader.gradebook import GradebookWriter
from tests.test_grading import SECRET, points, submission

ASSIGNMENT, NOTEBOOK = "01_neuron", "assignment_01.ipynb"
STUDENTS = ["s1", "s2", "s3"]
FULL = sum(points(ASSIGNMENT).values())


class DyingWriter(GradebookWriter):
    """A writer killed (SIGKILL) once the first student is recorded, as the second is sent to it."""

    def record(self, student, done):
        if student != STUDENTS[0]:
            for _ in range(600):                         # until the first student is recorded
                with self.lock:
                    if STUDENTS[0] not in self.waiting:
                        break
                time.sleep(0.1)
            if self.process.poll() is None:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()
        super().record(student, done)


def recorded(course):
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        return {s.student.id: s.score for s in gradebook.assignment_submissions(ASSIGNMENT)}


def test_a_dying_gradebook_writer_loses_and_doubles_no_student(tmp_path, monkeypatch):
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(REPO / "nbgrader_config.py", course)
    shutil.copytree(REPO / "solutions" / ASSIGNMENT, course / "solutions" / ASSIGNMENT)
    release(course)
    released, source = course / "release" / ASSIGNMENT / NOTEBOOK, course / "solutions" / ASSIGNMENT / NOTEBOOK
    for student in STUDENTS:
        (course / "submitted" / student / ASSIGNMENT).mkdir(parents=True)
        solved = submission(released, source, {})
        (course / "submitted" / student / ASSIGNMENT / NOTEBOOK).write_text(json.dumps(solved))
    monkeypatch.setenv("GRADING_SECRET", SECRET)
    monkeypatch.chdir(course)

    monkeypatch.setattr(autograde_module, "GradebookWriter", DyingWriter)
    printed = io.StringIO()
    assert autograde_module.autograde(ASSIGNMENT, course, jobs=1, out=printed) == 1
    first = printed.getvalue()
    assert recorded(course) == {"s1": FULL}, first
    for student in STUDENTS[1:]:
        assert re.search(rf"^{student}\s+- / {FULL}\s+not graded: .*not recorded in the gradebook: the gradebook "
                         r"writer stopped \(exit status -9\)", first, re.M), first
    assert re.search(r"^2 students not recorded in the gradebook: s2, s3\. Run the same command again", first,
                     re.M), first

    monkeypatch.setattr(autograde_module, "GradebookWriter", GradebookWriter)
    printed = io.StringIO()
    assert autograde_module.autograde(ASSIGNMENT, course, jobs=1, out=printed) == 0
    again = printed.getvalue()
    assert re.search(r"3 submissions, 2 to grade", again), again       # s1 is not recorded twice
    assert re.search(rf"^s1\s+{FULL} / {FULL}\s+graded before", again, re.M), again
    assert recorded(course) == {student: FULL for student in STUDENTS}
