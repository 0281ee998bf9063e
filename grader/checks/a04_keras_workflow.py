"""The checks of assignment 4, against Keras in float64: a callback (fitted with in the student's kernel by
a04_kernel.py), EarlyStopping's rule, fit with class weights, and the student's fit_weighted replayed on the
breast cancer data in folds drawn from `rng`. Tasks 2 to 4 are decided in a kernel without Keras."""
import functools
import warnings

import numpy as np

from . import a04_kernel
from .core import Failed, Tasks, as_array, as_count, as_tuple, assert_close, flat, max_abs, source_of
from .references import float64_dense, keras_and_tf, normal, serialized

TASKS = Tasks(numpy_only=False, numpy_tasks=("early_stopping", "fit", "budget"))
NUMPY_PRELUDE = "import math\nimport numpy as np"  # what a NumPy task's kernel is given
PRELUDE = """\
import os
os.environ["KERAS_BACKEND"] = "tensorflow"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import math
import numpy as np
import tensorflow as tf
import keras
tf.get_logger().setLevel("ERROR")
keras.config.set_floatx("float64")
keras.config.set_dtype_policy("float64")
"""  # what the setup cell gives a Keras task's kernel
HARNESS = source_of(a04_kernel)  # runs in the kernel, next to the student's code


def keras64(reference):
    """reference(keras, *args), one at a time, keras in float64 as the setup cell sets it, warnings hidden."""
    @functools.wraps(reference)
    @serialized
    def run(*args):
        keras, _ = keras_and_tf()
        floatx, policy = keras.config.floatx(), keras.config.dtype_policy()
        keras.config.set_floatx("float64")
        keras.config.set_dtype_policy("float64")
        try:
            with warnings.catch_warnings(record=True):
                warnings.simplefilter("always")
                return reference(keras, *args)
        finally:
            keras.config.set_floatx(floatx)
            keras.config.set_dtype_policy(policy)
    return run


# Task 1: a callback that stops below a threshold

def callback_data(seed, m):
    """X (m, 4), classes 0-2 a linear model can learn, a seeded start of the 4 -> 8 -> 3 model."""
    X, rng = normal(seed, (m, 4)), np.random.default_rng(seed + 2)
    y = np.argmax(X @ normal(seed + 1, (4, 3)) + normal(seed + 2, (m, 3), 0.3), axis=1)
    return X, y, [rng.normal(scale=0.5, size=shape) for shape in [(4, 8), (8,), (8, 3), (3,)]]


@functools.lru_cache(maxsize=None)
@keras64
def callback_curve(keras, seed, m, epochs, monitor):
    """history.history[monitor] of a04_kernel's fit on callback_data(seed, m), without a callback."""
    X, y, weights = callback_data(seed, m)
    net = float64_dense(weights, ["relu", "softmax"])
    net.compile(optimizer=keras.optimizers.SGD(learning_rate=0.125), loss="sparse_categorical_crossentropy")
    return tuple(net.fit(X, y, batch_size=8, epochs=epochs, validation_split=0.25, shuffle=False,
                         verbose=0).history[monitor])


def falls(curve):
    """The first index j >= 2 of a value below all values before it (or len(curve))."""
    return next((j for j in range(2, len(curve)) if curve[j] < min(curve[:j])), len(curve))


def check_callback(student, seed, m, epochs, monitor, runs=1, edges=False):
    """Fits with StopBelow(threshold, monitor) (`runs` with each) stop after the first epoch below threshold,
    with the history as values: thresholds 0, one inside the curve, and with edges inf and one of its values."""
    problem = student.call("callback_problem", harness=HARNESS)
    if problem is not None:
        raise Failed(str(problem))
    curve, j = callback_curve(seed, m, epochs, monitor), falls(callback_curve(seed, m, epochs, monitor))
    for threshold in [0.0, (curve[j] + min(curve[:j])) / 2] + ([float("inf"), curve[j]] if edges else []):
        stop = next((k + 1 for k, value in enumerate(curve) if value < threshold), epochs)
        what = f"fit(..., epochs={epochs}, callbacks=[StopBelow({threshold!r}, monitor={monitor!r})])"
        reports = student.call("fit_with_stop_below", *callback_data(seed, m), epochs, threshold, monitor, runs,
                               harness=HARNESS)
        if isinstance(reports, str):
            raise Failed(reports)
        for report in reports:
            ran, values = as_tuple(report, 2, "the fits with StopBelow")
            if ran != stop:
                raise Failed(f"{what} ran {ran} epochs: " + (
                    f"it went on after epoch {stop}, whose {monitor} is below the threshold: set "
                    "self.model.stop_training = True at the end of that epoch" if ran > stop else
                    f"it stopped after epoch {ran}, whose {monitor} is not below the threshold"))
            if values is None:
                raise Failed(f"after {what}, your callback has no attribute values")
            if isinstance(values, list) and len(values) > stop:
                raise Failed(f"after {what}, StopBelow.values holds {len(values)} values for {stop} epochs: start a "
                             "new list in on_train_begin")
            assert_close(as_array(values, (stop,), f"after {what}, StopBelow.values"), np.array(curve[:stop]),
                         f"after {what}, StopBelow.values", f"history.history[{monitor!r}]", 1e-10)


