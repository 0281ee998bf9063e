"""Verdicts decided outside the student's kernel.

At grading time (grader.execute, for an assignment that has a checks module), the student's own
cells run in the sandboxed kernel, but its test cells do not. Instead, for each graded cell, this
trusted process runs the assignment's check (grader.checks.<assignment>); every call of a student
function is sent to the kernel as plain data, and only the values that come back are seen. The
references are computed here, and the hidden tests' inputs are drawn here, from the course secret
and the student's id. The check's verdict becomes the cell's output (an error if it failed), which
nbgrader then scores. Nothing the notebook executes can change a verdict, only what its functions
return.
"""
import hashlib
import hmac
import inspect
import json
import os
import secrets

import nbformat
import numpy as np
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from .checks import core, plain
from .course import CannotRun
from .safety import safe_text

SECRET_VARIABLE = "GRADING_SECRET"
_PLAIN_SOURCE = inspect.getsource(plain)
MAX_MESSAGE = 4000          # characters of a verdict's message (it quotes what the student's code raised)


def course_secret():
    """The course secret, from the environment; a clear error if it is missing."""
    secret = os.environ.get(SECRET_VARIABLE, "")
    if len(secret) < 16:
        raise CannotRun(
            f"Set {SECRET_VARIABLE} to the course secret (16 characters or more, e.g. the output of "
            f"`python -c \"import secrets; print(secrets.token_hex(16))\"`) before autograding: the hidden "
            "tests draw their inputs from it and from each student's id, so that nobody can compute them "
            "in advance. Keep it out of the repository, and use the same one for the whole course.")
    return secret


def hidden_rng(secret, assignment, student, grade_id, answers=""):
    """The random generator of one student's hidden tests of one cell, for one submission: `answers`
    is the digest of its answer cells (answers_digest), so a resubmission with other code draws other
    inputs, and a regrade of the same file draws the same ones."""
    return np.random.default_rng(hidden_seed(secret, assignment, student, grade_id, answers))


def hidden_seed(secret, assignment, student, grade_id, answers=""):
    """The seed of hidden_rng: an HMAC of the secret, so it tells nothing of the secret or of
    another cell's, student's or submission's seed (grader.cluster sends only these to a worker)."""
    message = json.dumps([assignment, student, grade_id, answers])
    key = hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()
    return int.from_bytes(key[:16], "little")


def answers_digest(nb):
    """SHA-256 of the submitted answers: the source of every solution cell, with its grade id, in order."""
    answers = [[cell.metadata["nbgrader"].get("grade_id", ""), cell.source] for cell in nb.cells
               if cell.get("metadata", {}).get("nbgrader", {}).get("solution", False)]
    return hashlib.sha256(json.dumps(answers).encode("utf-8", "surrogatepass")).hexdigest()


def is_test_cell(cell):
    grading = cell.get("metadata", {}).get("nbgrader", {})
    return cell.cell_type == "code" and grading.get("grade", False) and not grading.get("solution", False)


def is_setup_cell(cell):
    """A read-only code cell of the instructor that is not a test (the setup cells)."""
    grading = cell.get("metadata", {}).get("nbgrader", {})
    return cell.cell_type == "code" and grading.get("locked", False) and not grading.get("solution", False) \
        and not grading.get("grade", False)


class Unanswered(Exception):
    """The kernel gave no answer (it timed out or died): every later call fails too."""


class KernelStudent(core.Student):
    """The student's functions, in the sandboxed kernel that nbclient's `client` drives."""

    def __init__(self, client, cell_index, numpy_only):
        self.client, self.cell_index, self.numpy_only = client, cell_index, numpy_only

    def _reply(self, name, payload, harness=""):
        marker = f"@grader-reply-{secrets.token_hex(8)}:"
        code = (f"__grader__ = {{}}\n"
                f"exec(compile({_PLAIN_SOURCE!r}, '<grader>', 'exec'), __grader__)\n"
                f"print({marker!r} + __grader__['invoke'](globals(), {name!r}, {payload!r}, {harness!r}))\n"
                "del __grader__\n")
        self.client.allow_output(self.cell_index, 64 * 2**20)
        try:
            request = run_code(self.client, code, self.cell_index)
        except CellTimeoutError:
            raise Unanswered(self.client.timeout_reason(f"{name}") + " (an endless loop?)") from None
        except DeadKernelError:
            raise Unanswered(f"the notebook's kernel died while {name} ran") from None
        text = "".join(o.get("text", "") for o in request.outputs
                       if o.get("output_type") == "stream" and isinstance(o.get("text", ""), str))
        for line in text.splitlines():
            if line.startswith(marker):
                try:
                    reply = json.loads(line[len(marker):])
                except ValueError:
                    continue
                if well_formed(reply):
                    return reply
        raise core.Failed(f"calling {name} gave no answer: did a cell of the notebook change print, "
                          "sys.stdout or Python's builtins?")


