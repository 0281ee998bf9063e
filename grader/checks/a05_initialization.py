"""The checks of assignment 5 (chapters/05_initialization/assignment_05.ipynb): the standard
deviation of a truncated normal (Keras's 0.87962566...), the variance-preserving scale for leaky
ReLU, a NumPy `VarianceScaling` whose draws match Keras's in distribution, and initial weights that
let a deep ReLU network learn the digits within a fixed budget of Keras training.

In the notebook, `tests.run("truncation_test", globals())` runs a check on the student's machine;
at grading time, the grader runs the same checks in its own process (grader.verdicts), and the
hidden ones draw their inputs from `rng`, which is different for every student. Random draws
cannot be compared number by number with Keras's (another random stream), so Task 3 compares
them by statistics: the bounds, the standard deviation, and a two-sample Kolmogorov-Smirnov test
against as many draws from `keras.initializers.VarianceScaling`, made here.
"""
import inspect
import math
import re

import numpy as np

from .core import Failed, Tasks, as_array, as_sequence
from .references import keras_and_tf, serialized

TASKS = Tasks(numpy_only=True)
PRELUDE = "import math\nimport numpy as np"  # what the setup cell gives the student's code at grading time

KS_P_MIN = 1e-6          # a right initializer fails the KS test once in a million; the mistakes below, never
STD_TOLERANCE = 0.03     # relative; 30,000 draws estimate a standard deviation to about 0.4%
BUDGET = {"epochs": 8, "batch_size": 32, "learning_rate": 0.02}   # Task 4's training, plain SGD
TARGET = 0.8             # Task 4: the validation accuracy to reach


# --- references: Keras, SciPy, and the rules -----------------------------------------------------

def keras_truncation_constant():
    """The constant Keras divides a truncated normal's stddev by, read from the source of
    keras.initializers.VarianceScaling (0.87962566103423978 in Keras 3)."""
    keras, _ = keras_and_tf()
    code = inspect.getsource(keras.initializers.VarianceScaling.__call__)
    return float(re.search(r"math\.sqrt\(scale\)\s*/\s*([0-9.]+)", code).group(1))


def truncated_std(c):
    """The standard deviation of N(0, 1) truncated to [-c, c], by scipy.stats.truncnorm."""
    from scipy import stats
    return float(stats.truncnorm(-c, c).std())


def second_moment(negative_slope):
    """E[leaky_relu(z)^2] for z ~ N(0, 1), by the trapezoidal rule on [-12, 12] (1e5 steps)."""
    z = np.linspace(-12.0, 12.0, 100_001)
    a = np.where(z > 0, z, negative_slope * z)
    density = np.exp(-z ** 2 / 2) / math.sqrt(2 * math.pi)
    return float(np.sum((a ** 2 * density)[1:] + (a ** 2 * density)[:-1]) / 2 * (z[1] - z[0]))


@serialized
def keras_draws(shape, scale, mode, distribution, seed):
    """keras.initializers.VarianceScaling(scale, mode, distribution, seed)(shape), float64."""
    keras, _ = keras_and_tf()
    init = keras.initializers.VarianceScaling(scale=scale, mode=mode, distribution=distribution, seed=seed)
    return np.asarray(init(shape, dtype="float64"))


def digits(seed):
    """The digits (1797 images of 8 x 8 pixels), pixels scaled to mean 0 and standard deviation 1
    over the whole data set, in an order shuffled by `seed`: the first 1437 rows train, the last
    360 validate. Returns X_train, y_train, X_val, y_val."""
    from sklearn.datasets import load_digits
    X, y = load_digits(return_X_y=True)
    X = (X - X.mean(axis=0)) / (X - X.mean(axis=0)).std()
    order = np.random.default_rng(seed).permutation(len(X))
    X, y = X[order].astype("float32"), y[order]
    return X[:1437], y[:1437], X[1437:], y[1437:]


