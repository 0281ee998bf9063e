"""Grading on a Dask cluster: `python -m grader autograde <id> --scheduler tcp://HOST:8786`.

One task per submission, on Dask distributed's workers; the instructor's process stays the only
reader of `submitted/`, the only writer of `.grading/` and (through grader.gradebook) of the
gradebook, and the only holder of the course secret.

Who does what:

- The instructor's process (`dispatch_on_cluster`, called by grader.autograde.dispatch) reads each
  submission as data (grader.submission, without following links), matches its notebooks' names,
  restores the instructor's cells from the gradebook and clears the outputs (autograde.prepare),
  exactly as a local run does, and derives the seed of every graded cell's random inputs
  (verdicts.hidden_seed: an HMAC of the course secret, the student, the cell and a digest of the
  answers). It submits ONE task per student: a `Task`, plain data: the prepared notebooks as JSON
  text, those seeds, the limits, and a manifest of the grader's code and package versions. As each
  result comes back (executed notebooks, as JSON text) it writes them to
  `.grading/<id>/executed/<student>/` and hands the student to the run's `report`, which prints the
  progress line and queues the student for the one gradebook writer: a student is recorded as
  their result arrives, once.
- A worker (`grade_on_worker`) checks that its grader and packages are the instructor's (the
  manifest) and that it can make a sandbox, then runs each notebook in a sandboxed kernel exactly as
  grade_student does locally (grader.execute: same allow-listed environment, limits and rules) and
  decides the test cells there: the checks call the student's functions in the kernel, so they run
  next to it, in the worker's own trusted process, outside the sandbox. Their random inputs are drawn
  from the seeds that came with the task (`SeededVerdicts`): the secret never leaves the
  instructor's machine, and a seed tells nothing about the secret, another cell's inputs, another
  student's or another submission's (an HMAC output). The worker reads and writes nothing of the
  course folder: no shared file system is needed, only the course environment (same checkout, same
  requirements) on every worker.

Nothing lost, nothing twice: a task whose worker dies while it runs (killed, out of memory,
machine lost) is run again on another worker by the scheduler, up to its
`distributed.scheduler.allowed-failures` times; after that the student is "not graded" with the
reason. A line is printed for each worker lost and for each of our tasks it was running. A result
is recorded only once per student (a second one, after a recomputation, is ignored). If the
scheduler is lost, or the instructor presses Ctrl-C, the students not yet graded are left
ungraded; running the same command again grades them and skips those already recorded.
"""
import hashlib
import importlib.metadata
import logging
import platform
import queue
import re
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import numpy as np

from . import sandbox, submission
from .checks import for_assignment
from .course import CannotRun
from .execute import execute
from .safety import remove_tree, safe_text, safe_tree
from .verdicts import Verdicts, answers_digest, hidden_seed, is_test_cell

PACKAGES = ("numpy", "matplotlib", "ipykernel", "jupyter_client", "nbclient", "nbformat", "nbgrader", "keras",
            "tensorflow", "scikit-learn", "dask", "distributed")   # versions that workers must share
RESULT_BYTES = 512 * 2**20          # the most a worker's result may be (its notebooks' outputs are bounded)
CONNECT_TIMEOUT = 30                # seconds to reach the scheduler, and to wait for a first worker


@dataclass
class Task:
    """What a worker receives for one student (plain data). `notebooks`: (file name, the prepared
    notebook as JSON text, {grade id: seed of its check's random inputs}) per notebook."""
    student: str
    assignment: str
    notebooks: list
    unsafe: bool = False
    cell_timeout: int = 120
    total_timeout: int = 300
    manifest: dict = field(default_factory=dict)


class SeededVerdicts(Verdicts):
    """Verdicts whose checks draw their random inputs from seeds sent by the instructor's process
    (verdicts.hidden_seed), not from the course secret, which stays there."""

    def __init__(self, checks, assignment, student, seeds):
        super().__init__(checks, assignment, student, secret="")
        self.seeds = seeds

    def rng(self, grade_id):
        return np.random.default_rng(self.seeds[grade_id])


# --- what must be the same on every machine -----------------------------------------------------

