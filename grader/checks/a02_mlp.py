"""The checks of assignment 2 (chapters/02_mlp/assignment_02.ipynb): the shapes and parameter count
of a network, its forward pass with the cache, its backward pass and the collapse of a stack of
linear layers, compared with Keras, tf.GradientTape, finite differences and the formulas.

In the notebook, `tests.run("sizes_test", globals())` runs a check on the student's machine; at
grading time, the grader runs the same checks in its own process (grader.verdicts), and the hidden
ones draw their inputs from `rng`, which is different for every student.
"""
import numpy as np

from . import plain
from .core import Failed, Tasks, as_array, as_sequence, assert_close, max_abs
from .references import keras_and_tf, normal, one_hot, one_hot_from, serialized, softmax

TASKS = Tasks(numpy_only=True)
PRELUDE = "import numpy as np"          # what the setup cell gives the student's code at grading time


# --- references: inputs, and the answers of Keras, of finite differences, of the formulas ----------

def network_from(rng, sizes, scale=1.0):
    """Weights [W1, b1, ..., WL, bL] for the layer sizes [d, h1, ..., n], drawn from rng: kernels
    normal with standard deviation scale * sqrt(2 / fan_in) (He's), biases normal with 0.1 * scale."""
    params = []
    for fan_in, units in zip(sizes[:-1], sizes[1:]):
        params += [rng.normal(scale=scale * np.sqrt(2.0 / fan_in), size=(fan_in, units)),
                   rng.normal(scale=0.1 * scale, size=units)]
    return params


def network(seed, sizes, scale=1.0):
    """Seeded weights for the layer sizes (the visible tests' networks), as network_from draws them."""
    return network_from(np.random.default_rng(seed), sizes, scale)


def random_sizes(rng, hidden, largest):
    """Layer sizes [d, h1, ..., n] with `hidden` hidden layers, each size from 1 to `largest`
    (at least 2 classes)."""
    return [int(k) for k in rng.integers(1, largest + 1, size=hidden + 1)] + [int(rng.integers(2, largest + 1))]


@serialized
def keras_sizes(sizes):
    """Keras's count_params() and the shapes of model.weights, for a keras.Sequential of Dense
    layers with these sizes: (count, [shape, ...])."""
    keras, _ = keras_and_tf()
    model = keras.Sequential([keras.Input(shape=(sizes[0],))] + [keras.layers.Dense(units) for units in sizes[1:]])
    return model.count_params(), [tuple(int(k) for k in w.shape) for w in model.weights]


def dense_layers(params):
    """One float64 keras.layers.Dense, without activation, holding each (W, b) of params."""
    keras, _ = keras_and_tf()
    layers = []
    for k in range(0, len(params), 2):
        layer = keras.layers.Dense(params[k].shape[1], dtype="float64")
        layer.build((None, params[k].shape[0]))
        layer.set_weights([params[k], params[k + 1]])
        layers.append(layer)
    return layers


@serialized
def forward(X, params):
    """Keras's forward pass: P, and the list of (A_prev, Z) of every layer. Dense layers compute
    Z, keras.activations.relu the hidden A, keras.activations.softmax the output P."""
    keras, tf = keras_and_tf()
    A, cache, layers = tf.constant(X), [], dense_layers(params)
    for k, layer in enumerate(layers):
        Z = layer(A)
        cache.append((A.numpy(), Z.numpy()))
        A = keras.activations.softmax(Z) if k == len(layers) - 1 else keras.activations.relu(Z)
    return A.numpy(), cache


@serialized
def gradients(X, Y, params):
    """tf.GradientTape's [dW1, db1, ..., dWL, dbL]: the gradient of Keras's mean categorical
    cross-entropy of a float64 keras.Sequential (ReLU hidden layers, softmax output) holding params."""
    keras, tf = keras_and_tf()
    sizes = [params[k].shape[1] for k in range(0, len(params), 2)]
    model = keras.Sequential([keras.Input(shape=(params[0].shape[0],), dtype="float64")]
                             + [keras.layers.Dense(units, activation="relu", dtype="float64") for units in sizes[:-1]]
                             + [keras.layers.Dense(sizes[-1], activation="softmax", dtype="float64")])
    model.set_weights(params)
    with tf.GradientTape() as tape:
        loss = keras.losses.CategoricalCrossentropy(dtype="float64")(tf.constant(Y), model(tf.constant(X)))
    return [g.numpy() for g in tape.gradient(loss, model.trainable_weights)]