@serialized
def keras_accuracy(params, data_seed):
    """The best validation accuracy, over the epochs, of a keras.Sequential (ReLU hidden layers,
    softmax output) that starts from params and is trained by keras.optimizers.SGD within BUDGET on
    digits(data_seed): plain SGD on a deep ReLU network wobbles from epoch to epoch, and the task
    asks whether training gets there within the budget."""
    keras, _ = keras_and_tf()
    X, y, X_val, y_val = digits(data_seed)
    keras.utils.set_random_seed(0)                                    # the batches' order
    L = len(params) // 2
    model = keras.Sequential([keras.Input(shape=(X.shape[1],))] + [
        keras.layers.Dense(params[2 * k].shape[1], activation="relu" if k < L - 1 else "softmax") for k in range(L)])
    model.set_weights([np.asarray(p, dtype="float32") for p in params])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=BUDGET["learning_rate"]),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(X, y, epochs=BUDGET["epochs"], batch_size=BUDGET["batch_size"], verbose=0,
                        validation_data=(X_val, y_val))
    return float(max(history.history["val_accuracy"]))


def pre_activation_stds(params, X):
    """The standard deviation of Z in every hidden layer of the ReLU network params, on X."""
    A, stds = X, []
    for k in range(0, len(params) - 2, 2):
        Z = A @ params[k] + params[k + 1]
        stds.append(float(Z.std()))
        A = np.maximum(Z, 0.0)
    return stds


# --- Task 1: the standard deviation of a truncated normal ----------------------------------------

def check_truncation(student, c, right, against):
    """truncation_std(c) within a relative 1e-9 of `right`."""
    value = float(as_array(student.call("truncation_std", c), (), f"truncation_std({c})"))
    if abs(value - right) <= 1e-9 * right:
        return
    if abs(value - right ** 2) <= 1e-9 * right ** 2:
        raise Failed(f"truncation_std({c}) returned {value:.10g}, the variance; the task asks for the standard "
                     "deviation")
    unnormalized = math.sqrt(max(0.0, 1 - 2 * c * math.exp(-c * c / 2) / math.sqrt(2 * math.pi)))
    if abs(value - unnormalized) <= 1e-9 * unnormalized:
        raise Failed(f"truncation_std({c}) returned {value:.10g}: the density you integrate is not a "
                     "probability density on [-c, c] (it does not integrate to 1 there)")
    raise Failed(f"truncation_std({c}) returned {value:.10g}, which differs from {against} by "
                 f"{abs(value - right):.3g}")


@TASKS.visible("truncation_test", "Task 1: the visible tests pass.")
def truncation_test(student):
    check_truncation(student, 2.0, keras_truncation_constant(), "Keras's constant (keras.initializers.VarianceScaling)")
    for c in (1.0, 3.0):
        check_truncation(student, c, truncated_std(c), "scipy.stats.truncnorm(-c, c).std()")


@TASKS.hidden("truncation_hidden")
def truncation_hidden(student, rng):
    for c in [*rng.uniform(0.1, 5.0, size=3), 0.05, 12.0]:
        check_truncation(student, float(c), truncated_std(float(c)), "scipy.stats.truncnorm(-c, c).std()")


# --- Task 2: a variance-preserving scale for leaky ReLU ------------------------------------------

def check_scale(student, negative_slope):
    """leaky_relu_scale(a) * E[leaky_relu(z)^2] = 1 for z ~ N(0, 1), to a relative 1e-8."""
    what = f"leaky_relu_scale({negative_slope})"
    value = float(as_array(student.call("leaky_relu_scale", negative_slope), (), what))
    moment = second_moment(negative_slope)
    right = 1 / moment
    if abs(value - right) <= 1e-8 * right:
        return
    a = negative_slope
    if abs(value - 2 / (1 + a)) <= 1e-8 * right:
        raise Failed(f"{what} returned {value:.10g}: the negative side's share of E[f(z)^2] is off; square the "
                     "whole of f(z) there")
    if abs(value - moment) <= 1e-8 * moment:
        raise Failed(f"{what} returned E[f(z)^2] itself: does the scale multiply it or undo it?")
    raise Failed(f"{what} returned {value:.10g}, which does not keep the variance from layer to layer (checked "
                 "against E[f(z)^2] by numerical integration): recompute E[f(z)^2] for the leaky ReLU")


@TASKS.visible("scale_test", "Task 2: the visible tests pass.")
def scale_test(student):
    for a in (0.0, 0.2, 0.3):
        check_scale(student, a)


@TASKS.hidden("scale_hidden")
def scale_hidden(student, rng):
    for a in [1.0, 0.01, *rng.uniform(0.0, 1.0, size=3)]:
        check_scale(student, float(a))


