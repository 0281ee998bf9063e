"""Checks of assignment 5 (initialization): derivations, draws against Keras's, Keras training."""
import inspect
import math
import re

import numpy as np

from . import references as ref
from .core import Failed, Tasks, as_array, as_sequence, assert_close, expect
from .references import keras_and_tf, serialized

TASKS = Tasks(numpy_only=True)
PRELUDE = "import math\nimport numpy as np"
KS_P_MIN, STD_TOLERANCE = 1e-6, 0.03     # a right initializer fails KS once in 10^6; std to 0.4%
EPOCHS, BATCH, RATE, TARGET = 8, 32, 0.02, 0.8     # Task 4: plain SGD's budget, the validation accuracy to reach
FIELD = "a kernel of more than two dimensions has a receptive field: its leading dimensions count in both fans"


def keras_truncation_constant():
    """The divisor of Keras's truncated normal's stddev, read from its source."""
    code = inspect.getsource(keras_and_tf()[0].initializers.VarianceScaling.__call__)
    return float(re.search(r"math\.sqrt\(scale\)\s*/\s*([0-9.]+)", code).group(1))


def check_truncation(student, c, keras=False):
    from scipy.stats import truncnorm
    against = "Keras's constant" if keras else "scipy's truncnorm"
    right = keras_truncation_constant() if keras else float(truncnorm(-c, c).std())
    unnormalized = math.sqrt(max(0.0, 1 - 2 * c * math.exp(-c * c / 2) / math.sqrt(2 * math.pi)))
    expect(student, "truncation_std", [c], right, against, 1e-9 * right, like=[
        (right ** 2, "returned the variance; the task asks for the standard deviation"),
        (unnormalized, "integrates a density that is not a probability density on [-c, c]")])


def check_scale(student, a):
    """scale * E[f(z)^2] = 1, E by the trapezoidal rule."""
    z = np.linspace(-12.0, 12.0, 100_001)
    moment = np.trapezoid(np.where(z > 0, z, a * z) ** 2 * np.exp(-z ** 2 / 2) / math.sqrt(2 * math.pi), z)
    expect(student, "leaky_relu_scale", [a], 1 / moment, "the scale that keeps the variance", 1e-8 / moment, like=[
        (2 / (1 + a), "is off on the negative side: square the whole of f(z) there"),
        (moment, "returned E[f(z)^2] itself: does the scale multiply it or undo it?")])


@serialized
def keras_draws(shape, scale, mode, distribution, seed):
    """Keras's VarianceScaling draws, float64."""
    init = keras_and_tf()[0].initializers.VarianceScaling(scale=scale, mode=mode, distribution=distribution, seed=seed)
    return np.asarray(init(shape, dtype="float64"))


def keras_fan(shape, mode):
    """The fan `mode` names for this shape, by Keras's compute_fans (Keras imported)."""
    from keras.src.initializers.random_initializers import compute_fans
    fan_in, fan_out = compute_fans(shape)
    return {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]


def check_variance_scaling(student, shape, scale, mode, distribution, seed):
    """Draws against Keras's: same seed, edges, spread (known mistakes by their factor), bound, KS test."""
    from scipy.stats import ks_2samp
    what = f"variance_scaling({shape}, {scale:g}, '{mode}', '{distribution}', seed={seed})"
    ours, again = (np.ravel(as_array(student.call("variance_scaling", shape, scale, mode, distribution, seed),
                                     shape, what)) for _ in range(2))
    if not np.array_equal(ours, again):
        raise Failed(f"{what} gave different arrays for the same seed")
    theirs, top = keras_draws(shape, scale, mode, distribution, seed + 1).ravel(), np.abs(ours).max()
    if distribution == "truncated_normal" and np.mean(np.abs(ours) >= top * (1 - 1e-12)) > 1e-3:
        raise Failed(f"{what} has many values exactly on the edges: clipping piles mass on the edges")
    swapped = {"fan_in": "fan_out", "fan_out": "fan_in"}.get(mode, mode)
    hints = [(math.sqrt(keras_fan(shape, mode) / keras_fan(shape, swapped)), "fan_in and fan_out are swapped"),
             (keras_truncation_constant(), "the cut distribution is narrower than the normal it was cut from")]
    hints += [(math.sqrt(keras_fan(shape, mode) / keras_fan(part, mode)), FIELD) for part in (shape[:2], shape[-2:])
              if len(shape) > 2]
    assert_close(ours.std() / theirs.std(), 1.0, f"{what}'s spread is off (ratio to Keras's):", "1", STD_TOLERANCE,
                 hints)
    if distribution != "untruncated_normal" and top > 1.01 * np.abs(theirs).max():
        raise Failed(f"{what} returns values up to |w| = {top:.6g}, beyond the bound of Keras's draws")
    if ks_2samp(ours, theirs).pvalue < KS_P_MIN:
        raise Failed(f"{what} has the right spread but not Keras's distribution: check what you draw from")