def manifest(assignment):
    """The grader's code for `assignment` (a digest of each of its files, the other assignments'
    checks left out) and the versions that decide a verdict or run a kernel: a worker whose
    manifest differs from the instructor's does not grade."""
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    package = Path(__file__).resolve().parent
    own = f"a{assignment}.py"
    for path in sorted(package.rglob("*.py")):
        if path.parent.name == "checks" and re.fullmatch(r"a\d\d_\w+\.py", path.name) and path.name != own:
            continue
        found[f"grader/{path.relative_to(package).as_posix()}"] = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return found


def differences(theirs, mine):
    """The names whose entry differs between two manifests."""
    return sorted(name for name in set(theirs) | set(mine) if theirs.get(name) != mine.get(name))


_fit = {}       # (digest of the instructor's manifest, unsafe) -> why this worker cannot grade, or None


def unfit(assignment, wanted, unsafe):
    """Why this process cannot grade `assignment` for an instructor whose manifest is `wanted`, or None."""
    key = (assignment, hashlib.sha256(repr(sorted(wanted.items())).encode()).hexdigest(), unsafe)
    if key not in _fit:
        reason = None
        differ = differences(manifest(assignment), wanted)
        if differ:
            reason = (f"its grader or packages differ from the instructor's ({', '.join(differ[:6])}"
                      f"{', ...' if len(differ) > 6 else ''}): give every worker the same course checkout and "
                      "requirements")
        elif not unsafe:
            why = sandbox.check(tmp_parent=None)
            reason = f"it cannot make a sandbox: {why}" if why else None
        _fit[key] = reason
    return _fit[key]


def _here():
    try:
        from distributed import get_worker
        return get_worker().address
    except (ImportError, ValueError):
        return platform.node()


# --- the worker's side --------------------------------------------------------------------------

_spares = {}    # (assignment, unsafe) -> autograde.Spares: a kernel started ahead per worker thread


def grade_on_worker(task):
    """Grade one student on a worker: {"worker", "notebooks": {file name: executed notebook as JSON
    text}, "problems": [...], "seconds", "failed"}. Whatever goes wrong is in "problems" (with "failed"
    true and no notebooks, as a local run would leave nothing staged), never an exception."""
    from .autograde import Job, Spares, new_kernel
    start = time.monotonic()
    result = {"worker": _here(), "notebooks": {}, "problems": [], "failed": False}
    try:
        reason = unfit(task.assignment, task.manifest, task.unsafe)
        if reason:
            raise RuntimeError(f"the worker {result['worker']} cannot grade: {reason}")
        checks = for_assignment(task.assignment)
        job = Job(task.student, task.assignment, root="", unsafe=task.unsafe, cell_timeout=task.cell_timeout,
                  total_timeout=task.total_timeout)
        spares = _spares.setdefault((task.assignment, task.unsafe), Spares())
        for target, text, seeds in task.notebooks:
            nb = nbformat.reads(text, as_version=4)
            verdicts = SeededVerdicts(checks, task.assignment, task.student, seeds) if checks else None
            nb, problems = execute(nb, spares.take() or new_kernel(job), cell_timeout=task.cell_timeout,
                                   total_timeout=task.total_timeout, verdicts=verdicts,
                                   on_ready=lambda: spares.start(job),
                                   new_kernel=lambda environment: new_kernel(job, environment))
            result["problems"] += problems
            result["notebooks"][target] = nbformat.writes(nbformat.from_dict(safe_tree(nb)))
    except Exception as error:
        result["problems"].append(f"grading failed ({type(error).__name__}: {safe_text(error, 300)})")
        result["notebooks"], result["failed"] = {}, True
    result["seconds"] = time.monotonic() - start
    return result


def dask_setup(worker):
    """`dask worker ... --preload grader.cluster`: build the sandbox's package allow-list now (a
    minute or two after an install), not in the first task."""
    import threading
    threading.Thread(target=lambda: sandbox.check(tmp_parent=None) or sandbox.allowlist_site(), daemon=True).start()


def worker_status(assignment, wanted, unsafe):
    """For client.run at the start of a run: why this worker cannot grade, or None."""
    return unfit(assignment, wanted, unsafe)


# --- the instructor's side ----------------------------------------------------------------------