def loss(X, Y, params):
    """The network's mean cross-entropy in NumPy, computed stably from the logits (log-sum-exp)."""
    A = X
    for k in range(0, len(params), 2):
        Z = A @ params[k] + params[k + 1]
        A = np.maximum(Z, 0.0)
    top = Z.max(axis=1, keepdims=True)
    return np.sum(np.log(np.exp(Z - top).sum(axis=1)) + top[:, 0] - (Y * Z).sum(axis=1)) / Z.shape[0]


def finite_differences(X, Y, params, h=1e-6):
    """Central differences (L(V + h) - L(V - h)) / 2h of the loss, one parameter entry at a time."""
    grads = []
    for k, V in enumerate(params):
        G = np.zeros(V.shape)
        for index in np.ndindex(V.shape):
            plus, minus = [p.copy() for p in params], [p.copy() for p in params]
            plus[k][index] += h
            minus[k][index] -= h
            G[index] = (loss(X, Y, plus) - loss(X, Y, minus)) / (2 * h)
        grads.append(G)
    return grads


@serialized
def linear_stack(X, params):
    """The output for X of a keras.Sequential of float64 Dense layers without activation holding params."""
    keras, tf = keras_and_tf()
    model = keras.Sequential([keras.Input(shape=(params[0].shape[0],), dtype="float64")] + dense_layers(params))
    return model(tf.constant(X)).numpy()


def numpy_backward(P, Y, params, cache, mask):
    """The test's own backward pass, with relu'(Z) = (Z > 0), (Z >= 0) or 1 (mask '>', '>=', 'none')."""
    L = len(params) // 2
    grads, dZ = [None] * (2 * L), (P - Y) / P.shape[0]
    for k in reversed(range(L)):
        grads[2 * k], grads[2 * k + 1] = cache[k][0].T @ dZ, dZ.sum(axis=0)
        if k > 0:
            dA, Z = dZ @ params[2 * k].T, cache[k - 1][1]
            dZ = dA * (Z > 0) if mask == ">" else dA * (Z >= 0) if mask == ">=" else dA
    return grads


# --- tools the checks share ------------------------------------------------------------------------

def weight_names(L):
    """['W1', 'b1', ..., 'WL', 'bL']"""
    return [f"{'Wb'[k % 2]}{k // 2 + 1}" for k in range(2 * L)]


def shape_of(value):
    """The shape NumPy gives value, or None if it is not an array of numbers."""
    if isinstance(value, plain.Unsupported):
        return None
    try:
        return np.asarray(value, dtype=float).shape
    except (TypeError, ValueError):
        return None


def as_shaped(value, shape, what, hint=""):
    """as_array, with `hint` added when value is an array of the wrong shape."""
    got = shape_of(value)
    if hint and got is not None and got != shape:
        raise Failed(f"{what} should have shape {shape}, but has shape {got}{hint}")
    return as_array(value, shape, what)


def as_list(value, length, what, hint=""):
    """value (a list or a tuple) as a list, after checking that it has the given length."""
    if not isinstance(value, (list, tuple)):
        shown = value if isinstance(value, plain.Unsupported) else type(value).__name__
        raise Failed(f"{what} should be a list, not {shown}")
    if len(value) != length:
        raise Failed(f"{what} should hold {length} items, but holds {len(value)}{hint}")
    return list(value)


def close(actual, expected, tol):
    """Whether |actual - expected| <= tol everywhere (False for different shapes)."""
    return actual.shape == expected.shape and max_abs(actual - expected) <= tol


# --- Task 1: shapes and parameter count ----------------------------------------------------------

def check_sizes(student, sizes):
    """Keras's weight shapes, in Keras's order, and Keras's count_params()."""
    count, shapes = keras_sizes(sizes)
    L, names = len(sizes) - 1, weight_names(len(sizes) - 1)
    what = f"parameter_shapes({sizes})"
    got = as_list(student.call("parameter_shapes", list(sizes)), len(shapes), what,
                  f": a kernel and a bias for each of the {L} layers, in the order {names}")
    for k, (shape, right) in enumerate(zip(got, shapes)):
        try:
            shape = tuple(int(s) for s in shape)
        except (TypeError, ValueError):
            raise Failed(f"{what}[{k}] should be a shape, a tuple of ints such as {right}, not {shape!r}") from None
        hint = ""
        if k % 2 == 0 and shape == right[::-1]:
            hint = (": a kernel is (inputs, units), one row per input and one column per unit, so that "
                    "the rows of X @ W are the examples")
        elif k % 2 == 1 and len(shape) == 2 and 1 in shape:
            hint = ": a bias is a vector, one number per unit, which NumPy broadcasts over the rows"
        if shape != right:
            raise Failed(f"{what}[{k}], the shape of {names[k]}, should be {right}, but is {shape}{hint}")
    what = f"count_parameters({sizes})"
    number = float(as_array(student.call("count_parameters", list(sizes)), (), what))
    if number != count:
        biases = sum(sizes[1:])
        hint = (f": you left out the biases ({biases} of them), one per unit of every layer after the input"
                if number == count - biases else
                f": the input layer has no parameters, it holds the data (here {sizes[0]} features), not weights"
                if number == count + sizes[0] else "")
        raise Failed(f"{what} is {number:g}, but keras.Sequential(...).count_params() is {count}{hint}")


