"""The checks of assignment 8 (chapters/08_tuning/assignment_08.ipynb): a diagnosis from an error
profile, a log-uniform sampler, the best trial of a search, a finer grid around it, and a softmax
regression on the digits tuned within an epoch budget, each compared with a rule (or a statistical
test, or gradient descent replayed) computed here.

In the notebook, `tests.run("diagnose_test", globals())` runs a check on the student's machine; at
grading time, the grader runs the same checks in its own process (grader.verdicts), and the hidden
ones draw their inputs from `rng`, which is different for every student.
"""
import numpy as np

from . import references as ref
from .core import Failed, Tasks, as_array, as_sequence, max_abs

TASKS = Tasks(numpy_only=True)
PRELUDE = "import numpy as np"          # what the setup cell gives the student's code at grading time

PROBLEMS = ("avoidable bias", "variance", "mismatch")
TARGET = 0.94       # Task 5: the validation accuracy to reach (in at most BUDGET epochs)


# --- Task 1: the diagnosis -------------------------------------------------------------------------

def gaps(human, train, val, test):
    """The three gaps of an error profile: avoidable bias (train - human, 0 if the model beats the
    human level), variance (val - train) and mismatch (test - val)."""
    return {"avoidable bias": max(train - human, 0.0), "variance": val - train, "mismatch": test - val}


def diagnosis(human, train, val, test, tolerance):
    """The rule: "none" if no gap exceeds tolerance, else the largest gap (ties: the first in PROBLEMS)."""
    sizes = gaps(human, train, val, test)
    worst = max(PROBLEMS, key=lambda name: (sizes[name], -PROBLEMS.index(name)))
    return worst if sizes[worst] > tolerance else "none"


def check_diagnosis(student, human, train, val, test, tolerance):
    what = f"diagnose({human:g}, {train:g}, {val:g}, {test:g}, tolerance={tolerance:g})"
    got = student.call("diagnose", human, train, val, test, tolerance)
    right = diagnosis(human, train, val, test, tolerance)
    if got == right:
        return
    if not isinstance(got, str) or got not in (*PROBLEMS, "none"):
        raise Failed(f"{what} returned {got!r}: return one of the strings {', '.join(map(repr, (*PROBLEMS, 'none')))}")
    sizes = gaps(human, train, val, test)
    listing = ", ".join(f"{name} {sizes[name]:.4g}" for name in PROBLEMS)
    hint = ""
    if right != "none" and got != "none" and abs(sizes[got] - sizes[right]) <= 1e-12:
        hint = f": {got!r} and {right!r} tie; read again which one the task says wins a tie"
    elif got == "variance" and val - human > max(sizes.values()) and right != "variance":
        hint = ": variance is the gap from training to validation error (val - train), not from the human level"
    elif got == "mismatch" and test - train > max(sizes.values()):
        hint = ": the mismatch is the gap from validation to test error (test - val), not from training error"
    elif right == "none":
        hint = f": is any of them larger than the tolerance {tolerance:g}?"
    elif got == "avoidable bias" and train - human < 0:
        hint = ": a model better than the human level on its training set has no avoidable bias (the gap counts as 0)"
    raise Failed(f"{what} returned {got!r}, but the gaps are {listing}{hint}")


VISIBLE_PROFILES = [
    (0.01, 0.12, 0.13, 0.135, 0.02),     # high avoidable bias
    (0.01, 0.015, 0.11, 0.115, 0.02),    # high variance: good training, bad validation
    (0.01, 0.02, 0.03, 0.12, 0.02),      # mismatch with the test set
    (0.01, 0.015, 0.02, 0.025, 0.02),    # nothing to fix
]


@TASKS.visible("diagnose_test", "Task 1: the visible tests pass.")
def diagnose_test(student):
    for profile in VISIBLE_PROFILES:
        check_diagnosis(student, *profile)


