"""The gradebook's one writer: nbgrader's own autograde, with --no-execute, student by student.

`python -m grader autograde` stages each student's executed notebooks in
.grading/<assignment>/executed/<student>/ (grader.autograde). Recording their scores is nbgrader's
job: its autograde, with --no-execute, reads a staged notebook, checks and restores the
instructor's cells, and writes the scores to the gradebook (its preprocessors and its database,
not ours). Run once over the whole class after the grading, that pass would be the slowest step of
a class; so it runs while the grading goes on, in ONE process of its own (this module), which is
the only writer of the gradebook. The grader sends it a student as soon as that student's notebooks
are staged; it records them one after another, exactly as

    nbgrader autograde <assignment> --no-execute --force --student <student> \\
        --CourseDirectory.submitted_directory=.grading/<assignment>/executed

run in the course folder would, without starting nbgrader again for each student. (It is a process,
not a thread of the grader, so that nbgrader's Python work does not slow the threads that drive the
kernels: they would share one interpreter lock.)

Protocol, one JSON object per line: the grader writes {"student": id} on stdin; this process
answers each with {"student": id, "error": null or a message} on stdout, and ends at end of input.
"""
import json
import subprocess
import sys
import threading
import warnings

from .course import venv_env
from .verdicts import SECRET_VARIABLE


class GradebookWriter:
    """The grader's side: starts the writer process; `record(student, done)` queues a student and
    calls done(error) when the writer has recorded them (error None) or could not; `close()` waits
    for every queued student."""

    def __init__(self, root, assignment, submitted_directory):
        env = venv_env()
        env.pop(SECRET_VARIABLE, None)      # nbgrader needs no secret
        self.process = subprocess.Popen(
            [sys.executable, "-m", "grader.gradebook", assignment, str(submitted_directory)],
            cwd=root, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self.waiting, self.lock = {}, threading.Lock()
        self.reader = threading.Thread(target=self._read, name="gradebook-replies", daemon=True)
        self.reader.start()

    def record(self, student, done):
        with self.lock:
            self.waiting[student] = done
        try:
            self.process.stdin.write(json.dumps({"student": student}) + "\n")
            self.process.stdin.flush()
        except (BrokenPipeError, ValueError):
            pass                            # the writer has stopped: close() reports it

    def close(self):
        try:
            self.process.stdin.close()
        except BrokenPipeError:
            pass
        self.process.wait()
        self.reader.join()
        with self.lock:
            left, self.waiting = self.waiting, {}
        for done in left.values():
            done(f"the gradebook writer stopped (exit status {self.process.returncode})")

    def _read(self):
        for line in self.process.stdout:
            try:
                reply = json.loads(line)
                student, error = reply["student"], reply["error"]
            except (ValueError, KeyError, TypeError):
                continue
            with self.lock:
                done = self.waiting.pop(student, None)
            if done:
                done(error)


def main(argv=None):
    """The writer process: `python -m grader.gradebook <assignment> <submitted directory>`, run in
    the course folder."""
    assignment, submitted_directory = argv or sys.argv[1:]
    sys.modules.setdefault("rfc3987_syntax", None)    # unused and slow to import: see grader/__main__.py
    from nbgrader.apps import AutogradeApp
    from nbgrader.converters import Autograde
    from sqlalchemy.exc import SAWarning
    # nbgrader's autograde adds a new submission in a way SQLAlchemy 2 warns about ("not in session,
    # add operation ... will not proceed"), three multi-line warnings per new gradebook; the rows
    # are written all the same (the scores are read back from the gradebook after each run)
    warnings.filterwarnings("ignore", category=SAWarning)
    app = AutogradeApp()
    app.initialize([assignment, "--no-execute", "--force", "--log-level=ERROR",
                    f"--CourseDirectory.submitted_directory={submitted_directory}"])
    app.coursedir.assignment_id = assignment
    replies = sys.stdout
    sys.stdout = sys.stderr                 # whatever nbgrader prints is not a reply
    for line in sys.stdin:
        student = json.loads(line)["student"]
        app.coursedir.student_id = student
        try:
            Autograde(coursedir=app.coursedir, parent=app).start()
            error = None
        except Exception as failure:   # nbgrader has logged the details on stderr
            error = f"{type(failure).__name__}: {str(failure)[:200]}"
        replies.write(json.dumps({"student": student, "error": error}) + "\n")
        replies.flush()


if __name__ == "__main__":
    main()
