"""Checks of assignment 5 (initialization): two derivations against mathematics, VarianceScaling draws
against Keras's, and initial weights from which Keras trains a deep ReLU network on disguised digits."""
import inspect
import math
import re

import numpy as np

from . import references as ref
from .core import Failed, Tasks, as_array, as_sequence, expect
from .references import keras_and_tf, serialized

TASKS = Tasks(numpy_only=True)
PRELUDE = "import math\nimport numpy as np"  # the setup cell's imports, at grading time
KS_P_MIN = 1e-6          # a right initializer fails the KS test once in a million
STD_TOLERANCE = 0.03     # relative; 30,000 draws estimate a std to about 0.4%
EPOCHS, BATCH, RATE = 8, 32, 0.02     # Task 4's training budget, plain SGD
TARGET = 0.8             # Task 4: the validation accuracy to reach


def keras_truncation_constant():
    """The constant Keras divides a truncated normal's stddev by, read from VarianceScaling's source."""
    code = inspect.getsource(keras_and_tf()[0].initializers.VarianceScaling.__call__)
    return float(re.search(r"math\.sqrt\(scale\)\s*/\s*([0-9.]+)", code).group(1))


def check_truncation(student, c, right=None):
    """truncation_std(c) against `right`, by default scipy.stats.truncnorm(-c, c).std()."""
    from scipy.stats import truncnorm
    against = "Keras's constant" if right else "scipy.stats.truncnorm(-c, c).std()"
    right = right or float(truncnorm(-c, c).std())
    unnormalized = math.sqrt(max(0.0, 1 - 2 * c * math.exp(-c * c / 2) / math.sqrt(2 * math.pi)))
    expect(student, "truncation_std", [c], right, against, 1e-9 * right, like=[
        (right ** 2, "returned the variance; the task asks for the standard deviation"),
        (unnormalized, "integrates a density that is not a probability density on [-c, c]")])


@TASKS.visible("truncation_test", "Task 1: the visible tests pass.")
def truncation_test(student):
    check_truncation(student, 2.0, keras_truncation_constant())
    for c in (1.0, 3.0):
        check_truncation(student, c)


@TASKS.hidden("truncation_hidden")
def truncation_hidden(student, rng):
    for c in [*rng.uniform(0.1, 5.0, size=3), 0.05, 12.0]:
        check_truncation(student, float(c))


def check_scale(student, a):
    """leaky_relu_scale(a) * E[leaky_relu(z)^2] = 1 for z ~ N(0, 1), E by the trapezoidal rule."""
    z = np.linspace(-12.0, 12.0, 100_001)
    moment = np.trapezoid(np.where(z > 0, z, a * z) ** 2 * np.exp(-z ** 2 / 2) / math.sqrt(2 * math.pi), z)
    expect(student, "leaky_relu_scale", [a], 1 / moment, "the scale that keeps the variance", 1e-8 / moment, like=[
        (2 / (1 + a), "is off on the negative side: square the whole of f(z) there"),
        (moment, "returned E[f(z)^2] itself: does the scale multiply it or undo it?")])


@TASKS.visible("scale_test", "Task 2: the visible tests pass.")
def scale_test(student):
    for a in (0.0, 0.2, 0.3):
        check_scale(student, a)


@TASKS.hidden("scale_hidden")
def scale_hidden(student, rng):
    for a in [1.0, 0.01, *rng.uniform(0.0, 1.0, size=3)]:
        check_scale(student, float(a))


@serialized
def keras_draws(shape, scale, mode, distribution, seed):
    """keras.initializers.VarianceScaling(scale, mode, distribution, seed)(shape), float64."""
    keras, _ = keras_and_tf()
    init = keras.initializers.VarianceScaling(scale=scale, mode=mode, distribution=distribution, seed=seed)
    return np.asarray(init(shape, dtype="float64"))


def keras_fan(shape, mode):
    """The fan that `mode` names for a kernel of this shape, by Keras's own compute_fans."""
    keras_and_tf()
    from keras.src.initializers.random_initializers import compute_fans
    fan_in, fan_out = compute_fans(shape)
    return {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]


def check_variance_scaling(student, shape, scale, mode, distribution, seed):
    """Draws against as many of Keras's: edges, spread (mistakes known by their fans), bounds, KS test."""
    from scipy.stats import ks_2samp
    what = f"variance_scaling({shape}, {scale:g}, '{mode}', '{distribution}', seed={seed})"
    ours = as_array(student.call("variance_scaling", shape, scale, mode, distribution, seed), shape, what).ravel()
    theirs, top = keras_draws(shape, scale, mode, distribution, seed + 1).ravel(), np.abs(ours).max()
    if distribution == "truncated_normal" and np.mean(np.abs(ours) >= top * (1 - 1e-12)) > 1e-3:
        raise Failed(f"{what} has many values exactly on the edges: clipping piles mass on the edges")
    ratio = ours.std() / theirs.std()
    if abs(ratio - 1) > STD_TOLERANCE:
        fans = [({"fan_in": "fan_out", "fan_out": "fan_in"}.get(mode, mode), shape, "fan_in and fan_out are swapped")]
        if len(shape) > 2:
            fans += [(mode, part, "a kernel of more than two dimensions has a receptive field: its leading "
                      "dimensions count in both fans") for part in (shape[:2], shape[-2:])]
        hints = [(math.sqrt(keras_fan(shape, mode) / keras_fan(part, other)), text) for other, part, text in fans]
        hints.append((keras_truncation_constant(), "the cut distribution is narrower than the normal it was cut from"))
        hint = next((": " + text for factor, text in hints if abs(ratio / factor - 1) <= STD_TOLERANCE), "")
        raise Failed(f"{what} has standard deviation {ours.std():.6g}, but Keras's draws have {theirs.std():.6g}{hint}")
    if distribution != "untruncated_normal" and top > 1.01 * np.abs(theirs).max():
        raise Failed(f"{what} returns values up to |w| = {top:.6g}, beyond the bound of Keras's draws")
    if ks_2samp(ours, theirs).pvalue < KS_P_MIN:
        raise Failed(f"{what} has the right spread but not Keras's distribution (Kolmogorov-Smirnov): check what you "
                     "draw from")


