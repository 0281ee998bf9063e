"""Grade every submission of an assignment: in parallel, sandboxed, resumable, one gradebook writer.

1. Find submitted/<student>/<assignment>/*.ipynb; skip students already graded (unless --force).
2. For each pending student, on a pool of workers (`dispatch`): read the notebook (a broken file is
   a recorded failure, not a crash), restore the instructor's read-only and test cells from the
   gradebook (deleted ones are added back), clear outputs, and execute it with a sandboxed kernel
   (grader.execute). The executed notebook is written by this trusted process to
   .grading/<assignment>/executed/<student>/, so a later run can reuse it.
3. As soon as a student's notebooks are staged, nbgrader's own autograde (`--no-execute`:
   nbgrader's preprocessors and database) records their scores, in ONE writer process that records
   one student after another while the other kernels still run (grader.gradebook): the gradebook
   has a single writer, and a student is recorded as soon as they are graded.
4. Print who scored what, and who failed to grade and why.

Only `dispatch` knows how work is spread: to grade on a cluster, replace it with, e.g., Dask's
`client.map(grade_student, jobs)`; `grade_student` takes and returns plain data.
"""
import os
import shutil
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import (CheckCellMetadata, ClearOutput, DeduplicateIds, OverwriteCells,
                                    OverwriteKernelspec)

from . import course, sandbox
from .checks import for_assignment, references
from .execute import Kernel, execute
from .gradebook import GradebookWriter
from .verdicts import Verdicts, course_secret


@dataclass
class Job:
    """What one worker needs to grade one student (plain data: it can cross process boundaries)."""
    student: str
    assignment: str
    root: str
    unsafe: bool = False
    cell_timeout: int = 120
    total_timeout: int = 300
    secret: str = ""          # the course secret, for assignments with checks (grader.verdicts)


@dataclass
class Outcome:
    student: str
    seconds: float = 0.0
    problems: list = field(default_factory=list)
    executed: bool = False


def db_url(root):
    return f"sqlite:///{Path(root) / 'gradebook.db'}"


def prepare(path, job, notebook_id):
    """The submitted notebook with the instructor's cells restored and outputs cleared."""
    try:
        nb = nbformat.read(str(path), as_version=4)
        nbformat.validate(nb)
    except Exception as error:
        raise ValueError(f"{path.name} is not a valid notebook ({type(error).__name__}: {str(error)[:200]})")
    resources = {"nbgrader": {"notebook": notebook_id, "assignment": job.assignment, "db_url": db_url(job.root),
                              "student": job.student}}
    for step in [ClearOutput(), DeduplicateIds(), OverwriteKernelspec(), OverwriteCells(add_missing_cells=True),
                 CheckCellMetadata()]:
        nb, resources = step.preprocess(nb, resources)
    return nb


def grade_student(job, spares=None):
    """Execute every notebook of one submission in the sandbox; write the results to the staging folder.
    `spares` (a local pool's Spares) gives a kernel started ahead, and starts the next one."""
    start, outcome = time.monotonic(), Outcome(job.student)
    root = Path(job.root)
    checks = for_assignment(job.assignment)
    submitted = root / "submitted" / job.student / job.assignment
    staged = staging(root, job.assignment) / job.student / job.assignment
    shutil.rmtree(staged, ignore_errors=True)
    for path in sorted(submitted.glob("*.ipynb")):
        try:
            nb = prepare(path, job, path.stem)
        except Exception as error:
            outcome.problems.append(str(error))
            continue
        verdicts = Verdicts(checks, job.assignment, job.student, job.secret) if checks else None
        nb, problems = execute(nb, (spares.take() if spares else None) or new_kernel(job),
                               cell_timeout=job.cell_timeout, total_timeout=job.total_timeout, verdicts=verdicts,
                               on_ready=(lambda: spares.start(job)) if spares else None)
        outcome.problems += problems
        staged.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, str(staged / path.name))
        outcome.executed = True
    for extra in ["timestamp.txt"]:
        if (submitted / extra).exists() and staged.exists():
            shutil.copy(submitted / extra, staged / extra)
    outcome.seconds = time.monotonic() - start
    return outcome


def new_kernel(job):
    """A fresh sandboxed kernel (not started) for a notebook of this job: the packages its
    assignment must not have are absent."""
    checks = for_assignment(job.assignment)
    return Kernel(unsafe=job.unsafe, hidden_packages=checks.TASKS.hidden_packages if checks else ())


class Spares:
    """One kernel started ahead per worker thread: as soon as a worker's kernel answers, the kernel
    of its next notebook starts booting in a sandbox of its own, and is waiting when that notebook
    comes (a kernel needs nothing of the submission it will run; each runs one notebook only)."""

    def __init__(self):
        self.local, self.started, self.lock = threading.local(), [], threading.Lock()

    def take(self):
        kernel, self.local.kernel = getattr(self.local, "kernel", None), None
        return kernel

    def start(self, job):
        if getattr(self.local, "kernel", None) is None:
            try:
                kernel = new_kernel(job).start()
            except Exception:    # the next notebook will start its own kernel, and report what fails
                return
            self.local.kernel = kernel
            with self.lock:
                self.started.append(kernel)

    def close(self):
        """Stop the kernels that were started and never used."""
        with self.lock:
            for kernel in self.started:
                if not kernel.used:
                    kernel.close()


