"""The checks of assignment 4 (chapters/04_keras_workflow/assignment_04.ipynb): the iterations of
fit, evaluate from predict's output, a stopping callback, EarlyStopping's rule, fit with class
weights (derived by the student) and a budget of 20 steps on the breast cancer data, all against
what Keras really does, in float64 (Task 6: a replay of fit's rule, checked against Keras in Task 5).

Tasks 1, 2, 4, 5 and 6 are decided in a kernel without Keras (an allow-list of NumPy and the
kernel's needs), Task 3, a Keras callback, in one with Keras. Keras's answers are computed here,
never in the kernel; what needs the student's objects there (fits with the student's callback, a
look at which libraries a function uses) runs as the harness grader/checks/a04_kernel.py, which
returns plain data only, judged here. Hidden checks and Task 6's data draw from `rng`, secret per
student at grading time.
"""
import contextlib
import functools

import numpy as np

from . import a04_kernel
from .core import Failed, Tasks, as_array, as_count, as_tuple, assert_close, max_abs, source_of
from .references import keras_and_tf, normal, one_hot_of, serialized

TASKS = Tasks(numpy_only=False, numpy_tasks=("iterations", "evaluate", "early_stopping", "fit", "budget"))
NUMPY_PRELUDE = "import math\nimport numpy as np"    # the setup cell's imports a NumPy task's kernel has
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
"""                                      # what the setup cell gives the student's code at grading time

NOT_NUMPY = ("keras", "tensorflow", "tf_keras", "scratchnn", "torch", "jax", "sklearn")
CALLBACK_LAYERS = ((8, "relu"), (3, "softmax"))      # Task 3's model: 4 -> 8 -> 3

HARNESS = source_of(a04_kernel)    # what runs in the kernel, next to the student's code (plain data back)


# --- references: inputs, and what Keras does with them ------------------------------------------

def labels(X, seed, n):
    """Class labels 0..n-1 for the rows of X that a linear model can learn: the argmax of a fixed
    random linear function of the row, plus a little noise."""
    scores = X @ normal(seed, (X.shape[1], n)) + normal(seed + 1, (X.shape[0], n), 0.3)
    return np.argmax(scores, axis=1)


def random_weights(d, layers, seed, scale):
    """A get_weights() list for the model d -> layers: seeded normal numbers with the given scale
    (kernel, then bias, of each layer)."""
    rng, shapes, inputs = np.random.default_rng(seed), [], d
    for units, _ in layers:
        shapes += [(inputs, units), (units,)]
        inputs = units
    return [rng.normal(scale=scale, size=shape) for shape in shapes]


@contextlib.contextmanager
def float64_keras():
    """keras, computing in float64 (layers, loss and metric trackers) as the notebook's setup sets
    it; the previous setting is put back after (the dtype policy is per thread, floatx global)."""
    keras, _ = keras_and_tf()
    floatx, policy = keras.config.floatx(), keras.config.dtype_policy()
    keras.config.set_floatx("float64")
    keras.config.set_dtype_policy("float64")
    try:
        yield keras
    finally:
        keras.config.set_floatx(floatx)
        keras.config.set_dtype_policy(policy)


def _model(keras, d, layers, weights=None):
    """A float64 keras.Sequential: keras.Input(shape=(d,)), then Dense(units, activation) for each
    (units, activation) in layers; with the given weights (a get_weights() list)."""
    net = keras.Sequential([keras.Input(shape=(d,), dtype="float64")]
                           + [keras.layers.Dense(units, activation=act, dtype="float64") for units, act in layers])
    if weights is not None:
        net.set_weights(weights)
    return net


def _quietly(fn, *args, **kwargs):
    """fn(*args, **kwargs) with Keras's Python warnings recorded instead of shown."""
    import warnings
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        return fn(*args, **kwargs)


@functools.lru_cache(maxsize=None)
@serialized
def fit_counts(m, batch_size, validation_split, epochs):
    """What keras fit really does with m rows: the number of training rows (from
    train_validation_split, the function fit uses for validation_split) and the number of training
    batches in each epoch (counted by a callback during a real fit)."""
    with float64_keras() as keras:
        from keras.src.trainers.data_adapters.array_slicing import train_validation_split

        class CountBatches(keras.callbacks.Callback):
            def on_train_begin(self, logs=None):
                self.per_epoch = []

            def on_epoch_begin(self, epoch, logs=None):
                self.per_epoch.append(0)

            def on_train_batch_end(self, batch, logs=None):
                self.per_epoch[-1] += 1

        x = np.zeros((m, 1))
        net = _model(keras, 1, [(1, None)], [np.zeros((1, 1)), np.zeros(1)])
        net.compile(optimizer=keras.optimizers.SGD(learning_rate=0.125), loss="mean_squared_error")
        counter = CountBatches()
        _quietly(net.fit, x, x, batch_size=batch_size, epochs=epochs, validation_split=validation_split,
                 shuffle=False, verbose=0, callbacks=[counter])
        m_train = len(train_validation_split((x,), validation_split)[0][0]) if validation_split else m
        return m_train, tuple(counter.per_epoch)


