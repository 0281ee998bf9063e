"""Checks of assignment 8 (tuning): rules, a KS test, and training replayed by references.descent."""
import numpy as np

from . import references as ref
from .core import Failed, Tasks, as_array, as_count, as_number, as_sequence, flat, max_abs

TASKS = Tasks(numpy_only=True)
PRELUDE = "import numpy as np"
PROBLEMS = ("avoidable bias", "variance", "mismatch")
TARGET, BUDGET = 0.94, 300              # Task 5: accuracy to reach within BUDGET epochs
MISREADINGS = {
    "ties": "it ties with another gap; which one wins a tie?",
    "variance": "variance is the gap from training to validation error, not from the human level",
    "mismatch": "the mismatch is the gap from validation to test error, not from training error"}


def diagnosis(human, train, val, test, tolerance, misreading=""):
    """The largest gap above tolerance (ties: the first) or "none"; or a misreading's."""
    sizes = {"avoidable bias": max(train - human, 0.0),
             "variance": val - (human if misreading == "variance" else train),
             "mismatch": test - (train if misreading == "mismatch" else val)}
    worst = max(PROBLEMS[::-1] if misreading == "ties" else PROBLEMS, key=sizes.get)
    return worst if sizes[worst] > tolerance else "none"


def check_diagnose(student, *profile):
    got = student.call("diagnose", *profile)
    if got != diagnosis(*profile):
        what = "diagnose({:g}, {:g}, {:g}, {:g}, tolerance={:g})".format(*profile)
        text = next((text for key, text in MISREADINGS.items() if diagnosis(*profile, key) == got),
                    "compare the gaps to the tolerance")
        raise Failed(f"{what} returned {got!r}: {text}")


def diagnose_cases(rng):
    for _ in range(20):
        profile = np.cumsum(rng.uniform([0, -0.01, 0, -0.02], [0.05, 0.15, 0.15, 0.15]))
        yield *profile.tolist(), float(rng.choice([0, 0.01, 0.02]))
    yield from [(0.05, 0.02, 0.03, 0.04, 0.005), (0, 0.1, 0.2, 0.3, 0.01), (0,) * 5]


def check_sampler(student, low, high, size, seed):
    from scipy.stats import kstest
    what = f"log_uniform({low:.4g}, {high:.4g}, {size}, seed={seed})"
    first, again, other = (as_array(student.call("log_uniform", low, high, size, s), (size,), what)
                           for s in (seed, seed, seed + 1))
    if ((first < low) | (first > high)).any():
        raise Failed(f"{what} returned numbers outside [low, high]")
    if not np.array_equal(first, again):
        raise Failed(f"{what} returned different numbers when called twice")
    if size > 1 and np.array_equal(first, other):
        raise Failed(f"{what} returns the same numbers for another seed")
    below = np.mean(first < np.sqrt(low * high))
    if size > 1 and kstest(np.log(first / low) / np.log(high / low), "uniform").pvalue < 1e-4:
        raise Failed(f"{what}: the logarithms are not uniform ({below:.0%} below sqrt(low * high))"
                     + (": uniform numbers crowd the top decade" if below < 0.35 else ""))


def sampler_cases(rng):
    for low, ratio in 10 ** rng.uniform([-7, 0.5], [1, 5], size=(3, 2)):
        yield float(low), float(low * ratio), int(rng.integers(1000, 3000)), int(rng.integers(1e6))
    yield 2.0, float(2 * rng.uniform(1.5, 3)), 1, int(rng.integers(1e6))


def check_best(student, results, metric, mode):
    """The first trial with the best score, NaNs skipped; None if all are NaN."""
    what = f"best_trial(results, {metric!r}, {mode!r})"
    scores = np.asarray(results[metric], dtype=float)
    got = student.call("best_trial", results, metric, mode)
    got = got if got is None else as_count(got, what)
    best, worst = (np.nanargmin, np.nanargmax)[::1 if mode == "min" else -1]
    right = None if np.isnan(scores).all() else best(scores)
    if got == right:
        return
    text = "not the best"
    if right is None:
        text = "every score is NaN: there is no best trial"
    elif got in np.flatnonzero(np.isnan(scores)):
        text = f"trial {got} has no score (NaN, a run that diverged); skip NaNs"
    elif got == worst(scores):
        text = f"with mode={mode!r} the best score is the {'lowest' if mode == 'min' else 'highest'}"
    raise Failed(f"{what} returned {got}: {text}")


VISIBLE = {"learning_rate": np.array([3e-4, 2e-2, 1.5, 4e-3, 0.3, 7e-5, 9e-2, 1e-3]),
           "units": np.array([16, 64, 32, 128, 16, 64, 32, 16]),
           "val_loss": np.array([0.62, 0.18, np.nan, 0.25, 0.41, 1.3, 0.16, 0.33]),
           "val_accuracy": np.array([0.84, 0.95, 0.10, 0.93, 0.88, 0.62, 0.96, 0.90])}


def best_cases(rng):
    scores, tie = rng.uniform(0.1, 2.0, size=(2, int(rng.integers(5, 40))))
    scores[rng.choice(len(scores), size=3, replace=False)] = np.nan
    tie[rng.choice(len(tie), size=2, replace=False)] = 0.05
    for scores, mode in [(scores, "min"), (scores, "max"), (np.r_[np.nan, scores], "min"), (tie, "min"),
                         (np.full(3, np.nan), "min"), (np.array([0.3]), "max")]:
        yield {"val_loss": scores}, "val_loss", mode


