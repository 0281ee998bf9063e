"""Assignment 4's checks, against Keras in float64; Task 1's fits run in the student's kernel (a04_kernel.py)."""
import functools
import inspect
import warnings

import numpy as np

from . import a04_kernel
from .core import Failed, Tasks, as_array, as_arrays, as_count, as_items, as_number, assert_close, flat, max_abs
from .references import float64_dense, keras_and_tf, normal, serialized

TASKS = Tasks(numpy_only=False, numpy_tasks=("early_stopping", "fit", "budget"))
NUMPY_PRELUDE = "import math\nimport numpy as np"
PRELUDE = """\
import math
import numpy as np
import tensorflow as tf
import keras
tf.get_logger().setLevel("ERROR")
keras.config.set_floatx("float64")
keras.config.set_dtype_policy("float64")
"""  # the setup cell (execute.KERNEL_ENV sets the backend)
HARNESS = inspect.getsource(a04_kernel)


def keras64(reference):
    """reference(keras, *args), one at a time, in float64 as in the notebook, warnings hidden."""
    @serialized
    def run(*args):
        keras, _ = keras_and_tf()
        floatx = keras.config.floatx()
        keras.config.set_floatx("float64")
        try:
            with warnings.catch_warnings(action="ignore"):
                return reference(keras, *args)
        finally:
            keras.config.set_floatx(floatx)
    return run


def callback_data(seed, m):
    """X (m, 4), classes y (m,), a start of the 4 -> 8 -> 3 model."""
    X, rng = normal(seed, (m, 4)), np.random.default_rng(seed + 2)
    y = np.argmax(X @ normal(seed + 1, (4, 3)) + normal(seed + 2, (m, 3), 0.3), axis=1)
    return X, y, [rng.normal(scale=0.5, size=shape) for shape in [(4, 8), (8,), (8, 3), (3,)]]


@functools.lru_cache(maxsize=None)
@keras64
def callback_curve(keras, seed, m, epochs, monitor):
    """history.history[monitor] of a04_kernel's fit, without a callback."""
    X, y, weights = callback_data(seed, m)
    net = float64_dense(weights, ["relu", "softmax"])
    net.compile(optimizer=keras.optimizers.SGD(learning_rate=0.125), loss="sparse_categorical_crossentropy")
    return tuple(net.fit(X, y, batch_size=8, epochs=epochs, validation_split=0.25, shuffle=False,
                         verbose=0).history[monitor])


def falls(curve):
    """The first index j >= 2 of a new lowest value, or len(curve)."""
    return next((j for j in range(2, len(curve)) if curve[j] < min(curve[:j])), len(curve))


def check_callback(student, seed, m, epochs, monitor):
    """Two fits with one StopBelow(threshold, monitor) stop after the first epoch below it, its values
    the history: thresholds 0, inside the curve, inf, a value of it."""
    curve = callback_curve(seed, m, epochs, monitor)
    j = falls(curve)
    for threshold in [0.0, (curve[j] + min(curve[:j])) / 2, float("inf"), curve[j]]:
        stop = next((k + 1 for k, value in enumerate(curve) if value < threshold), epochs)
        what = f"fit(..., epochs={epochs}, callbacks=[StopBelow({threshold!r}, monitor={monitor!r})])"
        reports = student.call("fit_with_stop_below", *callback_data(seed, m), epochs, threshold, monitor,
                               harness=HARNESS)
        if isinstance(reports, str):
            raise Failed(reports)
        for report in reports:
            ran, values = as_items(report, 2, "the fits with StopBelow")
            if ran > stop:
                raise Failed(f"{what} went on after epoch {stop}, whose {monitor} is below the threshold: set "
                             "self.model.stop_training in on_epoch_end")
            if ran < stop:
                raise Failed(f"{what} stopped after epoch {ran}, whose {monitor} is not below the threshold")
            if len(values) > stop:
                raise Failed(f"after {what}, StopBelow.values holds {len(values)} values: start a new list in "
                             "on_train_begin")
            assert_close(as_array(values, (stop,), f"after {what}, StopBelow.values"), np.array(curve[:stop]),
                         f"after {what}, StopBelow.values", f"history.history[{monitor!r}]", 1e-10)


def callback_hidden(rng):
    """A drawn fit whose loss falls after epoch 2."""
    draws = [(int(rng.integers(1000, 10**6)), int(rng.integers(32, 57))) for _ in range(5)]
    return [(*next((d for d in draws if falls(callback_curve(*d, 6, "loss")) < 5), (301, 40)), 6, "loss")]