@serialized
def predict_and_evaluate(X, y, layers, loss, seed, scale, train=None):
    """A float64 model X.shape[1] -> layers with seeded normal weights of the given scale, trained
    first by keras fit (SGD(0.125), batches of 16, 5 epochs, unshuffled) on train = (X_t, y_t) if
    given, then compiled with `loss` and metrics=["accuracy"]: its predict(X), and the loss and the
    accuracy that its evaluate(X, y) reports."""
    with float64_keras() as keras:
        net = _model(keras, X.shape[1], layers, random_weights(X.shape[1], layers, seed, scale))
        if train is not None:
            net.compile(optimizer=keras.optimizers.SGD(learning_rate=0.125), loss=loss)
            _quietly(net.fit, *train, batch_size=16, epochs=5, shuffle=False, verbose=0)
        net.compile(optimizer=keras.optimizers.SGD(learning_rate=0.125), loss=loss, metrics=["accuracy"])
        P = _quietly(net.predict, X, verbose=0)
        assert 1e-6 < P.min() and P.max() < 1 - 1e-6, f"test data: predictions from {P.min()} to {P.max()}"
        loss_value, accuracy = _quietly(net.evaluate, X, y, verbose=0)
        return P, float(loss_value), float(accuracy)


def callback_data(seed, m):
    """Task 3's data: m rows, 4 features, 3 classes, and the seeded start of a 4 -> 8 -> 3 model."""
    X = normal(seed, (m, 4))
    return {"X": X, "y": labels(X, seed + 1, 3), "weights": random_weights(4, CALLBACK_LAYERS, seed + 2, 0.5)}


@functools.lru_cache(maxsize=None)
@serialized
def callback_curve(seed, m, epochs, monitor):
    """history.history[monitor] of a keras fit of Task 3's model on callback_data(seed, m), for
    `epochs` epochs, with no callback: what every fit with StopBelow logs, up to where it stops."""
    data = callback_data(seed, m)
    with float64_keras() as keras:
        net = _model(keras, 4, CALLBACK_LAYERS, data["weights"])
        net.compile(optimizer=keras.optimizers.SGD(learning_rate=0.125), loss="sparse_categorical_crossentropy")
        history = _quietly(net.fit, data["X"], data["y"], batch_size=8, epochs=epochs, validation_split=0.25,
                           shuffle=False, verbose=0)
        return tuple(float(v) for v in history.history[monitor])


@functools.lru_cache(maxsize=None)
@serialized
def early_stopping(values, patience=0, min_delta=0.0, restore_best_weights=False):
    """keras.callbacks.EarlyStopping driven as fit drives it, by a scripted run: after epoch k
    (from 1) the model's only weight is k and the logs say val_loss = values[k - 1]. Returns the
    number of epochs run and the epoch whose weights the model holds in the end."""
    with float64_keras() as keras:
        stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, min_delta=min_delta,
                                                restore_best_weights=restore_best_weights)
        net = _model(keras, 1, [(1, None)])
        stopper.set_model(net)
        net.stop_training = False
        _quietly(stopper.on_train_begin, {})
        for epoch in range(len(values)):
            net.set_weights([np.array([[epoch + 1.0]]), np.zeros(1)])
            _quietly(stopper.on_epoch_end, epoch, {"val_loss": float(values[epoch])})
            if net.stop_training:
                break
        _quietly(stopper.on_train_end, {})
        return epoch + 1, int(net.get_weights()[0][0, 0])


# --- tools the checks share ----------------------------------------------------------------------

def check_numpy_only(student, name):
    """Fail unless `name` is a function of the notebook that uses neither Keras, TensorFlow,
    scratchnn nor the tests: the tasks ask you to write the computation yourself."""
    problem = student.call("numpy_only_problem", name, NOT_NUMPY, harness=HARNESS)
    if problem is not None:
        raise Failed(str(problem))


# --- Task 1: iterations --------------------------------------------------------------------------

