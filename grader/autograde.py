"""Grade every submission of an assignment: in parallel, sandboxed, resumable, one gradebook writer.

1. Find submitted/<student>/<assignment>/ without following links (grader.submission); skip
   students already graded (unless --force).
2. For each pending student, on a pool of workers (`dispatch`): read the folder as data, without
   following links, only regular files and real folders of bounded size (anything else refuses the
   submission, with the reason), check that each notebook is valid (a broken file is a recorded
   failure, not a crash), restore the instructor's read-only and test cells from the
   gradebook (deleted ones are added back), clear outputs, and execute it with a sandboxed kernel
   (grader.execute). The executed notebook is written by this trusted process to
   .grading/<assignment>/executed/<student>/, so a later run can reuse it.
3. As soon as a student's notebooks are staged, nbgrader's own autograde (`--no-execute`:
   nbgrader's preprocessors and database) records their scores, in ONE writer process that records
   one student after another while the other kernels still run (grader.gradebook): the gradebook
   has a single writer, and a student is recorded as soon as they are graded.
4. Print who scored what, and who failed to grade and why.

Whatever goes wrong while one student is graded (in the kernel, or here: encoding, I/O, clean-up)
is that student's outcome, "not graded: reason"; the run goes on and records everyone else. Text
that came from a submission or a kernel is made valid UTF-8 and bounded (grader.safety) before it
enters a notebook, a verdict, the feedback or this terminal.

Only `dispatch` knows how work is spread: a pool of threads here, or, with a scheduler's address,
one Dask task per student on a cluster (grader.cluster), the results coming back to this process.
"""
import json
import os
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

from . import course, names, sandbox, submission
from .checks import NoChecks, core, for_assignment, references
from .execute import Kernel, execute
from .export import outcomes_path, read_outcomes
from .gradebook import GradebookWriter
from .safety import remove_tree, safe_text, safe_tree
from .verdicts import Verdicts, answers_digest, course_secret


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
    refused: str = ""         # why the submission was refused when the class was listed


@dataclass
class Outcome:
    student: str
    seconds: float = 0.0
    problems: list = field(default_factory=list)
    executed: bool = False


NOT_RECORDED = "not recorded in the gradebook"


def db_url(root):
    return f"sqlite:///{Path(root) / 'gradebook.db'}"


def prepare(name, data, job, notebook_id):
    """The submitted notebook (`data`, its bytes) with the instructor's cells restored and outputs cleared."""
    try:
        nb = nbformat.reads(data.decode("utf-8"), as_version=4)
        nbformat.validate(nb)
    except Exception as error:
        raise ValueError(f"{name} is not a valid notebook ({type(error).__name__}: {safe_text(error, 200)}): "
                         "open it in Jupyter, save it (File > Save Notebook) and submit that file")
    nb = nbformat.from_dict(safe_tree(nb))       # JSON may carry lone surrogates: not into the gradebook
    resources = {"nbgrader": {"notebook": notebook_id, "assignment": job.assignment, "db_url": db_url(job.root),
                              "student": job.student}}
    for step in [ClearOutput(), DeduplicateIds(), OverwriteKernelspec(), OverwriteCells(add_missing_cells=True),
                 CheckCellMetadata()]:
        nb, resources = step.preprocess(nb, resources)
    return nb


def grade_student(job, spares=None):
    """Execute every notebook of one submission in the sandbox; write the results to the staging folder.
    `spares` (a local pool's Spares) gives a kernel started ahead, and starts the next one.
    Whatever goes wrong, here or in the kernel, is this student's outcome ("not graded: why"),
    never an exception: the other students are graded and recorded all the same."""
    start, outcome = time.monotonic(), Outcome(job.student)
    staged = staging(Path(job.root), job.assignment) / job.student / job.assignment
    try:
        if job.refused:
            raise submission.Refused(job.refused)
        _grade_notebooks(job, spares, outcome, staged)
    except submission.Refused as refusal:
        outcome.problems.append(f"refused: {refusal}")
        outcome.executed = False
    except Exception as error:     # a fault while grading this student (I/O, encoding, clean-up...)
        outcome.problems.append(f"grading failed ({type(error).__name__}: {safe_text(error, 300)})")
        outcome.executed = False
    if not outcome.executed:
        remove_tree(str(staged))
    outcome.problems = [safe_text(problem, 2000) for problem in outcome.problems]
    outcome.seconds = time.monotonic() - start
    return outcome


