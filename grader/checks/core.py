"""What every assignment's checks share: tasks, calls to the student's functions, comparisons and
the messages that say what is wrong.

A check calls `student.call("softmax", Z)` and compares the reply with a reference answer (Keras,
tf.GradientTape, finite differences, a rule). On the student's machine (`tests.run(grade_id,
globals())`) the notebook's own function answers (LocalStudent); at grading time the grader runs
the same check in its own process and the sandboxed kernel answers as plain data (KernelStudent,
grader.verdicts), so a check sees the same values and gives the same message in both.
"""
import json
from types import CodeType, FunctionType, ModuleType

import numpy as np

from . import plain

PRELUDE = "import numpy as np"    # what stands for a notebook's setup cell when it is graded (default)
FORBIDDEN = ("keras", "tensorflow", "tf_keras", "scratchnn", "course_tools", "grader", "torch", "jax",
             "scipy", "sklearn")
ALIASES = {"tf": "tensorflow", "K": "keras"}    # the names these packages are usually imported as


class Failed(AssertionError):
    """A check's verdict: the message says what is wrong."""


class Student:
    """The student's functions, called by name with plain data. Subclasses answer `_reply`."""

    numpy_only = True

    def call(self, name, *args, hint="", harness=""):
        """name(*args) as the student wrote it: its result (plain data), or Failed with a message
        that names the call; the arguments must come back unchanged. With `harness`, source code
        defining `name` (see plain.invoke), that function is called, next to the student's code."""
        reply = self._reply(name, json.dumps(plain.encode(args)), harness)
        what = _call(name, args)
        if "missing" in reply:
            kind = reply["missing"]
            raise Failed(f"{name} is not defined: run the cell with your {name} first, and check that it runs "
                         "without an error" if kind == "undefined" else f"{name} should be a function, not a {kind}")
        if "error" in reply:
            error_type, message = reply["error"]
            package = self._forbidden_package(error_type, message)
            if package:
                raise Failed(_uses(name, package))
            if error_type == "NotImplementedError":
                raise Failed(f"{name} is not written yet: it raises NotImplementedError (replace the "
                             "`raise NotImplementedError()` line with your code)")
            numeric = error_type == "FloatingPointError" or error_type.endswith("Warning")
            raise Failed(f"{what} raised {error_type} ({message}). {hint if numeric else ''}".rstrip())
        after = _decoded(reply["args"], f"calling {name}")
        if type(after) is not tuple or len(after) != len(args):
            raise Failed(f"{name} changed its arguments: compute new arrays instead of changing the ones you are given")
        for position, (given, returned) in enumerate(zip(args, after)):
            if not _same(given, returned):
                raise Failed(f"{name} changed its argument {position + 1} ({_short(args[position])}): compute new "
                             "arrays (such as Z - c) instead of changing the ones you are given (Z -= c)")
        return _decoded(reply["result"], what)

    def _reply(self, name, payload, harness=""):
        raise NotImplementedError

    def _forbidden_package(self, error_type, message):
        """The forbidden package an error shows the function used (a NumPy task's kernel has none)."""
        if self.numpy_only and error_type in ("NameError", "ImportError", "ModuleNotFoundError", "AttributeError"):
            for name in (*FORBIDDEN, *ALIASES):
                if f"'{name}'" in message or f"'{name}." in message:
                    return ALIASES.get(name, name)
        return None


class LocalStudent(Student):
    """The functions of a notebook running on the student's own machine."""

    def __init__(self, namespace, numpy_only=True):
        self.namespace, self.numpy_only = namespace, numpy_only

    def _reply(self, name, payload, harness=""):
        function = self.namespace.get(name)
        if self.numpy_only and isinstance(function, FunctionType) and not harness:
            uses = _forbidden_use(function)
            if uses:
                raise Failed(_uses(name, uses[1]))     # named as when graded, where only `name` is seen
        return json.loads(plain.invoke(self.namespace, name, payload, harness))


NUMPY, FULL = "numpy", "full"    # the environments a graded cell is decided in (see Tasks.environment)