RUNS = [(10847, 256, 0.1, 2), (100, 32, 0.2, 3), (50, 10, 0.0, 2)]   # (m, batch_size, validation_split, epochs)


def check_iterations(student, m, batch_size, validation_split, epochs):
    """(rows fit trains on, iterations per epoch, iterations in all) as keras fit."""
    check_numpy_only(student, "iterations")
    m_train, per_epoch = fit_counts(m, batch_size, validation_split, epochs)
    steps, total = per_epoch[0], sum(per_epoch)
    what = f"iterations({m}, {batch_size}, {validation_split}, {epochs})"
    got = as_tuple(student.call("iterations", m, batch_size, validation_split, epochs), 3, what)
    got_rows, got_steps, got_total = (as_count(v, f"{what}[{k}]") for k, v in enumerate(got))
    if got_rows != m_train:
        product = m * (1.0 - validation_split)
        hint = (f"validation_split={validation_split} holds the last rows out for validation"
                if got_rows == m and validation_split else
                f"look at how Keras rounds m * (1.0 - validation_split) to whole rows: here the product is "
                f"{product!r}" + (", just below a whole number in floating point"
                                  if 0 < round(product) - product < 1e-9 else ""))
        raise Failed(f"{what}: yours says {got_rows} training rows, {'more' if got_rows > m_train else 'fewer'} "
                     f"than keras fit trains on: {hint}")
    if got_steps != steps:
        hint = (": the last, smaller batch counts too, so round the division up" if got_steps == m_train // batch_size
                else ": the rows are cut into batches of batch_size, the last one possibly smaller")
        raise Failed(f"{what}: yours says {got_steps} iterations per epoch, {'more' if got_steps > steps else 'fewer'} "
                     f"than keras fit runs on {m_train} training rows (one per batch){hint}")
    if got_total != total:
        raise Failed(f"{what}: your number of iterations in all, {got_total}, is not what {epochs} epochs of "
                     f"{got_steps} iterations run")


@TASKS.visible("iterations_test", "Task 1: the visible tests pass.")
def iterations_test(student):
    for run in RUNS:
        check_iterations(student, *run)


@TASKS.hidden("iterations_hidden")
def iterations_hidden(student, rng):
    runs = [(101, 16, 0.2, 2), (10, 32, 0.0, 4), (90, 31, 0.3, 1), (7, 1, 0.0, 3), (64, 16, 0.25, 2)]
    for _ in range(2):
        runs.append((int(rng.integers(20, 400)), int(rng.integers(4, 64)),
                     float(rng.choice([0.1, 0.15, 0.2, 0.3, 0.35, 0.7])), int(rng.integers(1, 4))))
    for run in runs:
        check_iterations(student, *run)


# --- Task 2: evaluate from predict ---------------------------------------------------------------

def check_evaluate(student, P, y, expected_loss, expected_accuracy):
    """The loss and the accuracy that keras evaluate reports, from predict's P; P and y are left alone."""
    check_numpy_only(student, "evaluate_from_predictions")
    m, binary = P.shape[0], P.shape[1] == 1
    what = f"evaluate_from_predictions(P, y) with P {P.shape} and y {y.shape}"
    got = as_tuple(student.call("evaluate_from_predictions", P, y), 2, what)
    loss, accuracy = as_array(got[0], (), "the loss it returns"), as_array(got[1], (), "the accuracy it returns")
    loss_hints = [(m * expected_loss,
                   f"is m={m} times too large: evaluate reports the mean over the rows, not the sum")]
    accuracy_hints = [(m * expected_accuracy,
                       f"counts the right predictions: evaluate reports their fraction (divide by m={m})")]
    if binary and y.ndim == 1:
        with np.errstate(all="ignore"):
            loss_hints.append((-np.mean(y * np.log(P) + (1 - y) * np.log(1 - P)),
                               f"mixes every row with every label: y has shape {y.shape} and P {P.shape}, "
                               f"so y * np.log(P) broadcasts to shape ({m}, {m}). Use P[:, 0]"))
            accuracy_hints.append((np.mean((P > 0.5) == y), f"compares every row with every label: y has shape "
                                   f"{y.shape} and P {P.shape}, so (P > 0.5) == y has shape ({m}, {m}). Use P[:, 0]"))
    if binary:
        accuracy_hints.append((np.mean((P[:, 0] >= 0.5) == y.reshape(-1)), "counts a probability of exactly 0.5 "
                               "as class 1: Keras's binary accuracy predicts 1 only when p > 0.5"))
    kind = ("binary_crossentropy" if binary else
            "categorical_crossentropy" if y.ndim == 2 else "sparse_categorical_crossentropy")
    assert_close(loss, expected_loss, "the loss", f"keras evaluate's (loss {kind})", 1e-10, like=loss_hints)
    assert_close(accuracy, expected_accuracy, "the accuracy", f"keras evaluate's (metrics ['accuracy'], loss {kind})",
                 1e-12, like=accuracy_hints)