def callback_hidden(rng):
    """A drawn fit (one callback, two fits) whose loss falls after epoch 2, and the edges."""
    draws = [(int(rng.integers(1000, 10**6)), int(rng.integers(32, 57))) for _ in range(5)]
    seed, m = next((d for d in draws if falls(callback_curve(*d, 6, "loss")) < 5), (301, 40))
    return [(seed, m, 6, "loss", 2), (31, 48, 6, "val_loss", 1, True)]


TASKS.task("callback", 1, check_callback, [(31, 48, 8, "val_loss")], callback_hidden)


# Task 2: EarlyStopping's rule

@functools.lru_cache(maxsize=None)
@keras64
def early_stopping(keras, values, patience, min_delta, restore):
    """(epochs run, epoch kept) of keras.callbacks.EarlyStopping, driven as fit drives it: after epoch k
    (from 1) the model's only weight is k and val_loss is values[k - 1]."""
    stopper = keras.callbacks.EarlyStopping(patience=patience, min_delta=min_delta, restore_best_weights=restore)
    net = float64_dense([np.zeros((1, 1)), np.zeros(1)], [None])
    stopper.set_model(net)
    net.stop_training = False
    stopper.on_train_begin({})
    for epoch, value in enumerate(values, start=1):
        net.set_weights([np.full((1, 1), float(epoch)), np.zeros(1)])
        stopper.on_epoch_end(epoch - 1, {"val_loss": value})
        if net.stop_training:
            break
    stopper.on_train_end({})
    return epoch, int(net.get_weights()[0][0, 0])


def check_early_stopping(student, values, patience, min_delta, restore):
    """early_stopping(values, ...) -> (epochs run, epoch kept), as EarlyStopping decides."""
    ran, kept = early_stopping(tuple(values), patience, min_delta, restore)
    what = f"early_stopping({values}, patience={patience}, min_delta={min_delta}, restore_best_weights={restore})"
    got = as_tuple(student.call("early_stopping", list(values), patience, min_delta, restore), 2, what)
    run, holds = as_count(got[0], f"{what}[0]"), as_count(got[1], f"{what}[1]")
    if run != ran:
        raise Failed(f"{what}: yours stops training after epoch {run}, {'later' if run > ran else 'earlier'} than "
                     "keras.callbacks.EarlyStopping: check what improves, and how epochs without one count")
    if holds != kept:
        raise Failed(f"{what}: yours says the model ends with the weights of epoch {holds}, but it keeps those of "
                     f"another epoch: {'the best epoch, by its rule' if restore else 'the last epoch run'}")


def early_stopping_hidden(rng):
    """Rules, edges, and four curves drawn from rng."""
    wavy = [0.7, 0.65, 0.66, 0.64, 0.67, 0.68, 0.62, 0.61, 0.63, 0.69, 0.7, 0.71]
    cases = [([1.0, 0.9, 0.8, 0.7], 0, 0.0, True),  # never stops
             ([1.0, 0.6, 0.7, 0.8], 5, 0.0, True),
             ([0.5, 0.5, 0.4], 0, 0.0, False),  # a tie
             ([0.5, 0.6, 0.4, 0.3], 1, 0.0, True),  # patience 1 = 0
             ([0.3], 0, 0.0, True),  # one epoch
             ([1.0, 0.875, 0.75, 0.625, 0.5], 1, 0.125, True),  # 0.875 + 0.125 = 1
             ([1.0, 0.9375, 0.875, 0.8125, 0.75, 0.6875], 3, 0.125, True),  # best: epoch 4
             (wavy, 3, 0.0, True), (wavy, 3, 0.0, False)]
    for _ in range(4):  # on a grid of 1/32: exact in binary
        steps = rng.choice([-3, -2, -1, -1, 0, 1, 2], size=int(rng.integers(3, 12)))
        cases.append((((32 + np.cumsum(np.append(0, steps))).clip(4, 48) / 32).tolist(), int(rng.integers(0, 4)),
                      float(rng.choice([0.0, 0.0, 1 / 32, 1 / 16])), bool(rng.integers(0, 2))))
    return cases