def _grade_notebooks(job, spares, outcome, staged):
    checks = for_assignment(job.assignment)
    remove_tree(str(staged))
    uploaded = submission.read(job.root, job.assignment, job.student)
    matched = match_submission(job.root, job.assignment, job.student, uploaded.notebooks)
    outcome.problems += matched.missing + matched.notes
    for name, target in sorted(matched.graded.items()):
        try:
            nb = prepare(name, uploaded.notebooks[name], job, target[:-len(".ipynb")])
        except Exception as error:
            outcome.problems.append(safe_text(error, 500))
            continue
        verdicts = Verdicts(checks, job.assignment, job.student, job.secret, answers_digest(nb))
        nb, problems = execute(nb, (spares.take() if spares else None) or new_kernel(job),
                               cell_timeout=job.cell_timeout, total_timeout=job.total_timeout, verdicts=verdicts,
                               on_ready=(lambda: spares.start(job)) if spares else None,
                               new_kernel=lambda environment: new_kernel(job, environment))
        outcome.problems += problems
        staged.mkdir(parents=True, exist_ok=True)
        nbformat.write(nbformat.from_dict(safe_tree(nb)), str(staged / target))
        outcome.executed = True
    for extra, data in uploaded.extras.items():
        if staged.exists():
            (staged / extra).write_bytes(data)


def match_submission(root, assignment, student, notebooks):
    """names.match of the uploaded `notebooks` (names) against the assignment's own."""
    where = f"submitted/{student}/{assignment}"
    return names.match(names.expected(root, assignment), list(notebooks), _other_files(Path(root) / where), where)


def _other_files(folder):
    """Names of the files beside the notebooks (for a reason: "only assignment_07.py"), not followed
    (the folder was read safely by submission.read just before)."""
    try:
        with os.scandir(folder) as entries:
            return [safe_text(entry.name, 100) for entry in entries
                    if not entry.name.endswith(".ipynb") and not entry.name.startswith(".")
                    and entry.name not in submission.READ]
    except OSError:
        return []


def new_kernel(job, environment=None):
    """A fresh sandboxed kernel (not started) for a notebook of this job, of `environment` (the
    checks' primary one by default; see core.Tasks.environment). A NUMPY kernel's only importable
    packages are an allow-list (NumPy, matplotlib, the kernel's own needs and the standard library:
    sandbox.allowlist_site); a FULL one has the course's packages but those it must not have."""
    checks = for_assignment(job.assignment)
    environment = environment or checks.TASKS.primary
    if environment == core.NUMPY and not job.unsafe:
        return Kernel(allowed=sandbox.allowlist_site())
    return Kernel(unsafe=job.unsafe, hidden_packages=checks.TASKS.hidden_packages)


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


def dispatch(jobs, workers, report, scheduler=None, out=sys.stdout):
    """Run grade_student on every job with a pool of local workers; call report(outcome) as each ends.
    With `scheduler` (a Dask scheduler's address), grade on that cluster instead, one task per job,
    at most `workers` at a time if given, else one per worker thread (grader.cluster), and return
    the cluster's figures (None locally)."""
    if scheduler:
        from .cluster import dispatch_on_cluster
        return dispatch_on_cluster(jobs, scheduler, report, out, at_once=workers)
    spares = Spares()
    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(grade_student, job, spares): job for job in jobs}
            for future in as_completed(futures):
                try:
                    outcome = future.result()
                except Exception as error:      # grade_student returns its faults; this is a last resort
                    outcome = Outcome(futures[future].student,
                                      problems=[f"grading failed ({type(error).__name__}: {safe_text(error, 300)})"])
                try:
                    report(outcome)
                except Exception as error:
                    print(f"could not report {outcome.student}: {type(error).__name__}: {safe_text(error, 300)}",
                          file=sys.stderr)
    finally:
        spares.close()