def make_task(job, wanted):
    """(Task, extras, Outcome) for one job, read and prepared here; Task is None when nothing of
    the submission can run (refused, no notebook...): the Outcome then says why."""
    from .autograde import Outcome, match_submission, prepare
    outcome, extras, notebooks = Outcome(job.student), {}, []
    try:
        if job.refused:
            raise submission.Refused(job.refused)
        checks = for_assignment(job.assignment)
        uploaded = submission.read(job.root, job.assignment, job.student)
        matched = match_submission(job.root, job.assignment, job.student, uploaded.notebooks)
        outcome.problems += matched.missing + matched.notes
        extras = uploaded.extras
        for name, target in sorted(matched.graded.items()):
            try:
                nb = prepare(name, uploaded.notebooks[name], job, target[:-len(".ipynb")])
            except Exception as error:
                outcome.problems.append(safe_text(error, 500))
                continue
            digest = answers_digest(nb) if checks else ""
            seeds = {cell.metadata["nbgrader"]["grade_id"]: hidden_seed(job.secret, job.assignment, job.student,
                                                                        cell.metadata["nbgrader"]["grade_id"], digest)
                     for cell in nb.cells if checks and is_test_cell(cell)}
            notebooks.append((target, nbformat.writes(nb), seeds))
    except submission.Refused as refusal:
        outcome.problems.append(f"refused: {refusal}")
        notebooks = []
    except Exception as error:
        outcome.problems.append(f"grading failed ({type(error).__name__}: {safe_text(error, 300)})")
        notebooks = []
    task = Task(job.student, job.assignment, notebooks, job.unsafe, job.cell_timeout, job.total_timeout, wanted) \
        if notebooks else None
    return task, extras, outcome


def stage(job, result, extras, outcome):
    """Write a worker's executed notebooks (and the submission's extras) to the staging folder, as
    grade_student does locally; complete `outcome`."""
    from .autograde import staging
    staged = staging(Path(job.root), job.assignment) / job.student / job.assignment
    outcome.problems += result.get("problems", [])
    try:
        remove_tree(str(staged))
        for target, text in sorted(result.get("notebooks", {}).items()):
            if Path(target).name != target or not target.endswith(".ipynb"):
                raise ValueError(f"a worker returned a notebook named {target!r}")
            staged.mkdir(parents=True, exist_ok=True)
            nbformat.write(nbformat.from_dict(safe_tree(nbformat.reads(text, as_version=4))), str(staged / target))
            outcome.executed = True
        for extra, data in extras.items():
            if staged.exists():
                (staged / extra).write_bytes(data)
    except Exception as error:
        outcome.problems.append(f"grading failed ({type(error).__name__}: {safe_text(error, 300)})")
        outcome.executed = False
    if not outcome.executed:
        remove_tree(str(staged))


def _finish(outcome, started, report):
    outcome.problems = [safe_text(problem, 2000) for problem in outcome.problems]
    outcome.seconds = outcome.seconds or time.monotonic() - started     # the worker's time, if it ran there
    report(outcome)


def dispatch_on_cluster(jobs, address, report, out, allowed_failures=None):
    """Grade every job on the Dask cluster whose scheduler is at `address`, one task per student;
    call report(outcome) in this thread as each student's result arrives (once per student).
    Returns the run's figures: {"workers", "threads", "tasks", "sent", "received", "lost", "retried"}.
    Raises course.CannotRun if the cluster cannot grade (no scheduler, no worker, a worker unfit)."""
    from distributed import Client
    quiet = logging.getLogger("distributed")
    level, quiet.level = quiet.level, logging.CRITICAL     # our own lines say what happens
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except Exception as error:
        quiet.setLevel(level)
        raise CannotRun(f"Could not reach the Dask scheduler at {address}: {type(error).__name__}: "
                        f"{safe_text(error, 300)}") from None
    try:
        return _run(client, jobs, address, report, out, allowed_failures)
    finally:
        try:
            client.close(timeout=10)
        finally:
            quiet.setLevel(level)