@TASKS.visible("sizes_test", "Task 1: the visible tests pass.")
def sizes_test(student):
    check_sizes(student, [4, 5, 3])            # the lesson's network: 4 iris measurements, 5 hidden units, 3 species
    check_sizes(student, [8, 16, 16, 4, 2])    # four layers


@TASKS.hidden("sizes_hidden")
def sizes_hidden(student, rng):
    for sizes in [[1, 1], [784, 128, 64, 10], [3, 1, 1, 1, 1, 1, 2], [10, 7],
                  random_sizes(rng, int(rng.integers(0, 5)), 300)]:
        check_sizes(student, sizes)


# --- Task 2: the forward pass and its cache --------------------------------------------------------

def check_forward(student, X, params):
    """P and every (A_prev, Z) of the cache as Keras computes them; X and params are left alone."""
    expected_P, expected_cache = forward(X, params)
    what, L = "forward(X, params)", len(params) // 2
    def tol(a):
        return 1e-12 * (1 + max_abs(a))   # float64 rounding, relative to the size of the numbers
    hint = "Use a stable softmax: subtract each row's maximum before np.exp (Assignment 1, Task 1)."
    P, cache = as_sequence(student.call("forward", X, params, hint=hint), 2, what, "a pair (P, cache)")
    P = as_array(P, expected_P.shape, "the P it returns")
    Z_out = expected_cache[-1][1]
    if not close(P, expected_P, 1e-12) and close(P, softmax(np.maximum(Z_out, 0.0)), 1e-12):
        raise Failed("the P it returns is softmax(relu(Z)) of the output layer: the output layer "
                     f"has no ReLU, P = softmax(Z{L})")
    assert_close(P, expected_P, "the P it returns", "the output of the Keras model", 1e-12)
    cache = as_list(cache, L, "the cache it returns",
                    f": one pair (A_prev, Z) for each of the {L} layers, the output layer included")
    for k, (entry, (A_ref, Z_ref)) in enumerate(zip(cache, expected_cache)):
        A_prev, Z = as_sequence(entry, 2, f"cache[{k}], the entry of layer {k + 1},", "a pair (A_prev, Z)")
        A_prev = as_array(A_prev, A_ref.shape, f"cache[{k}][0], the input A_prev of layer {k + 1},")
        Z = as_array(Z, Z_ref.shape, f"cache[{k}][1], the pre-activation Z of layer {k + 1},")
        if k > 0 and not close(A_prev, A_ref, tol(A_ref)) and close(A_prev, expected_cache[k - 1][1], tol(A_ref)):
            raise Failed(f"cache[{k}][0] should be the input of layer {k + 1}, A = relu(Z) of layer {k}, "
                         f"but it is Z of layer {k}, before the ReLU")
        if not close(Z, Z_ref, tol(Z_ref)) and close(Z, np.maximum(Z_ref, 0.0), tol(Z_ref)):
            raise Failed(f"cache[{k}][1] should be the pre-activation Z of layer {k + 1}, before the "
                         f"ReLU, but it is relu(Z): the backward pass needs Z for relu'(Z)")
        assert_close(A_prev, A_ref, f"cache[{k}][0], the input of layer {k + 1},", "Keras's", tol(A_ref))
        assert_close(Z, Z_ref, f"cache[{k}][1], the pre-activation of layer {k + 1},", "Keras's", tol(Z_ref))


def visible_network():
    """The visible network of Tasks 2 and 3: X (8, 4), params of 4 -> 6 -> 5 -> 3 (every size
    different, so that a transposed matrix shows up as a wrong shape) and one-hot Y (8, 3)."""
    return normal(1, (8, 4)), network(2, [4, 6, 5, 3]), one_hot(3, 8, 3)