@TASKS.hidden("diagnose_hidden")
def diagnose_hidden(student, rng):
    for _ in range(20):                                   # random profiles, every problem in turn
        human = float(rng.uniform(0.0, 0.05))
        train = human + float(rng.uniform(-0.01, 0.15))
        val = train + float(rng.uniform(0.0, 0.15))
        test = val + float(rng.uniform(-0.02, 0.15))
        check_diagnosis(student, human, train, val, test, float(rng.choice([0.0, 0.01, 0.02])))
    check_diagnosis(student, 0.05, 0.02, 0.03, 0.04, 0.005)    # better than human on training data
    check_diagnosis(student, 0.0, 0.1, 0.2, 0.3, 0.01)         # three equal gaps: the first one, bias
    check_diagnosis(student, 0.0, 0.0, 0.0, 0.0, 0.0)          # all zero: nothing exceeds the tolerance


# --- Task 2: the log-uniform sampler ---------------------------------------------------------------

def ks_uniform(u):
    """Kolmogorov-Smirnov test of the numbers u (k,) against the uniform distribution on [0, 1]:
    (statistic D, p-value), from SciPy (in the grader's process only)."""
    from scipy import stats
    result = stats.kstest(u, "uniform")
    return float(result.statistic), float(result.pvalue)


def check_sampler(student, low, high, size, seed):
    what = f"log_uniform({low:.4g}, {high:.4g}, {size}, seed={seed})"
    samples = as_array(student.call("log_uniform", low, high, size, seed), (size,), f"the array {what} returns")
    outside = (samples < low) | (samples > high)
    if outside.any():
        raise Failed(f"{what} returned {samples[outside][0]:.6g}, outside [{low:.4g}, {high:.4g}]")
    again = as_array(student.call("log_uniform", low, high, size, seed), (size,), f"the array {what} returns")
    if not np.array_equal(samples, again):
        raise Failed(f"{what} returned different numbers when called twice: one seed must always give the same "
                     "samples")
    if size < 50:
        return
    other = as_array(student.call("log_uniform", low, high, size, seed + 1), (size,), "its array")
    if np.array_equal(samples, other):
        raise Failed(f"{what} returns the same numbers for seed {seed} and seed {seed + 1}: use the seed")
    u = (np.log(samples) - np.log(low)) / (np.log(high) - np.log(low))
    statistic, p = ks_uniform(u)
    if p >= 1e-4:
        return
    below = np.mean(samples < np.sqrt(low * high))
    raise Failed(f"the logarithms of the {size} numbers {what} returns are not uniform between log(low) and "
                 f"log(high) (Kolmogorov-Smirnov D = {statistic:.3f}, p = {p:.2g}): half of them should be below "
                 f"the geometric mean sqrt(low * high) = {np.sqrt(low * high):.4g}, but {below:.0%} are"
                 + (" (numbers uniform between low and high crowd the top decade)" if below < 0.35 else ""))


@TASKS.visible("sampler_test", "Task 2: the visible tests pass.")
def sampler_test(student):
    check_sampler(student, 1e-4, 1e-1, 2000, 0)


@TASKS.hidden("sampler_hidden")
def sampler_hidden(student, rng):
    for _ in range(3):
        low = float(10 ** rng.uniform(-7, 1))
        check_sampler(student, low, low * float(10 ** rng.uniform(0.5, 5)), int(rng.integers(1000, 3000)),
                      int(rng.integers(0, 10**6)))
    check_sampler(student, 2.0, 2.0 * float(rng.uniform(1.5, 3)), 1, int(rng.integers(0, 10**6)))   # one sample


# --- Task 3: the best trial ------------------------------------------------------------------------

def best_index(scores, mode):
    """The first trial with the lowest ("min") or highest ("max") score, NaNs skipped; None if all NaN."""
    scores = np.asarray(scores, dtype=float)
    if np.isnan(scores).all():
        return None
    return int(np.nanargmin(scores) if mode == "min" else np.nanargmax(scores))


def as_index(value, what):
    if value is None:
        return None
    if isinstance(value, (int, float, np.ndarray)) and not isinstance(value, bool) and np.ndim(value) == 0 \
            and np.isfinite(value) and float(value) == round(float(value)):
        return int(value)
    raise Failed(f"{what} should return the index of a trial, an int (or None), not {value!r}")