def staging(root, assignment):
    return Path(root) / ".grading" / assignment / "executed"


def already_graded(root, assignment, student):
    """True when autograded/<student>/<assignment>/ holds a notebook at least as new as every submitted
    one (looked at without following links: a refused submission is never "already graded")."""
    graded = Path(root) / "autograded" / student / assignment
    try:
        listed = submission.read(root, assignment, student, contents=False)
    except submission.Refused:
        return False
    matched = match_submission(root, assignment, student, listed.mtimes)
    return bool(matched.graded) and not matched.missing and all(
        (graded / target).is_file() and (graded / target).stat().st_mtime >= listed.mtimes[name]
        for name, target in matched.graded.items())


def autograde(assignment, root=course.REPO, force=False, jobs=None, unsafe=False, cell_timeout=120,
              total_timeout=300, out=sys.stdout, only=None, scheduler=None):
    """Grade every submission of `assignment` under root/submitted/ (or only the students in
    `only`, graded again even if they were), here or, with `scheduler` (tcp://HOST:8786), on that
    Dask cluster (grader.cluster). Returns 0, or 1 if some could not be graded."""
    root = Path(root).resolve()
    if not (root / "solutions" / assignment).is_dir():
        raise course.CannotRun(f"No assignment {assignment!r}: expected the folder {root / 'solutions' / assignment}.")
    if not unsafe and not scheduler:          # on a cluster, each worker checks its own sandbox
        reason = sandbox.check(tmp_parent=None)
        if reason:
            raise course.CannotRun(f"Refusing to grade: {reason}.\nSubmissions are untrusted code and are only run "
                                   "sandboxed. To run them without isolation anyway (trusted code only), pass "
                                   "--unsafe-no-sandbox.")
    try:
        for_assignment(assignment)
    except NoChecks as error:
        raise course.CannotRun(str(error)) from None
    secret = course_secret()
    _ensure_in_gradebook(root, assignment)
    found, refused = submission.students(root, assignment)
    students = sorted([*found, *refused])
    pending = _pending(root, assignment, students, refused, force, only)
    # the references need TensorFlow: import it while the kernels get ready (it silences descriptor 2
    # while it runs, see course_tools.keras_setup; python -m grader writes sys.stderr elsewhere)
    if secret and pending and not scheduler:     # on a cluster, the checks run on the workers
        threading.Thread(target=references.warm_up, daemon=True).start()
    print(f"{assignment}: {len(students)} submissions, {len(pending)} to grade"
          f"{'' if force or only else ' (already graded ones skipped; --force grades all)'}", file=out)
    remove_tree(str(staging(root, assignment)))
    outcomes, start, figures = {}, time.monotonic(), None

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
                outcome.problems.append(f"{NOT_RECORDED}: {error}")
                outcome.executed = False
        if outcome.executed:
            writer.record(outcome.student, recorded)

    if pending:
        writer = GradebookWriter(root, assignment, staging(root, assignment).relative_to(root))
        try:
            figures = dispatch([Job(s, assignment, str(root), unsafe, cell_timeout, total_timeout, secret,
                                    refused.get(s, "")) for s in pending],
                               jobs if scheduler else jobs or os.cpu_count() or 1,
                               lambda outcome: (report(outcome), record(outcome)),
                               scheduler, out)
        finally:
            writer.close()     # waits until every graded student is recorded
    save_outcomes(root, assignment, outcomes)
    last = read_outcomes(root, assignment)
    failed = _summary(root, assignment, students, last, set(outcomes), out)
    unrecorded = sorted(s for s, o in outcomes.items() if any(p.startswith(NOT_RECORDED) for p in o.problems))
    if unrecorded:
        print(f"\n{len(unrecorded)} student{'s' if len(unrecorded) > 1 else ''} not recorded in the gradebook: "
              f"{', '.join(unrecorded)}. Run the same command again to record them (students recorded are "
              "skipped).", file=out)
    graded_now = sum(o.executed for o in outcomes.values())
    print(f"{assignment}: {len(students)} submissions, {len(students) - len(failed)} graded ({graded_now} now), "
          f"{len(failed)} not graded{': ' if failed else ''}{', '.join(failed)}; {len(pending)} run in "
          f"{time.monotonic() - start:.1f} s, " + (f"on the Dask cluster at {scheduler} ({figures['threads']} "
                                                   f"threads, {figures['lost']} workers lost)" if figures else
                                                   f"{jobs or os.cpu_count()} at a time"), file=out)
    return 1 if failed else 0