# --- Task 3: VarianceScaling in NumPy --------------------------------------------------------------

SWAPPED = {"fan_in": "fan_out", "fan_out": "fan_in", "fan_avg": "fan_avg"}


def keras_fan(shape, mode):
    """The fan that `mode` names for a kernel of this shape, by Keras's own compute_fans."""
    keras_and_tf()
    from keras.src.initializers.random_initializers import compute_fans
    fan_in, fan_out = compute_fans(shape)
    return {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]


def check_variance_scaling(student, shape, scale, mode, distribution, seed):
    """Draws of the student's variance_scaling against as many of Keras's: the spread, the support and a
    two-sample Kolmogorov-Smirnov test; a known mistake is recognized by the spread it gives (the
    fans it uses instead of Keras's, by Keras's own compute_fans)."""
    from scipy import stats
    what = f"variance_scaling({shape}, {scale:g}, '{mode}', '{distribution}', seed={seed})"
    ours = as_array(student.call("variance_scaling", shape, scale, mode, distribution, seed), shape,
                    f"the array {what} returns").ravel()
    theirs = keras_draws(shape, scale, mode, distribution, seed + 1).ravel()
    top = float(np.abs(ours).max())
    on_edges = float(np.mean(np.abs(ours) >= top * (1 - 1e-12)))     # a continuous law puts one draw there
    if distribution == "truncated_normal" and on_edges > 1e-3:
        raise Failed(f"{what}: {on_edges:.1%} of the values sit exactly on the edges +-{top:.6g}: clipping piles "
                     "mass on the edges")
    ratio = ours.std() / theirs.std()
    if abs(ratio - 1) > STD_TOLERANCE:
        def spread(other_shape=shape, other_mode=mode):        # Keras's std for what a mistake amounts to
            return math.sqrt(keras_fan(shape, mode) / keras_fan(other_shape, other_mode))
        hints = [(keras_truncation_constant(), "the cut distribution is narrower than the normal it was cut "
                  "from (Task 1)"), (1 / math.sqrt(3), "a uniform distribution on [-limit, limit] does not have "
                  "the standard deviation limit")]
        if mode != "fan_avg" and shape[0] != shape[-1]:
            hints.append((spread(other_mode=SWAPPED[mode]), "fan_in and fan_out are swapped: which dimension "
                          "of a kernel counts its inputs?"))
        if len(shape) > 2:
            hints += [(spread(other_shape=part), "a kernel of more than two dimensions has a receptive field: "
                       "its leading dimensions count in both fans") for part in (shape[:2], shape[-2:])]
        hint = next((text for factor, text in hints if abs(ratio / factor - 1) <= STD_TOLERANCE), "")
        raise Failed(f"{what} has standard deviation {ours.std():.6g}, but Keras's draws have "
                     f"{theirs.std():.6g}{': ' + hint if hint else ''}")
    if distribution != "untruncated_normal" and top > 1.01 * np.abs(theirs).max():
        raise Failed(f"{what} returns values up to |w| = {top:.6g}, beyond the bound of Keras's draws "
                     f"({np.abs(theirs).max():.6g})")
    p = stats.ks_2samp(ours, theirs).pvalue
    if p < KS_P_MIN:
        raise Failed(f"{what} has the right spread but not Keras's distribution: a two-sample Kolmogorov-Smirnov "
                     f"test of your {ours.size} values against as many of Keras's gives p = {p:.2g} "
                     f"(the test requires p >= {KS_P_MIN:g}); check which distribution you draw from")


@TASKS.visible("variance_scaling_test", "Task 3: the visible tests pass.")
def variance_scaling_test(student):
    check_variance_scaling(student, (200, 150), 2.0, "fan_in", "truncated_normal", 0)
    check_variance_scaling(student, (200, 150), 1.0, "fan_avg", "uniform", 1)
    check_variance_scaling(student, (200, 150), 1.0, "fan_out", "untruncated_normal", 2)


