"""Checks of assignment 3 (activations): against Keras, its tape and a NumPy replay."""
import functools

import numpy as np

from . import references as ref
from .core import Failed, Tasks, as_array, as_number, as_sequence, assert_close, expect, flat, max_abs
from .references import keras_and_tf, serialized

TASKS = Tasks(numpy_only=True)
PRELUDE = "import numpy as np"
NAMES, CHOICES = ["sigmoid", "tanh", "relu", "leaky_relu"], ("sigmoid", "tanh", "relu", "gelu")
Z_EXTREME = np.array([-1000.0, -50.0, -1e-300, 0.0, 1e-300, 50.0, 1000.0])
GELU_C, GELU_K, GELU_RTOL = np.sqrt(2 / np.pi), 0.044715, 1e-6     # TF's float32 k is 3e-7 off
BUDGET, TARGET = 200, 0.25     # Task 4


def network(rng, sizes, he=True, bias=0.1):
    """[W1, b1, ...] for sizes [d, ..., n], He or Glorot normal."""
    params = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        params += [rng.normal(scale=np.sqrt(2 / (a if he else a + b)), size=(a, b)), rng.normal(scale=bias, size=b)]
    return params


def regression_data(rng, m, d, n=1):
    """X (m, d), Y (m, n) drawn from rng: a smooth function plus noise."""
    X = rng.normal(size=(m, d))
    return X, np.tanh(X @ rng.normal(size=(d, n))) + 0.5 * X[:, :1] ** 2 + rng.normal(scale=0.1, size=(m, n))


@serialized
def keras_activation(name, z, slope=None, tape=False):
    """Keras's activation `name` at z, or with tape its derivative by the tape."""
    keras, tf = keras_and_tf()
    options = {"leaky_relu": {"negative_slope": slope}, "gelu": {"approximate": True}}.get(name, {})
    z = tf.Variable(z)
    with tf.GradientTape() as recorder:
        a = getattr(keras.activations, name)(z, **options)
    return recorder.gradient(a, z).numpy() if tape else a.numpy()