def check_best(student, results, metric, mode):
    what = f"best_trial(results, {metric!r}, {mode!r})"
    got = as_index(student.call("best_trial", results, metric, mode), what)
    scores = np.asarray(results[metric], dtype=float)
    right = best_index(scores, mode)
    if got == right:
        return
    shown = ", ".join(f"{s:.4g}" for s in scores[:12]) + (", ..." if len(scores) > 12 else "")
    hint = ""
    if got is not None and 0 <= got < len(scores) and np.isnan(scores[got]):
        hint = ": trial {got} has no score (NaN, a run that diverged); skip NaNs (np.nanargmin)".format(got=got)
    elif right is None:
        hint = ": every score is NaN, so there is no best trial: return None"
    elif got is not None and 0 <= got < len(scores) and scores[got] == scores[right]:
        hint = ": on a tie, return the first trial with the best score"
    elif got == best_index(scores, "max" if mode == "min" else "min"):
        hint = f": with mode={mode!r} the best score is the {'lowest' if mode == 'min' else 'highest'}"
    raise Failed(f"{what} returned {got}, but the best trial is {right} ({metric}: {shown}){hint}")


def visible_results():
    """A search's results: 8 trials, one of them diverged (NaN)."""
    return {"learning_rate": np.array([3e-4, 2e-2, 1.5, 4e-3, 0.3, 7e-5, 9e-2, 1e-3]),
            "units": np.array([16, 64, 32, 128, 16, 64, 32, 16]),
            "val_loss": np.array([0.62, 0.18, np.nan, 0.25, 0.41, 1.3, 0.16, 0.33]),
            "val_accuracy": np.array([0.84, 0.95, 0.10, 0.93, 0.88, 0.62, 0.96, 0.90])}


@TASKS.visible("best_test", "Task 3: the visible tests pass.")
def best_test(student):
    results = visible_results()
    check_best(student, results, "val_loss", "min")
    check_best(student, results, "val_accuracy", "max")


@TASKS.hidden("best_hidden")
def best_hidden(student, rng):
    k = int(rng.integers(5, 40))
    results = {"learning_rate": 10 ** rng.uniform(-5, 0, size=k), "val_loss": rng.uniform(0.1, 2.0, size=k)}
    results["val_loss"][rng.choice(k, size=3, replace=False)] = np.nan
    check_best(student, results, "val_loss", "min")
    check_best(student, results, "val_loss", "max")
    results["val_loss"][0] = np.nan                                           # a NaN first
    check_best(student, results, "val_loss", "min")
    tie = rng.uniform(0.5, 1.0, size=k)
    first, second = sorted(rng.choice(k, size=2, replace=False))
    tie[first] = tie[second] = 0.25                                           # a tie
    check_best(student, {"val_error": tie}, "val_error", "min")
    check_best(student, {"val_error": np.full(3, np.nan)}, "val_error", "min")   # all diverged
    check_best(student, {"val_error": np.array([0.3])}, "val_error", "max")      # one trial


# --- Task 4: the finer grid ------------------------------------------------------------------------

def finer(values, scores, n):
    """n points evenly spaced on a log scale between the neighbours of the best value (lowest score,
    NaNs skipped) among the sorted values; at an end of the range, the best value is the bound."""
    order = np.argsort(values, kind="stable")
    values, scores = np.asarray(values, dtype=float)[order], np.asarray(scores, dtype=float)[order]
    i = int(np.nanargmin(scores))
    low, high = values[max(i - 1, 0)], values[min(i + 1, len(values) - 1)]
    return np.geomspace(low, high, n)


def check_finer(student, values, scores, n):
    what = f"finer_grid(values, scores, {n})"
    got = as_array(student.call("finer_grid", values, scores, n), (n,), f"the array {what} returns")
    right = finer(values, scores, n)
    if np.allclose(got, right, rtol=1e-9, atol=0):
        return
    linear = np.linspace(right[0], right[-1], n)
    hint = ""
    if np.allclose(got, linear, rtol=1e-9, atol=0):
        hint = ": your points are evenly spaced on a linear scale; space them on a log scale (np.geomspace)"
    elif not (np.isclose(got[0], right[0]) and np.isclose(got[-1], right[-1])):
        hint = (" (its ends should be the sampled values just below and just above the best one, after sorting "
                "the values)")
    raise Failed(f"{what} returned {', '.join(f'{v:.4g}' for v in got)}, which is not the finer grid around the "
                 f"best value{hint}")


