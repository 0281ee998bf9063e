"""Assignment 8's checks: rules, a KS test, training against Keras's SGD."""
import numpy as np

from . import references as ref
from .core import Failed, Tasks, as_array, as_count, as_items, as_number, expect, expect_trained, flat

TASKS = Tasks(numpy_only=True)
MISREADINGS = {
    "ties": "it ties with another gap; which one wins a tie?",
    "variance": "variance is the gap from training to validation error, not from human error",
    "mismatch": "the mismatch is the gap from validation to test error, not from training"}


def diagnosis(human, train, val, test, tolerance, misreading=""):
    """The largest gap above tolerance (ties: the first) or "none"; or a misreading's."""
    sizes = {"avoidable bias": max(train - human, 0.0),
             "variance": val - (human if misreading == "variance" else train),
             "mismatch": test - (train if misreading == "mismatch" else val)}
    worst = max(list(sizes)[::-1] if misreading == "ties" else sizes, key=sizes.get)
    return worst if sizes[worst] > tolerance else "none"


def check_diagnose(student, *profile):
    got = student.call("diagnose", *profile)
    if got != diagnosis(*profile):
        what = "diagnose({:g}, {:g}, {:g}, {:g}, tolerance={:g})".format(*profile)
        text = next((text for key, text in MISREADINGS.items() if diagnosis(*profile, key) == got),
                    "compare the gaps to the tolerance")
        raise Failed(f"{what} returned {got!r}: {text}")


def diagnose_cases(rng):
    profiles = np.cumsum(rng.uniform([0, -0.01, 0, -0.02], [0.05, 0.15, 0.15, 0.15], size=(20, 4)), axis=1)
    return [(*p, float(rng.choice([0, 0.01, 0.02]))) for p in profiles.tolist()] + [
        (0.05, 0.02, 0.03, 0.04, 0.005), (0, 0.1, 0.2, 0.3, 0.01), (0,) * 5]


def check_sampler(student, low, high, size, seed):
    from scipy.stats import kstest
    what = f"log_uniform({low:.4g}, {high:.4g}, {size}, seed={seed})"
    first, again, other = [as_array(student.call("log_uniform", low, high, size, s), (size,), what)
                           for s in (seed, seed, seed + 1)]
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


def check_best(student, results, metric, mode):
    """The first trial with the best score, NaNs skipped; None if all are NaN."""
    what = f"best_trial(results, {metric!r}, {mode!r})"
    scores = np.asarray(results[metric], dtype=float)
    got = student.call("best_trial", results, metric, mode)
    got = got if got is None else as_count(got, what)
    best, worst = (np.nanargmin, np.nanargmax)[::1 if mode == "min" else -1]
    right = None if np.isnan(scores).all() else best(scores)
    if got != right:
        raise Failed(f"{what} returned {got}: " + (
            "every score is NaN: there is no best trial" if right is None else
            f"trial {got} has no score (NaN): skip NaNs" if got in np.flatnonzero(np.isnan(scores)) else
            f"with mode={mode!r} the best score is the {mode}imum" if got == worst(scores) else "not the best"))


def best_cases(rng):
    scores = rng.choice([np.nan, *rng.uniform(0.1, 2.0, size=5)], size=int(rng.integers(8, 40)))    # ties, NaNs
    scores[0] = np.nan
    return [({"val_loss": s}, "val_loss", mode) for s, mode in [
        (scores, "min"), (scores, "max"), (np.full(3, np.nan), "min"), (np.array([0.3]), "max")]]


VISIBLE = {"learning_rate": np.array([3e-4, 2e-2, 1.5, 4e-3, 0.3, 7e-5, 9e-2, 1e-3]),
           "units": np.array([16, 64, 32, 128, 16, 64, 32, 16]),
           "val_loss": np.array([0.62, 0.18, np.nan, 0.25, 0.41, 1.3, 0.16, 0.33]),
           "val_accuracy": np.array([0.84, 0.95, 0.10, 0.93, 0.88, 0.62, 0.96, 0.90])}