@TASKS.visible("variance_scaling_test", "Task 3: the visible tests pass.")
def variance_scaling_test(student):
    check_variance_scaling(student, (200, 150), 2.0, "fan_in", "truncated_normal", 0)
    check_variance_scaling(student, (200, 150), 1.0, "fan_avg", "uniform", 1)
    check_variance_scaling(student, (200, 150), 1.0, "fan_out", "untruncated_normal", 2)


@TASKS.hidden("variance_scaling_hidden")
def variance_scaling_hidden(student, rng):
    seed = int(rng.integers(0, 10_000))
    conv = (3, 3, int(rng.integers(24, 40)), int(rng.integers(48, 80)))
    dense = (int(rng.integers(100, 200)), int(rng.integers(210, 300)))
    for shape, mode, distribution in [(conv, "fan_in", "truncated_normal"), (conv, "fan_out", "uniform"),
                                      (dense, "fan_avg", "truncated_normal"), ((20_000,), "fan_in", "uniform")]:
        check_variance_scaling(student, shape, float(rng.uniform(0.5, 3.0)), mode, distribution, seed)
    first, again = (student.call("variance_scaling", (50, 40), 1.0, "fan_in", "uniform", seed) for _ in range(2))
    if not np.array_equal(first, again):
        raise Failed("variance_scaling gave different arrays for the same seed")


def digits(seed):
    """X (1437, 64), y, X_val (360, 64), y_val in float32, centred and scaled over the whole data set."""
    X, y, X_val, y_val = ref.digits(seed, 1437, 360)
    every = np.concatenate([X, X_val])
    mean, std = every.mean(axis=0), (every - every.mean(axis=0)).std()
    return ((X - mean) / std).astype("float32"), y, ((X_val - mean) / std).astype("float32"), y_val


@serialized
def keras_accuracy(params, data_seed):
    """The best validation accuracy over the epochs (SGD wobbles) of Keras's SGD within the budget."""
    keras, _ = keras_and_tf()
    X, y, X_val, y_val = digits(data_seed)
    keras.utils.set_random_seed(0)     # the batches' order
    L = len(params) // 2
    model = keras.Sequential([keras.Input(shape=(X.shape[1],))] + [
        keras.layers.Dense(params[2 * k].shape[1], activation="relu" if k < L - 1 else "softmax") for k in range(L)])
    model.set_weights([np.asarray(p, dtype="float32") for p in params])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=RATE), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(X, y, epochs=EPOCHS, batch_size=BATCH, verbose=0, validation_data=(X_val, y_val))
    return float(max(history.history["val_accuracy"]))


def check_weights(student, sizes, seed, data_seed, rng):
    """Shapes, no symmetry, seeded draws, and TARGET reached from the weights shuffled by the student's
    secret rng (that keeps the draws' law, not what weights fitted at home learnt)."""
    what, L = f"initial_weights({sizes}, seed={seed})", len(sizes) - 1
    params = as_sequence(student.call("initial_weights", sizes, seed), 2 * L, what, f"a list of {2 * L} arrays")
    params = [as_array(p, (sizes[k // 2], sizes[k // 2 + 1])[k % 2:], f"{'Wb'[k % 2]}{k // 2 + 1}")
              for k, p in enumerate(params)]
    for k in range(0, 2 * L - 2, 2):
        if np.ptp(params[k], axis=1).max() == 0:
            raise Failed(f"every unit of hidden layer {k // 2 + 1} has the same weights (all columns of W{k // 2 + 1} "
                         "are equal): they stay identical in training, the symmetry problem; draw them at random")
    again = student.call("initial_weights", sizes, seed + 1)
    if isinstance(again, (list, tuple)) and all(np.array_equal(a, p) for a, p in zip(again[::2], params[::2])):
        raise Failed(f"initial_weights({sizes}, seed={seed + 1}) returned the same kernels as with seed={seed}: "
                     "draw them at random from np.random.default_rng(seed)")
    params = [rng.permutation(p.ravel()).reshape(p.shape) for p in params]
    accuracy = keras_accuracy(params, data_seed)
    if accuracy < TARGET:
        A, stds = digits(data_seed)[0], []
        for k in range(0, len(params) - 2, 2):
            stds.append(float((A @ params[k] + params[k + 1]).std()))
            A = np.maximum(A @ params[k] + params[k + 1], 0.0)
        raise Failed(f"with your weights, Keras's SGD ({EPOCHS} epochs, batch {BATCH}, rate {RATE}) reaches a "
                     f"validation accuracy of at best {accuracy:.3f}, below {TARGET}. At the start, the standard "
                     f"deviation of Z is {stds[0]:.3g} in hidden layer 1 and {stds[-1]:.3g} in hidden layer "
                     f"{len(stds)}: keep it steady")


@TASKS.visible("weights_test", "Task 4: the visible tests pass.", disguised=True)
def weights_test(student, rng):
    check_weights(student, [64] + [64] * 12 + [10], 0, 0, rng)


@TASKS.hidden("weights_hidden")
def weights_hidden(student, rng):
    check_weights(student, [64] + [int(rng.choice([48, 64]))] * 15 + [10], int(rng.integers(0, 10_000)),
                  int(rng.integers(1, 10_000)), rng)


run = TASKS.run
report = TASKS.report
