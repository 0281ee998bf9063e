"""The checks of assignment 3 (chapters/03_activations/assignment_03.ipynb): four activations and
their derivatives, the mean squared error and its gradient, the kernel gradient norms of a deep
network, the depth at which the first layer's gradient vanishes, and the dead ReLU units, compared
with keras.activations, tf.GradientTape and Keras's Dense layers.

In the notebook, `tests.run("activation_test", globals())` runs a check on the student's machine;
at grading time, the grader runs the same checks in its own process (grader.verdicts), and the
hidden ones draw their inputs from `rng`, which is different for every student.
"""
import numpy as np

from .core import Failed, Tasks, as_array, as_sequence, assert_close, max_abs
from .references import keras_and_tf, normal, serialized

TASKS = Tasks(numpy_only=True)
PRELUDE = "import numpy as np"          # what the setup cell gives the student's code at grading time

NAMES = ["sigmoid", "tanh", "relu", "leaky_relu"]
SLOPE = 0.25     # the visible tests' leaky_relu slope: exact in float32, as TensorFlow keeps it
Z_EXTREME = np.array([-1000.0, -50.0, -1e-300, 0.0, 1e-300, 50.0, 1000.0])


# --- inputs ------------------------------------------------------------------------------------

def network(rng, sizes, init="he", bias=0.1):
    """Weights [W1, b1, ..., WL, bL] for the layer sizes [d, h1, ..., n], drawn from rng (a seed or a
    Generator): kernels He normal (standard deviation sqrt(2 / fan_in)) or Glorot uniform (limit
    sqrt(6 / (fan_in + fan_out))), biases normal with standard deviation `bias`."""
    rng, params = np.random.default_rng(rng), []
    for fan_in, units in zip(sizes[:-1], sizes[1:]):
        if init == "he":
            kernel = rng.normal(scale=np.sqrt(2.0 / fan_in), size=(fan_in, units))
        else:
            limit = np.sqrt(6.0 / (fan_in + units))
            kernel = rng.uniform(-limit, limit, size=(fan_in, units))
        params += [kernel, rng.normal(scale=bias, size=units)]
    return params


def regression_data(rng, m, d, n=1):
    """m examples of d features and n targets drawn from rng (a seed or a Generator): a smooth
    function of the features plus noise."""
    rng = np.random.default_rng(rng)
    X = rng.normal(size=(m, d))
    Y = np.tanh(X @ rng.normal(size=(d, n))) + 0.5 * (X[:, :1] ** 2) + rng.normal(scale=0.1, size=(m, n))
    return X, Y


def visible_data():
    """The data and networks of the visible tests of Tasks 3 and 4, as the notebook describes
    them: regression data X (32, 8), Y (32, 1), and networks 8 -> 16 x 6 -> 1 (sigmoid, Glorot
    uniform; ReLU, He normal), and two stacks of ten hidden layers of 16 units with an output unit."""
    X, Y = regression_data(5, 32, 8)
    deep_sigmoid, deep_relu = network(8, [8] + [16] * 10 + [1], "glorot"), network(9, [8] + [16] * 10 + [1])
    return {"X": X, "Y": Y, "sigmoid": network(6, [8] + [16] * 6 + [1], "glorot"),
            "relu": network(7, [8] + [16] * 6 + [1], "he"),
            "deep_sigmoid": (deep_sigmoid[:-2], deep_sigmoid[-2:]), "deep_relu": (deep_relu[:-2], deep_relu[-2:])}


# --- references: Keras and tf.GradientTape -----------------------------------------------------

def _keras_activation(name):
    keras, _ = keras_and_tf()
    return getattr(keras.activations, name)


def _options(name, negative_slope):
    return {"negative_slope": negative_slope} if name == "leaky_relu" else {}


@serialized
def activation(name, z, negative_slope=0.2):
    """keras.activations.<name>(z) (with negative_slope for leaky_relu), as a NumPy array."""
    _, tf = keras_and_tf()
    return _keras_activation(name)(tf.constant(z), **_options(name, negative_slope)).numpy()


@serialized
def derivative(name, z, negative_slope=0.2):
    """f'(z) elementwise by tf.GradientTape: the gradient of sum(keras.activations.<name>(z))."""
    _, tf = keras_and_tf()
    z = tf.Variable(z)
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(_keras_activation(name)(z, **_options(name, negative_slope)))
    return tape.gradient(total, z).numpy()