EXAMPLE = [0.9, 0.8, 0.85, 0.75, 0.78, 0.8, 0.82]  # the task's
TASKS.task("early_stopping", 2, check_early_stopping, [(EXAMPLE, 2, 0.0, False), (EXAMPLE, 2, 0.0, True),
                                                       (EXAMPLE, 0, 0.0, False)], early_stopping_hidden)


# Task 3: fit with class weights, for one sigmoid unit

@keras64
def keras_fit(keras, X, y, w, b, learning_rate, batch_size, epochs, class_weight):
    """flat(history["loss"], w, b) of keras fit (SGD, unshuffled) of a float64 Dense(1, "sigmoid")."""
    net = float64_dense([w, b], ["sigmoid"])
    net.compile(optimizer=keras.optimizers.SGD(learning_rate=learning_rate), loss="binary_crossentropy")
    history = net.fit(X, y, batch_size=batch_size, epochs=epochs, shuffle=False, verbose=0,
                      class_weight=dict(enumerate(class_weight)))
    return flat(history.history["loss"], *net.get_weights())


def numpy_fit(X, y, w, b, learning_rate, batch_size, epochs, class_weight, by="rows"):
    """The same in NumPy (Task 4's replay); `by` makes a mistake: a batch's loss over its weights' sum
    ("weights") or over batch_size ("batch_size"), or no class weights ("unweighted")."""
    losses = []
    for _ in range(epochs):
        total = 0.0
        for start in range(0, len(X), batch_size):
            Xk, yk = X[start:start + batch_size], y[start:start + batch_size]
            s = np.where(yk == 1, class_weight[1], class_weight[0]) if by != "unweighted" else np.ones(len(yk))
            z, n = Xk @ w[:, 0] + b[0], {"weights": s.sum(), "batch_size": batch_size}.get(by, len(yk))
            total += len(yk) * np.sum(s * (np.maximum(z, 0) - z * yk + np.log1p(np.exp(-np.abs(z))))) / n
            g = s * (0.5 * (1 + np.tanh(z / 2)) - yk) / n
            w, b = w - learning_rate * (Xk.T @ g)[:, None], b - learning_rate * g.sum(keepdims=True)
        losses.append(total / len(X))
    return flat(losses, w, b)


def fitted(student, X, y, w, b, learning_rate, batch_size, epochs, class_weight):
    """(what, flat(losses, w, b)) of fit_weighted."""
    what = f"fit_weighted(X {X.shape}, y, w, b, {learning_rate:g}, {batch_size}, {epochs}, {class_weight})"
    got = as_tuple(student.call("fit_weighted", X, y, w, b, learning_rate, batch_size, epochs, class_weight,
                                hint="Compute the loss from the logit, without the log of a probability."), 3, what)
    return what, flat(*(as_array(value, shape, f"{name} {what} returns") for value, shape, name in
                        zip(got, [(epochs,), w.shape, b.shape], ["the epoch losses", "the w", "the b"])))


def check_fit(student, *args):
    """fit_weighted(X, y, w, b, learning_rate, batch_size, epochs, class_weight) as keras fit."""
    what, got = fitted(student, *args)
    right = keras_fit(*args)
    assert_close(got, right, what, "keras fit's (epoch losses, w, b)", 1e-10 * max(1.0, max_abs(right)), like=[
        (numpy_fit(*args, by="weights"), "divides each batch's weighted loss by the sum of its class weights: "
         "look at what Keras's default reduction, sum_over_batch_size, divides by"),
        (numpy_fit(*args, by="batch_size"), "divides the last, smaller batch by batch_size, not by its own rows"),
        (numpy_fit(*args, by="unweighted"), "leaves class_weight out: each row's loss and gradient carry it")])


