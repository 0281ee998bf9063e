"""Helpers shared by chapter 8's pages (error analysis, hyperparameter search) on the digits.

    from course_tools.tuning import digits_splits, error_rate, log_uniform
    data = digits_splits(seed=0)          # {"train": (X, y), "val": (X, y), "test": (X, y)}
    error_rate(model.predict(data["val"][0], verbose=0), data["val"][1])
"""
import numpy as np


def digits_splits(seed=0, train=1000, val=400):
    """scikit-learn's digits, pixels scaled to [0, 1], shuffled with `seed` and cut into disjoint
    splits: {"train": (X (train, 64), y (train,)), "val": (X (val, 64), y), "test": the remaining rows}."""
    from sklearn.datasets import load_digits
    X, y = load_digits(return_X_y=True)
    if not (0 < train and 0 < val and train + val < len(X)):
        raise ValueError(f"train={train} and val={val} must be positive and leave rows for the test split "
                         f"(the digits have {len(X)} rows).")
    rows = np.random.default_rng(seed).permutation(len(X))
    X = X / 16.0
    cut = {"train": rows[:train], "val": rows[train:train + val], "test": rows[train + val:]}
    return {name: (X[r], y[r]) for name, r in cut.items()}


def error_rate(scores, y):
    """The fraction of rows whose highest score (argmax of scores (m, n)) is not the label y (m,)."""
    scores, y = np.asarray(scores), np.asarray(y)
    if scores.ndim != 2 or y.shape != (scores.shape[0],):
        raise ValueError(f"error_rate needs scores (m, n) and labels (m,); got shapes {scores.shape} and {y.shape}.")
    return float(np.mean(np.argmax(scores, axis=1) != y))


def log_uniform(rng, low, high, size=None):
    """Numbers whose logarithms are uniform on [log low, log high], drawn from the Generator rng."""
    if not 0 < low <= high:
        raise ValueError(f"log_uniform needs 0 < low <= high; got low={low!r}, high={high!r}.")
    return np.exp(rng.uniform(np.log(low), np.log(high), size=size))