def dispatch(jobs, workers, report):
    """Run grade_student on every job with a pool of local workers; call report(outcome) as each ends."""
    spares = Spares()
    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(grade_student, job, spares) for job in jobs]
            for future in as_completed(futures):
                report(future.result())
    finally:
        spares.close()


def staging(root, assignment):
    return Path(root) / ".grading" / assignment / "executed"


def already_graded(root, assignment, student):
    """True when autograded/<student>/<assignment>/ holds a notebook at least as new as every submitted one."""
    graded = Path(root) / "autograded" / student / assignment
    submitted = list((Path(root) / "submitted" / student / assignment).glob("*.ipynb"))
    return all((graded / p.name).exists() and (graded / p.name).stat().st_mtime >= p.stat().st_mtime
               for p in submitted) and bool(submitted)


def autograde(assignment, root=course.REPO, force=False, jobs=None, unsafe=False, cell_timeout=120,
              total_timeout=300, out=sys.stdout):
    """Grade every submission of `assignment` under root/submitted/. Returns 0, or 1 if some failed."""
    root = Path(root).resolve()
    if not (root / "solutions" / assignment).is_dir():
        raise SystemExit(f"No assignment {assignment!r}: expected the folder {root / 'solutions' / assignment}.")
    if not unsafe:
        reason = sandbox.check(tmp_parent=None)
        if reason:
            print(f"Refusing to grade: {reason}.\nSubmissions are untrusted code and are only run sandboxed. "
                  "To run them without isolation anyway (trusted code only), pass --unsafe-no-sandbox.",
                  file=sys.stderr)
            raise SystemExit(2)
    secret = course_secret() if for_assignment(assignment) else ""
    if secret:   # the references need TensorFlow: import it while the gradebook and kernels get ready
        threading.Thread(target=references.warm_up, daemon=True).start()
    _ensure_in_gradebook(root, assignment)
    students = sorted(p.parent.name for p in (root / "submitted").glob(f"*/{assignment}") if p.is_dir())
    pending = [s for s in students if force or not already_graded(root, assignment, s)]
    print(f"{assignment}: {len(students)} submissions, {len(pending)} to grade"
          f"{'' if force else ' (already graded ones skipped; --force grades all)'}", file=out)
    shutil.rmtree(staging(root, assignment), ignore_errors=True)
    outcomes, start = {}, time.monotonic()

    def report(outcome):
        outcomes[outcome.student] = outcome
        status = "ran" if outcome.executed else "FAILED"
        detail = f": {'; '.join(outcome.problems)}" if outcome.problems else ""
        failed = sum(not o.executed for o in outcomes.values())
        print(f"[{len(outcomes)}/{len(pending)}, {failed} failed] {outcome.student} {status} in "
              f"{outcome.seconds:.1f} s{detail}", file=out, flush=True)

    def record(outcome):
        """Once a student's notebooks are staged, the writer records their scores (see grader.gradebook)."""
        def recorded(error):
            if error:
                outcome.problems.append(f"not recorded in the gradebook: {error}")
                outcome.executed = False
        if outcome.executed:
            writer.record(outcome.student, recorded)

    if pending:
        writer = GradebookWriter(root, assignment, staging(root, assignment).relative_to(root))
        try:
            dispatch([Job(s, assignment, str(root), unsafe, cell_timeout, total_timeout, secret) for s in pending],
                     jobs or os.cpu_count() or 1, lambda outcome: (report(outcome), record(outcome)))
        finally:
            writer.close()     # waits until every graded student is recorded
    print(f"executed {len(pending)} submissions in {time.monotonic() - start:.1f} s "
          f"({jobs or os.cpu_count()} at a time)", file=out)
    _summary(root, assignment, students, outcomes, out)
    return 1 if any(not o.executed for o in outcomes.values()) else 0


def _ensure_in_gradebook(root, assignment):
    """nbgrader restores test cells from the gradebook: generate the assignment first if it is not there."""
    with Gradebook(db_url(root)) as gradebook:
        try:
            gradebook.find_assignment(assignment)
            return
        except MissingEntry:
            pass
    course.nbgrader("generate_assignment", assignment, "--force", root=root)


def _summary(root, assignment, students, outcomes, out):
    with Gradebook(db_url(root)) as gradebook:
        max_score = gradebook.find_assignment(assignment).max_score
        print(f"\n{'student':<24} {'score':>12}  status", file=out)
        for student in students:
            try:
                score = f"{gradebook.find_submission(assignment, student).score:g} / {max_score:g}"
            except MissingEntry:
                score = f"- / {max_score:g}"
            outcome = outcomes.get(student)
            status = ("not graded: " + "; ".join(outcome.problems) if outcome and not outcome.executed
                      else "graded" + (f" ({'; '.join(outcome.problems)})" if outcome and outcome.problems else "")
                      if outcome else "graded before")
            print(f"{student:<24} {score:>12}  {status}", file=out)