@TASKS.visible("finer_test", "Task 4: the visible tests pass.")
def finer_test(student):
    results = visible_results()
    check_finer(student, results["learning_rate"], results["val_loss"], 5)


@TASKS.hidden("finer_hidden")
def finer_hidden(student, rng):
    k = int(rng.integers(6, 30))
    values = 10 ** rng.uniform(-5, 0, size=k)
    scores = (np.log10(values) + float(rng.uniform(1, 4))) ** 2 + rng.uniform(0, 0.1, size=k)
    scores[rng.choice(k, size=2, replace=False)] = np.nan
    check_finer(student, values, scores, int(rng.integers(3, 12)))
    check_finer(student, values, -np.log(values), 7)       # the best is the largest value: an end
    check_finer(student, values, np.log(values), 4)        # the best is the smallest value: the other end


# --- Task 5: a softmax regression on the digits, tuned within a budget ------------------------------
#
# The student writes train_softmax(X, y, learning_rate, epochs) -> (W, b), full-batch gradient descent
# from zero weights, and tuned_hyperparameters() -> (learning_rate, epochs). The checks replay the same
# descent in Keras (references.descent) and require: epochs <= BUDGET; the student's weights equal the
# replay's (so they come from that routine, with those settings, and nothing else); and, from those
# weights, a validation accuracy >= TARGET on rows that never enter the student's kernel.

BUDGET = 300        # Task 5: the most epochs allowed
CLASSES = 10


def digits_split(seed, m_train):
    """The digits, pixels scaled to [0, 1], split at random into m_train training rows and the rest."""
    return ref.digits(seed, m_train, 1797 - m_train)


def gradient_descent(X, y, learning_rate, epochs):
    """(W (d, 10), b (10,)) after `epochs` full-batch steps of keras.optimizers.SGD on a float64 Dense
    softmax layer from zero weights, with Keras's mean sparse categorical cross-entropy."""
    start = [np.zeros((X.shape[1], CLASSES)), np.zeros(CLASSES)]
    return tuple(ref.descent(X, y, start, ["softmax"], learning_rate, epochs))


def softmax(Z):
    """Softmax of each row of Z (SciPy's: the checks are public, and assignment 1 asks for it)."""
    from scipy.special import softmax as scipy_softmax
    return scipy_softmax(Z, axis=1)


def mean_cross_entropy(X, y, W, b):
    P = softmax(X @ W + b)
    return float(-np.mean(np.log(np.clip(P[np.arange(len(y)), np.asarray(y, dtype=int)], 1e-300, None))))


def weights_close(W, b, W_ref, b_ref):
    """Equal up to rounding (float32 arithmetic passes; one step more or less does not)."""
    tol = 1e-5 * max(1.0, max_abs(W_ref), max_abs(b_ref))
    return max(max_abs(W - W_ref), max_abs(b - b_ref)) <= tol