class Tasks:
    """The graded cells of one assignment, registered by `task`: grade id -> check. Each cell is
    decided in an environment of its own task: NUMPY, a kernel whose only packages are an allow-list
    (NumPy and the kernel's needs), for every task of a numpy_only assignment and for the tasks named
    in numpy_tasks; FULL, the course's packages but its own, for the others."""

    def __init__(self, numpy_only=True, numpy_tasks=()):
        self.numpy_only, self.checks, self.numbers = numpy_only, {}, {}    # grade id -> check; task -> number
        self.numpy_tasks = frozenset(numpy_tasks)
        # what a FULL kernel does not have (a NUMPY one has only its allow-list)
        self.hidden_packages = FORBIDDEN if numpy_only else ("scratchnn", "course_tools", "grader")
        self.primary = NUMPY if numpy_only else FULL    # the kernel whose outputs the feedback shows

    def environment(self, grade_id):
        """NUMPY or FULL: where the graded cell `grade_id` (<task>_test, <task>_hidden) is decided."""
        return NUMPY if self.numpy_only or grade_id.rsplit("_", 1)[0] in self.numpy_tasks else FULL

    def task(self, name, number, check, visible, hidden, experiment=None):
        """Register Task `number`'s graded cells <name>_test and <name>_hidden: check(student, *case)
        for every case of visible(rng) (or of the list `visible`) and of hidden(rng); then, in both,
        experiment(student, rng) if given. rng is the cell's generator: fixed on the student's
        machine, drawn per student and cell at grading time; real data hidden with it (see
        `disguise`) makes constants fitted at home to the visible test earn nothing."""
        def cell(cases):
            def decide(student, rng):
                for case in cases(rng):
                    check(student, *case)
                if experiment:
                    experiment(student, rng)
            return decide
        self.checks[f"{name}_test"] = cell(visible if callable(visible) else lambda _: visible)
        self.checks[f"{name}_hidden"] = cell(hidden)
        self.numbers[name] = number

    def decide(self, grade_id, student, rng):
        """Run the check of a graded cell; return the message printed when it passes (Failed otherwise)."""
        self.checks[grade_id](student, rng)
        task, kind = grade_id.rsplit("_", 1)
        return f"Task {self.numbers[task]}: the visible tests pass." if kind == "test" else "The hidden tests pass."

    def run(self, grade_id, namespace):
        """What a test cell runs on the student's machine: the check against the notebook's functions."""
        if grade_id not in self.checks:
            raise ValueError(f"No test {grade_id!r}; this assignment has {sorted(self.checks)}.")
        __tracebackhide__ = True    # IPython shows the student the message, not this frame
        student = LocalStudent(namespace, self.numpy_only)
        try:
            print(self.decide(grade_id, student, np.random.default_rng(0)))
        except Failed as failure:
            raise AssertionError(str(failure)) from None

    def report(self, namespace, hidden=False):
        """Every test's verdict at once, printed, on the student's machine: nothing is raised, so
        one failing task does not hide the others. With hidden=True, the hidden tests run too, on
        fresh random inputs (others at each call; the grader draws its own)."""
        rng, passed = np.random.default_rng(), 0
        grade_ids = [grade_id for grade_id in self.checks if hidden or grade_id.endswith("_test")]
        for grade_id in grade_ids:
            try:
                text = self.decide(grade_id, LocalStudent(namespace, self.numpy_only), rng)
                passed += 1
            except Failed as failure:
                text = f"FAILS: {failure}"
            except Exception as error:    # a fault of the test itself: say so, and go on
                text = f"could not run ({type(error).__name__}: {error})"
            print(f"{grade_id:<{max(map(len, grade_ids))}}  {text}")
        print(f"\n{passed} of the {len(grade_ids)} " + ("tests pass (the hidden ones on fresh random inputs)." if hidden
              else "visible tests pass. tests.report(globals(), hidden=True) also runs the hidden tests, on fresh "
              "random inputs."))


def seeded(seed):
    """The cases of a check(student, rng) that draws its own inputs, for Tasks.task(..., *seeded(70)):
    a generator seeded with `seed` in the visible cell, the cell's own in the hidden one."""
    return lambda _: [(np.random.default_rng(seed),)], lambda rng: [(rng,)]


# --- comparisons -------------------------------------------------------------------------------

def max_abs(a):
    """The largest absolute value in a (NaN if a holds a NaN)."""
    return np.max(np.abs(a), initial=0.0)


