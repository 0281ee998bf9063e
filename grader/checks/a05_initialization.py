"""Checks of assignment 5 (initialization): derivations, draws against Keras's, Keras training."""
import inspect
import math
import re

import numpy as np

from . import references as ref
from .core import Failed, Tasks, as_array, as_arrays, assert_close, expect, flat

TASKS = Tasks(numpy_only=True)
PRELUDE = "import math\nimport numpy as np"
KS_P_MIN = 1e-6     # a right initializer fails once in 10^6
FIELD = "leaves out the receptive field: a kernel's leading dimensions count in both fans"
TARGET = 0.8     # Task 4's validation accuracy


def check_truncation(student, c, keras=False):
    from scipy.stats import truncnorm
    right = float(truncnorm(-c, c).std())
    if keras:
        code = inspect.getsource(ref.keras_and_tf()[0].initializers.VarianceScaling.__call__)
        right = float(re.search(r"sqrt\(scale\) / ([0-9.]+)", code).group(1))
    unnormalized = math.sqrt(max(0.0, 1 - (1 - right ** 2) * math.erf(c / math.sqrt(2))))
    expect(student, "truncation_std", [c], right, "Keras's constant" if keras else "scipy's truncnorm", 1e-9 * right,
           like=[(right ** 2, "returned the variance, not the standard deviation"),
                 (unnormalized, "integrates a density that is not a probability density on [-c, c]")])


def check_scale(student, a):
    """scale * E[f(z)^2] = 1, E by the trapezoidal rule."""
    z = np.linspace(-12.0, 12.0, 100_001)
    moment = np.trapezoid(np.where(z > 0, z, a * z) ** 2 * np.exp(-z ** 2 / 2) / math.sqrt(2 * math.pi), z)
    expect(student, "leaky_relu_scale", [a], 1 / moment, "the scale that keeps the variance", 1e-8 / moment, like=[
        (2 / (1 + a), "is off on the negative side: square the whole of f(z) there"),
        (moment, "returned E[f(z)^2] itself: does the scale multiply it or undo it?")])


@ref.serialized
def keras_draws(shape, scale, mode, distribution, seed):
    """Keras's VarianceScaling draws, float64."""
    init = ref.keras_and_tf()[0].initializers.VarianceScaling(scale, mode, distribution, seed)
    return np.asarray(init(shape, dtype="float64"))


def keras_fan(shape, mode):
    """The fan `mode` of this shape, by Keras's compute_fans."""
    from keras.src.initializers.random_initializers import compute_fans
    fan_in, fan_out = compute_fans(shape)
    return {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]


def check_variance_scaling(student, shape, scale, mode, distribution, seed):
    """Draws against Keras's: seed, edges, spread (mistakes by factor), bound, KS test."""
    from scipy.stats import ks_2samp, truncnorm
    args = (shape, scale, mode, distribution, seed)
    what = f"variance_scaling{args}"
    ours, again = (as_array(student.call("variance_scaling", *args), shape, what).ravel() for _ in range(2))
    if not np.array_equal(ours, again):
        raise Failed(f"{what} gave different arrays for the same seed")
    theirs, top = keras_draws(*args[:4], seed + 1).ravel(), np.abs(ours).max()
    if distribution == "truncated_normal" and np.mean(np.abs(ours) >= top * (1 - 1e-12)) > 1e-3:
        raise Failed(f"{what} has many values on the edges: clipping piles mass on the edges")
    fan = keras_fan(shape, mode)
    hints = [(math.sqrt(fan / keras_fan(other, mode)), text) for other, text in [
        (shape[:-2] + shape[-2:][::-1], "fan_in and fan_out are swapped"), (shape[:2], FIELD), (shape[-2:], FIELD)]]
    hints.append((truncnorm(-2, 2).std(), "the cut distribution is narrower than the normal it was cut from"))
    assert_close(ours.std() / theirs.std(), 1.0, f"{what}'s spread (ratio to Keras's):", "1", 0.03, hints)
    if distribution != "untruncated_normal" and top > 1.01 * np.abs(theirs).max():
        raise Failed(f"{what} has values up to |w| = {top:.6g}, beyond Keras's bound")
    if ks_2samp(ours, theirs).pvalue < KS_P_MIN:
        raise Failed(f"{what} has the right spread but not Keras's distribution: check what you draw from")