def check_training(student, X, y, learning_rate, epochs):
    """train_softmax(X, y, learning_rate, epochs) must return the replay's (W, b); returns them."""
    m, d = X.shape
    what = f"train_softmax(X {X.shape}, y, learning_rate={learning_rate:g}, epochs={epochs})"
    pair = as_sequence(student.call("train_softmax", X, y, learning_rate, epochs), 2, what, "a pair (W, b)")
    W = as_array(pair[0], (d, CLASSES), f"the W that {what} returns")
    b = as_array(pair[1], (CLASSES,), f"the b that {what} returns")
    W_ref, b_ref = gradient_descent(X, y, learning_rate, epochs)
    if weights_close(W, b, W_ref, b_ref):
        return W, b
    goal = (f"{epochs} epoch{'' if epochs == 1 else 's'} of full-batch gradient descent with learning rate "
            f"{learning_rate:g} from zero weights (the tests ran it themselves)")
    if epochs > 0 and max_abs(W) == 0 and max_abs(b) == 0:
        raise Failed(f"{what} returned zero weights: it should start from zeros and then take {epochs} steps")
    if max_abs(b) == 0 and max_abs(b_ref) > 0:
        raise Failed(f"{what} returned b = 0: the bias never moved, but it has a gradient too")
    for n in (epochs - 1, epochs + 1):
        if n >= 0 and weights_close(W, b, *gradient_descent(X, y, learning_rate, n)):
            raise Failed(f"{what} took {n} step{'' if n == 1 else 's'} instead of {epochs}: one step per epoch, "
                         "exactly `epochs` of them")
    if weights_close(W, b, *gradient_descent(X, y, learning_rate * m, epochs)):
        raise Failed(f"{what} took steps {m} times too large, as the gradient of the summed cross-entropy would: "
                     f"the loss is the mean over the {m} examples")
    loss, loss_ref = mean_cross_entropy(X, y, W, b), mean_cross_entropy(X, y, W_ref, b_ref)
    difference = max(max_abs(W - W_ref), max_abs(b - b_ref))
    if loss < loss_ref - 1e-9:
        raise Failed(f"{what} returned weights with a training loss of {loss:.6g}, lower than the {loss_ref:.6g} "
                     f"of {goal}: it trained longer, or with another optimizer, than the epochs and the learning "
                     f"rate it was given (the weights differ by up to {difference:.3g})")
    raise Failed(f"{what} returned weights that differ from those of {goal} by up to {difference:.3g} "
                 f"(training loss {loss:.6g} instead of {loss_ref:.6g}): check the softmax, the gradient of the "
                 "mean cross-entropy, and that W and b start at zero")


def check_choice(student):
    """tuned_hyperparameters() must return (a positive learning rate, an int of epochs <= BUDGET)."""
    what = "tuned_hyperparameters()"
    pair = as_sequence(student.call("tuned_hyperparameters"), 2, what, "a pair (learning_rate, epochs)")
    learning_rate, epochs = pair
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, (int, float)) \
            or not np.isfinite(learning_rate) or learning_rate <= 0:
        raise Failed(f"{what} returned the learning rate {learning_rate!r}: it should be a positive number")
    if isinstance(epochs, bool) or not isinstance(epochs, int):
        raise Failed(f"{what} returned {epochs!r} epochs: the number of epochs should be an int")
    if epochs > BUDGET:
        raise Failed(f"{what} returned {epochs} epochs, over the budget of {BUDGET} epochs: the exercise allows "
                     f"at most {BUDGET} full-batch steps, so tune the learning rate until {BUDGET} are enough")
    if epochs < 1:
        raise Failed(f"{what} returned {epochs} epochs: train for 1 to {BUDGET}")
    return float(learning_rate), epochs


def check_experiment(student, X_train, y_train, X_val, y_val):
    learning_rate, epochs = check_choice(student)
    W, b = check_training(student, X_train, y_train, learning_rate, epochs)
    accuracy = float(np.mean(np.argmax(X_val @ W + b, axis=1) == y_val))
    if accuracy < TARGET:
        raise Failed(f"trained on {len(X_train)} rows with learning_rate={learning_rate:g} for {epochs} epochs, "
                     f"the softmax regression has a validation accuracy of {accuracy:.4f} on {len(X_val)} other rows, "
                     f"below the target {TARGET}: tune the learning rate (on a log scale) on your own split first")


def small_problem(rng, m, d):
    """Random inputs in [0, 1] (m, d) and labels 0 to 9 (m,)."""
    return rng.uniform(0, 1, size=(m, d)), rng.integers(0, CLASSES, size=m)


@TASKS.visible("experiment_test", "Task 5: the visible tests pass.")
def experiment_test(student):
    X, y = small_problem(np.random.default_rng(8), 12, 5)
    check_training(student, X, y, 0.5, 1)
    check_training(student, X, y, 0.5, 7)
    check_experiment(student, *digits_split(0, 1200))


@TASKS.hidden("experiment_hidden")
def experiment_hidden(student, rng):
    X, y = small_problem(rng, int(rng.integers(5, 40)), int(rng.integers(1, 20)))
    check_training(student, X, y, float(10 ** rng.uniform(-2, 0.7)), int(rng.integers(2, 30)))
    check_training(student, X, y, float(rng.uniform(0.1, 1)), 0)           # no step: the zero weights
    check_experiment(student, *digits_split(int(rng.integers(0, 10**6)), int(rng.integers(1000, 1300))))


run = TASKS.run
report = TASKS.report
