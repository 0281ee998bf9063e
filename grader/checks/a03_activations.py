"""Checks of assignment 3 (activations): against Keras and tf.GradientTape, and a replayed training on
diabetes data scored on patients the kernel never sees."""
import numpy as np

from . import references as ref
from .core import Failed, Tasks, as_array, as_number, as_sequence, assert_close, expect, flat, max_abs
from .references import keras_and_tf, serialized

TASKS = Tasks(numpy_only=True)
PRELUDE = "import numpy as np"          # the setup cell's import
NAMES = ["sigmoid", "tanh", "relu", "leaky_relu"]
SLOPE = 0.25     # the visible leaky_relu slope, exact in float32 as TensorFlow keeps it
Z_EXTREME = np.array([-1000.0, -50.0, -1e-300, 0.0, 1e-300, 50.0, 1000.0])
GELU_C, GELU_K = np.sqrt(2 / np.pi), 0.044715
GELU_RTOL = 1e-6      # TensorFlow keeps k in float32: a relative 3e-7 off
CHOICES = ("sigmoid", "tanh", "relu", "gelu")     # Task 4
DEPTH, WIDTH, BUDGET, TARGET = 6, 16, 200, 0.25


def network(rng, sizes, init="he", bias=0.1):
    """[W1, b1, ...] for layer sizes [d, ..., n], He-normal or Glorot-uniform."""
    rng, params = np.random.default_rng(rng), []
    for a, b in zip(sizes[:-1], sizes[1:]):
        limit = np.sqrt(6.0 / (a + b))
        params += [rng.normal(scale=np.sqrt(2.0 / a), size=(a, b)) if init == "he" else
                   rng.uniform(-limit, limit, size=(a, b)), rng.normal(scale=bias, size=b)]
    return params


def regression_data(rng, m, d, n=1):
    """X (m, d) and Y (m, n) from rng: a smooth function of the features plus noise."""
    rng = np.random.default_rng(rng)
    X = rng.normal(size=(m, d))
    return X, np.tanh(X @ rng.normal(size=(d, n))) + 0.5 * X[:, :1] ** 2 + rng.normal(scale=0.1, size=(m, n))


def diabetes(rng):
    """The diabetes data split at random, standardized by the 300 training rows."""
    from sklearn.datasets import load_diabetes
    X, y = load_diabetes(return_X_y=True)
    rows = np.random.default_rng(rng).permutation(len(X))
    X, y = X[rows], y[rows][:, None]
    X, y = (X - X[:300].mean(axis=0)) / X[:300].std(axis=0), (y - y[:300].mean()) / y[:300].std()
    return X[:300], y[:300], X[300:], y[300:]


@serialized
def keras_activation(name, z, slope, tape=False):
    """keras.activations.<name>(z), or with tape its derivative by tf.GradientTape."""
    keras, tf = keras_and_tf()
    options = {"leaky_relu": {"negative_slope": slope}, "gelu": {"approximate": True}}.get(name, {})
    z = tf.Variable(z)
    with tf.GradientTape() as recorder:
        a = getattr(keras.activations, name)(z, **options)
        total = tf.reduce_sum(a)
    return recorder.gradient(total, z).numpy() if tape else a.numpy()


