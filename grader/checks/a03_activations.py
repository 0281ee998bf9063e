"""Assignment 3's checks: against Keras, its tape and a NumPy replay."""
import numpy as np

from .core import Failed, Tasks, as_array, as_items, as_number, assert_close, expect, expect_trained, flat, max_abs
from .core import seeded
from .references import float64_dense, keras_and_tf, serialized

TASKS = Tasks(numpy_only=True)
NAMES, CHOICES = ["sigmoid", "tanh", "relu", "leaky_relu"], ("sigmoid", "tanh", "relu", "gelu")
Z_EXTREME = np.array([-1e3, -50.0, -1e-300, 0.0, 1e-300, 50.0, 1e3])
GELU_C, GELU_K = np.sqrt(2 / np.pi), 0.044715
BUDGET, TARGET = 200, 0.25


def problem(rng, m, sizes, bias=0.1):
    """X (m, d), a smooth Y (m, n) and Glorot-normal [W1, b1, ...] for sizes [d, ..., n]."""
    X, params = rng.normal(size=(m, sizes[0])), []
    for a, b in zip(sizes[:-1], sizes[1:]):
        params += [rng.normal(scale=np.sqrt(2 / (a + b)), size=(a, b)), rng.normal(scale=bias, size=b)]
    return X, np.tanh(X @ rng.normal(size=(sizes[0], sizes[-1]))), params


@serialized
def keras_activation(name, z, slope=None):
    """Keras's `name` at z and its derivative by the tape."""
    keras, tf = keras_and_tf()
    options = {"leaky_relu": {"negative_slope": slope}, "gelu": {"approximate": True}}.get(name, {})
    z = tf.Variable(z)
    with tf.GradientTape() as tape:
        a = getattr(keras.activations, name)(z, **options)
    return a.numpy(), tape.gradient(a, z).numpy()