def truncation_cases(rng):
    return [(float(c),) for c in [*rng.uniform(0.1, 5.0, size=3), 0.05, 12.0]]


def scale_cases(rng):
    return [(float(a),) for a in [1.0, 0.01, *rng.uniform(0.0, 1.0, size=3)]]


def variance_scaling_cases(rng):
    seed, conv = int(rng.integers(0, 10_000)), (3, 3, int(rng.integers(24, 40)), int(rng.integers(48, 80)))
    dense = (int(rng.integers(100, 200)), int(rng.integers(210, 300)))
    return [(shape, float(rng.uniform(0.5, 3.0)), mode, distribution, seed) for shape, mode, distribution in [
        (conv, "fan_in", "truncated_normal"), (conv, "fan_out", "uniform"), (dense, "fan_avg", "truncated_normal"),
        ((20_000,), "fan_in", "uniform")]]


TASKS.task("truncation", 1, check_truncation, [(2.0, True), (1.0,), (3.0,)], truncation_cases)
TASKS.task("scale", 2, check_scale, [(0.0,), (0.2,), (0.3,)], scale_cases)
TASKS.task("variance_scaling", 3, check_variance_scaling, [((200, 150), 2.0, "fan_in", "truncated_normal", 0),
                                                          ((200, 150), 1.0, "fan_avg", "uniform", 1),
                                                          ((200, 150), 1.0, "fan_out", "untruncated_normal", 2)],
           variance_scaling_cases)


def digits(seed):
    """X (1437, 64), y, X_val (360, 64), y_val, float32, standardized over all 1,797 rows."""
    X, y, X_val, y_val = ref.digits(seed, 1437, 360)
    every = np.concatenate([X, X_val])
    mean, std = every.mean(axis=0), (every - every.mean(axis=0)).std()
    return ((X - mean) / std).astype("float32"), y, ((X_val - mean) / std).astype("float32"), y_val


@serialized
def keras_accuracy(params, data_seed):
    """Keras's best validation accuracy (SGD wobbles)."""
    keras, _ = keras_and_tf()
    X, y, X_val, y_val = digits(data_seed)
    keras.utils.set_random_seed(0)     # the batches
    model = ref.float64_dense(params, ["relu"] * (len(params) // 2 - 1) + ["softmax"])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=RATE), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(X, y, epochs=EPOCHS, batch_size=BATCH, verbose=0, validation_data=(X_val, y_val))
    return float(max(history.history["val_accuracy"]))


def check_weights(student, sizes, seed, data_seed, rng):
    """Shapes, symmetry, seeds; TARGET from the weights shuffled by rng (home-fitted ones fail)."""
    what, L = f"initial_weights({sizes}, seed={seed})", len(sizes) - 1
    params = as_sequence(student.call("initial_weights", sizes, seed), 2 * L, what, f"a list of {2 * L} arrays")
    params = [as_array(p, (sizes[k // 2], sizes[k // 2 + 1])[k % 2:], f"{'Wb'[k % 2]}{k // 2 + 1}")
              for k, p in enumerate(params)]
    for k, W in enumerate(params[:-2:2], 1):
        if np.ptp(W, axis=1).max() == 0:
            raise Failed(f"all columns of W{k} are equal: the units stay identical in training (symmetry)")
    again = student.call("initial_weights", sizes, seed + 1)
    if isinstance(again, (list, tuple)) and all(np.array_equal(a, p) for a, p in zip(again[::2], params[::2])):
        raise Failed(f"{what} returned the same kernels as with seed={seed + 1}: draw them from the seed")
    params = [rng.permutation(p.ravel()).reshape(p.shape) for p in params]
    accuracy = keras_accuracy(params, data_seed)
    if accuracy < TARGET:
        A, stds = digits(data_seed)[0], []
        for W, b in zip(params[:-2:2], params[1:-2:2]):
            stds.append(float((A @ W + b).std()))
            A = np.maximum(A @ W + b, 0.0)
        raise Failed(f"from your weights, Keras's SGD reaches a validation accuracy of {accuracy:.3f}, below "
                     f"{TARGET}. At the start, the standard deviation of Z is {stds[0]:.3g} in hidden layer 1 and "
                     f"{stds[-1]:.3g} in hidden layer {len(stds)}: keep it steady")


@TASKS.visible("weights_test", "Task 4: the visible tests pass.", disguised=True)
def weights_test(student, rng):
    check_weights(student, [64] + [64] * 12 + [10], 0, 0, rng)


@TASKS.hidden("weights_hidden")
def weights_hidden(student, rng):
    check_weights(student, [64] + [int(rng.choice([48, 64]))] * 15 + [10], int(rng.integers(0, 10_000)),
                  int(rng.integers(1, 10_000)), rng)


run = TASKS.run
report = TASKS.report