def _pending(root, assignment, students, refused, force, only):
    """The students to grade: `only` (all of them: a regrade), else the refused, the new and the
    resubmitted (everyone with force)."""
    if only:
        unknown = sorted(set(only) - set(students))
        if unknown:
            raise course.CannotRun(f"No submission of {assignment} from {', '.join(unknown)}: the students with "
                                   f"a folder submitted/<student>/{assignment} are {', '.join(students) or 'none'}.")
        return [s for s in students if s in only]
    return [s for s in students if s in refused or force or not already_graded(root, assignment, s)]


def save_outcomes(root, assignment, outcomes):
    """Add this run's outcomes to .grading/<assignment>/outcomes.json (each student's last one), which
    the export (grader.export) and the report read: graded or not, why not, and how long it took."""
    path = outcomes_path(root, assignment)
    kept = read_outcomes(root, assignment)
    kept.update({student: {"graded": outcome.executed, "problems": outcome.problems,
                           "seconds": round(outcome.seconds, 2)} for student, outcome in outcomes.items()})
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(kept, indent=1, sort_keys=True), encoding="utf-8")
    partial.replace(path)


def _ensure_in_gradebook(root, assignment):
    """nbgrader restores test cells from the gradebook: generate the assignment first if it is not there."""
    with Gradebook(db_url(root)) as gradebook:
        try:
            gradebook.find_assignment(assignment)
            return
        except MissingEntry:
            pass
    course.nbgrader("generate_assignment", assignment, "--force", "--log-level=ERROR", root=root, quiet=True)


def _summary(root, assignment, students, last, now, out):
    """Print the score table: each student's score and status, from this run's outcome for the
    students in `now`, else from their last one (`last`: the saved outcomes, see save_outcomes).
    Returns the students not graded."""
    failed = []
    with Gradebook(db_url(root)) as gradebook:
        max_score = gradebook.find_assignment(assignment).max_score
        print(f"\n{'student':<24} {'score':>12}  status", file=out)
        for student in students:
            try:
                score = f"{gradebook.find_submission(assignment, student).score:g}"
            except MissingEntry:
                score = None
            record = last.get(student, {"graded": score is not None, "problems": ["never graded"]})
            if not record.get("graded"):
                score = None
                failed.append(student)
            print(f"{student:<24} {(score or '-') + ' / ' + format(max_score, 'g'):>12}  "
                  f"{_status(record, student in now)}", file=out)
    return failed


def _status(record, now):
    """'graded', 'graded (notes)', 'graded before' or 'not graded: reasons' (', last run' if not now)."""
    problems = "; ".join(record.get("problems", []))
    if not record.get("graded"):
        return f"not graded: {problems or 'no reason recorded'}" + ("" if now else " (last run)")
    if not now:
        return "graded before"
    return "graded" + (f" ({problems})" if problems else "")
