"""The checks of assignment 3 (chapters/03_activations/assignment_03.ipynb): four activations and
their derivatives; the derivative of Keras's GELU (tanh form), derived by the student; the kernel
gradient norms of a deep network under the mean squared error; and a deep regression network on the
diabetes data, trained by the student's gradient descent with an activation, a learning rate and a
number of epochs the student chooses.

References: keras.activations, tf.GradientTape on Keras's Dense layers, and for Task 4 a replay of
full-batch gradient descent here. Hidden checks and Task 4's data draw from `rng`, secret per student.
"""
import numpy as np

from .core import Failed, Tasks, as_array, as_sequence, max_abs
from .references import keras_and_tf, serialized

TASKS = Tasks(numpy_only=True)
PRELUDE = "import numpy as np"          # what the setup cell gives the student's code at grading time

NAMES = ["sigmoid", "tanh", "relu", "leaky_relu"]
SLOPE = 0.25     # the visible tests' leaky_relu slope: exact in float32, as TensorFlow keeps it
Z_EXTREME = np.array([-1000.0, -50.0, -1e-300, 0.0, 1e-300, 50.0, 1000.0])
GELU_C, GELU_K = np.sqrt(2 / np.pi), 0.044715
GELU_RTOL = 1e-6      # TensorFlow keeps GELU's k = 0.044715 in float32: a relative 3e-7 from the float64 k
CHOICES = ("sigmoid", "tanh", "relu", "gelu")                  # Task 4's hidden activations
DEPTH, WIDTH, BUDGET, TARGET = 6, 16, 200, 0.25                # Task 4: 6 hidden layers, <= 200 epochs, R^2


# --- inputs ------------------------------------------------------------------------------------

def network(rng, sizes, init="he", bias=0.1):
    """[W1, b1, ..., WL, bL] for the layer sizes [d, h1, ..., n], from rng (a seed or a Generator):
    He-normal or Glorot-uniform kernels, normal biases of standard deviation `bias`."""
    rng, params = np.random.default_rng(rng), []
    for a, b in zip(sizes[:-1], sizes[1:]):
        limit = np.sqrt(6.0 / (a + b))
        params += [rng.normal(scale=np.sqrt(2.0 / a), size=(a, b)) if init == "he" else
                   rng.uniform(-limit, limit, size=(a, b)), rng.normal(scale=bias, size=b)]
    return params


def regression_data(rng, m, d, n=1):
    """m examples of d features and n targets from rng: a smooth function of the features plus noise."""
    rng = np.random.default_rng(rng)
    X = rng.normal(size=(m, d))
    Y = np.tanh(X @ rng.normal(size=(d, n))) + 0.5 * (X[:, :1] ** 2) + rng.normal(scale=0.1, size=(m, n))
    return X, Y


def diabetes(rng):
    """scikit-learn's diabetes data (442 patients, 10 features, a disease-progression score), split at
    random by rng into 300 training rows and 142 validation rows; features and target standardized
    with the training rows' means and standard deviations. Returns X_train, Y_train, X_val, Y_val."""
    from sklearn.datasets import load_diabetes
    X, y = load_diabetes(return_X_y=True)
    rows = np.random.default_rng(rng).permutation(len(X))
    X, y = X[rows], y[rows][:, None]
    X, y = (X - X[:300].mean(axis=0)) / X[:300].std(axis=0), (y - y[:300].mean()) / y[:300].std()
    return X[:300], y[:300], X[300:], y[300:]


# --- references: Keras, tf.GradientTape, and the replay of Task 4 -------------------------------------

def _options(name, negative_slope):
    return {"leaky_relu": {"negative_slope": negative_slope}, "gelu": {"approximate": True}}.get(name, {})


@serialized
def activation(name, z, negative_slope=0.2):
    """keras.activations.<name>(z) (leaky_relu with negative_slope, gelu with approximate=True)."""
    keras, tf = keras_and_tf()
    return getattr(keras.activations, name)(tf.constant(z), **_options(name, negative_slope)).numpy()


@serialized
def derivative(name, z, negative_slope=0.2):
    """f'(z) elementwise by tf.GradientTape: the gradient of sum(keras.activations.<name>(z))."""
    keras, tf = keras_and_tf()
    z = tf.Variable(z)
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(getattr(keras.activations, name)(z, **_options(name, negative_slope)))
    return tape.gradient(total, z).numpy()