@serialized
def mse(Y, Y_hat):
    """keras.losses.MeanSquaredError in float64, and its gradient with respect to Y_hat by tf.GradientTape."""
    keras, tf = keras_and_tf()
    Y_hat = tf.Variable(Y_hat)
    with tf.GradientTape() as tape:
        loss = keras.losses.MeanSquaredError(dtype="float64")(tf.constant(Y), Y_hat)
    return float(loss.numpy()), tape.gradient(loss, Y_hat).numpy()


def _dense_layers(params, hidden_activation):
    """float64 keras.layers.Dense layers holding params: `hidden_activation` on all but the last."""
    keras, _ = keras_and_tf()
    layers, L = [], len(params) // 2
    for k in range(0, 2 * L, 2):
        layer = keras.layers.Dense(params[k].shape[1], activation=hidden_activation if k < 2 * L - 2 else None,
                                   dtype="float64")
        layer.build((None, params[k].shape[0]))
        layer.set_weights([params[k], params[k + 1]])
        layers.append(layer)
    return layers


@serialized
def gradient_norms(X, Y, params, activation):
    """||dL/dW|| (Frobenius) of every kernel, by tf.GradientTape on a float64 keras.Sequential (hidden
    `activation`, linear output) holding params, with keras.losses.MeanSquaredError."""
    keras, tf = keras_and_tf()
    model = keras.Sequential([keras.Input(shape=(X.shape[1],), dtype="float64")] + _dense_layers(params, activation))
    with tf.GradientTape() as tape:
        loss = keras.losses.MeanSquaredError(dtype="float64")(tf.constant(Y), model(tf.constant(X)))
    grads = tape.gradient(loss, model.trainable_weights)
    return np.array([np.sqrt(np.sum(g.numpy() ** 2)) for g in grads[0::2]])


