"""Typical mistakes in assignment 08_tuning, graded by tests/test_grading.py.

Submission name -> the code written into solution cells (by grade id), the expected score of
every task, and text expected in the error that a test cell shows.
"""

# Task 1, right but for the gaps `{variance}` and `{mismatch}`, and the comparison `{beats}`.
DIAGNOSE = (
    "def diagnose(human, train, val, test, tolerance):\n"
    "    gaps = [('avoidable bias', max(train - human, 0.0)), ('variance', {variance}), ('mismatch', {mismatch})]\n"
    "    name, size = gaps[0]\n"
    "    for other, other_size in gaps[1:]:\n"
    "        if other_size {beats} size:\n"
    "            name, size = other, other_size\n"
    "    return name if size > tolerance else 'none'\n")
RIGHT = {"variance": "val - train", "mismatch": "test - val", "beats": ">"}

# Task 4, right but for `{sort}` (sorting the values with their scores) and `{spacing}`.
FINER = (
    "def finer_grid(values, scores, n):\n"
    "{sort}"
    "    best = int(np.nanargmin(scores))\n"
    "    low, high = values[max(best - 1, 0)], values[min(best + 1, len(values) - 1)]\n"
    "    return np.{spacing}(low, high, n)\n")
SORT = ("    order = np.argsort(values)\n"
        "    values, scores = np.asarray(values)[order], np.asarray(scores)[order]\n")

# Task 5, right but for the chosen `{learning_rate}` and `{epochs}`, and the loop's `{steps}` (epochs: as asked).
FIT = (
    "def train_softmax(X, y, learning_rate, epochs):\n"
    "    m, d = X.shape\n"
    "    Y = np.eye(10)[y.astype(int)]\n"
    "    W, b = np.zeros((d, 10)), np.zeros(10)\n"
    "    for _ in range({steps}):\n"
    "        Z = X @ W + b\n"
    "        P = np.exp(Z - Z.max(axis=1, keepdims=True))\n"
    "        P /= P.sum(axis=1, keepdims=True)\n"
    "        G = (P - Y) / m\n"
    "        W -= learning_rate * (X.T @ G)\n"
    "        b -= learning_rate * G.sum(axis=0)\n"
    "    return W, b\n"
    "\n"
    "def tuned_hyperparameters():\n"
    "    return {learning_rate}, {epochs}\n")

MISTAKES = {
    "variance_from_human__uniform_sampler__argmin_with_nan": {
        "code": {
            "diagnose_code": DIAGNOSE.format(**{**RIGHT, "variance": "val - human"}),
            "sampler_code": ("def log_uniform(low, high, size, seed):\n"
                             "    return np.random.default_rng(seed).uniform(low, high, size=size)\n"),
            "best_code": ("def best_trial(results, metric, mode):\n"
                          "    scores = np.asarray(results[metric])\n"
                          "    return int(np.argmin(scores) if mode == 'min' else np.argmax(scores))\n"),
        },
        "scores": {"diagnose": 0, "sampler": 0, "best": 0, "finer": 2, "experiment": 2},
        "messages": {
            "diagnose_test": "variance is the gap from training to validation error, not from human error",
            "sampler_test": "not uniform (4% below sqrt(low * high)): uniform numbers crowd the top decade",
            "best_test": "has no score (NaN): skip NaNs",
        },
    },
    "mismatch_from_train__linear_grid__learning_rate_too_small": {
        "code": {
            "diagnose_code": DIAGNOSE.format(**{**RIGHT, "mismatch": "test - train"}),
            "finer_code": FINER.format(sort=SORT, spacing="linspace"),
            "experiment_code": FIT.format(learning_rate="0.05", epochs="300", steps="epochs"),
        },
        "scores": {"diagnose": 0, "sampler": 2, "best": 2, "finer": 0, "experiment": 0},
        "messages": {
            "diagnose_test": "the mismatch is the gap from validation to test error, not from training",
            "finer_test": "is evenly spaced, not on a log scale",
            "experiment_test": "below 0.94: tune the learning rate",
        },
    },
    "ties_to_the_last__unseeded_sampler__mode_ignored__unsorted_neighbours": {
        "code": {
            "diagnose_code": DIAGNOSE.format(**{**RIGHT, "beats": ">="}),
            "sampler_code": ("def log_uniform(low, high, size, seed):\n"
                             "    return np.exp(np.random.default_rng().uniform("
                             "np.log(low), np.log(high), size=size))\n"),
            "best_code": ("def best_trial(results, metric, mode):\n"
                          "    scores = np.asarray(results[metric], dtype=float)\n"
                          "    return None if np.all(np.isnan(scores)) else int(np.nanargmin(scores))\n"),
            "finer_code": FINER.format(sort="", spacing="geomspace"),
        },
        "scores": {"diagnose": 2, "sampler": 0, "best": 0, "finer": 0, "experiment": 2},
        "messages": {
            "diagnose_hidden": "it ties with another gap; which one wins a tie?",
            "sampler_test": "returned different numbers when called twice",
            "best_test": "with mode='max' the best score is the maximum",
            "finer_test": "takes neighbours from the unsorted values",
        },
    },
    # Task 5's budget: 5000 epochs reach the target with the small rate, but the budget is 300.
    "over_the_epoch_budget": {
        "code": {"experiment_code": FIT.format(learning_rate="0.05", epochs="5000", steps="epochs")},
        "scores": {"diagnose": 3, "sampler": 2, "best": 2, "finer": 2, "experiment": 0},
        "messages": {
            "experiment_test": "(the budget) should be an int from 1 to 300, not 5000",
            "experiment_hidden": "(the budget) should be an int from 1 to 300",
        },
    },
    # ... nor can it be dodged by declaring 300 epochs and training for 5000.
    "trains_longer_than_it_declares": {
        "code": {"experiment_code": FIT.format(learning_rate="0.05", epochs="300", steps="5000")},
        "scores": {"diagnose": 3, "sampler": 2, "best": 2, "finer": 2, "experiment": 0},
        "messages": {
            "experiment_test": "differs from Keras's by up to",
            "experiment_hidden": "differs from Keras's by up to",
        },
    },
}