def _run(client, jobs, address, report, out, allowed_failures):
    from distributed import KilledWorker
    assignment = jobs[0].assignment if jobs else ""
    wanted = manifest(assignment)
    unsafe = any(job.unsafe for job in jobs)
    try:
        client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
    except Exception:
        raise CannotRun(f"The Dask scheduler at {address} has no worker (waited {CONNECT_TIMEOUT} s): start "
                        f"`dask worker {address}` on the grading machines (see README, instructors).") from None
    statuses = client.run(worker_status, assignment, wanted, unsafe)
    unfit_workers = {worker: reason for worker, reason in statuses.items() if reason}
    if unfit_workers:
        raise CannotRun("Refusing to grade on this cluster: " + "; ".join(
            f"worker {worker}: {reason}" for worker, reason in sorted(unfit_workers.items())))
    if allowed_failures is None:
        allowed_failures = client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.allowed_failures)
    threads = sum(client.nthreads().values())
    print(f"grading on the Dask cluster at {address}: {len(statuses)} workers, {threads} threads; a task whose "
          f"worker dies is run again, {allowed_failures} times at most", file=out, flush=True)
    events, run = queue.Queue(), uuid.uuid4().hex[:8]
    futures, pending, figures = {}, {}, dict(workers=len(statuses), threads=threads, tasks=0, sent=0, received=0,
                                             lost=0, retried=0)
    keys, prepared = {}, {}       # task key -> student; student -> seconds spent here reading and preparing

    def on_event(event):
        _, message = event
        if isinstance(message, dict) and message.get("action") == "remove-worker":
            events.put(("lost", message.get("worker"), message.get("processing-tasks", ()), message.get("expected")))

    client.subscribe_topic("all", on_event)
    try:
        for job in jobs:
            started = time.monotonic()
            task, extras, outcome = make_task(job, wanted)
            prepared[job.student] = time.monotonic() - started
            if task is None:
                events.put(("done", job, None, (started, extras, outcome)))
                continue
            key = f"grade-{job.assignment}-{job.student}-{run}"
            keys[key] = job.student
            future = client.submit(grade_on_worker, task, key=key, pure=False, retries=1)
            figures["tasks"] += 1
            figures["sent"] += sum(len(text.encode("utf-8", "surrogatepass")) for _, text, _ in task.notebooks)
            futures[job.student], pending[job.student] = future, (job, started, extras, outcome)
            future.add_done_callback(lambda f, job=job: events.put(("done", job, f, None)))
        recorded = set()
        while len(recorded) < len(jobs):
            try:
                kind, *what = events.get(timeout=1)
            except queue.Empty:
                if client.status not in ("running", "connecting"):
                    _scheduler_lost(address, pending, recorded, report)
                    return figures
                continue
            if kind == "lost":
                worker, processing, expected = what
                ours = sorted(keys[k] for k in processing if k in keys and keys[k] not in recorded)
                figures["lost"] += 1
                figures["retried"] += len(ours)
                print(f"worker {worker} lost{' (it was retired)' if expected else ''}"
                      + (f"; run again on another worker: {', '.join(ours)}" if ours else ""), file=out, flush=True)
                continue
            job, future, local = what
            if job.student in recorded:
                continue                    # a second result for the same student (recomputed): never twice
            if local is not None:
                started, extras, outcome = local
                recorded.add(job.student)
                _finish(outcome, started, report)
                continue
            _, started, extras, outcome = pending.pop(job.student)
            recorded.add(job.student)
            try:
                result = future.result()
                figures["received"] += sum(len(t.encode("utf-8", "surrogatepass"))
                                           for t in result.get("notebooks", {}).values())
                outcome.seconds = prepared[job.student] + result.get("seconds", 0.0)
                stage(job, result, extras, outcome)
            except KilledWorker as error:
                outcome.problems.append(
                    f"the worker grading it died {allowed_failures + 1} times (the last was "
                    f"{safe_text(getattr(error.last_worker, 'address', '?'), 100)}): out of memory or killed? "
                    "see that worker's log")
            except Exception as error:
                if future.cancelled() or client.status not in ("running", "connecting"):
                    pending[job.student] = (job, started, extras, outcome)
                    recorded.discard(job.student)
                    _scheduler_lost(address, pending, recorded, report)
                    return figures
                outcome.problems.append(f"grading failed on the cluster ({type(error).__name__}: "
                                        f"{safe_text(error, 300)})")
            finally:
                futures.pop(job.student, None)
                future.release()
            _finish(outcome, started, report)
        return figures
    finally:
        if futures:                         # Ctrl-C, or the scheduler lost: nobody is waiting for them
            try:
                client.cancel(list(futures.values()))
            except Exception:
                pass
        try:
            client.unsubscribe_topic("all")
        except Exception:
            pass


def _scheduler_lost(address, pending, recorded, report):
    """The client lost the scheduler: every student still pending is not graded, and says so."""
    for student, (job, started, extras, outcome) in sorted(pending.items()):
        if student not in recorded:
            recorded.add(student)
            outcome.problems.append(f"the Dask scheduler at {address} was lost before this student's result "
                                    "came back: run the same command again to grade them")
            _finish(outcome, started, report)
    pending.clear()