@serialized
def kernel_norms(X, Y, params, hidden):
    """||dL/dW|| of every kernel: tf.GradientTape's gradients of keras.losses.MeanSquaredError, through
    keras.activations.<hidden> after every layer but the last (float64)."""
    keras, tf = keras_and_tf()
    weights, A = [tf.Variable(p) for p in params], tf.constant(X)
    with tf.GradientTape() as tape:
        for k in range(0, len(weights), 2):
            A = A @ weights[k] + weights[k + 1]
            A = getattr(keras.activations, hidden)(A) if k < len(weights) - 2 else A
        loss = keras.losses.MeanSquaredError(dtype="float64")(tf.constant(Y), A)
    return np.array([np.linalg.norm(g.numpy()) for g in tape.gradient(loss, weights)[0::2]])


def f(name, z):
    """The activations in NumPy, for Task 4's replay (the solution's, checked against Keras in Tasks 1, 2
    and 4, must give the same weights: tests/test_grading.py)."""
    if name == "gelu":
        return 0.5 * z * (1 + np.tanh(GELU_C * (z + GELU_K * z ** 3)))
    return {"sigmoid": lambda: 0.5 * (1 + np.tanh(z / 2)), "tanh": lambda: np.tanh(z),
            "relu": lambda: np.maximum(z, 0.0)}[name]()


def f_prime(name, z, variant=""):
    """f'(z), the derivative Keras's tape gives; a `variant` is a known mistake of Task 2."""
    if name == "gelu":
        t = np.tanh(GELU_C * (z + GELU_K * z ** 3))
        inner = {"no_chain": 1.0, "no_3": GELU_C * (1 + GELU_K * z ** 2)}.get(
            variant, GELU_C * (1 + 3 * GELU_K * z ** 2))
        return 0.5 * (1 + t) + (0 if variant == "no_product" else 0.5 * z * (1 - t ** 2) * inner)
    a = f(name, z)
    return {"sigmoid": lambda: a * (1 - a), "tanh": lambda: 1 - a ** 2, "relu": lambda: (z > 0) * 1.0}[name]()


def forward(X, params, name):
    L, A, cache = len(params) // 2, X, []
    for k in range(L):
        Z = A @ params[2 * k] + params[2 * k + 1]
        cache.append((A, Z))
        A = f(name, Z) if k < L - 1 else Z
    return A, cache