TASKS.task("callback", 1, check_callback, [(31, 48, 8, "val_loss")], callback_hidden)


@functools.lru_cache(maxsize=None)
@keras64
def early_stopping(keras, values, patience, min_delta, restore):
    """(epochs run, epoch kept) of EarlyStopping in a fit whose val_loss after epoch k (from 1) is
    values[k - 1] and bias k (steps of 1 down a slope 1)."""
    net = float64_dense([np.zeros((1, 1)), np.zeros(1)], [None])
    net.compile(optimizer=keras.optimizers.SGD(learning_rate=1.0), loss="mean_absolute_error")
    feed = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: logs.update(val_loss=values[epoch]))
    stopper = keras.callbacks.EarlyStopping(patience=patience, min_delta=min_delta, restore_best_weights=restore)
    history = net.fit(np.zeros((1, 1)), np.full(1, 1e6), epochs=len(values), verbose=0, callbacks=[feed, stopper])
    return len(history.epoch), round(float(net.get_weights()[1][0]))


def check_early_stopping(student, values, patience, min_delta, restore):
    """early_stopping(values, ...) -> (epochs run, epoch kept), as EarlyStopping decides."""
    ran, kept = early_stopping(tuple(values), patience, min_delta, restore)
    what = f"early_stopping({values}, patience={patience}, min_delta={min_delta}, restore_best_weights={restore})"
    got = as_items(student.call("early_stopping", list(values), patience, min_delta, restore), 2, what)
    run, holds = as_count(got[0], f"{what}[0]"), as_count(got[1], f"{what}[1]")
    if run != ran:
        raise Failed(f"{what}: yours stops training after epoch {run}, {'later' if run > ran else 'earlier'} than "
                     "EarlyStopping: check what improves, and how epochs without one count")
    if holds != kept:
        raise Failed(f"{what}: yours keeps the weights of epoch {holds}, EarlyStopping those of another: "
                     f"{'the best epoch, by its rule' if restore else 'the last epoch run'}")


def early_stopping_hidden(rng):
    """Edges, and four curves drawn on a grid of 1/32 (exact in binary)."""
    cases = [([1.0, 0.9, 0.8, 0.7], 0, 0.0, True), ([1.0, 0.6, 0.7, 0.8], 5, 0.0, True),  # never stops
             ([0.5, 0.5, 0.4], 0, 0.0, False), ([0.5, 0.6, 0.4, 0.3], 1, 0.0, True),  # a tie; patience 1 = 0
             ([0.3], 0, 0.0, True), ([1.0, 0.875, 0.75, 0.625, 0.5], 1, 0.125, True),  # 0.875 + 0.125 = 1
             ([1.0, 0.9375, 0.875, 0.8125, 0.75, 0.6875], 3, 0.125, True)]  # best: epoch 4
    for _ in range(4):
        steps = rng.choice([-3, -2, -1, -1, 0, 1, 2], size=int(rng.integers(3, 12)))
        cases.append((((32 + np.cumsum(np.append(0, steps))).clip(4, 48) / 32).tolist(), int(rng.integers(0, 4)),
                      float(rng.choice([0.0, 0.0, 1 / 32, 1 / 16])), bool(rng.integers(0, 2))))
    return cases


EXAMPLE = [0.9, 0.8, 0.85, 0.75, 0.78, 0.8, 0.82]  # the task's
TASKS.task("early_stopping", 2, check_early_stopping, [(EXAMPLE, 2, 0.0, False), (EXAMPLE, 2, 0.0, True),
                                                       (EXAMPLE, 0, 0.0, False)], early_stopping_hidden)


@keras64
def keras_fit(keras, X, y, w, b, learning_rate, batch_size, epochs, class_weight, reduction=None, scale=1.0):
    """flat(history["loss"], w, b) of keras fit (SGD, unshuffled) of a Dense(1, "sigmoid"); another
    reduction, or scale, makes a mistake."""
    net = float64_dense([w, b], ["sigmoid"])
    net.compile(optimizer=keras.optimizers.SGD(learning_rate=learning_rate), loss_weights=[scale],
                loss=keras.losses.BinaryCrossentropy(reduction=reduction or "sum_over_batch_size"))
    history = net.fit(X, y, batch_size=batch_size, epochs=epochs, shuffle=False, verbose=0,
                      class_weight=dict(enumerate(class_weight)))
    return flat(history.history["loss"], *net.get_weights())


