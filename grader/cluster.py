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
reason. (The scheduler counts a death against every task assigned to that worker, so at most one
task per worker thread, or --jobs, is on the cluster at a time; the next ones wait here, prepared.)
A line is printed for each worker lost and for each of our tasks it was running. A result
is recorded only once per student (a second one, after a recomputation, is ignored). If the
scheduler is lost, or the instructor presses Ctrl-C, the students not yet graded are left
ungraded; running the same command again grades them and skips those already recorded.
"""
import asyncio
import collections
import hashlib
import importlib.metadata
import logging
import platform
import queue
import re
import threading
import time
import uuid
import weakref
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import numpy as np

try:    # only grading on a cluster needs Dask (dispatch_on_cluster says so if it is missing)
    import distributed
    from distributed.diagnostics.plugin import WorkerPlugin
except ImportError:
    distributed, WorkerPlugin = None, object

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
        return distributed.get_worker().address
    except (AttributeError, ValueError):
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
        _warm_up()
        job = Job(task.student, task.assignment, root="", unsafe=task.unsafe, cell_timeout=task.cell_timeout,
                  total_timeout=task.total_timeout)
        spares = _spares.setdefault((task.assignment, task.unsafe), Spares())
        for target, text, seeds in task.notebooks:
            nb = nbformat.reads(text, as_version=4)
            verdicts = SeededVerdicts(checks, task.assignment, task.student, seeds)
            nb, problems = execute(nb, _live(spares.take() or new_kernel(job)), cell_timeout=task.cell_timeout,
                                   total_timeout=task.total_timeout, verdicts=verdicts,
                                   on_ready=lambda: spares.start(job),
                                   new_kernel=lambda environment: _live(new_kernel(job, environment)))
            result["problems"] += problems
            result["notebooks"][target] = nbformat.writes(nbformat.from_dict(safe_tree(nb)))
    except Exception as error:
        result["problems"].append(f"grading failed ({type(error).__name__}: {safe_text(error, 300)})")
        result["notebooks"], result["failed"] = {}, True
    result["seconds"] = time.monotonic() - start
    return result


_warm = threading.Lock()


def _warm_up():
    """Once per worker process: import Keras for the checks' references in a thread while the first
    kernel starts (as a local run does in the instructor's process)."""
    if _warm.acquire(blocking=False):
        from .checks import references
        threading.Thread(target=references.warm_up, daemon=True).start()


_kernels = weakref.WeakSet()     # the kernels this worker's tasks are running


def _live(kernel):
    _kernels.add(kernel)
    return kernel


def close_kernels():
    """Stop the kernels this worker started ahead and never used, and those of the tasks it is
    running (it is closing: their sandboxes must not outlive it)."""
    for spares in list(_spares.values()):
        spares.close()
    _spares.clear()
    for kernel in list(_kernels):
        if kernel.km.has_kernel:
            kernel.close()


class CloseSpares(WorkerPlugin):
    """Registered by each run: when a worker closes, it stops its kernels (see close_kernels)."""
    name = "grader-close-kernels"

    async def teardown(self, worker):
        # also called when the next run registers the plugin again: the worker goes on grading then
        if getattr(getattr(worker, "status", None), "name", "closing") in ("running", "paused"):
            return
        # a kernel is stopped through its own event loop: not in the worker's, which this would block
        await asyncio.to_thread(close_kernels)


def dask_setup(worker):
    """`dask worker ... --preload grader.cluster`: at the worker's start, build the sandbox's package
    allow-list (a minute or two after an install) and import Keras, not in the first task."""
    def ready():
        if not sandbox.check(tmp_parent=None):
            sandbox.allowlist_site()
    threading.Thread(target=ready, daemon=True).start()
    _warm_up()


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
            digest = answers_digest(nb)
            seeds = {cell.metadata["nbgrader"]["grade_id"]: hidden_seed(job.secret, job.assignment, job.student,
                                                                        cell.metadata["nbgrader"]["grade_id"], digest)
                     for cell in nb.cells if is_test_cell(cell)}
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


def dispatch_on_cluster(jobs, address, report, out, at_once=None):
    """Grade every job on the Dask cluster whose scheduler is at `address`, one task per student;
    call report(outcome) in this thread as each student's result arrives (once per student).
    At most `at_once` tasks are on the cluster at a time (default: as many as its worker threads,
    counted as workers come and go), so that a task waits here, not in a worker's queue, where the
    death of that worker would count against it too. Returns the run's figures: {"workers",
    "threads", "tasks", "sent", "received", "lost", "retried"} (bytes of notebooks sent and received).
    Raises course.CannotRun if the cluster cannot grade (no scheduler, no worker, a worker unfit)."""
    try:    # only this mode needs Dask: requirements.txt pins it, the package's [grading] does not
        from distributed import Client
    except ImportError:
        raise CannotRun("Grading on a Dask cluster needs Dask distributed in this environment: install the "
                        "versions that requirements.txt pins (`pip install -r requirements.txt`).") from None
    # our own lines say what happens (a worker lost, the scheduler lost): not Dask's log, whose
    # loggers (distributed.client, ...) have levels of their own
    quiet = [logging.getLogger(name) for name in ["distributed", *logging.root.manager.loggerDict]
             if name == "distributed" or name.startswith("distributed.")]
    levels = [(logger, logger.level) for logger in quiet]
    for logger in quiet:
        logger.setLevel(logging.CRITICAL + 1)
    try:
        try:
            client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except Exception as error:
            raise CannotRun(f"Could not reach the Dask scheduler at {address}: {type(error).__name__}: "
                            f"{safe_text(error, 300)}") from None
        try:
            return _Run(client, jobs, address, report, out, at_once).run()
        finally:
            client.close(timeout=10)
    finally:
        for logger, level in levels:
            logger.setLevel(level)


class _Run:
    """One grading run on a cluster (see dispatch_on_cluster)."""

    def __init__(self, client, jobs, address, report, out, at_once):
        self.client, self.jobs, self.address, self.report, self.out = client, list(jobs), address, report, out
        self.at_once, self.events, self.id = at_once, queue.Queue(), uuid.uuid4().hex[:8]
        self.waiting = collections.deque(self.jobs)   # not prepared yet
        self.ready = collections.deque()              # prepared, not sent: (job, task, extras, outcome, seconds)
        self.running = {}                             # student -> (future, job, extras, outcome, seconds)
        self.keys, self.recorded = {}, set()          # task key -> student; students reported
        self.figures = dict(workers=0, threads=0, tasks=0, sent=0, received=0, lost=0, retried=0)

    def check_workers(self):
        assignment = self.jobs[0].assignment if self.jobs else ""
        self.wanted = manifest(assignment)
        try:
            self.client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
        except Exception:
            raise CannotRun(f"The Dask scheduler at {self.address} has no worker (waited {CONNECT_TIMEOUT} s): "
                            f"start `dask worker {self.address}` on the grading machines (see README, instructors)."
                            ) from None
        statuses = self.client.run(worker_status, assignment, self.wanted, any(job.unsafe for job in self.jobs))
        unfit_workers = {worker: reason for worker, reason in statuses.items() if reason}
        if unfit_workers:
            raise CannotRun("Refusing to grade on this cluster: " + "; ".join(
                f"worker {worker}: {reason}" for worker, reason in sorted(unfit_workers.items())))
        self.allowed_failures = self.client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.allowed_failures)
        self.count_threads()
        self.figures["workers"] = len(statuses)
        print(f"grading on the Dask cluster at {self.address}: {len(statuses)} workers, {self.threads} threads; "
              f"a task whose worker dies is run again, {self.allowed_failures} times at most", file=self.out,
              flush=True)

    def count_threads(self):
        self.threads, self.counted = sum(self.client.nthreads().values()), time.monotonic()
        self.figures["threads"] = max(self.figures["threads"], self.threads)

    def limit(self):
        if time.monotonic() - self.counted > 10:
            self.count_threads()              # workers that joined since take tasks too
        return self.at_once or max(1, self.threads)

    def run(self):
        self.check_workers()
        self.client.register_plugin(CloseSpares(), name=CloseSpares.name)
        self.client.subscribe_topic("all", self.on_event)
        try:
            while len(self.recorded) < len(self.jobs):
                self.send()
                if self.client.status not in ("running", "connecting"):
                    self.scheduler_lost()
                    break
                try:   # while tasks run, prepare the next one here
                    event = self.events.get(timeout=0 if self.waiting and len(self.ready) < 2 else 1)
                except queue.Empty:
                    if self.waiting and len(self.ready) < 2:
                        self.prepare()
                    continue
                self.handle(*event)
            return self.figures
        finally:
            if self.running:                # Ctrl-C, or the scheduler lost: nobody is waiting for them
                try:
                    self.client.cancel([future for future, *_ in self.running.values()])
                except Exception:
                    pass
            try:
                self.client.unsubscribe_topic("all")
            except Exception:
                pass

    def on_event(self, event):
        """Called by the client for each event of the scheduler's topic "all" (in its own thread)."""
        _, message = event
        if isinstance(message, dict) and message.get("action") == "remove-worker":
            self.events.put(("lost", message.get("worker"), message.get("processing-tasks", ()),
                             message.get("expected")))

    def prepare(self):
        job = self.waiting.popleft()
        started = time.monotonic()
        task, extras, outcome = make_task(job, self.wanted)
        seconds = time.monotonic() - started
        if task is None:
            self.finish(outcome, seconds)           # refused, no notebook...: nothing to send
        else:
            self.ready.append((job, task, extras, outcome, seconds))

    def send(self):
        while len(self.running) < self.limit() and (self.ready or self.waiting):
            if not self.ready:
                self.prepare()
                continue
            job, task, extras, outcome, seconds = self.ready.popleft()
            key = f"grade-{job.assignment}-{job.student}-{self.id}"
            self.keys[key] = job.student
            future = self.client.submit(grade_on_worker, task, key=key, pure=False, retries=1)
            self.figures["tasks"] += 1
            self.figures["sent"] += sum(len(text.encode("utf-8", "surrogatepass")) for _, text, _ in task.notebooks)
            self.running[job.student] = (future, job, extras, outcome, seconds)
            future.add_done_callback(lambda done, student=job.student: self.events.put(("done", student, done)))

    def handle(self, kind, *what):
        if kind == "lost":
            worker, processing, expected = what
            ours = sorted(self.keys[k] for k in processing if k in self.keys and self.keys[k] in self.running)
            self.figures["lost"] += 1
            self.figures["retried"] += len(ours)
            if self.threads:
                self.count_threads()
            print(f"worker {worker} lost{' (it was retired)' if expected else ''}"
                  + (f"; run again on another worker: {', '.join(ours)}" if ours else ""), file=self.out, flush=True)
            return
        student, future = what
        if student not in self.running or self.running[student][0].key != future.key:
            return                          # a second result for a student already reported: never twice
        if future.cancelled() or self.client.status not in ("running", "connecting"):
            self.scheduler_lost()
            return
        _, job, extras, outcome, seconds = self.running.pop(student)
        try:
            result = future.result()
            self.figures["received"] += sum(len(text.encode("utf-8", "surrogatepass"))
                                            for text in result.get("notebooks", {}).values())
            outcome.seconds = seconds + result.get("seconds", 0.0)
            stage(job, result, extras, outcome)
        except distributed.KilledWorker as error:
            outcome.problems.append(
                f"the worker grading it died {self.allowed_failures + 1} times (the last was "
                f"{safe_text(getattr(error.last_worker, 'address', '?'), 100)}): out of memory or killed? "
                "see that worker's log")
        except Exception as error:
            outcome.problems.append(f"grading failed on the cluster ({type(error).__name__}: "
                                    f"{safe_text(error, 300)})")
        finally:
            future.release()
        self.finish(outcome, seconds)

    def finish(self, outcome, seconds):
        if outcome.student in self.recorded:
            return
        self.recorded.add(outcome.student)
        outcome.problems = [safe_text(problem, 2000) for problem in outcome.problems]
        outcome.seconds = outcome.seconds or seconds
        self.report(outcome)

    def scheduler_lost(self):
        """The client lost the scheduler: every student not reported yet is not graded, and says so."""
        left = [outcome for _, _, _, outcome, _ in self.running.values()]
        left += [outcome for _, _, _, outcome, _ in self.ready]
        left += [_outcome(job.student) for job in self.waiting]
        self.running.clear()
        self.ready.clear()
        self.waiting.clear()
        for outcome in sorted(left, key=lambda o: o.student):
            outcome.problems.append(f"the Dask scheduler at {self.address} was lost before this student was "
                                    "graded: run the same command again to grade them")
            self.finish(outcome, 0.0)


def _outcome(student):
    from .autograde import Outcome
    return Outcome(student)