def as_array(value, shape, what):
    """value as a float64 array, after checking its shape and that it holds finite numbers."""
    if isinstance(value, plain.Unsupported):
        raise Failed(f"{what} should be an array of numbers, not {value}")
    try:
        a = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as e:
        raise Failed(f"{what} should be an array of numbers, not {type(value).__name__} ({e})") from None
    single = " (a single number)" if shape == () else ""
    if a.shape != shape:
        raise Failed(f"{what} should have shape {shape}{single}, but has shape {a.shape}")
    bad = ~np.isfinite(a)
    if bad.any():
        where = tuple(int(k) for k in np.unravel_index(np.argmax(bad), a.shape))
        raise Failed(f"{what} contains {a[bad][0]} at index {where}")
    return a


def as_items(value, size, what, kind=None):
    """The `size` things a call returned: a tuple, a list, an array... any sequence of that length
    but a string or a dict; otherwise Failed: `what` should return `kind` (default: size values)."""
    try:
        items = () if isinstance(value, (str, dict, plain.Unsupported)) else tuple(value)
    except TypeError:
        items = ()
    if len(items) != size:
        shown = f"{len(items)} value{'s' * (len(items) > 1)}" if items else \
            value if isinstance(value, plain.Unsupported) else type(value).__name__
        raise Failed(f"{what} should return {kind or f'{size} values'}, not {shown}")
    return items


def as_arrays(value, shapes, what, names=None):
    """The arrays of these shapes that `what` returned, named in messages by `names` (or by number)."""
    kind = f"{len(shapes)} arrays" + (f" ({', '.join(names)})" if names else "")
    names = names or [f"array {k + 1}" for k in range(len(shapes))]
    items = as_items(value, len(shapes), what, kind)
    return [as_array(a, shape, f"{name} of {what}") for a, shape, name in zip(items, shapes, names)]


def as_count(value, what):
    """value as an int, after checking that it is a single finite whole number."""
    number = as_array(value, (), what)[()]
    if number != round(number):
        raise Failed(f"{what} should be a whole number, not {number}")
    return int(number)


def as_number(value, what, whole=False, low=None, high=None):
    """A number the student chose (a learning rate, a count of steps): an int if whole, else an int
    or a float; from low to high (inclusive) where given, else positive. Failed naming it otherwise."""
    kind = "an int" if whole else "a number"
    rule = f"{kind} from {low} to {high}" if low is not None else f"a positive {kind[kind.index(' ') + 1:]}"
    fits = not isinstance(value, bool) and isinstance(value, int if whole else (int, float)) and np.isfinite(value)
    if not fits or not (low <= value <= high if low is not None else value > 0):
        raise Failed(f"{what} should be {rule}, not {value!r}")
    return value


def assert_close(actual, expected, what, against, tol, hints=(), like=()):
    """Fail unless |actual - expected| <= tol everywhere. A hint (factor, text) names a known
    mistake that makes actual equal factor * expected; a `like` pair (other, text) names a known
    mistake whose result is `other` (like may be a function returning the pairs, called only on a
    mismatch): when actual matches one, the message is `what` and its text. Otherwise the message
    says where an array differs most, and the student's value there, never the value to return
    (DESIGN: messages diagnose without giving the answer)."""
    worst = max_abs(actual - expected)
    if worst <= tol:
        return
    for factor, text in hints:
        if max_abs(actual - factor * expected) <= tol * abs(factor):
            raise Failed(f"{what} {text}")
    for other, text in like() if callable(like) else like:
        if np.shape(other) == np.shape(actual) and max_abs(actual - other) <= tol:
            raise Failed(f"{what} {text}")
    if np.shape(actual):
        i = tuple(int(k) for k in np.unravel_index(np.argmax(np.abs(actual - expected)), np.shape(actual)))
        raise Failed(f"{what} differs from {against} by up to {worst:.3g} (at index {i}: yours is "
                     f"{actual[i]:.10g})")
    raise Failed(f"{what} differs from {against} (yours is {float(np.ravel(actual)[0]):.10g}): check your "
                 "derivation factor by factor")


def expect(student, name, args, expected, against, tol, like=(), hints=(), hint="", what=None):
    """Call name(*args) and compare it with `expected` (same shape) as assert_close does: the
    student's array. `hint` is added to the message of an error raised by the call (see call)."""
    what = what or _call(name, args)
    got = as_array(student.call(name, *args, hint=hint), np.shape(expected), what)
    assert_close(got, expected, what, against, tol, hints, like)
    return got