@functools.lru_cache(maxsize=None)
def evaluate_visible():
    """The visible tests' (P, y, loss, accuracy): a 4 -> 8 -> 3 softmax model and a 4 -> 1 sigmoid
    model, trained by fit for 5 epochs on 64 rows; then their predict and evaluate on 40 other rows."""
    X = normal(21, (104, 4))
    y = labels(X, 22, 3)           # classes 0, 1, 2, shape (104,)
    yb = (y == 0) * 1.0            # binary labels: is it class 0?
    cases = []
    for layers, y_all, loss, seed in [(((8, "relu"), (3, "softmax")), y, "sparse_categorical_crossentropy", 23),
                                      (((1, "sigmoid"),), yb, "binary_crossentropy", 24)]:
        P, loss_value, accuracy = predict_and_evaluate(X[64:], y_all[64:], layers, loss, seed, 0.5,
                                                       (X[:64], y_all[:64]))
        cases.append((P, y_all[64:], loss_value, accuracy))
    return cases


@TASKS.visible("evaluate_test", "Task 2: the visible tests pass.")
def evaluate_test(student):
    for P, y, loss, accuracy in evaluate_visible():   # softmax (40, 3), class numbers; sigmoid (40, 1), labels (40,)
        check_evaluate(student, P, y, loss, accuracy)


@TASKS.hidden("evaluate_hidden")
def evaluate_hidden(student, rng):
    seed, m = int(rng.integers(1000, 10**6)), 2 * int(rng.integers(10, 25)) + 1   # odd: never half of each label
    X = normal(seed, (m, 4))
    y = labels(X, seed + 1, 3)
    yb = (y == rng.integers(0, 3)) * 1.0
    for layers, scale, y_case, loss in [
            (((8, "relu"), (3, "softmax")), 0.5, one_hot_of(y, 3), "categorical_crossentropy"),   # one-hot labels
            (((3, "softmax"),), 0.0, y, "sparse_categorical_crossentropy"),                   # all 1/3: ties
            (((1, "sigmoid"),), 0.0, yb, "binary_crossentropy"),                             # all exactly 0.5
            (((1, "sigmoid"),), 0.5, yb, "binary_crossentropy"),                             # other weights
            (((1, "sigmoid"),), 0.5, yb[:, None], "binary_crossentropy"),                    # labels (m, 1)
            (((5, "tanh"), (2, "softmax")), 0.5, y[:1] % 2, "sparse_categorical_crossentropy")]:  # one row
        seed += 2
        P, expected_loss, expected_accuracy = predict_and_evaluate(X[:len(y_case)], y_case, layers, loss, seed, scale)
        check_evaluate(student, P, y_case, expected_loss, expected_accuracy)


# --- Task 3: a callback that stops below a threshold ---------------------------------------------

def check_values(report, curve, what, monitor):
    """The callback's values are the monitored value of every epoch of that fit (`curve`, as the
    same fit gives it here)."""
    if report.get("not_numbers") is not None:
        raise Failed(f"after {what}, StopBelow.values should be a list of numbers, not {report['not_numbers']}")
    values = report.get("values")
    if values is None:
        raise Failed(f"after {what}, your callback has no attribute values")
    if not isinstance(values, list):
        raise Failed(f"after {what}, StopBelow.values should be a list of numbers, not {values!r:.200}")
    if len(values) != len(curve):
        raise Failed(f"after {what}, which ran {len(curve)} epochs, StopBelow.values holds {len(values)} values, not "
                     f"{len(curve)}" + ("; start a new list in on_train_begin, so that each fit records only its own "
                                        "epochs" if len(values) > len(curve) else ""))
    values = as_array(values, (len(curve),), f"after {what}, StopBelow.values")
    assert_close(values, np.array(curve), f"after {what}, StopBelow.values",
                 f"history.history[{monitor!r}] of that fit", 1e-10)


def check_stop(curve, threshold, epochs, what, monitor):
    """Training ran up to and including the first epoch whose value is below threshold (`curve`:
    the values of the epochs it ran)."""
    for epoch, value in enumerate(curve[:-1], start=1):
        if value < threshold:
            raise Failed(f"{what} went on after epoch {epoch}, whose {monitor} {value:.10g} is below {threshold:.10g}: "
                         f"at the end of that epoch, set self.model.stop_training = True")
    if len(curve) < epochs and not curve[-1] < threshold:
        raise Failed(f"{what} stopped after epoch {len(curve)}, whose {monitor} {curve[-1]:.10g} is not below "
                     f"{threshold:.10g}: stop only when the value is strictly below the threshold")