@serialized
def keras_mse(X, Y, params, hidden):
    """Keras's MSE L and ||dL/dW|| for every kernel W."""
    keras, tf = keras_and_tf()
    hidden = (lambda z: keras.activations.gelu(z, approximate=True)) if hidden == "gelu" else hidden  # tanh form
    model = float64_dense(params, [hidden] * (len(params) // 2 - 1) + ["linear"])
    with tf.GradientTape() as tape:
        loss = keras.losses.MeanSquaredError(dtype="float64")(Y, model(X))
    return float(loss), np.array([np.linalg.norm(g) for g in tape.gradient(loss, model.trainable_variables[::2])])


def f(name, z, derivative=False, variant=""):
    """The activation or its derivative (or a Task 2 mistake's)."""
    t = np.tanh(GELU_C * (z + GELU_K * z ** 3) if name == "gelu" else z / 2 if name == "sigmoid" else z)
    if name == "gelu" and derivative:
        inner = 1.0 if variant == "no_chain" else GELU_C * (1 + (1 if variant == "no_3" else 3) * GELU_K * z ** 2)
        return 0.5 * (1 + t) + (0 if variant == "no_product" else 0.5 * z * (1 - t ** 2) * inner)
    if name == "relu":
        return (z > 0) * 1.0 if derivative else np.maximum(z, 0.0)
    a = 0.5 * z * (1 + t) if name == "gelu" else 0.5 * (1 + t) if name == "sigmoid" else t
    return a if not derivative else a * (1 - a) if name == "sigmoid" else 1 - a ** 2


@np.errstate(all="ignore")  # mistakes may overflow
def replay(X, Y, params, name, rate, epochs, mistake=""):
    """[W1, b1, ...] after `epochs` full-batch steps on the MSE (or a known `mistake`'s)."""
    params = list(params)
    for _ in range(epochs):
        A, Z = [X], []
        for W, b in zip(params[::2], params[1::2]):
            Z.append(A[-1] @ W + b)
            A.append(f(name, Z[-1]))
        dZ = 2 * (Z[-1] - Y) / Y.size
        for k in reversed(range(len(Z))):
            W, dW, db = params[2 * k], A[k].T @ dZ, dZ.sum(axis=0) * (mistake != "frozen_bias")
            params[2 * k], params[2 * k + 1] = W - rate * dW, params[2 * k + 1] - rate * db
            if k:
                slope = f(name, A[k] if mistake == "at_output" else Z[k - 1], True)
                dZ = (dZ @ (params[2 * k] if mistake == "early" else W).T) * slope
    return params


def check_activation(student, name, z, slope):
    args = [name, z, slope] if name == "leaky_relu" else [name, z]
    value, right = keras_activation(name, z, slope)
    hint = "Avoid exp of large numbers." if name == "sigmoid" else ""
    expect(student, "activate", args, value, "Keras", 1e-9 * max(1, max_abs(value)), hint=hint)
    corner = [(np.where(z == 0, 1.0, right), "is off. Look at the corner z = 0")] if "relu" in name else []
    expect(student, "derivative", args, right, "the tape", 1e-9, corner, hint=hint)


def check_gelu(student, z):
    value, right = keras_activation("gelu", z)
    tol = 1e-6 * (1 + max_abs(right))  # TF's float32 k is 3e-7 off
    expect(student, "gelu", [z], value, "Keras", tol)
    expect(student, "gelu_derivative", [z], right, "the tape", tol, like=[
        (f("gelu", z, True, "no_product"), "misses a term of the product rule"),
        (f("gelu", z, True, "no_chain"), "lacks the chain-rule factor du/dz of tanh(u)"),
        (f("gelu", z, True, "no_3"), "has a wrong chain-rule factor du/dz")])


def check_norms(student, rng):
    """Kernel-gradient norms as ratios to Keras's (some are tiny), on networks drawn from rng."""
    d, h, m = rng.integers(2, 7), rng.integers(4, 13), rng.integers(8, 30)
    for n, sizes, name in [(1, [d, 1, 1], "tanh"), (m, [d, 3], "sigmoid"), (m, [d] + [h] * 8 + [1], "sigmoid"),
                           (m, [d, h, h, 2], "relu")]:
        X, Y, params = problem(rng, n, sizes, bias=0.0)
        X[1:2] = 0.0  # ReLU at exactly 0
        what, keras = f"kernel_gradient_norms(..., '{name}')", keras_mse(X, Y, params, name)[1]
        ratio = as_array(student.call("kernel_gradient_norms", X, Y, params, name), keras.shape, what) / keras
        moved = replay(X, Y, params, name, 1, 1, "at_output")  # W minus its gradient
        at_a = [np.linalg.norm(W - V) for W, V in zip(params[::2], moved[::2])]
        assert_close(ratio, np.ones(len(keras)), f"{what} divided by Keras's norms", "1", 1e-9,
                     [(0.5, "is one half: look at the gradient of the loss at the output")],
                     [(at_a / keras, f"evaluates the derivative of {name} at the layer's output A")])


def check_training(student, X, Y, params, name, rate, epochs):
    """train_network's weights against the replay's."""
    def descent(r, n, mistake=""):
        return flat(*replay(X, Y, params, name, r, n, mistake))
    args, shapes = (X, Y, params, name, rate, epochs), [p.shape for p in params]
    return expect_trained(student, "train_network", args, shapes, descent, rate, epochs, "the replay", 1e-6, lambda: [
        (descent(rate, epochs, "frozen_bias"), "never updates the biases"),
        (descent(rate, epochs, "early"), "updates a kernel before the gradient has passed through it")], Y.size)


def check_experiment(student, rng):
    """chosen_settings() on a diabetes split drawn from rng."""
    name, rate, epochs = as_items(student.call("chosen_settings"), 3, "chosen_settings()")
    if name not in CHOICES:
        raise Failed(f"chosen_settings()'s activation should be in {CHOICES}, not {name!r}")
    as_number(rate, "the learning rate")
    as_number(epochs, "the epochs (the budget)", whole=True, low=1, high=BUDGET)
    from sklearn.datasets import load_diabetes
    X, y = ((a - a.mean(axis=0)) / a.std(axis=0) for a in load_diabetes(return_X_y=True))
    train, val = np.split(rng.permutation(442), [300])
    start = problem(rng, 1, [10] + [16] * 6 + [1], bias=0.0)[2]
    trained = check_training(student, X[train], y[train, None], start, name, rate, epochs)
    score = 1 - keras_mse(X[val], y[val, None], trained, name)[0] / np.var(y[val])
    if score < TARGET:
        why = "; look at what the activation's derivative does to the gradient" * (name == "sigmoid")
        raise Failed(f"the R^2 on new patients is {score:.3f}, below {TARGET}{why}")


TASKS.task("activation", 1, check_activation, [
    (name, z, 0.25) for name in NAMES for z in (Z_EXTREME, np.linspace(-6, 6, 241))], lambda rng: [
    (name, z, float(rng.integers(1, 8) / 8)) for name in NAMES
    for z in (Z_EXTREME, rng.normal(scale=3.0, size=(rng.integers(1, 6), 2, 3)))])
TASKS.task("gelu", 2, check_gelu, [(np.linspace(-5, 5, 201),)], lambda rng: [
    (Z_EXTREME,), (rng.normal(scale=2.0, size=(rng.integers(1, 6), 4)),)])
TASKS.task("norms", 3, check_norms, *seeded(5))
TASKS.task("regression", 4, check_training, [
    (*problem(np.random.default_rng(3), 8, [3, 4, 4, 2]), name, 0.1, 3) for name in ("tanh", "gelu")],
    lambda rng: [(*problem(rng, 9, [3, 4, 4, 2]), name, 0.2, 5) for name in CHOICES], check_experiment)

run = TASKS.run
report = TASKS.report