def variance_scaling_cases(rng):
    conv = (3, 3, *rng.integers([24, 48], [40, 80]).tolist())
    dense = tuple(rng.integers(100, 300, 2).tolist())
    cases = [(conv, "fan_in", "truncated_normal"), (conv, "fan_out", "uniform"), (dense, "fan_avg", "truncated_normal"),
             ((20_000,), "fan_in", "uniform")]
    return [(shape, float(rng.uniform(0.5, 3.0)), mode, kind, int(rng.integers(10_000))) for shape, mode, kind in cases]


TASKS.task("truncation", 1, check_truncation, [(2.0, True), (1.0,), (3.0,)],
           lambda rng: [(c,) for c in [*rng.uniform(0.1, 5.0, 3).tolist(), 0.05, 12.0]])
TASKS.task("scale", 2, check_scale, [(0.0,), (0.2,), (0.3,)],
           lambda rng: [(a,) for a in [1.0, 0.01, *rng.uniform(0.0, 1.0, 3).tolist()]])
TASKS.task("variance_scaling", 3, check_variance_scaling, [((200, 150), 2.0, "fan_in", "truncated_normal", 0),
           ((200, 150), 1.0, "fan_avg", "uniform", 1), ((200, 150), 1.0, "fan_out", "untruncated_normal", 2)],
           variance_scaling_cases)


def digits(seed):
    """X (1437, 64), y, X_val (360, 64), y_val, float32, standardized over all 1,797 rows."""
    X, y, X_val, y_val = ref.digits(seed, 1437, 360)
    every = np.concatenate([X, X_val])
    mean, std = every.mean(axis=0), (every - every.mean(axis=0)).std()
    return ((X - mean) / std).astype("float32"), y, ((X_val - mean) / std).astype("float32"), y_val


@ref.serialized
def keras_accuracy(params, data_seed):
    """The best validation accuracy in 8 epochs of Keras's SGD at 0.02, batches of 32."""
    keras, _ = ref.keras_and_tf()
    X, y, X_val, y_val = digits(data_seed)
    keras.utils.set_random_seed(0)     # the batches
    model = ref.float64_dense(params, ["relu"] * (len(params) // 2 - 1) + ["softmax"])
    model.compile(keras.optimizers.SGD(0.02), "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(X, y, 32, 8, verbose=0, validation_data=(X_val, y_val))
    return float(max(history.history["val_accuracy"]))


def check_weights(student, sizes, seed, data_seed, rng):
    """Shapes, symmetry, seeds; then TARGET from the weights shuffled by rng."""
    what = f"initial_weights({sizes}, seed={seed})"
    shapes = [(m, n)[k:] for m, n in zip(sizes, sizes[1:]) for k in (0, 1)]
    params = as_arrays(student.call("initial_weights", sizes, seed), shapes, what)
    for k, W in enumerate(params[:-2:2], 1):
        if np.ptp(W, axis=1).max() == 0:
            raise Failed(f"all columns of W{k} are equal: its units would stay identical in training")
    again = as_arrays(student.call("initial_weights", sizes, seed + 1), shapes, what)
    if np.array_equal(flat(*params), flat(*again)):
        raise Failed(f"{what} returned the same weights as with seed={seed + 1}: draw them from the seed")
    params = [rng.permutation(p.ravel()).reshape(p.shape) for p in params]
    accuracy = keras_accuracy(params, data_seed)
    if accuracy < TARGET:
        A, Z = digits(data_seed)[0], []
        for W, b in zip(params[:-2:2], params[1:-2:2]):
            Z.append(A @ W + b)
            A = np.maximum(Z[-1], 0.0)
        raise Failed(f"from your weights, Keras's SGD reaches {accuracy:.3f}, below {TARGET}: at the start, the std of "
                     f"Z is {Z[0].std():.3g} in hidden layer 1, {Z[-1].std():.3g} in layer {len(Z)}: keep it steady")


TASKS.task("weights", 4, check_weights, lambda rng: [([64] + [64] * 12 + [10], 0, 0, rng)],
           lambda rng: [([64] + [int(rng.choice([48, 64]))] * 15 + [10], *rng.integers(1, 10_000, 2).tolist(), rng)])

run = TASKS.run
report = TASKS.report
