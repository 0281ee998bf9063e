"""Execute one notebook with its kernel inside the sandbox; the notebook itself never enters it.

The trusted process (this one) drives the kernel over ZeroMQ IPC sockets in the submission's work
directory and records the outputs itself, so code in the notebook cannot edit the result file.
Each cell is bounded in time, all cells together in wall time, and a cell's outputs in size. A
cell that runs out of time ends the run (a kernel in that state may ignore interrupts). A cell
that could not run (the kernel died, time ran out) gets an error output, so nbgrader gives its
tests no points.
"""
import json
import os
import subprocess
import tempfile
import threading
import time

import nbformat
import zmq
from jupyter_client import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from . import sandbox
from .safety import remove_tree, safe_text
from .verdicts import is_setup_cell, is_test_cell, run_code

MAX_MESSAGE_BYTES = 96 * 2**20   # one message from a kernel (a check's reply may be 64 MiB of data)
KERNEL_ENV = {"TF_CPP_MIN_LOG_LEVEL": "2", "KERAS_BACKEND": "tensorflow", "PYTHONHASHSEED": "0",
              "OMP_NUM_THREADS": "1", "LANG": "C.UTF-8", "PATH": "/usr/local/bin:/usr/bin:/bin"}


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel starts inside the sandbox (see grader.sandbox.wrap). Asynchronous,
    as nbclient needs: a blocking client would stop it from noticing timeouts and dead kernels."""

    def configure(self, workdir, sockets, root, limits, unsafe=False, hidden_packages=(), uid=sandbox.NOBODY,
                  cgroups=(), allowed=None):
        self.uid = uid
        sandbox.prepare_workdir(sockets, self.uid)
        self.sandbox_args = (workdir, root, limits, self.uid, sandbox.package_locations(hidden_packages), sockets,
                             cgroups, allowed)
        self.unsafe = unsafe
        self.transport = "ipc"
        self.ip = os.path.join(sockets, "kernel")
        self.connection_file = os.path.join(sockets, "kernel.json")
        # a message larger than this is never read: the kernel is disconnected instead (ZeroMQ drops
        # it while receiving), so one huge print cannot fill the grader's memory before the
        # per-cell cap of LimitedClient applies
        self.context.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)

    def client(self, **kwargs):
        """A client whose sockets read no message larger than MAX_MESSAGE_BYTES (see configure)."""
        client = super().client(**kwargs)
        client.context.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
        return client

    def write_connection_file(self, **kwargs):
        """As KernelManager's, then hand the file to the sandboxed user, who must read it."""
        super().write_connection_file(**kwargs)
        if os.geteuid() == 0 and not self.unsafe:
            os.chown(self.connection_file, self.uid, self.uid)

    def format_kernel_cmd(self, extra_arguments=None):
        command = super().format_kernel_cmd(extra_arguments)
        return command if self.unsafe else sandbox.wrap(command, *self.sandbox_args)


class NotebookTimeout(Exception):
    """The notebook's whole time is spent."""


class LimitedClient(NotebookClient):
    """A NotebookClient that keeps at most `max_output_bytes` of output per cell, and gives each
    cell (and each call of a check) at most what is left of the notebook's time, `deadline`."""

    max_output_bytes = 200_000

    def __init__(self, nb, *, deadline=float("inf"), total_timeout=None, **kwargs):
        """deadline: time.monotonic() at which the notebook's time is spent; total_timeout: that
        time in seconds, as messages name it; kwargs: NotebookClient's."""
        super().__init__(nb, **kwargs)
        self.deadline, self.total_timeout = deadline, total_timeout
        self._output_bytes = {}          # cell index -> bytes of output kept so far

    def _get_timeout(self, cell):
        left = self.deadline - time.monotonic()
        return max(0.5, min(self.timeout, left))

    def timeout_left_check(self):
        if time.monotonic() >= self.deadline:
            raise NotebookTimeout(f"the notebook ran out of its {self.total_timeout} s")

    def timeout_reason(self, what):
        """Why `what` (a cell, a call) timed out: its own limit, or the notebook's."""
        if self.deadline - time.monotonic() < 1:
            return f"the notebook ran out of its {self.total_timeout} s (in {what})"
        return f"{what} ran longer than {self.timeout} s"

    def allow_output(self, cell_index, max_bytes):
        """Let the cell at cell_index print up to max_bytes more (a grader call's reply is data)."""
        self._output_bytes[cell_index] = self.max_output_bytes - max_bytes

    def output(self, outs, msg, display_id, cell_index):
        size = len(json.dumps(msg.get("content", {})))
        used = self._output_bytes.get(cell_index, 0)
        self._output_bytes[cell_index] = used + size
        if used + size > self.max_output_bytes:
            if used <= self.max_output_bytes:
                outs.append(nbformat.v4.new_output("stream", name="stdout", text=(
                    f"\n[grader: output cut after {self.max_output_bytes:,} bytes]\n")))
            return None
        return super().output(outs, msg, display_id, cell_index)