def fits(student, data, epochs, threshold, monitor, runs):
    """The reports of `runs` fits with one StopBelow(threshold, monitor), made in the kernel."""
    reports = student.call("fit_with_stop_below", data["X"], data["y"], data["weights"], epochs, float(threshold),
                           monitor, runs, harness=HARNESS)
    if isinstance(reports, str):
        raise Failed(reports)
    for report in reports if isinstance(reports, list) else [reports]:
        if isinstance(report, str):
            raise Failed(report)
        if not (isinstance(report, dict) and isinstance(report.get("epochs"), int) and 1 <= report["epochs"] <= epochs):
            raise Failed(f"the fits with StopBelow gave no report of their epochs, but {report!r:.200}")
    return reports


def falls_after_epoch_2(curve):
    """The first index j >= 2 of a value below every value before it, or None."""
    return next((k for k in range(2, len(curve)) if curve[k] < min(curve[:k])), None)


def stops_early(seed, m, epochs, monitor):
    """Whether Task 3's fit on callback_data(seed, m) has a curve that falls to a new lowest value
    after epoch 2 but before the last epoch: then the test's threshold stops it early."""
    j = falls_after_epoch_2(callback_curve(seed, m, epochs, monitor))
    return j is not None and j < epochs - 1


def check_callback(student, seed, m, epochs=8, monitor="val_loss", reuse=False, edges=False):
    """A fit that never reaches threshold 0 runs every epoch, and its values are the history's; a
    threshold between two values of that curve stops at the right epoch (twice with the same
    callback if reuse); with edges, so do a threshold above every value (stop after epoch 1) and
    one equal to a value (no stop there). The data: callback_data(seed, m)."""
    problem = student.call("callback_problem", "StopBelow", harness=HARNESS)
    if problem is not None:
        raise Failed(str(problem))
    data, curve = callback_data(seed, m), list(callback_curve(seed, m, epochs, monitor))
    what = f"fit(..., epochs={epochs}, callbacks=[StopBelow({0.0!r}, monitor={monitor!r})])"
    (never,) = fits(student, data, epochs, 0.0, monitor, 1)
    if never["epochs"] != epochs:
        raise Failed(f"{what} ran {never['epochs']} epochs, but no {monitor} can be below 0: "
                     f"it should run all {epochs}")
    check_values(never, curve, what, monitor)
    j = falls_after_epoch_2(curve)
    if j is None:
        raise Failed(f"the test needs a {monitor} curve that falls after epoch 2; it got {curve}")
    thresholds = [(curve[j] + min(curve[:j])) / 2] + ([float("inf"), curve[j]] if edges else [])
    for threshold in thresholds:
        expected = next((k + 1 for k, value in enumerate(curve) if value < threshold), epochs)
        what = f"fit(..., epochs={epochs}, callbacks=[StopBelow({threshold!r}, monitor={monitor!r})])"
        for run in fits(student, data, epochs, threshold, monitor, 2 if reuse else 1):
            ran = curve[:run["epochs"]]
            check_stop(ran, threshold, epochs, what, monitor)
            check_values(run, ran, what, monitor)
            if len(ran) != expected:
                raise Failed(f"{what} should stop after epoch {expected}, but ran {len(ran)} epochs")


@TASKS.visible("callback_test", "Task 3: the visible tests pass.")
def callback_test(student):
    check_callback(student, 31, 48)   # 48 rows: fits train on the first 36 and validate on the last 12


@TASKS.hidden("callback_hidden")
def callback_hidden(student, rng):
    draws = [(int(rng.integers(1000, 10**6)), int(rng.integers(32, 57))) for _ in range(5)]
    seed, m = next((d for d in draws if stops_early(*d, 6, "loss")), (301, 40))
    check_callback(student, seed, m, epochs=6, monitor="loss", reuse=True)   # the same callback in two fits
    check_callback(student, 31, 48, epochs=6, edges=True)


# --- Task 4: EarlyStopping's rule ----------------------------------------------------------------

CURVE = [0.9, 0.8, 0.85, 0.75, 0.78, 0.8, 0.82]
STOP_CASES = [(CURVE, 2, 0.0, False), (CURVE, 2, 0.0, True), (CURVE, 0, 0.0, False)]