def first_layer_norms(X, Y, hidden, output, activation):
    """Keras's ||dL/dW1|| of the networks with the first 1, 2, ..., K hidden layers of `hidden` and `output`."""
    return [gradient_norms(X, Y, hidden[:2 * k] + output, activation)[0] for k in range(1, len(hidden) // 2 + 1)]


@serialized
def pre_activations(X, params):
    """Z of every hidden layer, by Keras: float64 Dense layers without activation compute Z, and
    keras.activations.relu the input of the next layer."""
    keras, tf = keras_and_tf()
    A, zs = tf.constant(X), []
    for layer in _dense_layers(params, None)[:-1]:
        Z = layer(A)
        zs.append(Z.numpy())
        A = keras.activations.relu(Z)
    return zs


# --- the checks' own NumPy versions, to name a known mistake -------------------------------------

def numpy_activation(name, z, negative_slope):
    e = np.exp(-np.abs(z))  # a stable sigmoid: no exp of a positive number
    return {"sigmoid": lambda: np.where(z >= 0, 1 / (1 + e), e / (1 + e)), "tanh": lambda: np.tanh(z),
            "relu": lambda: np.maximum(z, 0.0), "leaky_relu": lambda: np.where(z > 0, z, negative_slope * z)}[name]()


def numpy_derivative(name, z, negative_slope):
    a = numpy_activation(name, z, negative_slope)
    return {"sigmoid": lambda: a * (1 - a), "tanh": lambda: 1 - a ** 2, "relu": lambda: (z > 0) * 1.0,
            "leaky_relu": lambda: np.where(z > 0, 1.0, negative_slope)}[name]()


def numpy_norms(X, Y, params, activation, derivative_at="Z"):
    """Kernel gradient norms computed by the check in NumPy; derivative_at="A" takes f' at the output A."""
    L, A, cache = len(params) // 2, X, []
    for k in range(L):
        Z = A @ params[2 * k] + params[2 * k + 1]
        cache.append((A, Z))
        A = numpy_activation(activation, Z, 0.2) if k < L - 1 else Z
    dZ, norms = 2 * (A - Y) / Y.size, [0.0] * L
    for k in reversed(range(L)):
        norms[k] = np.linalg.norm(cache[k][0].T @ dZ)
        if k > 0:
            Z = cache[k - 1][1]
            at = Z if derivative_at == "Z" else numpy_activation(activation, Z, 0.2)
            dZ = (dZ @ params[2 * k].T) * numpy_derivative(activation, at, 0.2)
    return np.array(norms)


def shaped(value, shape, what, hint):
    """as_array, with `hint` added to the message when the shape is wrong."""
    try:
        return as_array(value, shape, what)
    except Failed as failure:
        if "should have shape" in str(failure):
            raise Failed(f"{failure}{hint}") from None
        raise


# --- Task 1: activations and their derivatives -----------------------------------------------------

def check_activation(student, name, z, negative_slope=None):
    """f(z) as keras.activations computes it, and f'(z) as tf.GradientTape does; z is left alone.
    negative_slope is passed for leaky_relu only (None: the default is not passed)."""
    extra = () if negative_slope is None else (negative_slope,)
    slope = SLOPE if negative_slope is None else negative_slope      # the references' (leaky_relu only)
    call_text = f"'{name}', z" + ("" if negative_slope is None else f", negative_slope={negative_slope}")
    hint = ("Compute the sigmoid without the exponential of a large positive number: e = np.exp(-np.abs(z)) "
            "gives both 1 / (1 + e) for z >= 0 and e / (1 + e) for z < 0." if name == "sigmoid" else "")
    for kind, reference, against, acts in [
            ("activate", activation, f"keras.activations.{name}", ": f acts on every entry of z"),
            ("derivative", derivative, "tf.GradientTape", ": f' acts on every entry of z")]:
        what = f"{kind}({call_text})"
        value = shaped(student.call(kind, name, z, *extra, hint=hint), z.shape, what, acts)
        right = reference(name, z, slope)
        if max_abs(value - right) <= 1e-12:
            continue
        i = tuple(int(k) for k in np.unravel_index(np.argmax(np.abs(value - right)), z.shape))
        at = (f"at z = {z[i]:.10g} (index {i if len(i) > 1 else i[0]}) yours is {value[i]:.10g}, "
              f"{against} gives {right[i]:.10g}")
        if kind == "derivative" and z[i] == 0 and name in ("relu", "leaky_relu"):
            at += (f". At the corner z = 0 TensorFlow takes the slope of the left side, "
                   f"{name}'(0) = {'0' if name == 'relu' else 'negative_slope'}: test z > 0, not z >= 0")
        elif name == "leaky_relu" and z[i] < 0 and negative_slope is not None:
            at += f". For z < 0 the slope is the negative_slope you are given, here {negative_slope}"
        raise Failed(f"{what} is wrong: {at}")


def check_activations(student, z, negative_slope):
    """check_activation for the four names, with negative_slope for leaky_relu."""
    for name in NAMES:
        check_activation(student, name, z, negative_slope if name == "leaky_relu" else None)


@TASKS.visible("activation_test", "Task 1: the visible tests pass.")
def activation_test(student):
    check_activations(student, np.linspace(-6.0, 6.0, 241), SLOPE)   # 241 points from -6 to 6, z = 0 among them


@TASKS.hidden("activation_hidden")
def activation_hidden(student, rng):
    shape = (int(rng.integers(1, 6)), int(rng.integers(1, 6)))
    slope = float(rng.choice([0.125, 0.375, 0.5, 0.75]))             # exact in float32
    for z, negative_slope in [(Z_EXTREME, 0.5), (rng.normal(scale=3.0, size=shape), slope),
                              (rng.normal(scale=2.0, size=(2, 3, 2)), slope), (np.array([0.0]), 0.5)]:
        check_activations(student, z, negative_slope)


# --- Task 2: the mean squared error and its gradient -------------------------------------------------

def check_mse(student, Y, Y_hat):
    """Keras's loss and tf.GradientTape's gradient; Y and Y_hat are left alone."""
    what, size = "mse_and_gradient(Y, Y_hat)", Y.size
    m, n = (Y.shape[0], Y.size // Y.shape[0]) if np.ndim(Y) else (1, 1)
    loss, grad = as_sequence(student.call("mse_and_gradient", Y, Y_hat), 2, what, "a pair (loss, gradient)")
    loss, grad = as_array(loss, (), "the loss it returns"), as_array(grad, Y.shape, "the gradient it returns")
    right_loss, right_grad = mse(Y, Y_hat)
    hints = [(size, f"is {size} times too large: the loss is the mean over all m * n = {size} entries, not the sum")]
    if n > 1:
        hints.append((n, f"is n={n} times too large: Keras averages over the n outputs too, not only over the "
                         "m examples"))
    assert_close(loss, right_loss, "the loss it returns", "keras.losses.MeanSquaredError", 1e-12 * (1 + right_loss),
                 hints)
    hints = [(0.5, "is half the right size: the derivative of (y_hat - y)^2 is 2 (y_hat - y)"),
             (-1, "has the wrong sign: it is the gradient with respect to Y_hat, 2 (Y_hat - Y) / (m n)"),
             (size, f"is {size} times too large: the loss is a mean over all m * n = {size} entries, so each "
                    f"entry's gradient is divided by {size}")]
    if n > 1:
        hints.append((n, f"is n={n} times too large: divide by m * n = {size}, the number of entries the loss "
                         f"averages over, not by m = {m}"))
    assert_close(grad, right_grad, "the gradient it returns", "tf.GradientTape", 1e-12 * (1 + max_abs(right_grad)),
                 hints)


@TASKS.visible("mse_test", "Task 2: the visible tests pass.")
def mse_test(student):
    check_mse(student, normal(1, (16, 1)), normal(2, (16, 1)))   # m = 16, n = 1
    check_mse(student, normal(3, (8, 3)), normal(4, (8, 3)))     # m = 8, n = 3


@TASKS.hidden("mse_hidden")
def mse_hidden(student, rng):
    m, n, k = int(rng.integers(2, 20)), int(rng.integers(2, 6)), int(rng.integers(2, 30))
    for Y, Y_hat in [(np.array([[2.0]]), np.array([[-1.0]])),                        # one example, one output
                     (rng.normal(size=(m, n)), rng.normal(size=(m, n))),                # several outputs
                     (rng.normal(size=k), rng.normal(size=k)),                          # a vector of targets
                     (rng.normal(scale=1e6, size=(6, 2)), rng.normal(scale=1e6, size=(6, 2))),  # large values
                     (np.zeros((3, 2)), np.zeros((3, 2)))]:                             # a perfect fit
        check_mse(student, Y, Y_hat)


# --- Task 3: the gradient norm of every layer --------------------------------------------------------

def rel_close(a, b):
    """Whether a and b agree to a relative error of 1e-9 everywhere."""
    return not np.any(np.abs(a - b) > 1e-9 * b + 1e-300)


def check_norms(student, X, Y, params, activation):
    """The Frobenius norm of every kernel's gradient, relative error at most 1e-9; inputs left alone."""
    what, L = f"kernel_gradient_norms(X, Y, params, '{activation}')", len(params) // 2
    hint = f": one norm for each of the {L} Dense layers, the output layer included, first layer first"
    norms = shaped(student.call("kernel_gradient_norms", X, Y, params, activation), (L,),
                   f"the array {what} returns", hint)
    expected = gradient_norms(X, Y, params, activation)
    wrong = np.abs(norms - expected) > 1e-9 * expected + 1e-300  # relative error above 1e-9
    if not wrong.any():
        return
    if L > 1 and rel_close(norms[::-1], expected):
        raise Failed(f"{what} lists the norms last layer first: return them first layer first, in the order of params")
    for factor, text in [(0.5, "half the right size: the derivative of the squared error is 2 (Y_hat - Y) / (m n)"),
                         (Y.shape[1], f"n={Y.shape[1]} times too large: the mean squared error averages over "
                                      f"the m * n entries, so dL/dY_hat = 2 (Y_hat - Y) / (m n)"),
                         (Y.shape[0], f"m={Y.shape[0]} times too large: dL/dY_hat = 2 (Y_hat - Y) / (m n)")]:
        if factor != 1 and rel_close(norms, factor * expected):
            raise Failed(f"all the norms {what} returns are {text}")
    if L > 1 and activation != "relu" and rel_close(norms, numpy_norms(X, Y, params, activation, "A")):
        raise Failed(f"{what}: you take the derivative of {activation} at A = {activation}(Z), the layer's "
                     f"output, but it belongs at the pre-activation Z: f'(Z), which for {activation} can "
                     f"be written with A (sigmoid: A (1 - A), tanh: 1 - A^2)")
    k = L - 1 - [bool(w) for w in reversed(wrong)].index(True)  # the wrong norm nearest the output
    above = (f"; the layers above it are right, so look at the step from layer {k + 2} down into layer {k + 1}: "
             f"dA = dZ @ W{k + 2}.T, then dZ = dA * f'(Z{k + 1})" if k < L - 1 else
             "; it is the output layer, so look at dL/dY_hat and the layer's input A")
    raise Failed(f"{what}[{k}], the norm of dW{k + 1}, is {norms[k]:.10g}, but Keras's is {expected[k]:.10g}{above}")


@TASKS.visible("norms_test", "Task 3: the visible tests pass.")
def norms_test(student):
    data = visible_data()
    check_norms(student, data["X"], data["Y"], data["sigmoid"], "sigmoid")   # 8 -> 16 x 6 -> 1
    check_norms(student, data["X"], data["Y"], data["relu"], "relu")


@TASKS.hidden("norms_hidden")
def norms_hidden(student, rng):
    d, h, m = int(rng.integers(2, 7)), int(rng.integers(4, 13)), int(rng.integers(8, 30))
    for (X, Y), sizes, activation in [
            (regression_data(rng, 1, d), [d, 1, 1], "tanh"),                 # one example, one hidden unit
            (regression_data(rng, m, d), [d, 1], "sigmoid"),                 # no hidden layer: linear regression
            (regression_data(rng, m, d, 3), [d, h, h, 3], "tanh"),           # three outputs
            (regression_data(rng, m, d), [d] + [h] * 8 + [1], "sigmoid")]:   # nine layers
        check_norms(student, X, Y, network(rng, sizes, "glorot"), activation)
    # ReLU with pre-activations exactly 0: zero biases, and an example of all zeros
    X, Y = regression_data(rng, m, d)
    X[int(rng.integers(0, m))] = 0.0
    check_norms(student, X, Y @ np.ones((1, 2)), network(rng, [d, h, h, 2], bias=0.0), "relu")


# --- Task 4: the depth at which the gradient vanishes -----------------------------------------------

def first_below(norms, threshold):
    """The first depth (1, 2, ...) whose first-layer norm is below threshold, or None."""
    for k, norm in enumerate(norms):
        if norm < threshold:
            return k + 1
    return None


def as_depth(value, what):
    """A depth the student's function returned: None or a whole number (an int, or a NumPy number)."""
    if value is None:
        return None
    if isinstance(value, (int, float, np.ndarray)) and np.ndim(value) == 0 and np.isfinite(value) \
            and float(value) == round(float(value)):
        return int(value)
    raise Failed(f"{what} should return a depth, an int, or None, not {value!r}")


def check_vanishing(student, X, Y, hidden, output, activation, threshold, norms=None):
    """The first depth whose first-layer norm (Keras's: `norms`, computed if not given) is below
    threshold, or None."""
    what = f"vanishing_depth(X, Y, hidden, output, '{activation}', {threshold:g})"
    depth = as_depth(student.call("vanishing_depth", X, Y, hidden, output, activation, threshold), what)
    norms = first_layer_norms(X, Y, hidden, output, activation) if norms is None else norms
    right = first_below(norms, threshold)
    if depth == right:
        return
    listing = ", ".join(f"{k + 1}: {norm:.2e}" for k, norm in enumerate(norms))
    story = (f"the first layer's gradient norm falls below {threshold:g} first at depth {right}" if right else
             f"the first layer's gradient norm stays at or above {threshold:g} at every depth from 1 to {len(norms)}, "
             f"so the answer is None")
    hint = (": depths count hidden layers, from 1" if right is not None and depth == right - 1 else
            ": return None when no depth up to the number of hidden layers given is deep enough" if right is None
            else "")
    raise Failed(f"{what} returned {depth}, but {story} (Keras's ||dW1|| by depth: {listing}){hint}")


@TASKS.visible("vanishing_test", "Task 4: the visible tests pass.")
def vanishing_test(student):
    data = visible_data()
    check_vanishing(student, data["X"], data["Y"], *data["deep_sigmoid"], "sigmoid", 1e-3)
    check_vanishing(student, data["X"], data["Y"], *data["deep_relu"], "relu", 1e-3)


def bottleneck(rng):
    """A random stack of K hidden layers (and an output layer) whose layer j, 2 <= j <= K, has its
    kernel scaled by 1e-8, and a threshold far (a factor of 1000 or more) from every first-layer norm:
    the gradient vanishes at depth j, whatever small differences the norms have."""
    activation = str(rng.choice(["sigmoid", "tanh"]))
    K, h, d, m = int(rng.integers(3, 9)), int(rng.integers(4, 13)), int(rng.integers(2, 7)), int(rng.integers(1, 20))
    X, Y = regression_data(rng, m, d)
    params = network(rng, [d] + [h] * K + [1], "glorot")
    j = int(rng.integers(2, K + 1))
    params[2 * (j - 1)] = params[2 * (j - 1)] * 1e-8
    hidden, output = params[:-2], params[-2:]
    norms = first_layer_norms(X, Y, hidden, output, activation)
    return X, Y, hidden, output, activation, float(np.sqrt(min(norms[:j - 1]) * norms[j - 1])), norms


@TASKS.hidden("vanishing_hidden")
def vanishing_hidden(student, rng):
    X, Y = regression_data(91, 1, 8)                      # a single example, ten tanh layers
    deep = network(92, [8] + [16] * 10 + [1], "glorot")
    norms = first_layer_norms(X, Y, deep[:-2], deep[-2:], "tanh")
    for threshold in [0.4 * float(np.min(norms[:4])), 2 * float(norms[0]), 1e-300]:   # depth 5 or more, 1, None
        check_vanishing(student, X, Y, deep[:-2], deep[-2:], "tanh", threshold, norms)
    X, Y, hidden, output, activation, threshold, norms = bottleneck(rng)
    for t in [threshold, 1e3 * float(max(norms)), 1e-300]:          # depth j, 1, None
        check_vanishing(student, X, Y, hidden, output, activation, t, norms)
    data = visible_data()
    check_vanishing(student, data["X"], data["Y"], *data["deep_sigmoid"], "sigmoid", 1e-8)


# --- Task 5: dead ReLU units -----------------------------------------------------------------------

def check_dead(student, X, params):
    """For every hidden layer, the fraction of units with Z <= 0 on every example (Z from Keras)."""
    what, hidden = "dead_fractions(X, params)", len(params) // 2 - 1
    hint = (f": one fraction for each of the {hidden} hidden layers (the output layer is linear, so 'dead' "
            "means nothing there)")
    fractions = shaped(student.call("dead_fractions", X, params), (hidden,), f"the array {what} returns", hint)
    for k, Z in enumerate(pre_activations(X, params)):
        right = np.mean(np.all(Z <= 0, axis=0))
        if abs(fractions[k] - right) <= 1e-12:
            continue
        negative = np.mean(np.all(Z < 0, axis=0))
        entries = np.mean(Z <= 0)
        hint = (": a unit whose Z is exactly 0 on every example is dead too, since relu'(0) = 0 (test Z <= 0)"
                if abs(fractions[k] - negative) <= 1e-12 else
                f": you counted the (example, unit) pairs with Z <= 0 ({entries:.4g} of them); a unit is dead "
                "only if its Z is <= 0 for every example of the batch"
                if abs(fractions[k] - entries) <= 1e-12 else "")
        raise Failed(f"{what}[{k}], for hidden layer {k + 1}, is {fractions[k]:.6g}, but it should be "
                     f"{right:.6g}: {int(round(right * Z.shape[1]))} of its {Z.shape[1]} units have Z <= 0 "
                     f"on all {Z.shape[0]} examples{hint}")


@TASKS.visible("dead_test", "Task 5: the visible tests pass.")
def dead_test(student):
    X, params = normal(10, (64, 10)), network(11, [10, 32, 32, 32, 32, 1])
    params[5] = params[5] - 1.5                       # hidden layer 3's biases pushed down by 1.5
    check_dead(student, X, params)                    # 10 -> 32 x 4 -> 1, 64 examples


@TASKS.hidden("dead_hidden")
def dead_hidden(student, rng):
    d, h, m = int(rng.integers(2, 8)), int(rng.integers(4, 20)), int(rng.integers(10, 50))
    broken = network(rng, [d, h, h, h, h, 1], bias=0.0)
    broken[2] = -np.abs(broken[2])                    # layer 2 gets only negative weights: it dies, and
    for X, params in [(rng.normal(size=(m, d)), broken),            # layers 3 and 4 then get Z = 0 exactly
                      (rng.normal(size=(1, d)), network(rng, [d, h, 1])),            # one example
                      (rng.normal(size=(m, d)), network(rng, [d, 1, 1])),            # one hidden unit
                      (rng.normal(size=(m, d)), network(rng, [d, int(rng.integers(1, 4))]))]:  # no hidden layer
        check_dead(student, X, params)


run = TASKS.run
report = TASKS.report