def replay(X, Y, params, name, learning_rate, epochs, at_output=False, frozen_bias=False, early=False):
    """`epochs` steps of full-batch gradient descent on the mean squared error from params; the
    keywords switch on a known mistake: f' taken at A, biases never updated, each layer updated
    before the gradient passes back through it."""
    params = [p.copy() for p in params]
    for _ in range(epochs):
        A, cache = forward(X, params, name)
        dZ = 2 * (A - Y) / Y.size
        for k in reversed(range(len(params) // 2)):
            W, dW, db = params[2 * k], cache[k][0].T @ dZ, dZ.sum(axis=0)
            params[2 * k] = W - learning_rate * dW
            params[2 * k + 1] = params[2 * k + 1] - (0 if frozen_bias else learning_rate) * db
            if k:
                Z = cache[k - 1][1]
                dZ = (dZ @ (params[2 * k] if early else W).T) * f_prime(name, f(name, Z) if at_output else Z)
    return params


def kernel_gradients(X, Y, params, name, at_output=False):
    """The kernels' gradients in NumPy (one replayed step of rate 1), f' at Z, or at A if at_output."""
    after = replay(X, Y, params, name, 1.0, 1, at_output=at_output)
    return [params[k] - after[k] for k in range(0, len(params), 2)]


def r2(X, Y, params, name):
    return float(1 - np.sum((forward(X, params, name)[0] - Y) ** 2) / np.sum((Y - Y.mean()) ** 2))


def shaped(value, shape, what, hint):
    """as_array, with `hint` added to the message when the shape is wrong."""
    try:
        return as_array(value, shape, what)
    except Failed as failure:
        raise Failed(f"{failure}{hint}" if "should have shape" in str(failure) else str(failure)) from None


def elementwise(student, function, args, shown, z, right, hint="", rtol=1e-9):
    """function(*args) (shown as `shown`), the shape of z, and where it differs from `right`."""
    what = f"{function}({shown})"
    value = shaped(student.call(function, *args, hint=hint), z.shape, what, ": it acts on every entry of z")
    return value, what, np.abs(value - right) > 1e-12 + rtol * np.abs(right)


# --- Task 1: four activations and their derivatives ----------------------------------------------------

def check_activation(student, name, z, negative_slope=None):
    extra = [] if negative_slope is None else [negative_slope]
    hint = "Compute the sigmoid without the exponential of a large positive number." if name == "sigmoid" else ""
    for kind, reference, against in [("activate", activation, f"keras.activations.{name}"),
                                      ("derivative", derivative, "tf.GradientTape")]:
        right = reference(name, z, SLOPE if negative_slope is None else negative_slope)
        shown = f"'{name}', z" + "".join(f", negative_slope={s}" for s in extra)
        value, what, wrong = elementwise(student, kind, [name, z, *extra], shown, z, right, hint)
        if not wrong.any():
            continue
        i = tuple(int(k) for k in np.unravel_index(np.argmax(wrong), z.shape))
        at = f"at z = {z[i]:.10g} yours is {value[i]:.10g}, which is not what {against} gives"
        if kind == "derivative" and z[i] == 0 and name in ("relu", "leaky_relu"):
            at += ". Look at the corner z = 0: the task says which side's slope TensorFlow takes there"
        elif name == "leaky_relu" and z[i] < 0 and extra:
            at += f". For z < 0, use the negative_slope you are given (here {negative_slope})"
        raise Failed(f"{what} is wrong: {at}")


@TASKS.visible("activation_test", "Task 1: the visible tests pass.")
def activation_test(student):
    for name in NAMES:
        check_activation(student, name, np.linspace(-6.0, 6.0, 241), SLOPE if name == "leaky_relu" else None)


@TASKS.hidden("activation_hidden")
def activation_hidden(student, rng):
    slope = float(rng.choice([0.125, 0.375, 0.5, 0.75]))             # exact in float32
    for z in [Z_EXTREME, rng.normal(scale=3.0, size=(int(rng.integers(1, 6)), 3)), rng.normal(size=(2, 3, 2))]:
        for name in NAMES:
            check_activation(student, name, z, slope if name == "leaky_relu" else None)


# --- Task 2: GELU's derivative, derived by the student -------------------------------------------------

def check_gelu(student, z):
    value, what, wrong = elementwise(student, "gelu", [z], "z", z, activation("gelu", z), rtol=GELU_RTOL)
    if wrong.any():
        i = int(np.argmax(wrong.ravel()))
        raise Failed(f"{what} differs from keras.activations.gelu(z, approximate=True) at z = {z.ravel()[i]:.10g} "
                     f"(yours is {value.ravel()[i]:.10g}): compare your constants and powers with the task's formula")
    right = derivative("gelu", z)
    slope, what, wrong = elementwise(student, "gelu_derivative", [z], "z", z, right, rtol=GELU_RTOL)
    if not wrong.any():
        return
    i = int(np.argmax(wrong.ravel()))
    message = (f"{what} differs from tf.GradientTape's derivative of keras.activations.gelu at z = "
               f"{z.ravel()[i]:.10g} (yours is {slope.ravel()[i]:.10g})")
    for variant, text in [("no_product", "it misses a term of the product rule: z/2 and (1 + tanh(u)) both "
                                         "depend on z, and you differentiated only one of them"),
                          ("no_chain", "the derivative of tanh(u) lacks the chain-rule factor du/dz"),
                          ("no_3", "the chain-rule factor du/dz is wrong: differentiate u term by term again")]:
        if max_abs(slope - f_prime("gelu", z, variant)) <= GELU_RTOL * (1 + max_abs(right)):
            raise Failed(f"{message}: {text}")
    raise Failed(f"{message}: derive it again, and compare it with central differences of your gelu")


@TASKS.visible("gelu_test", "Task 2: the visible tests pass.")
def gelu_test(student):
    check_gelu(student, np.linspace(-5.0, 5.0, 201))          # 201 points from -5 to 5, z = 0 among them


@TASKS.hidden("gelu_hidden")
def gelu_hidden(student, rng):
    for z in [Z_EXTREME, rng.normal(scale=2.0, size=(int(rng.integers(1, 6)), 4)), np.array([[0.0]])]:
        check_gelu(student, z)


# --- Task 3: the gradient norm of every layer ----------------------------------------------------------

def check_norms(student, X, Y, params, name):
    what, L = f"kernel_gradient_norms(X, Y, params, '{name}')", len(params) // 2
    norms = shaped(student.call("kernel_gradient_norms", X, Y, params, name), (L,), f"the array {what} returns",
                   f": one norm for each of the {L} Dense layers, first layer first")
    expected = kernel_norms(X, Y, params, name)
    wrong = np.abs(norms - expected) > 1e-9 * expected + 1e-300   # relative error above 1e-9
    if not wrong.any():
        return
    close = lambda other: not np.any(np.abs(norms - other) > 1e-9 * np.abs(other) + 1e-300)  # noqa: E731
    if L > 1 and close(expected[::-1]):
        raise Failed(f"{what} lists the norms last layer first: return them in the order of params")
    for factor, text in [(0.5, "half the right size: look at the gradient of the loss at the output"),
                         (Y.shape[1], f"n={Y.shape[1]} times too large: the loss averages over the outputs too"),
                         (Y.shape[0], f"m={Y.shape[0]} times too large: the loss is a mean over the examples")]:
        if factor != 1 and close(factor * expected):
            raise Failed(f"all the norms {what} returns are {text}")
    if L > 1 and name != "relu":
        if close(np.array([np.linalg.norm(g) for g in kernel_gradients(X, Y, params, name, True)])):
            raise Failed(f"{what}: you evaluate the derivative of {name} at the layer's output A, not at its "
                         "pre-activation Z")
    k = L - 1 - int(np.argmax(wrong[::-1]))                        # the wrong norm nearest the output
    where = (f"the layers above it are right: look at the step from layer {k + 2} down into layer {k + 1}"
             if k < L - 1 else "it is the output layer: look at the gradient of the loss and the layer's input")
    raise Failed(f"{what}[{k}], the norm of dW{k + 1}, differs from Keras's by a relative "
                 f"{abs(norms[k] - expected[k]) / expected[k]:.2g}; {where}")


@TASKS.visible("norms_test", "Task 3: the visible tests pass.")
def norms_test(student):
    X, Y = regression_data(5, 32, 8)
    check_norms(student, X, Y, network(6, [8] + [16] * 6 + [1], "glorot"), "sigmoid")   # 8 -> 16 x 6 -> 1
    check_norms(student, X, Y, network(7, [8] + [16] * 6 + [1]), "relu")


@TASKS.hidden("norms_hidden")
def norms_hidden(student, rng):
    d, h, m = int(rng.integers(2, 7)), int(rng.integers(4, 13)), int(rng.integers(8, 30))
    for (X, Y), sizes, name in [(regression_data(rng, 1, d), [d, 1, 1], "tanh"),     # one example, one unit
                                (regression_data(rng, m, d), [d, 1], "sigmoid"),     # no hidden layer
                                (regression_data(rng, m, d, 3), [d, h, h, 3], "tanh"),
                                (regression_data(rng, m, d), [d] + [h] * 8 + [1], "sigmoid")]:
        check_norms(student, X, Y, network(rng, sizes, "glorot"), name)
    X, Y = regression_data(rng, m, d, 2)
    X[int(rng.integers(0, m))] = 0.0                                # ReLU with pre-activations exactly 0
    check_norms(student, X, Y, network(rng, [d, h, h, 2], bias=0.0), "relu")


# --- Task 4: a deep regression network on the diabetes data, trained within a budget ---------------------

def check_training(student, X, Y, params, name, learning_rate, epochs):
    """train_network must return the replay's weights; returns them."""
    what = f"train_network(X {X.shape}, Y, params, '{name}', learning_rate={learning_rate:g}, epochs={epochs})"
    got = as_sequence(student.call("train_network", X, Y, params, name, learning_rate, epochs), len(params), what,
                      f"a list of {len(params)} arrays, like params")
    got = [as_array(g, p.shape, f"{what}[{k}]") for k, (g, p) in enumerate(zip(got, params))]
    right = replay(X, Y, params, name, learning_rate, epochs)
    tol = 1e-6 * max(1.0, *(max_abs(p) for p in right))
    same = lambda other: all(max_abs(g - o) <= tol for g, o in zip(got, other))  # noqa: E731
    if same(right):
        return got
    for wrong, text in [(replay(X, Y, params, name, learning_rate, epochs - 1), "takes one step too few"),
                        (replay(X, Y, params, name, learning_rate, epochs + 1), "takes one step too many"),
                        (replay(X, Y, params, name, learning_rate, epochs, frozen_bias=True),
                         "never updates the biases"),
                        (replay(X, Y, params, name, learning_rate, epochs, early=True),
                         "updates a layer's kernel before the gradient has passed back through it: use the "
                         "weights of the forward pass for the whole backward pass"),
                        (replay(X, Y, params, name, learning_rate * Y.size, epochs),
                         "follows the gradient of the summed squared error, not of its mean"),
                        (replay(X, Y, params, name, learning_rate, epochs, at_output=True),
                         "takes the activation's derivative at the layer's output, not at its pre-activation")]:
        if epochs >= 1 and same(wrong):
            raise Failed(f"{what} {text}")
    worst = max(max_abs(g - r) for g, r in zip(got, right))
    raise Failed(f"{what} returned weights that differ by up to {worst:.3g} from {epochs} steps of full-batch "
                 "gradient descent on the mean squared error (the tests ran them): check each layer's weight "
                 "and bias gradients against your Task 3, and that the start is the params given")


def check_settings(student):
    what = "chosen_settings()"
    name, learning_rate, epochs = as_sequence(student.call("chosen_settings"), 3, what,
                                              "a triple (activation, learning_rate, epochs)")
    if name not in CHOICES:
        raise Failed(f"{what} returned the activation {name!r}: choose one of {', '.join(map(repr, CHOICES))}")
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, (int, float)) or not learning_rate > 0:
        raise Failed(f"{what} returned the learning rate {learning_rate!r}: it should be a positive number")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or not 1 <= epochs <= BUDGET:
        raise Failed(f"{what} returned {epochs!r} epochs: the budget is a whole number from 1 to {BUDGET}")
    return name, float(learning_rate), epochs


def check_experiment(student, rng):
    """The student's settings and train_network, on a diabetes split and a Glorot start drawn from rng;
    the validation rows never enter the student's kernel."""
    name, learning_rate, epochs = check_settings(student)
    X, Y, X_val, Y_val = diabetes(rng)
    start = network(rng, [X.shape[1]] + [WIDTH] * DEPTH + [1], "glorot", bias=0.0)
    trained = check_training(student, X, Y, start, name, learning_rate, epochs)
    score = r2(X_val, Y_val, trained, name)
    if score >= TARGET:
        return
    train = r2(X, Y, trained, name)
    norms = [np.linalg.norm(g) for g in kernel_gradients(X, Y, start, name)]
    why = (f"at the start, the first layer's gradient is {norms[0] / norms[-1]:.1e} times the last layer's: "
           "look at what the activation's derivative does to the gradient on its way down"
           if name == "sigmoid" or norms[0] < 1e-3 * norms[-1] else
           "training did not get far: a larger learning rate or more epochs" if train < TARGET + 0.1 else
           "it fits the training rows better than new ones: a smaller learning rate or fewer epochs")
    raise Failed(f"with {name}, learning rate {learning_rate:g} and {epochs} epochs, the network explains "
                 f"R^2 = {score:.3f} of the variance of {len(Y_val)} validation patients (training rows: "
                 f"{train:.3f}), below the target {TARGET}; {why}")


def small_case(rng, name):
    rng = np.random.default_rng(rng)
    X, Y = regression_data(rng, int(rng.integers(5, 12)), 3, 2)
    return X, Y, network(rng, [3, 4, 4, 2], "glorot"), name


@TASKS.visible("regression_test", "Task 4: the visible tests pass.", disguised=True)
def regression_test(student, rng):
    check_training(student, *small_case(3, "tanh"), 0.1, 1)     # one step, then five, on 3 -> 4 -> 4 -> 2
    check_training(student, *small_case(4, "gelu"), 0.1, 5)
    check_experiment(student, rng)


@TASKS.hidden("regression_hidden")
def regression_hidden(student, rng):
    for name in CHOICES:
        check_training(student, *small_case(rng, name), float(rng.uniform(0.01, 0.3)), int(rng.integers(2, 9)))
    check_experiment(student, rng)


run = TASKS.run
report = TASKS.report