def check_early_stopping(student, values, patience, min_delta, restore):
    """The epochs run and the epoch kept, as keras.callbacks.EarlyStopping decides; values are left alone."""
    check_numpy_only(student, "early_stopping")
    ran, holds = early_stopping(tuple(values), patience, min_delta, restore)
    what = (f"early_stopping({values}, patience={patience}, min_delta={min_delta}, "
            f"restore_best_weights={restore})")
    got = as_tuple(student.call("early_stopping", list(values), patience, min_delta, restore), 2, what)
    run, kept = (as_count(v, f"{what}[{k}]") for k, v in enumerate(got))
    if run != ran:
        raise Failed(f"{what}: keras.callbacks.EarlyStopping never stops this training, but yours stops after "
                     f"epoch {run}" if ran == len(values) else
                     f"{what}: yours stops training after epoch {run}, {'later' if run > ran else 'earlier'} than "
                     "keras.callbacks.EarlyStopping: check when an epoch counts as an improvement, and how the "
                     "epochs without one are counted")
    why = ("the best epoch, by its rule, since restore_best_weights=True" if restore else
           "the last epoch run, since restore_best_weights=False")
    if kept != holds:
        raise Failed(f"{what}: yours says the model ends with the weights of epoch {kept}, but it keeps those of "
                     f"another epoch: {why}")


@TASKS.visible("early_stopping_test", "Task 4: the visible tests pass.")
def early_stopping_test(student):
    for case in STOP_CASES:          # the example of the task, and patience=0
        check_early_stopping(student, *case)


def random_curve(rng, epochs):
    """A curve of validation losses on a grid of 1/32 (exact in binary: sums with min_delta are
    too): mostly falling, with rises and ties."""
    steps = rng.choice([-3, -2, -1, -1, 0, 1, 2], size=epochs - 1)
    return (np.concatenate([[32], 32 + np.cumsum(steps)]).clip(4, 48) / 32).tolist()


@TASKS.hidden("early_stopping_hidden")
def early_stopping_hidden(student, rng):
    wavy = [0.7, 0.65, 0.66, 0.64, 0.67, 0.68, 0.62, 0.61, 0.63, 0.69, 0.7, 0.71]
    cases = [([1.0, 0.9, 0.8, 0.7], 0, 0.0, True),                       # never stops
             ([1.0, 0.6, 0.7, 0.8], 5, 0.0, True),                       # never stops, best in the middle
             ([1.0, 0.6, 0.7, 0.8], 5, 0.0, False),
             ([0.5, 0.5, 0.4], 0, 0.0, False),                           # a tie does not improve
             ([0.5, 0.6, 0.4, 0.3], 1, 0.0, True),                       # patience 1 = patience 0
             ([0.3], 0, 0.0, True),                                      # one epoch
             ([1.0, 0.875, 0.75, 0.625, 0.5], 1, 0.125, True),           # min_delta: 0.875 + 0.125 is not < 1
             ([1.0, 0.9375, 0.875, 0.8125, 0.75, 0.6875], 3, 0.125, True),  # best is epoch 4, not 6
             (wavy, 3, 0.0, True), (wavy, 3, 0.0, False)]
    for _ in range(4):
        cases.append((random_curve(rng, int(rng.integers(4, 13))), int(rng.integers(0, 4)),
                      float(rng.choice([0.0, 0.0, 1 / 32, 1 / 16])), bool(rng.integers(0, 2))))
    for case in cases:
        check_early_stopping(student, *case)


# --- Task 5: fit with class weights, for one sigmoid unit ------------------------------------------

@serialized
def keras_fit(X, y, w, b, learning_rate, batch_size, epochs, class_weight):
    """keras fit, unshuffled, of a float64 Dense(1, "sigmoid") holding w, b with SGD(learning_rate),
    binary cross-entropy and class_weight={0: class_weight[0], 1: class_weight[1]}: history["loss"],
    the final w and b."""
    with float64_keras() as keras:
        net = _model(keras, X.shape[1], [(1, "sigmoid")], [w, b])
        net.compile(optimizer=keras.optimizers.SGD(learning_rate=learning_rate), loss="binary_crossentropy")
        history = _quietly(net.fit, X, y, batch_size=batch_size, epochs=epochs, shuffle=False, verbose=0,
                           class_weight=dict(enumerate(class_weight)))
        return (np.array(history.history["loss"]), *net.get_weights())