class Kernel:
    """A fresh sandbox (its own scratch folder: the writable work directory and the root of its file
    system) with a kernel in it, for ONE notebook. `start()` launches the kernel and returns at
    once: it boots inside its sandbox while the caller does other things (the grader starts the
    kernel of a worker's next submission while the current one runs; it needs nothing of the
    submission). `close()` stops the kernel and deletes the scratch folder."""

    def __init__(self, limits=None, unsafe=False, hidden_packages=(), allowed=None):
        # a short path: the kernel's sockets live here, and Unix sockets allow ~107 characters
        self.scratch = tempfile.mkdtemp(prefix="grade-")
        self.workdir, root = os.path.join(self.scratch, "work"), os.path.join(self.scratch, "root")
        self.sockets = os.path.join(self.scratch, "s")
        for folder in (self.workdir, root, self.sockets):
            os.mkdir(folder)
        limits = limits or sandbox.Limits()
        self.uid = sandbox.NOBODY if unsafe else sandbox.sandbox_uid()
        self.cgroups = [] if unsafe else sandbox.make_cgroups(f"grader-sandbox-{self.uid}", limits)
        self.unsafe = unsafe
        self.km = SandboxedKernelManager(kernel_name="python3")
        self.km.configure(self.workdir, self.sockets, root, limits, unsafe, hidden_packages, self.uid, self.cgroups,
                          allowed)
        self.env = dict(KERNEL_ENV, HOME=self.workdir, MPLCONFIGDIR=os.path.join(self.workdir, ".matplotlib"))
        self.used = False

    def seal(self):
        """Once the kernel answers, its sockets exist: the sandbox may no longer write in their folder
        (everything it writes goes to its size-limited working folder)."""
        if os.geteuid() == 0 and not self.unsafe:
            os.chown(self.sockets, 0, 0)
            os.chmod(self.sockets, 0o711)

    def start(self):
        """Launch the kernel (what nbclient would, with IPython's history kept in memory)."""
        # the kernel's own stdout/stderr (crashes of a hostile kernel, say) are not the instructor's
        run_sync(self.km.start_kernel)(extra_arguments=["--HistoryManager.hist_file=:memory:"], env=self.env,
                                       cwd=self.workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return self

    def close(self):
        """Stop the kernel and delete the scratch folder; never raises (returns what went wrong, or None)."""
        problem = None
        try:
            if self.km.has_kernel:
                run_sync(self.km.shutdown_kernel)(now=True)
        except Exception as error:
            problem = f"stopping the kernel failed ({type(error).__name__}: {safe_text(error, 200)})"
        try:
            for folder in self.cgroups:
                sandbox.remove_cgroup(folder)
        except Exception as error:
            problem = problem or f"removing the sandbox's cgroup failed ({type(error).__name__})"
        removed = remove_tree(self.scratch)
        if self.uid != sandbox.NOBODY:
            sandbox.release_uid(self.uid)
        return problem or (removed and f"cleaning up the sandbox failed ({removed})")


def error_output(name, message):
    return nbformat.v4.new_output("error", ename=name, evalue=message, traceback=[f"{name}: {message}"])


def execute(nb, kernel=None, cell_timeout=120, total_timeout=300, verdicts=None, on_ready=None, new_kernel=None,
            **sandboxing):
    """Run every code cell of `nb` (in place) with a sandboxed kernel; return (nb, problems).
    `problems` lists what went wrong for the whole notebook (time out, dead kernel), for the summary.

    `kernel` is a Kernel, started or not, used for this notebook only and closed here; without
    one, a new one is made from `sandboxing` (Kernel's limits, unsafe, hidden_packages: the
    packages absent from the sandbox, allowed: the only site-packages it has, from
    sandbox.allowlist_site). `on_ready()` is called once the kernel answers. The
    notebook's `total_timeout` holds during a cell too: each cell, and each call a check makes,
    gets at most what is left of it (and at most `cell_timeout`).

    `verdicts` (grader.verdicts.Verdicts) decide the test cells, which never run: the kernel runs the
    prelude instead of the setup cells, then ALL the student's cells, in order, and only then are
    the test cells decided, in order, by the trusted checks (their outputs are the verdicts). So
    the outputs the feedback shows are those of the student's cells as they ran before any check:
    nothing a student function saw or printed while it was checked can reach a later cell's
    output. `kernel` is of the checks' primary environment; the test cells of another
    environment (assignment 4's NumPy tasks, say) are decided in a kernel of theirs, from
    `new_kernel(environment)`, that runs the student's cells again (their outputs are not kept).
    If a student cell ends the kernel (a time-out, a crash), the tests above it are decided in
    fresh kernels that run the cells above it again; the tests below it did not run, as in a
    notebook run top to bottom."""
    deadline = time.monotonic() + total_timeout
    kernel = kernel or Kernel(**sandboxing)
    code_cells = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    limits = dict(cell_timeout=cell_timeout, total_timeout=total_timeout, deadline=deadline)
    if verdicts is None:      # every assignment has checks: a test cell never runs in the student's kernel
        raise ValueError("execute() needs the trusted checks' Verdicts: test cells are never run in the kernel")
    tests = [(i, c) for i, c in code_cells if is_test_cell(c)]
    student = [(i, c) for i, c in code_cells if not is_test_cell(c) and not is_setup_cell(c)]
    groups, stop = verdicts.by_environment(tests), {}
    first = code_cells[0][0] if code_cells else 0

    def student_cells_then_checks(client, problems):
        run_code(client, verdicts.prelude(verdicts.primary), first)
        stop["at"] = _run_cells(client, student, limits, problems)
        if stop["at"] is None:
            _decide(verdicts, groups[0][1], client, problems)

    problems = _session(nb, kernel, limits, on_ready, student_cells_then_checks)
    cut = stop.get("at", -1)          # None: every student cell ran; -1: the kernel never ran them all
    reason = problems[-1] if problems else "the notebook's kernel stopped"
    for position, (environment, cells) in enumerate(groups):
        if position == 0 and cut is None:
            continue                                  # decided in the notebook's own kernel
        above = cells if cut is None else [(i, c) for i, c in cells if 0 <= i < cut]
        for _, cell in [pair for pair in cells if pair not in above]:
            verdicts.not_run(cell, reason)
        if not above:
            continue
        if new_kernel is None or time.monotonic() >= deadline - 1:
            for _, cell in above:
                verdicts.not_run(cell, reason if cut is not None else f"the notebook ran out of its {total_timeout} s")
            continue
        replayed = [(i, c) for i, c in student if cut is None or i < cut]
        more = _replay_then_decide(nb, verdicts, environment, above, replayed, new_kernel(environment), limits, first)
        if cut is not None:
            problems.append(f"tests above cell {cut} graded in a second kernel"
                            + (f" ({'; '.join(more)})" if more else ""))
        else:
            problems += more
    return nb, problems + verdicts.problems        # faults of the checks themselves, for the instructor


def _replay_then_decide(nb, verdicts, environment, tests, student, kernel, limits, first):
    """In `kernel` (of `environment`): the prelude, the student's cells `student` again (their outputs
    not kept), then the verdicts of `tests`; return the problems of that session."""
    def replay_then_checks(client, problems):
        verdicts.dead = None                          # a fresh kernel: it has not stopped answering
        run_code(client, verdicts.prelude(environment), first)
        for index, cell in student:
            client.timeout_left_check()
            run_code(client, cell.source, index)
        _decide(verdicts, tests, client, problems)
    shown = [(cell, list(cell.outputs)) for _, cell in student]
    problems = _session(nb, kernel, limits, None, replay_then_checks)
    for cell, outputs in shown:          # the feedback shows the student's cells as they first ran
        cell.outputs = outputs
    return problems


def _session(nb, kernel, limits, on_ready, body):
    """Set up a client for `kernel`, call body(client, problems), close the kernel; return problems.
    Whatever fails here (the kernel did not start, died between cells...) is a problem, not an exception."""
    if kernel.used:
        raise ValueError("a Kernel runs one notebook only")
    kernel.used, km = True, kernel.km
    client = LimitedClient(nb, deadline=limits["deadline"], total_timeout=limits["total_timeout"], km=km,
                           timeout=limits["cell_timeout"], allow_errors=True, interrupt_on_timeout=False,
                           startup_timeout=60, record_timing=False)
    problems = []
    # a last resort if something blocks beyond every timeout: kill the sandbox, whatever it does
    watchdog = threading.Timer(max(1.0, limits["deadline"] - time.monotonic()) + limits["cell_timeout"] + 60,
                               _hard_kill, [km])
    watchdog.daemon = True
    watchdog.start()
    try:
        if not km.has_kernel:
            kernel.start()
        with client.setup_kernel():
            kernel.seal()
            if on_ready is not None:
                on_ready()
            body(client, problems)
    except NotebookTimeout as error:
        problems.append(str(error))
        _mark_not_run([c for c in nb.cells if c.cell_type == "code" and not c.outputs], problems[-1])
    except Exception as error:  # the kernel did not even start, or died between cells
        problems.append(f"{type(error).__name__}: {safe_text(error, 300)}")
        _mark_not_run([c for c in nb.cells if c.cell_type == "code" and not c.outputs], problems[-1])
    finally:
        watchdog.cancel()
        cleanup = kernel.close()           # nbclient leaves a kernel it did not create running: stop it
        if cleanup:
            problems.append(cleanup)
    return problems


def _run_cells(client, cells, limits, problems):
    """Run `cells` ((index, cell) pairs) in order; return None if all ran, else the index of the first
    cell that could not (the kernel is then stopped, and the cells from there on are marked not run)."""
    for position, (index, cell) in enumerate(cells):
        if time.monotonic() >= limits["deadline"]:
            problems.append(f"the notebook ran out of its {limits['total_timeout']} s")
            _mark_not_run([c for _, c in cells[position:]], problems[-1])
            return index
        try:
            client.execute_cell(cell, index)
        except CellTimeoutError:
            # A kernel that overran may also ignore interrupts: stop it; later cells do not run.
            problems.append(client.timeout_reason(f"cell {index}"))
            cell.outputs.append(error_output("TimeoutError", problems[-1]))
            _hard_kill(client.km)
            _mark_not_run([c for _, c in cells[position + 1:]], problems[-1])
            return index
        except DeadKernelError:
            problems.append(f"the kernel died in cell {index}")
            _mark_not_run([c for _, c in cells[position:]], problems[-1])
            return index
    return None


def _decide(verdicts, tests, client, problems):
    """Decide the test cells `tests` in order; once the kernel stops answering, the rest are not run."""
    for position, (index, cell) in enumerate(tests):
        if time.monotonic() >= client.deadline:
            verdicts.dead = verdicts.dead or f"the notebook ran out of its {client.total_timeout} s"
        verdicts.judge(cell, index, client)
        if verdicts.dead:
            problems.append(verdicts.dead)
            _hard_kill(client.km)
            for _, later in tests[position + 1:]:
                verdicts.not_run(later, verdicts.dead)
            return


def _hard_kill(km):
    """Kill the sandbox (and so the kernel) at once, from any thread, whatever state it is in."""
    process = getattr(km.provisioner, "process", None) if km.has_kernel else None
    if process is not None and process.poll() is None:
        process.kill()


def _mark_not_run(cells, reason):
    for cell in cells:
        if not any(o.get("output_type") == "error" for o in cell.outputs):
            cell.outputs.append(error_output("NotRun", f"this cell did not run: {reason}"))