@serialized
def kernel_norms(X, Y, params, hidden):
    """||dL/dW|| of every kernel by tf.GradientTape, L Keras's mean squared error."""
    keras, tf = keras_and_tf()
    model = ref.float64_dense(params, [hidden] * (len(params) // 2 - 1) + ["linear"])
    with tf.GradientTape() as tape:
        loss = keras.losses.MeanSquaredError(dtype="float64")(Y, model(X))
    return np.array([np.linalg.norm(g) for g in tape.gradient(loss, model.trainable_variables)[0::2]])


def f(name, z, derivative=False, variant=""):
    """The activation, or its derivative, in NumPy; a `variant` is a known mistake of Task 2."""
    t = np.tanh(GELU_C * (z + GELU_K * z ** 3) if name == "gelu" else z / 2 if name == "sigmoid" else z)
    if name == "gelu" and derivative:
        inner = 1.0 if variant == "no_chain" else GELU_C * (1 + (1 if variant == "no_3" else 3) * GELU_K * z ** 2)
        return 0.5 * (1 + t) + (0 if variant == "no_product" else 0.5 * z * (1 - t ** 2) * inner)
    if name == "relu":
        return (z > 0) * 1.0 if derivative else np.maximum(z, 0.0)
    a = 0.5 * z * (1 + t) if name == "gelu" else 0.5 * (1 + t) if name == "sigmoid" else t
    return a if not derivative else a * (1 - a) if name == "sigmoid" else 1 - a ** 2


def forward(X, params, name):
    """[(A, Z) of every layer] and the output."""
    cache, L = [], len(params) // 2
    for k in range(L):
        cache.append((X, X @ params[2 * k] + params[2 * k + 1]))
        X = f(name, cache[-1][1]) if k < L - 1 else cache[-1][1]
    return cache, X


def replay(X, Y, params, name, learning_rate, epochs, at_output=False, frozen_bias=False, early=False):
    """`epochs` full-batch gradient descent steps on the mean squared error; a keyword is a known mistake."""
    params = [p.copy() for p in params]
    for _ in range(epochs):
        cache, A = forward(X, params, name)
        dZ = 2 * (A - Y) / Y.size
        for k in reversed(range(len(cache))):
            W, dW, db = params[2 * k], cache[k][0].T @ dZ, dZ.sum(axis=0)
            params[2 * k] = W - learning_rate * dW
            params[2 * k + 1] = params[2 * k + 1] - (0 if frozen_bias else learning_rate) * db
            if k:
                slope = f(name, cache[k][0] if at_output else cache[k - 1][1], True)
                dZ = (dZ @ (params[2 * k] if early else W).T) * slope
    return params


def check_activation(student, name, z, slope=None):
    extra = [] if slope is None else [slope]
    hint = "Avoid the exponential of a large positive number." if name == "sigmoid" else ""
    for function, tape, against in [("activate", False, f"keras.activations.{name}"), ("derivative", True, "the tape")]:
        right = keras_activation(name, z, SLOPE if slope is None else slope, tape)
        corner = [(np.where(z == 0, 1.0, right), "is wrong. Look at the corner z = 0: the task says which side's "
                   "slope TensorFlow takes there")] if tape and "relu" in name else []
        expect(student, function, [name, z, *extra], right, against, 1e-9 * max(1, max_abs(right)), corner, hint=hint)


def activation_cases(rng):
    slope = float(rng.choice([0.125, 0.375, 0.5, 0.75]))     # exact in float32
    for z in [Z_EXTREME, rng.normal(scale=3.0, size=(int(rng.integers(1, 6)), 3)), rng.normal(size=(2, 3, 2))]:
        for name in NAMES:
            yield name, z, slope if name == "leaky_relu" else None


def check_gelu(student, z):
    right = keras_activation("gelu", z, 0, tape=True)
    tol = GELU_RTOL * (1 + max_abs(right))
    expect(student, "gelu", [z], keras_activation("gelu", z, 0), "keras.activations.gelu(z, approximate=True)", tol)
    expect(student, "gelu_derivative", [z], right, "the tape's derivative of keras.activations.gelu", tol, like=[
        (f("gelu", z, True, "no_product"), "misses a term of the product rule"),
        (f("gelu", z, True, "no_chain"), "lacks the chain-rule factor du/dz in the derivative of tanh(u)"),
        (f("gelu", z, True, "no_3"), "has a wrong chain-rule factor du/dz: differentiate u term by term again")])


def gelu_cases(rng):
    for z in [Z_EXTREME, rng.normal(scale=2.0, size=(int(rng.integers(1, 6)), 4)), np.array([[0.0]])]:
        yield z,


def check_norms(student, X, Y, params, name):
    """kernel_gradient_norms against Keras's, as ratios (the first layers' norms can be tiny)."""
    what, L = f"kernel_gradient_norms(X, Y, params, '{name}')", len(params) // 2
    keras = kernel_norms(X, Y, params, name)
    ratio = as_array(student.call("kernel_gradient_norms", X, Y, params, name), (L,), what) / keras
    at_a = [np.linalg.norm(p - q) for p, q in zip(params[::2], replay(X, Y, params, name, 1, 1, at_output=True)[::2])]
    like = [(at_a / keras, f"evaluates the derivative of {name} at the layer's output A, not at its pre-activation Z")]
    assert_close(ratio, np.ones(L), f"{what} divided by Keras's norms", "1", 1e-9, like=like, hints=[
        (0.5, "is one half: look at the gradient of the loss at the output"),
        (len(X), "is m: the loss is a mean over the examples, not a sum")])


def norms_cases(rng):
    d, h, m = int(rng.integers(2, 7)), int(rng.integers(4, 13)), int(rng.integers(8, 30))
    for (X, Y), sizes, name in [(regression_data(rng, 1, d), [d, 1, 1], "tanh"),
                                (regression_data(rng, m, d), [d, 1], "sigmoid"),
                                (regression_data(rng, m, d, 3), [d, h, h, 3], "tanh"),
                                (regression_data(rng, m, d), [d] + [h] * 8 + [1], "sigmoid")]:
        yield X, Y, network(rng, sizes, "glorot"), name
    X, Y = regression_data(rng, m, d, 2)
    X[int(rng.integers(0, m))] = 0.0        # ReLU with pre-activations exactly 0
    yield X, Y, network(rng, [d, h, h, 2], bias=0.0), "relu"


def check_training(student, X, Y, params, name, rate, epochs):
    """train_network must return the replay's weights; returns them."""
    what = f"train_network(X {X.shape}, Y, params, '{name}', learning_rate={rate:g}, epochs={epochs})"
    got = as_sequence(student.call("train_network", X, Y, params, name, rate, epochs), len(params), what,
                      f"a list of {len(params)} arrays, like params")
    got = [as_array(g, p.shape, f"{what}[{k}]") for k, (g, p) in enumerate(zip(got, params))]
    right = flat(*replay(X, Y, params, name, rate, epochs))
    tol = 1e-6 * max(1.0, max_abs(right))
    if max_abs(flat(*got) - right) > tol:
        mistakes = [("takes one step too few", rate, epochs - 1, {}), ("takes one step too many", rate, epochs + 1, {}),
                    ("never updates the biases", rate, epochs, {"frozen_bias": True}),
                    ("updates a layer's kernel before the gradient has passed back through it", rate, epochs,
                     {"early": True}),
                    ("takes the activation's derivative at A, not at Z", rate, epochs, {"at_output": True}),
                    ("follows the gradient of the summed squared error, not of its mean", rate * Y.size, epochs, {})]
        like = [(flat(*replay(X, Y, params, name, r, n, **keywords)), text) for text, r, n, keywords in mistakes]
        assert_close(flat(*got), right, what, f"{epochs} steps of gradient descent on the mean squared error", tol,
                     like=like)
    return got


def check_experiment(student, rng):
    """chosen_settings() and train_network on a diabetes split and a start drawn from rng."""
    name, rate, epochs = as_sequence(student.call("chosen_settings"), 3, "chosen_settings()", "a triple")
    if name not in CHOICES:
        raise Failed(f"the activation of chosen_settings() should be one of {', '.join(CHOICES)}, not {name!r}")
    as_number(rate, "the learning rate")
    as_number(epochs, "the epochs of chosen_settings() (the budget)", whole=True, low=1, high=BUDGET)
    X, Y, X_val, Y_val = diabetes(rng)
    start = network(rng, [X.shape[1]] + [WIDTH] * DEPTH + [1], "glorot", bias=0.0)
    trained = check_training(student, X, Y, start, name, float(rate), epochs)
    score, train = [1 - np.mean((forward(A, trained, name)[1] - B) ** 2) / np.var(B) for A, B in [(X_val, Y_val),
                                                                                                  (X, Y)]]
    if score < TARGET:
        norms = kernel_norms(X, Y, start, name)
        why = "training did not get far" if train < TARGET + 0.1 else "it overfits"
        if name == "sigmoid" or norms[0] < 1e-3 * norms[-1]:
            why = "look at what the activation's derivative does to the gradient on its way down"
        raise Failed(f"with {name}, rate {rate:g} and {epochs} epochs, R^2 on new patients is {score:.3f} (training: "
                     f"{train:.3f}), below the target {TARGET}; {why}")


def small_case(rng, name):
    rng = np.random.default_rng(rng)
    X, Y = regression_data(rng, int(rng.integers(5, 12)), 3, 2)
    return X, Y, network(rng, [3, 4, 4, 2], "glorot"), name


def training_cases(rng):
    for name in CHOICES:
        yield *small_case(rng, name), float(rng.uniform(0.01, 0.3)), int(rng.integers(2, 9))


X_NORMS, Y_NORMS = regression_data(5, 32, 8)
TASKS.task("activation", 1, check_activation, [(name, np.linspace(-6.0, 6.0, 241), SLOPE if name == "leaky_relu"
                                                else None) for name in NAMES], activation_cases)
TASKS.task("gelu", 2, check_gelu, [(np.linspace(-5.0, 5.0, 201),)], gelu_cases)     # z = 0 among them
TASKS.task("norms", 3, check_norms, [(X_NORMS, Y_NORMS, network(6, [8] + [16] * 6 + [1], "glorot"), "sigmoid"),
                                     (X_NORMS, Y_NORMS, network(7, [8] + [16] * 6 + [1]), "relu")], norms_cases)
TASKS.task("regression", 4, check_training, [(*small_case(3, "tanh"), 0.1, 1), (*small_case(4, "gelu"), 0.1, 5)],
           training_cases, experiment=check_experiment)

run = TASKS.run
report = TASKS.report