def numpy_fit(X, y, w, b, learning_rate, batch_size, epochs, class_weight, by="rows"):
    """The same run in NumPy (Task 6's replay); `by` switches on a known mistake of the reduction:
    a batch's weighted loss divided by the sum of its weights ("weights") or by batch_size
    ("batch_size"), or the class weights left out ("unweighted")."""
    w, b, losses = w.copy(), b.copy(), []
    for _ in range(epochs):
        total = 0.0
        for start in range(0, len(X), batch_size):
            Xk, yk = X[start:start + batch_size], y[start:start + batch_size]
            s = np.where(yk == 1, class_weight[1], class_weight[0]) * 1.0 if by != "unweighted" else 1.0 + 0 * yk
            z = Xk @ w[:, 0] + b[0]
            n = {"weights": s.sum(), "batch_size": batch_size}.get(by, len(yk))
            total += len(yk) * np.sum(s * (np.maximum(z, 0) - z * yk + np.log1p(np.exp(-np.abs(z))))) / n
            g = s * (0.5 * (1 + np.tanh(z / 2)) - yk) / n
            w, b = w - learning_rate * (Xk.T @ g)[:, None], b - learning_rate * g.sum(keepdims=True)
        losses.append(total / len(X))
    return np.array(losses), w, b


MISTAKES = {"weights": "divides each batch's weighted loss by the sum of its class weights: look at what Keras's "
                       "default reduction, sum_over_batch_size, divides by",
            "batch_size": "divides the last, smaller batch by batch_size: a batch's loss is over its own rows",
            "unweighted": "leaves class_weight out: each row's loss and gradient carry its class's weight"}


def call_fit(student, X, y, w, b, learning_rate, batch_size, epochs, class_weight):
    """fit_weighted's (losses, w, b), shapes checked."""
    what = (f"fit_weighted(X {X.shape}, y, w, b, {learning_rate:g}, batch_size={batch_size}, epochs={epochs}, "
            f"class_weight={class_weight})")
    got = as_tuple(student.call("fit_weighted", X, y, w, b, learning_rate, batch_size, epochs, class_weight,
                                hint="Compute the loss from the logit, without the log of a probability."),
                   3, what)
    return (what, as_array(got[0], (epochs,), f"the epoch losses {what} returns (one per epoch)"),
            as_array(got[1], w.shape, f"the w {what} returns"), as_array(got[2], b.shape, f"the b {what} returns"))


def check_fit(student, X, y, w, b, learning_rate, batch_size, epochs, class_weight):
    """The epoch losses and the final w, b of keras fit with class_weight, from the same start."""
    check_numpy_only(student, "fit_weighted")
    right = keras_fit(X, y, w, b, learning_rate, batch_size, epochs, class_weight)
    what, *got = call_fit(student, X, y, w, b, learning_rate, batch_size, epochs, class_weight)
    for k, name in [(1, "the final w"), (2, "the final b"), (0, "the epoch losses")]:
        tol = 1e-10 * max(1.0, max_abs(right[k]))
        if max_abs(got[k] - right[k]) <= tol:
            continue
        for by, text in MISTAKES.items():
            if max_abs(got[k] - numpy_fit(X, y, w, b, learning_rate, batch_size, epochs, class_weight, by)[k]) <= tol:
                raise Failed(f"{what} {text}")
        raise Failed(f"{name} of {what} differs from keras fit's by up to {max_abs(got[k] - right[k]):.3g}"
                     + (": a batch's loss is computed before its update, and the epoch's is their mean over rows"
                        if k == 0 else ": derive the gradient of the batch's weighted loss again"))


def fit_case(rng, m, d, scale):
    """X (m, d), labels 0/1 (m,) that a linear unit can learn, and a start w (d, 1), b (1,)."""
    rng = np.random.default_rng(rng)
    X = rng.normal(size=(m, d))
    y = (X @ rng.normal(size=d) + rng.normal(scale=0.5, size=m) > 0.5) * 1.0
    return X, y, rng.normal(scale=scale, size=(d, 1)), rng.normal(scale=0.1, size=1)


@TASKS.visible("fit_test", "Task 5: the visible tests pass.")
def fit_test(student):
    check_fit(student, *fit_case(51, 20, 3, 0.5), 0.125, 8, 5, (1.0, 1.0))   # 20 rows: batches of 8, 8, 4
    check_fit(student, *fit_case(51, 20, 3, 0.5), 0.125, 8, 5, (0.5, 3.0))   # class 1 weighs 6 times class 0