def fit_case(rng, m, d, scale):
    """X (m, d), labels 0/1 (m,) a linear unit can learn, a start w (d, 1), b (1,)."""
    rng = np.random.default_rng(rng)
    X = rng.normal(size=(m, d))
    y = (X @ rng.normal(size=d) + rng.normal(scale=0.5, size=m) > 0.5) * 1.0
    return X, y, rng.normal(scale=scale, size=(d, 1)), rng.normal(scale=0.1, size=1)


def fit_hidden(rng):
    """Batches of 1 row, 1 larger batch, batches dividing m, logits in the tens."""
    k, weights = int(rng.integers(3, 5)), (float(rng.uniform(0.2, 1)), float(rng.uniform(1, 5)))
    return [(*fit_case(rng, m, d, scale), 0.125, batch_size, epochs, weights) for m, d, scale, batch_size, epochs in
            [(int(rng.integers(4, 9)), 2, 0.5, 1, 2), (int(rng.integers(6, 13)), 3, 0.5, 32, 3), (3 * k, 4, 0.5, 3, 2),
             (8 * k + int(rng.integers(1, 8)), 3, 10.0, 8, 3)]]


TASKS.task("fit", 3, check_fit, [(*fit_case(51, 20, 3, 0.5), 0.125, 8, 5, weights)  # batches of 8, 8, 4
                                 for weights in [(1.0, 1.0), (0.5, 3.0)]], fit_hidden)


# Task 4: the breast cancer data, within a budget of steps

BUDGET, TARGET, FOLDS, LARGEST = 20, 0.10, 5, 456  # steps; mean validation loss; folds; training rows


def cancer_folds(rng):
    """For each of FOLDS folds of the breast cancer data in an order drawn from rng: the other rows
    (standardized) and labels (1: malignant), the fold's rows (alike) and labels."""
    from sklearn.datasets import load_breast_cancer
    X, target = load_breast_cancer(return_X_y=True)
    folds = np.array_split(np.random.default_rng(rng).permutation(len(X)), FOLDS)
    for k, rows in enumerate(folds):
        train = np.concatenate(folds[:k] + folds[k + 1:])
        mean, std = X[train].mean(axis=0), X[train].std(axis=0)
        yield (X[train] - mean) / std, (target[train] == 0) * 1.0, (X[rows] - mean) / std, (target[rows] == 0) * 1.0


def check_budget(student, rng):
    """chosen_fit() within BUDGET; with it, fit_weighted on each fold gives fit's rule (replayed here) and a
    mean loss over the held-out rows <= TARGET."""
    choice = as_tuple(student.call("chosen_fit"), 3, "chosen_fit()")
    learning_rate = float(as_array(choice[0], (), "the learning rate chosen_fit() returns"))
    batch_size, epochs = as_count(choice[1], "batch_size"), as_count(choice[2], "epochs")
    if not (learning_rate > 0 and batch_size >= 1 and epochs >= 1):
        raise Failed("chosen_fit() should return a learning rate > 0, batch_size >= 1 and epochs >= 1")
    steps = epochs * -(-LARGEST // batch_size)
    if steps > BUDGET:
        raise Failed(f"chosen_fit() asks for {steps} steps on {LARGEST} training rows, over the budget of {BUDGET}")
    losses, curves = [], []
    for X, y, X_val, y_val in cancer_folds(rng):
        args = (X, y, np.zeros((X.shape[1], 1)), np.zeros(1), learning_rate, batch_size, epochs, (1.0, 1.0))
        (what, got), right = fitted(student, *args), numpy_fit(*args)
        if max_abs(got - right) > 1e-8 * max(1.0, max_abs(right)):
            raise Failed(f"{what} on a fold of the breast cancer data gave other numbers than keras fit's rule: "
                         "make Task 3 pass first")
        z = X_val @ right[epochs:-1] + right[-1]
        losses += list(np.maximum(z, 0) - z * y_val + np.log1p(np.exp(-np.abs(z))))
        curves.append(right[:epochs])
    if np.mean(losses) > TARGET:
        overshoot = np.any(np.diff(curves) > 0) or np.mean(curves, axis=0)[-1] < TARGET
        raise Failed(f"with your choices, the mean validation loss over the {FOLDS} folds is {np.mean(losses):.4f}, "
                     f"above the target {TARGET}: " + ("steps this large overshoot" if overshoot else
                                                       "training stopped while the loss was still falling"))


TASKS.visible("budget_test", "Task 4: the visible tests pass.", disguised=True)(check_budget)
TASKS.hidden("budget_hidden")(check_budget)

run = TASKS.run
report = TASKS.report