def check_fit(student, X, y, w, b, learning_rate, batch_size, epochs, class_weight):
    """fit_weighted(X, y, w, b, learning_rate, batch_size, epochs, class_weight) as keras fit; returns
    Keras's flat(losses, w, b)."""
    args = (X, y, w, b, learning_rate, batch_size, epochs, class_weight)
    what = f"fit_weighted(X {X.shape}, y, w, b, {learning_rate:g}, {batch_size}, {epochs}, {class_weight})"
    got = as_arrays(student.call("fit_weighted", *args, hint="Compute the loss from the logit."),
                    [(epochs,), w.shape, b.shape], what, ["the epoch losses", "w", "b"])
    right = keras_fit(*args)
    assert_close(flat(*got), right, what, "keras fit", 1e-10 * max(1.0, max_abs(right)), like=lambda: [
        (keras_fit(*args, "mean_with_sample_weight"), "divides each batch's weighted loss by the sum of its class "
         "weights, not by its rows"),
        (keras_fit(*args, "sum", 1 / batch_size), "divides the last, smaller batch by batch_size, not by its rows"),
        (keras_fit(*args[:-1], (1.0, 1.0)), "leaves class_weight out of the loss and gradient")])
    return right


def fit_case(rng, m, d, scale):
    """X (m, d), labels y (m,), a start w (d, 1), b (1,)."""
    rng = np.random.default_rng(rng)
    X = rng.normal(size=(m, d))
    y = (X @ rng.normal(size=d) + rng.normal(scale=0.5, size=m) > 0.5) * 1.0
    return X, y, rng.normal(scale=scale, size=(d, 1)), rng.normal(scale=0.1, size=1)


def fit_hidden(rng):
    """Batches of 1 row, 1 larger batch, batches dividing m, logits in the tens."""
    k, weights = int(rng.integers(3, 5)), (float(rng.uniform(0.2, 1)), float(rng.uniform(1, 5)))
    return [(*fit_case(rng, m, d, scale), 0.125, size, epochs, weights) for m, d, scale, size, epochs in
            [(int(rng.integers(4, 9)), 2, 0.5, 1, 2), (int(rng.integers(6, 13)), 3, 0.5, 32, 3),
             (3 * k, 4, 0.5, 3, 2), (8 * k + int(rng.integers(1, 8)), 3, 10.0, 8, 3)]]


TASKS.task("fit", 3, check_fit, [(*fit_case(51, 20, 3, 0.5), 0.125, 8, 5, weights)  # batches of 8, 8, 4
                                 for weights in [(1.0, 1.0), (0.5, 3.0)]], fit_hidden)


BUDGET, TARGET, FOLDS, LARGEST = 20, 0.10, 5, 456  # steps; mean validation loss; folds; training rows


def check_budget(student, rng):
    """chosen_fit() within BUDGET; with it, fit_weighted as keras fit on folds drawn from rng, and a held-out
    loss <= TARGET."""
    choice = as_items(student.call("chosen_fit"), 3, "chosen_fit()")
    learning_rate = as_number(choice[0], "chosen_fit()[0]")
    size, epochs = (as_number(choice[k], f"chosen_fit()[{k}]", whole=True) for k in (1, 2))
    if epochs * -(-LARGEST // size) > BUDGET:
        raise Failed(f"chosen_fit() asks for {epochs * -(-LARGEST // size)} steps on {LARGEST} training rows, "
                     f"over the budget of {BUDGET}")
    from sklearn.datasets import load_breast_cancer
    data, target = load_breast_cancer(return_X_y=True)
    folds, losses, curves = np.array_split(rng.permutation(len(data)), FOLDS), [], []
    for k, rows in enumerate(folds):  # labels 1: malignant
        train = np.concatenate(folds[:k] + folds[k + 1:])
        X, X_val = ((data[part] - data[train].mean(axis=0)) / data[train].std(axis=0) for part in (train, rows))
        right = check_fit(student, X, 1.0 - target[train], np.zeros((30, 1)), np.zeros(1), learning_rate, size, epochs,
                          (1.0, 1.0))
        z = X_val @ right[epochs:-1] + right[-1]
        losses += list(np.maximum(z, 0) - z * (1.0 - target[rows]) + np.log1p(np.exp(-np.abs(z))))
        curves.append(right[:epochs])
    if np.mean(losses) > TARGET:
        overshoot = np.any(np.diff(curves) > 0) or np.mean(curves, axis=0)[-1] < TARGET
        raise Failed(f"your choices give a mean validation loss of {np.mean(losses):.4f} > {TARGET}: " + (
            "steps this large overshoot" if overshoot else "training stopped while the loss was still falling"))


TASKS.task("budget", 4, check_budget, lambda rng: [(rng,)], lambda rng: [(rng,)])

run = TASKS.run
report = TASKS.report