def check_finer(student, values, scores, n):
    """n log-spaced points between the sorted neighbours of the best value."""
    def grid(space, values, scores):
        i = np.nanargmin(scores)
        return space(values[max(i - 1, 0)], values[min(i + 1, len(values) - 1)], n)
    order = np.argsort(values)
    ordered = values[order], scores[order]
    expect(student, "finer_grid", (values, scores, n), grid(np.geomspace, *ordered), "the finer grid", 1e-12,
           like=[(grid(np.linspace, *ordered), "is evenly spaced, not on a log scale"),
                 (grid(np.geomspace, values, scores), "takes neighbours from the unsorted values")])


def finer_cases(rng):
    values = 10 ** rng.uniform(-5, 0, size=int(rng.integers(6, 30)))
    scores = rng.uniform(size=len(values))
    scores[:2] = np.nan
    return [(values, scores, int(rng.integers(3, 12))), (values, -values, 7), (values, values, 4)]


def check_training(student, X, y, rate, epochs):
    def replay(rate, steps):
        return flat(*ref.descent(X, y, [np.zeros((X.shape[1], 10)), np.zeros(10)], ["softmax"], rate, steps))
    return expect_trained(student, "train_softmax", (X, y, rate, epochs), [(X.shape[1], 10), (10,)], replay, rate,
                          epochs, "Keras's", 1e-5, batch=len(X))


def check_experiment(student, X, y, steps, seed, m):
    for rate, epochs in steps:
        check_training(student, X, y, rate, epochs)
    X, y, X_val, y_val = ref.digits(seed, m, 1797 - m)
    rate, epochs = as_items(student.call("tuned_hyperparameters"), 2, "tuned_hyperparameters()")
    as_number(rate, "the learning rate")
    as_number(epochs, "the epochs (the budget)", whole=True, low=1, high=300)
    W, b = check_training(student, X, y, rate, epochs)
    accuracy = np.mean(np.argmax(X_val @ W + b, axis=1) == y_val)
    if accuracy < 0.94:
        raise Failed(f"your choices reach an accuracy of {accuracy:.4f} on other digits, below 0.94: tune the "
                     "learning rate")


def experiment_cases(rng):
    m, d = rng.integers([5, 1], [40, 20])
    X, y = rng.uniform(size=(m, d)), rng.integers(0, 10, size=m)
    steps = [(10 ** rng.uniform(-2, 0.7), int(rng.integers(2, 30))), (rng.uniform(0.1, 1), 0)]
    return [(X, y, steps, int(rng.integers(1e6)), int(rng.integers(1000, 1300)))]


TASKS.task("diagnose", 1, check_diagnose, [(0.01, *errors, 0.02) for errors in [
    (0.12, 0.13, 0.135), (0.015, 0.11, 0.115), (0.02, 0.03, 0.12), (0.015, 0.02, 0.025)]], diagnose_cases)
TASKS.task("sampler", 2, check_sampler, [(1e-4, 1e-1, 2000, 0)], lambda rng: [
    (float(low), float(low * ratio), int(rng.integers(1000, 3000)), int(rng.integers(1e6)))
    for low, ratio in 10 ** rng.uniform([-7, 0.5], [1, 5], size=(3, 2))] + [(2.0, rng.uniform(3, 6), 1, 0)])
TASKS.task("best", 3, check_best, [(VISIBLE, "val_loss", "min"), (VISIBLE, "val_accuracy", "max")], best_cases)
TASKS.task("finer", 4, check_finer, [(VISIBLE["learning_rate"], VISIBLE["val_loss"], 5)], finer_cases)
TASKS.task("experiment", 5, check_experiment, [(
    np.random.default_rng(8).uniform(size=(12, 5)), np.random.default_rng(9).integers(0, 10, size=12),
    [(0.5, 1), (0.5, 7)], 0, 1200)], experiment_cases)

run = TASKS.run
report = TASKS.report