@serialized
def keras_mse(X, Y, params, hidden):
    """Keras's MSE L and ||dL/dW|| of every kernel, by tf.GradientTape."""
    keras, tf = keras_and_tf()
    if hidden == "gelu":     # the task's tanh form, not Keras's default exact gelu
        hidden = functools.partial(keras.activations.gelu, approximate=True)
    model = ref.float64_dense(params, [hidden] * (len(params) // 2 - 1) + ["linear"])
    with tf.GradientTape() as tape:
        loss = keras.losses.MeanSquaredError(dtype="float64")(Y, model(X))
    return float(loss), np.array([np.linalg.norm(g) for g in tape.gradient(loss, model.trainable_variables)[::2]])


def f(name, z, derivative=False, variant=""):
    """The activation or its derivative; `variant`: a known mistake of Task 2."""
    t = np.tanh(GELU_C * (z + GELU_K * z ** 3) if name == "gelu" else z / 2 if name == "sigmoid" else z)
    if name == "gelu" and derivative:
        inner = 1.0 if variant == "no_chain" else GELU_C * (1 + (1 if variant == "no_3" else 3) * GELU_K * z ** 2)
        return 0.5 * (1 + t) + (0 if variant == "no_product" else 0.5 * z * (1 - t ** 2) * inner)
    if name == "relu":
        return (z > 0) * 1.0 if derivative else np.maximum(z, 0.0)
    a = 0.5 * z * (1 + t) if name == "gelu" else 0.5 * (1 + t) if name == "sigmoid" else t
    return a if not derivative else a * (1 - a) if name == "sigmoid" else 1 - a ** 2


def replay(X, Y, params, name, rate, epochs, mistake=""):
    """`epochs` full-batch gradient descent steps on the MSE, or with a known `mistake`."""
    params, L = [p.copy() for p in params], len(params) // 2
    for _ in range(epochs):
        cache, A = [], X
        for k in range(L):
            cache.append((A, A @ params[2 * k] + params[2 * k + 1]))
            A = f(name, cache[-1][1]) if k < L - 1 else cache[-1][1]
        dZ = 2 * (A - Y) / (1 if mistake == "summed" else Y.size)
        for k in reversed(range(len(cache))):
            W, dW, db = params[2 * k], cache[k][0].T @ dZ, dZ.sum(axis=0)
            params[2 * k] = W - rate * dW
            params[2 * k + 1] = params[2 * k + 1] - (mistake != "frozen_bias") * rate * db
            if k:
                slope = f(name, cache[k][0] if mistake == "at_output" else cache[k - 1][1], True)
                dZ = (dZ @ (params[2 * k] if mistake == "early" else W).T) * slope
    return params


def check_activation(student, name, z, slope=None):
    extra = [] if slope is None else [slope]
    hint = "Avoid exp of a large positive number." if name == "sigmoid" else ""
    for function, tape, against in [("activate", False, "Keras"), ("derivative", True, "the tape")]:
        right = keras_activation(name, z, slope, tape)
        corner = [(np.where(z == 0, 1.0, right), "is off. Look at the corner z = 0")] if tape and "relu" in name else []
        expect(student, function, [name, z, *extra], right, against, 1e-9 * max(1, max_abs(right)), corner, hint=hint)


def activation_cases(rng):
    slope = float(rng.choice([0.125, 0.375, 0.5, 0.75]))     # exact in float32
    zs = [Z_EXTREME, rng.normal(scale=3.0, size=(int(rng.integers(1, 6)), 3)), rng.normal(size=(2, 3, 2))]
    return [(name, z, slope if name == "leaky_relu" else None) for z in zs for name in NAMES]


def check_gelu(student, z):
    right = keras_activation("gelu", z, tape=True)
    tol = GELU_RTOL * (1 + max_abs(right))
    expect(student, "gelu", [z], keras_activation("gelu", z), "Keras's approximate gelu", tol)
    expect(student, "gelu_derivative", [z], right, "the tape's derivative of Keras's gelu", tol, like=[
        (f("gelu", z, True, "no_product"), "misses a term of the product rule"),
        (f("gelu", z, True, "no_chain"), "lacks the chain-rule factor du/dz of tanh(u)"),
        (f("gelu", z, True, "no_3"), "has a wrong chain-rule factor du/dz")])


def gelu_cases(rng):
    return [(z,) for z in [Z_EXTREME, rng.normal(scale=2.0, size=(int(rng.integers(1, 6)), 4)), np.array([[0.0]])]]


def check_norms(student, X, Y, params, name):
    """The norms against Keras's, as ratios (the first layers' can be tiny)."""
    what, L = f"kernel_gradient_norms(X, Y, params, '{name}')", len(params) // 2
    keras = keras_mse(X, Y, params, name)[1]
    ratio = as_array(student.call("kernel_gradient_norms", X, Y, params, name), (L,), what) / keras
    at_a = [np.linalg.norm(p - q) for p, q in zip(params[::2], replay(X, Y, params, name, 1, 1, "at_output")[::2])]
    assert_close(ratio, np.ones(L), f"{what} divided by Keras's norms", "1", 1e-9, like=[
        (at_a / keras, f"evaluates the derivative of {name} at the layer's output A")],
        hints=[(0.5, "is one half: look at the gradient of the loss at the output")])


def norms_cases(rng):
    d, h, m = int(rng.integers(2, 7)), int(rng.integers(4, 13)), int(rng.integers(8, 30))
    X, Y = regression_data(rng, m, d, 2)
    X[int(rng.integers(0, m))] = 0.0        # ReLU with pre-activations exactly 0
    return [(*regression_data(rng, n, d, k), network(rng, sizes, False), name) for n, k, sizes, name in [
        (1, 1, [d, 1, 1], "tanh"), (m, 1, [d, 1], "sigmoid"), (m, 3, [d, h, h, 3], "tanh"),
        (m, 1, [d] + [h] * 8 + [1], "sigmoid")]] + [(X, Y, network(rng, [d, h, h, 2], bias=0.0), "relu")]


def check_training(student, X, Y, params, name, rate, epochs):
    """train_network's weights against the replay's; returns them."""
    what = f"train_network(X {X.shape}, Y, params, '{name}', {rate:g}, {epochs})"
    got = as_sequence(student.call("train_network", X, Y, params, name, rate, epochs), len(params), what,
                      "a list")
    got = [as_array(g, p.shape, f"{what}[{k}]") for k, (g, p) in enumerate(zip(got, params))]
    right = flat(*replay(X, Y, params, name, rate, epochs))
    with np.errstate(all="ignore"):
        like = [(flat(*replay(X, Y, params, name, rate, epochs + n, mistake)), text) for n, mistake, text in [
            (-1, "", "takes one step too few"), (0, "frozen_bias", "never updates the biases"),
            (0, "early", "updates a kernel before the gradient has passed through it"),
            (0, "summed", "follows the gradient of the summed squared error, not of its mean")]]
    assert_close(flat(*got), right, what, f"{epochs} steps of gradient descent", 1e-6 * max(1.0, max_abs(right)), (),
                 like)
    return got


def check_experiment(student, rng):
    """chosen_settings() trained on diabetes rows drawn from rng."""
    name, rate, epochs = as_sequence(student.call("chosen_settings"), 3, "chosen_settings()", "a triple")
    if name not in CHOICES:
        raise Failed(f"chosen_settings()'s activation should be one of {', '.join(CHOICES)}, not {name!r}")
    as_number(rate, "the learning rate")
    as_number(epochs, "the epochs (the budget)", whole=True, low=1, high=BUDGET)
    from sklearn.datasets import load_diabetes
    train, val = np.split(rng.permutation(442), [300])     # the diabetes data
    X, y = ((a - a[train].mean(axis=0)) / a[train].std(axis=0) for a in load_diabetes(return_X_y=True))
    X, Y, X_val, Y_val = X[train], y[train, None], X[val], y[val, None]
    start = network(rng, [10] + [16] * 6 + [1], False, 0.0)
    trained = check_training(student, X, Y, start, name, float(rate), epochs)
    score, train = [1 - keras_mse(A, B, trained, name)[0] / np.var(B) for A, B in [(X_val, Y_val), (X, Y)]]
    if score < TARGET:
        norms = keras_mse(X, Y, start, name)[1]
        why = ("look at what the activation's derivative does to the gradient on its way down" if name == "sigmoid"
               or norms[0] < 1e-3 * norms[-1] else "train longer" if train < TARGET + .1 else "it overfits")
        raise Failed(f"with {name}, rate {rate:g} and {epochs} epochs, R^2 on new patients is {score:.3f} (training: "
                     f"{train:.3f}), below {TARGET}; {why}")


def training_cases(rng):
    return [(*regression_data(rng, int(rng.integers(5, 12)), 3, 2), network(rng, [3, 4, 4, 2], False), name,
             float(rng.uniform(0.01, 0.3)), int(rng.integers(1, 9))) for name in CHOICES]


TASKS.task("activation", 1, check_activation, activation_cases(np.random.default_rng(2)), activation_cases)
TASKS.task("gelu", 2, check_gelu, gelu_cases(np.random.default_rng(2)), gelu_cases)
TASKS.task("norms", 3, check_norms, norms_cases(np.random.default_rng(5)), norms_cases)
TASKS.task("regression", 4, check_training, training_cases(np.random.default_rng(3)), training_cases, check_experiment)

run = TASKS.run
report = TASKS.report