def expect_trained(student, name, args, shapes, replay, rate, steps, against, tol, mistakes=list, batch=1):
    """Call name(*args), a training of `steps` steps at learning rate `rate`: the arrays (of these
    shapes) it returns against replay(rate, steps), a flat vector, within tol * max(1, its scale).
    Besides mistakes() (like-pairs, see assert_close), a step too few or too many is named and,
    with `batch` (the rows the loss averages over), the gradient of the summed loss. Returns them."""
    what = _call(name, args)
    got, right = as_arrays(student.call(name, *args), shapes, what), replay(rate, steps)

    def like():
        pairs = [*mistakes(), *[(replay(rate, n), f"took {n} steps instead of {steps}") for n in (steps - 1, steps + 1)
                                if n >= 0]]
        if batch > 1:
            pairs.append((replay(rate * batch, steps), "follows the gradient of the summed loss, not of its mean"))
        return pairs
    assert_close(flat(*got), right, what, against, tol * max(1.0, max_abs(right)), like=like)
    return got


def flat(*arrays):
    """The arrays' entries in one vector, to compare several results (weights and biases, a
    pair (dw, db)) as one: flat(W1, b1, W2, b2)."""
    return np.concatenate([np.ravel(np.asarray(a, dtype=float)) for a in arrays])


# --- real data in disguise: only training on what the kernel is given can do well ---------------

def rotation(rng, d):
    """A random orthogonal matrix (d, d), uniform over rotations and reflections (QR of a Gaussian
    matrix, signs fixed). Gradient descent from zero weights on X @ Q learns Q.T @ W, with the
    same loss and accuracy as on X; weights fitted to X are useless on X @ Q."""
    q, r = np.linalg.qr(rng.normal(size=(d, d)))
    return q * np.where(np.diag(r) < 0, -1.0, 1.0)


def disguise(rng, X_train, y_train, X_val, y_val, classes=10):
    """The digits as a kernel is given them: the pixels mixed by a secret rotation and the labels
    renamed by a secret permutation, both drawn from rng (the student's hidden generator at
    grading time). A softmax regression trains on them as well as on the digits themselves."""
    Q, names = rotation(rng, X_train.shape[1]), rng.permutation(classes)
    return X_train @ Q, names[y_train], X_val @ Q, names[y_val]


# --- helpers -----------------------------------------------------------------------------------

def _same(a, b):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape and \
            a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[key], b[key]) for key in a)
    return type(a) is type(b) and (a == b or (a != a and b != b))


def _decoded(data, what):
    """plain.decode(data); what cannot be decoded (a reply from a patched kernel, say) is the
    student's wrong answer, not a fault of the grader."""
    try:
        return plain.decode(data)
    except Exception as error:
        raise Failed(f"{what} gave back something that is not plain data ({type(error).__name__})") from None


def _call(name, args):
    """A call as messages name it: softmax(array(8, 3))."""
    return f"{name}({', '.join(map(_short, args))})"


def _short(value):
    if isinstance(value, np.ndarray):
        return f"array{value.shape}"
    if isinstance(value, (list, tuple)):
        return f"{type(value).__name__} of {len(value)}"
    return f"{value:.6g}" if isinstance(value, float) else repr(value)


def _uses(name, package):
    return (f"{name} uses {package}: write it yourself, with NumPy only (Keras, TensorFlow, scratchnn and "
            "SciPy are not available when your notebook is graded)")


def _forbidden_use(function, seen=None):
    """(function name, package) if `function`, or a function of the notebook it calls, refers to a
    forbidden package; None otherwise. A quick look at the code for the student's own machine
    (where Keras is installed); at grading time the packages are simply not there."""
    seen = set() if seen is None else seen
    seen.add(function)
    codes = [function.__code__]
    while codes:
        code = codes.pop()
        codes += [c for c in code.co_consts if isinstance(c, CodeType)]
        for name in code.co_names:
            obj = function.__globals__.get(name)
            owner = obj.__name__ if isinstance(obj, ModuleType) else getattr(obj, "__module__", None) or ""
            for package in (owner.split(".")[0], name):          # a global it uses, or a module it imports
                if package in FORBIDDEN or (package in ALIASES and owner.split(".")[0] in FORBIDDEN):
                    return function.__name__, ALIASES.get(package, package)
            if isinstance(obj, FunctionType) and obj.__module__ == function.__module__ and obj not in seen:
                found = _forbidden_use(obj, seen)
                if found:
                    return found
    return None