def check_finer(student, values, scores, n):
    """n log-spaced points between the sorted neighbours of the best value."""
    what = f"finer_grid(values, scores, {n})"
    order = np.argsort(values, kind="stable")
    got = as_array(student.call("finer_grid", values, scores, n), (n,), what)
    i = int(np.nanargmin(scores[order]))
    low, high = values[order][max(i - 1, 0)], values[order][min(i + 1, len(values) - 1)]
    if np.allclose(got, np.geomspace(low, high, n), rtol=1e-9, atol=0):
        return
    if np.allclose(got, np.linspace(low, high, n), rtol=1e-9, atol=0):
        raise Failed(f"{what}: your points are evenly spaced on a linear scale, not a log scale")
    raise Failed(f"{what} is not the finer grid around the best value" + (
        "" if got[0] == low else ": its ends are the sorted values next to it"))


def finer_cases(rng):
    values = 10 ** rng.uniform(-5, 0, size=int(rng.integers(6, 30)))
    scores = (np.log10(values) + rng.uniform(1, 4)) ** 2 + rng.uniform(0, 0.1, size=len(values))
    scores[rng.choice(len(values), size=2, replace=False)] = np.nan
    yield from [(values, scores, int(rng.integers(3, 12))), (values, -values, 7), (values, values, 4)]


def descent(X, y, learning_rate, epochs):
    """Keras's flat W (d, 10) and b (10,) after `epochs` SGD steps from zeros."""
    return flat(*ref.descent(X, y, [np.zeros((X.shape[1], 10)), np.zeros(10)], ["softmax"], learning_rate, epochs))


def check_training(student, X, y, rate, epochs):
    from scipy.special import log_softmax
    m, d = X.shape
    what = f"train_softmax(X {X.shape}, y, {rate:g}, {epochs})"
    W, b = as_sequence(student.call("train_softmax", X, y, rate, epochs), 2, what, "a pair (W, b)")
    got = flat(as_array(W, (d, 10), "its W"), as_array(b, (10,), "its b"))
    right = descent(X, y, rate, epochs)
    tol = 1e-5 * max(1.0, max_abs(right))      # float32 passes
    if max_abs(got - right) <= tol:
        return got[:-10].reshape(d, 10), got[-10:]
    for rate_n, n, text in [(rate, epochs - 1, "a step too few"), (rate, epochs + 1, "a step too many"),
                            (rate * m, epochs, "steps for the summed loss, not the mean")]:
        if n >= 0 and max_abs(got - descent(X, y, rate_n, n)) <= tol:
            raise Failed(f"{what} took {text}")
    fit = [np.mean(log_softmax(X @ w[:-10].reshape(d, 10) + w[-10:], axis=1)[range(m), y]) for w in (got, right)]
    if fit[0] > fit[1] + 1e-9:
        raise Failed(f"{what} has a lower loss than Keras's: it trained longer, or with another optimizer")
    raise Failed(f"{what} differs from Keras's: check the softmax and the gradient")


def check_experiment(student, X, y, steps, seed, m):
    for rate, epochs in steps:
        check_training(student, X, y, rate, epochs)
    X, y, X_val, y_val = ref.digits(seed, m, 1797 - m)
    rate, epochs = as_sequence(student.call("tuned_hyperparameters"), 2, "tuned_hyperparameters()", "a pair")
    as_number(rate, "the learning rate")
    as_number(epochs, "the epochs of tuned_hyperparameters() (the budget)", whole=True, low=1, high=BUDGET)
    W, b = check_training(student, X, y, float(rate), epochs)
    accuracy = np.mean(np.argmax(X_val @ W + b, axis=1) == y_val)
    if accuracy < TARGET:
        raise Failed(f"with learning_rate={rate:g} and {epochs} epochs, the accuracy on other digits is "
                     f"{accuracy:.4f}, below {TARGET}: tune the learning rate on your split")


SMALL = np.random.default_rng(8).uniform(size=(12, 5)), np.random.default_rng(9).integers(0, 10, size=12)


def experiment_cases(rng):
    m, d = rng.integers([5, 1], [40, 20])
    steps = [(float(10 ** rng.uniform(-2, 0.7)), int(rng.integers(2, 30))), (float(rng.uniform(0.1, 1)), 0)]
    X, y = rng.uniform(size=(m, d)), rng.integers(0, 10, size=m)
    yield X, y, steps, int(rng.integers(1e6)), int(rng.integers(1000, 1300))


TASKS.task("diagnose", 1, check_diagnose, [(0.01, 0.12, 0.13, 0.135, 0.02), (0.01, 0.015, 0.11, 0.115, 0.02),
                                           (0.01, 0.02, 0.03, 0.12, 0.02), (0.01, 0.015, 0.02, 0.025, 0.02)],
           diagnose_cases)
TASKS.task("sampler", 2, check_sampler, [(1e-4, 1e-1, 2000, 0)], sampler_cases)
TASKS.task("best", 3, check_best, [(VISIBLE, "val_loss", "min"), (VISIBLE, "val_accuracy", "max")], best_cases)
TASKS.task("finer", 4, check_finer, [(VISIBLE["learning_rate"], VISIBLE["val_loss"], 5)], finer_cases)
TASKS.task("experiment", 5, check_experiment, [(*SMALL, [(0.5, 1), (0.5, 7)], 0, 1200)], experiment_cases)

run = TASKS.run
report = TASKS.report