def tiny_network():
    """The tiny network of Tasks 2 and 3: X (5, 3), params of 3 -> 4 -> 2 and one-hot Y (5, 2)."""
    return normal(4, (5, 3)), network(5, [3, 4, 2]), one_hot(6, 5, 2)


@TASKS.visible("forward_test", "Task 2: the visible tests pass.")
def forward_test(student):
    for X, params, _ in [visible_network(), tiny_network()]:   # 4 -> 6 -> 5 -> 3, m = 8; 3 -> 4 -> 2, m = 5
        check_forward(student, X, params)


def hidden_networks(rng):
    """The hidden tests' networks (X, params), drawn from rng: one example and one hidden unit, no
    hidden layer, four hidden layers, logits of tens of thousands, and random sizes."""
    cases = []
    for m, sizes, scale in [(1, [3, 1, 2], 1.0), (6, [5, 3], 1.0), (16, [2, 8, 8, 8, 8, 2], 1.0),
                            (10, [4, 7, 5], 30.0),
                            (int(rng.integers(2, 30)), random_sizes(rng, int(rng.integers(1, 4)), 12), 1.0)]:
        cases.append((rng.normal(scale=scale, size=(m, sizes[0])), network_from(rng, sizes, scale)))
    return cases


@TASKS.hidden("forward_hidden")
def forward_hidden(student, rng):
    for X, params in hidden_networks(rng):
        check_forward(student, X, params)


# --- Task 3: backpropagation -------------------------------------------------------------------