@TASKS.hidden("variance_scaling_hidden")
def variance_scaling_hidden(student, rng):
    seed = int(rng.integers(0, 10_000))
    conv = (3, 3, int(rng.integers(24, 40)), int(rng.integers(48, 80)))          # a convolution kernel
    for shape, mode, distribution in [(conv, "fan_in", "truncated_normal"), (conv, "fan_out", "uniform"),
                                      ((int(rng.integers(100, 200)), int(rng.integers(210, 300))), "fan_avg",
                                       "truncated_normal"),
                                      ((20_000,), "fan_in", "uniform")]:         # a vector: both fans are its length
        check_variance_scaling(student, shape, float(rng.uniform(0.5, 3.0)), mode, distribution, seed)
    first = student.call("variance_scaling", (50, 40), 1.0, "fan_in", "uniform", seed)
    again = student.call("variance_scaling", (50, 40), 1.0, "fan_in", "uniform", seed)
    if not np.array_equal(np.asarray(first), np.asarray(again)):
        raise Failed("variance_scaling called twice with the same seed gave different arrays: a seed must "
                     "repeat, as Keras's seeded initializers do")


# --- Task 4: weights that let a deep ReLU network learn -------------------------------------------

def check_weights(student, sizes, seed, data_seed, rng):
    """initial_weights(sizes, seed): shapes, no symmetry, and Keras's training reaches TARGET from
    the weights with the entries of each array shuffled by rng (the student's secret generator at
    grading time): the draws of an initializer are independent, so shuffling them changes nothing,
    while whatever weights fitted at home had learnt is gone, and only their scale is left."""
    what = f"initial_weights({sizes}, seed={seed})"
    L = len(sizes) - 1
    params = as_sequence(student.call("initial_weights", sizes, seed), 2 * L, what,
                         f"a list of {2 * L} arrays [W1, b1, ..., W{L}, b{L}]")
    params = [as_array(p, (sizes[k // 2], sizes[k // 2 + 1]) if k % 2 == 0 else (sizes[k // 2 + 1],),
                       f"{'W' if k % 2 == 0 else 'b'}{k // 2 + 1}") for k, p in enumerate(params)]
    for k in range(0, 2 * L - 2, 2):
        if np.ptp(params[k], axis=1).max() == 0:
            raise Failed(f"every unit of hidden layer {k // 2 + 1} has the same weights (all columns of "
                         f"W{k // 2 + 1} are equal): the units stay identical in training, the symmetry problem; "
                         "draw the weights at random")
    check_drawn_from_seed(student, sizes, seed, params)
    params = [rng.permutation(p.ravel()).reshape(p.shape) for p in params]
    accuracy = keras_accuracy(params, data_seed)
    if accuracy >= TARGET:
        return
    stds = pre_activation_stds(params, digits(data_seed)[0])
    raise Failed(f"with your weights, Keras's SGD ({BUDGET['epochs']} epochs, batches of {BUDGET['batch_size']}, "
                 f"learning rate {BUDGET['learning_rate']}) reaches a validation accuracy of at best "
                 f"{accuracy:.3f}, below "
                 f"{TARGET}. At the start, the standard deviation of Z is {stds[0]:.3g} in hidden layer 1 and "
                 f"{stds[-1]:.3g} in hidden layer {len(stds)}: choose a scale that keeps it steady through the "
                 "ReLU layers")


def check_drawn_from_seed(student, sizes, seed, params):
    """initial_weights(sizes, seed + 1) must give other kernels than `params`, those of `seed`: an
    initializer draws from its seed (the same weights for every seed are constants)."""
    again = student.call("initial_weights", sizes, seed + 1)
    if not isinstance(again, (list, tuple)) or len(again) != len(params):
        return                                  # its own call is checked like the first one
    if all(_equal(again[k], params[k]) for k in range(0, len(params), 2)):
        raise Failed(f"initial_weights({sizes}, seed={seed + 1}) returned the same kernels as with seed={seed}: "
                     "draw them at random from np.random.default_rng(seed), so that another seed gives "
                     "other weights")


def _equal(value, array):
    try:
        return np.array_equal(np.asarray(value, dtype=float), array)
    except (TypeError, ValueError):
        return False


@TASKS.visible("weights_test", "Task 4: the visible tests pass.", disguised=True)
def weights_test(student, rng):
    check_weights(student, [64] + [64] * 12 + [10], 0, 0, rng)


@TASKS.hidden("weights_hidden")
def weights_hidden(student, rng):
    check_weights(student, [64] + [int(rng.choice([48, 64]))] * 15 + [10], int(rng.integers(0, 10_000)),
                  int(rng.integers(1, 10_000)), rng)


run = TASKS.run
report = TASKS.report