def well_formed(reply):
    """True if `reply` has the shape plain.invoke gives (anything else came from a patched kernel,
    and is the student's wrong answer, not a fault of the grader)."""
    if not isinstance(reply, dict):
        return False
    if "missing" in reply:
        return isinstance(reply["missing"], str)
    if "error" in reply:
        error = reply["error"]
        return isinstance(error, list) and len(error) == 2 and all(isinstance(part, str) for part in error)
    return "result" in reply and "args" in reply


def run_code(client, code, cell_index):
    """Run `code` in the kernel as an extra cell, reported under cell_index; return that cell.
    (nbclient stores an executed cell at its index in the notebook: the real cell is put back.)"""
    cell, real = nbformat.v4.new_code_cell(code), client.nb.cells[cell_index]
    try:
        client.execute_cell(cell, cell_index, store_history=False)
    finally:
        client.nb.cells[cell_index] = real
    return cell


class Verdicts:
    """Decides the graded cells of one submission."""

    def __init__(self, checks, assignment, student, secret, answers=""):
        self.checks, self.assignment, self.student, self.secret = checks, assignment, student, secret
        self.answers = answers   # answers_digest of the submission: part of the hidden inputs' seed
        self.dead = None   # why the kernel stopped answering, once it has
        self.problems = []  # faults of the checks themselves, for the instructor's summary

    def rng(self, grade_id):
        """The random generator of the check of `grade_id` for this submission (see hidden_rng)."""
        return hidden_rng(self.secret, self.assignment, self.student, grade_id, self.answers)

    @property
    def primary(self):
        """The environment of the notebook's own kernel (core.NUMPY or core.FULL)."""
        return self.checks.TASKS.primary

    def prelude(self, environment):
        """What stands for the setup cells in a kernel of `environment`: the checks' PRELUDE (default
        core.PRELUDE); a NUMPY kernel has no Keras to import: an assignment with both kinds of tasks
        gives the imports of its NUMPY_PRELUDE."""
        prelude = getattr(self.checks, "PRELUDE", core.PRELUDE)
        return getattr(self.checks, "NUMPY_PRELUDE", prelude) if environment == core.NUMPY else prelude

    def by_environment(self, tests):
        """The test cells `tests` ((index, cell) pairs) grouped by the environment that decides them,
        the primary environment first: [(environment, [(index, cell), ...]), ...]."""
        groups = {self.primary: []}
        for index, cell in tests:
            environment = self.checks.TASKS.environment(cell.metadata["nbgrader"]["grade_id"])
            groups.setdefault(environment, []).append((index, cell))
        return list(groups.items())

    def judge(self, cell, index, client):
        """Set the outputs of the graded cell `cell` (at `index` in the notebook that `client` runs)
        to the verdict of its check. (The check itself is TASKS.decide(grade_id, student, rng).)"""
        grade_id = cell.metadata["nbgrader"]["grade_id"]
        if self.dead:
            cell.outputs = [_error("NotRun", f"this test could not run: {self.dead}")]
            return
        student = KernelStudent(client, index, self.checks.TASKS.environment(grade_id) == core.NUMPY)
        rng = self.rng(grade_id)
        try:
            passed = self.checks.TASKS.decide(grade_id, student, rng)
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=passed + "\n")]
        except core.Failed as failure:
            cell.outputs = [_error("AssertionError", safe_text(failure, MAX_MESSAGE))]
        except Unanswered as failure:
            self.dead = safe_text(failure, MAX_MESSAGE)
            cell.outputs = [_error("TimeoutError", self.dead)]
        except Exception as error:   # a fault of the checks, not of the student: no points, and said
            self.problems.append(f"the check of {grade_id} failed: {type(error).__name__}: {safe_text(error, 300)}")
            cell.outputs = [_error("GraderError", f"this cell could not be graded ({type(error).__name__}); "
                                                  "your instructor has been told")]


    def not_run(self, cell, reason):
        """The graded cell `cell` could not be decided: no points, and the reason."""
        cell.outputs = [_error("NotRun", f"this test could not run: {safe_text(reason, MAX_MESSAGE)}")]


def _error(name, message):
    return nbformat.v4.new_output("error", ename=name, evalue=message, traceback=[f"{name}: {message}"])