@TASKS.hidden("fit_hidden")
def fit_hidden(student, rng):
    k, weights = int(rng.integers(3, 5)), (float(rng.uniform(0.2, 1)), float(rng.uniform(1, 5)))
    for m, d, scale, batch_size, epochs in [(int(rng.integers(4, 9)), 2, 0.5, 1, 2),      # batches of one row
                                            (int(rng.integers(6, 13)), 3, 0.5, 32, 3),    # one batch, larger
                                            (3 * k, 4, 0.5, 3, 2),                        # batches that divide m
                                            (8 * k + int(rng.integers(1, 8)), 3, 10.0, 8, 3)]:  # logits in the tens
        check_fit(student, *fit_case(rng, m, d, scale), 0.125, batch_size, epochs, weights)


# --- Task 6: the breast cancer data, within a budget of steps -----------------------------------------

BUDGET, TARGET, FOLDS, LARGEST = 20, 0.10, 5, 456    # steps; mean validation loss; folds; training rows


def cancer_folds(rng):
    """scikit-learn's breast cancer data (569 tumours, 30 features; y = 1 for malignant) in an order drawn
    from rng, cut into FOLDS folds: for each, the other rows (standardized with their own means and
    standard deviations), their labels, and the fold's rows and labels, standardized alike."""
    from sklearn.datasets import load_breast_cancer
    X, target = load_breast_cancer(return_X_y=True)
    folds = np.array_split(np.random.default_rng(rng).permutation(len(X)), FOLDS)
    for k, rows in enumerate(folds):
        train = np.concatenate(folds[:k] + folds[k + 1:])
        mean, std = X[train].mean(axis=0), X[train].std(axis=0)
        yield (X[train] - mean) / std, (target[train] == 0) * 1.0, (X[rows] - mean) / std, (target[rows] == 0) * 1.0


def check_settings(student):
    what = "chosen_fit()"
    learning_rate, batch_size, epochs = as_tuple(student.call("chosen_fit"), 3, what)
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, (int, float)) or not learning_rate > 0:
        raise Failed(f"{what} returned the learning rate {learning_rate!r}: it should be a positive number")
    for name, value in [("batch_size", batch_size), ("epochs", epochs)]:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise Failed(f"{what} returned {name} {value!r}: it should be a whole number, at least 1")
    steps = epochs * -(-LARGEST // batch_size)
    if steps > BUDGET:
        raise Failed(f"{what} asks for {steps} steps on {LARGEST} training rows, over the budget of {BUDGET}: count "
                     "them as in Task 1")
    return float(learning_rate), batch_size, epochs


def check_budget(student, rng):
    """The student's fit_weighted with the student's settings on each fold, from zero weights: the same
    weights as the replay, and a mean validation loss over all the folds' rows <= TARGET."""
    learning_rate, batch_size, epochs = check_settings(student)
    check_numpy_only(student, "fit_weighted")
    val_losses, curves = [], []
    for X, y, X_val, y_val in cancer_folds(rng):
        start = (np.zeros((X.shape[1], 1)), np.zeros(1))
        right = numpy_fit(X, y, *start, learning_rate, batch_size, epochs, (1.0, 1.0))
        what, *got = call_fit(student, X, y, *start, learning_rate, batch_size, epochs, (1.0, 1.0))
        if any(max_abs(g - r) > 1e-8 * max(1.0, max_abs(r)) for g, r in zip(got, right)):
            raise Failed(f"{what} on a fold of the breast cancer data gave other numbers than keras fit's rule, "
                         "which the tests ran: make Task 5 pass first")
        z = X_val @ right[1][:, 0] + right[2][0]
        val_losses += list(np.maximum(z, 0) - z * y_val + np.log1p(np.exp(-np.abs(z))))
        curves.append(right[0])
    loss = float(np.mean(val_losses))
    if loss <= TARGET:
        return
    rose = any(np.any(np.diff(curve) > 0) for curve in curves)
    why = ("the training loss rose from one epoch to the next: steps this large overshoot" if rose else
           "the training rows are fitted, the held-out ones much less: steps this large overshoot into "
           "overconfident weights" if np.mean([c[-1] for c in curves]) < TARGET else
           "training stopped while the loss was still falling: make the budget's steps count for more")
    raise Failed(f"with learning rate {learning_rate:g}, batches of {batch_size} and {epochs} epochs, the mean "
                 f"validation loss over the {FOLDS} folds is {loss:.4f}, above the target {TARGET}; {why}")


@TASKS.visible("budget_test", "Task 6: the visible tests pass.", disguised=True)
def budget_test(student, rng):
    check_budget(student, rng)


@TASKS.hidden("budget_hidden")
def budget_hidden(student, rng):
    check_budget(student, rng)


run = TASKS.run
report = TASKS.report