def check_backward(student, P, Y, params, cache, expected, against, tol):
    """[dW1, db1, ..., dWL, dbL] from the cache, compared with `expected` (from `against`); a known
    mistake is named. P, Y, params and the cache are left alone."""
    what, m, L = "backward(P, Y, params, cache)", P.shape[0], len(params) // 2
    names = weight_names(L)
    grads = as_list(student.call("backward", P, Y, params, cache), 2 * L, f"the list {what} returns",
                    f": one gradient per array of params, {['d' + name for name in names]}")
    shapes = [shape_of(g) for g in grads]
    layer_reversed = [names[2 * (L - 1 - k // 2) + k % 2] for k in range(2 * L)]
    if L > 1 and any(s != params[k].shape for k, s in enumerate(shapes)) and \
            all(s == params[2 * (L - 1 - k // 2) + k % 2].shape for k, s in enumerate(shapes)):
        raise Failed(f"your gradients come last layer first, {['d' + n for n in layer_reversed]}: return "
                     f"them in the order of params, {['d' + n for n in names]}, as Keras's trainable_weights")
    for k, (g, name) in enumerate(zip(grads, names)):
        shape = params[k].shape
        hint = (f": is it transposed? d{name} = A_prev.T @ dZ, (inputs, m) @ (m, units)"
                if len(shape) == 2 and shapes[k] == shape[::-1] else "")
        grads[k] = as_shaped(g, shape, f"d{name}, the gradient of {name},", hint)
    tols = [tol * (1 + max_abs(e)) for e in expected]  # relative to the size of the gradients
    right = [close(g, e, t) for g, e, t in zip(grads, expected, tols)]
    if all(right):
        return
    if m > 1 and all(close(g, m * e, m * t) for g, e, t in zip(grads, expected, tols)):
        raise Failed(f"all your gradients are m={m} times too large: did you forget the 1/m of the mean, "
                     f"dZ{L} = (P - Y) / m?")
    no_mask, ge_mask = numpy_backward(P, Y, params, cache, "none"), numpy_backward(P, Y, params, cache, ">=")
    if all(close(g, e, t) for g, e, t in zip(grads, no_mask, tols)):
        raise Failed("your gradients are those of a network without the ReLUs: on the way down through a "
                     "hidden layer, multiply by relu'(Z) of that layer, dZ = dA * (Z > 0)")
    if all(close(g, e, t) for g, e, t in zip(grads, ge_mask, tols)):
        raise Failed("some of your gradients differ where a hidden pre-activation Z is exactly 0: "
                     "TensorFlow takes relu'(0) = 0, so the mask is (Z > 0), not (Z >= 0)")
    k = 2 * L - 1 - right[::-1].index(False)  # the wrong gradient nearest the output
    name, against_k = names[k], f"{against} (the gradients of the layers above layer {k // 2 + 1} are right)"
    hints = [(m, f"is m={m} times too large"), (1 / m, f"is m={m} times too small: d{name} is the sum over the "
                                                      "examples, not the mean (the 1/m is already in dZ)")]
    if k % 2 == 0 and close(grads[k].T, expected[k], tols[k]):
        raise Failed(f"d{name} is the transpose of the right gradient: d{name} = A_prev.T @ dZ")
    assert_close(grads[k], expected[k], f"d{name}, the gradient of {name},", against_k, tols[k], hints if m > 1 else ())


def check_backward_with_keras(student, X, Y, params):
    """backward on Keras's P and cache for X, against tf.GradientTape's gradients."""
    P, cache = forward(X, params)
    check_backward(student, P, Y, params, cache, gradients(X, Y, params), "tf.GradientTape", 1e-12)


@TASKS.visible("backward_test", "Task 3: the visible tests pass.")
def backward_test(student):
    X, params, Y = visible_network()
    check_backward_with_keras(student, X, Y, params)                                      # 4 -> 6 -> 5 -> 3
    X, params, Y = tiny_network()
    P, cache = forward(X, params)
    check_backward(student, P, Y, params, cache, finite_differences(X, Y, params),
                   "central finite differences", 1e-8)                                    # 3 -> 4 -> 2


def zero_pre_activations(rng):
    """A network 3 -> 5 -> 4 -> 2 whose hidden pre-activations are exactly 0 for one example: zero
    hidden biases, and an example of all zeros. Returns (X, params)."""
    X, params = rng.normal(size=(6, 3)), network_from(rng, [3, 5, 4, 2])
    X[int(rng.integers(0, 6))] = 0.0
    params[1][:], params[3][:] = 0.0, 0.0
    return X, params


@TASKS.hidden("backward_hidden")
def backward_hidden(student, rng):
    for X, params in hidden_networks(rng) + [zero_pre_activations(rng)]:
        check_backward_with_keras(student, X, one_hot_from(rng, X.shape[0], params[-1].shape[0]), params)


# --- Task 4: a stack of linear layers is one layer ---------------------------------------------------

def check_collapse(student, params, X):
    """(W, b) of one layer that computes what the stack of linear layers computes (the Keras stack's
    output for X); params are left alone."""
    expected = linear_stack(X, params)
    what, L = "collapse(params)", len(params) // 2
    d, n = params[0].shape[0], params[-1].shape[0]
    W, b = as_sequence(student.call("collapse", params), 2, what, "a pair (W, b)")
    W = as_shaped(W, (d, n), "the W it returns", f": W1 is ({d}, ...) and W{L} is (..., {n})")
    b = as_array(b, (n,), "the b it returns")
    W_right, b_right = params[0], params[1]
    for k in range(2, 2 * L, 2):  # collapse the layers one at a time, as the formula does
        W_right, b_right = W_right @ params[k], b_right @ params[k] + params[k + 1]
    tol = 1e-10 * (1 + max_abs(expected))
    assert_close(W, W_right, "the W it returns", f"the product of the kernels W1 @ ... @ W{L}", tol)
    if not close(b, b_right, tol) and L > 1:
        if close(b, params[-1], tol):
            raise Failed(f"the b it returns is b{L}, the last bias: the earlier biases count too, since each of them "
                         f"goes through the kernels above it (for two layers, b = b1 @ W2 + b2)")
        everything = params[1]
        for k in range(3, 2 * L, 2):
            everything = everything + params[k] if params[k].shape == everything.shape else params[-1]
        if close(b, everything, tol):
            raise Failed("the b it returns is the sum of the biases: each earlier bias goes through the kernels "
                         "above it first (for two layers, b = b1 @ W2 + b2)")
    assert_close(b, b_right, "the b it returns", "the bias the formula gives", tol)
    assert_close(X @ W + b, expected, "X @ W + b with your W and b", "the output of the Keras stack", tol)


@TASKS.visible("collapse_test", "Task 4: the visible tests pass.")
def collapse_test(student):
    X = visible_network()[0]
    check_collapse(student, network(7, [4, 5, 3]), X)      # 4 -> 5 -> 3, as in the lesson
    check_collapse(student, network(8, [4, 6, 2, 3]), X)   # 4 -> 6 -> 2 -> 3


@TASKS.hidden("collapse_hidden")
def collapse_hidden(student, rng):
    for sizes in [[3, 2], [5, 1, 4], [2, 6, 6, 6, 6, 6, 3], [1, 3, 1], random_sizes(rng, int(rng.integers(1, 5)), 10)]:
        check_collapse(student, network_from(rng, sizes), rng.normal(size=(7, sizes[0])))


run = TASKS.run
report = TASKS.report
