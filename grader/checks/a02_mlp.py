"""The checks of assignment 2 (chapters/02_mlp/assignment_02.ipynb): the forward pass of a ReLU network
of any depth with its cache, its backward pass, and its training on the digits within a step budget.
Per task, *what is asked* (function, inputs) is in the task's section; *how the answer is known*
(Keras, tf.GradientTape, gradient descent replayed here) in the references. The hidden checks draw
their inputs from `rng`, different for every student at grading time.
"""

import numpy as np

from .core import Failed, Tasks, as_array, as_sequence, as_tuple, assert_close, disguise, max_abs
from .references import keras_and_tf, normal, one_hot, one_hot_from, serialized, softmax

TASKS = Tasks(numpy_only=True)
PRELUDE = "import numpy as np"          # what the setup cell gives the student's code at grading time
BUDGET, TARGET, MAX_PARAMETERS = 150, 0.94, 10_000    # Task 3: steps, validation accuracy, network size


# --- references ------------------------------------------------------------------------------------

def network_from(rng, sizes, bias=0.1):
    """[W1, b1, ..., WL, bL] for the layer sizes [d, h1, ..., n]: He-normal kernels, normal biases."""
    params = []
    for fan_in, units in zip(sizes[:-1], sizes[1:]):
        params += [rng.normal(scale=np.sqrt(2.0 / fan_in), size=(fan_in, units)), rng.normal(scale=bias, size=units)]
    return params


def keras_model(params, output="softmax", hidden="relu"):    # a float64 keras.Sequential holding params
    keras, _ = keras_and_tf()
    units = [params[k].shape[1] for k in range(0, len(params), 2)]
    model = keras.Sequential([keras.Input(shape=(params[0].shape[0],), dtype="float64")]
                             + [keras.layers.Dense(n, activation=hidden, dtype="float64") for n in units[:-1]]
                             + [keras.layers.Dense(units[-1], activation=output, dtype="float64")])
    model.set_weights(params)
    return model


@serialized
def keras_forward(X, params):
    """P of the Keras model, and (A_prev, Z) of every layer."""
    keras, tf = keras_and_tf()
    A, cache, layers = tf.constant(X), [], keras_model(params, output=None, hidden=None).layers
    for k, layer in enumerate(layers):
        Z = layer(A)
        cache.append((A.numpy(), Z.numpy()))
        A = keras.activations.softmax(Z) if k == len(layers) - 1 else keras.activations.relu(Z)
    return A.numpy(), cache


@serialized
def tape_gradients(X, Y, params):
    """tf.GradientTape's gradients of Keras's mean categorical cross-entropy of the model."""
    keras, tf = keras_and_tf()
    model = keras_model(params)
    with tf.GradientTape() as tape:
        loss = keras.losses.CategoricalCrossentropy(dtype="float64")(tf.constant(Y), model(tf.constant(X)))
    return [g.numpy() for g in tape.gradient(loss, model.trainable_weights)]


def numpy_forward(X, params):    # what the replay and the scoring use
    A, cache = X, []
    for k in range(0, len(params), 2):
        Z = A @ params[k] + params[k + 1]
        cache.append((A, Z))
        A = np.maximum(Z, 0.0)
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True), cache


def numpy_backward(P, Y, params, cache, mask=">"):
    """The backward pass, with relu'(Z) as (Z > 0), or the mistakes (Z >= 0) and 1 (mask "none")."""
    L = len(params) // 2
    grads, dZ = [None] * (2 * L), (P - Y) / P.shape[0]
    for k in reversed(range(L)):
        grads[2 * k], grads[2 * k + 1] = cache[k][0].T @ dZ, dZ.sum(axis=0)
        if k > 0:
            Z = cache[k - 1][1]
            dZ = (dZ @ params[2 * k].T) * ((Z > 0) if mask == ">" else (Z >= 0) if mask == ">=" else 1.0)
    return grads


def replay(X, y, params, learning_rate, steps):
    """`steps` steps of full-batch gradient descent on the mean cross-entropy, from params."""
    Y = np.eye(params[-1].shape[0])[y]
    for _ in range(steps):
        P, cache = numpy_forward(X, params)
        params = [p - learning_rate * g for p, g in zip(params, numpy_backward(P, Y, params, cache))]
    return params


def digits(rng, m_train):
    """The digits, pixels / 16, split at random by rng, then disguised by it (core.disguise)."""
    from sklearn.datasets import load_digits
    X, y = load_digits(return_X_y=True)
    rows = rng.permutation(len(X))
    return disguise(rng, X[rows[:m_train]] / 16.0, y[rows[:m_train]], X[rows[m_train:]] / 16.0, y[rows[m_train:]])


def close(a, b, tol):
    return a.shape == b.shape and max_abs(a - b) <= tol


# --- Task 1: the forward pass and its cache ------------------------------------------------------------

def check_forward(student, X, params):
    (P_ref, cache_ref), L = keras_forward(X, params), len(params) // 2
    hint = "Use a stable softmax (chapter 1)."
    P, cache = as_sequence(student.call("forward", X, params, hint=hint), 2, "forward(X, params)", "a pair (P, cache)")
    P = as_array(P, P_ref.shape, "the P it returns")
    if not close(P, P_ref, 1e-12) and close(P, softmax(np.maximum(cache_ref[-1][1], 0.0)), 1e-12):
        raise Failed("the P it returns went through a ReLU before the softmax: look at the output layer")
    assert_close(P, P_ref, "the P it returns", "the output of the Keras model", 1e-12)
    cache = as_sequence(cache, L, "the cache it returns", f"a list of {L} pairs (A_prev, Z), one per layer")
    for k, (entry, (A_ref, Z_ref)) in enumerate(zip(cache, cache_ref)):
        A, Z = as_sequence(entry, 2, f"cache[{k}]", "a pair (A_prev, Z)")
        A, Z = as_array(A, A_ref.shape, f"cache[{k}][0]"), as_array(Z, Z_ref.shape, f"cache[{k}][1]")
        tol = 1e-12 * (1 + max_abs(Z_ref))
        if not close(Z, Z_ref, tol) and close(Z, np.maximum(Z_ref, 0.0), tol):
            raise Failed(f"cache[{k}][1] holds layer {k + 1}'s output after the ReLU: the backward pass needs what "
                         "went into the ReLU")
        assert_close(A, A_ref, f"cache[{k}][0], the input of layer {k + 1},", "Keras's", 1e-12 * (1 + max_abs(A_ref)))
        assert_close(Z, Z_ref, f"cache[{k}][1], the pre-activation of layer {k + 1},", "Keras's", tol)


def visible_networks():    # X, params and one-hot Y of 4 -> 6 -> 5 -> 3 (m = 8) and 3 -> 4 -> 2 (m = 5)
    return [(normal(1, (8, 4)), network_from(np.random.default_rng(2), [4, 6, 5, 3]), one_hot(3, 8, 3)),
            (normal(4, (5, 3)), network_from(np.random.default_rng(5), [3, 4, 2]), one_hot(6, 5, 2))]


def hidden_networks(rng):
    """One example, no hidden layer, four, huge logits, random sizes, pre-activations of exactly 0."""
    cases = [(rng.normal(scale=scale, size=(m, sizes[0])), [p * scale for p in network_from(rng, sizes, bias)])
             for m, sizes, scale, bias in [(1, [3, 1, 2], 1, 0.1), (6, [5, 3], 1, 0.1), (10, [4, 7, 5], 30, 0.1),
                                           (16, [2, 8, 8, 8, 8, 2], 1, 0.1), (6, [3, 5, 4, 2], 1, 0.0),
                                           (int(rng.integers(2, 30)), [4, int(rng.integers(1, 12)), 6], 1, 0.1)]]
    cases[4][0][int(rng.integers(0, 6))] = 0.0      # zero biases and an input of zeros
    return cases


@TASKS.visible("forward_test", "Task 1: the visible tests pass.")
def forward_test(student):
    for X, params, _ in visible_networks():
        check_forward(student, X, params)


@TASKS.hidden("forward_hidden")
def forward_hidden(student, rng):
    for X, params in hidden_networks(rng):
        check_forward(student, X, params)


# --- Task 2: backpropagation through any number of layers ---------------------------------------------

def check_backward(student, X, Y, params):
    (P, cache), m, L = keras_forward(X, params), len(X), len(params) // 2
    names = [f"d{'Wb'[k % 2]}{k // 2 + 1}" for k in range(2 * L)]
    grads = as_sequence(student.call("backward", P, Y, params, cache), 2 * L, "backward(P, Y, params, cache)",
                        f"a list of {2 * L} gradients {names}")
    shapes = [np.shape(g) for g in grads]
    last_first = [params[2 * (L - 1 - k // 2) + k % 2].shape for k in range(2 * L)]
    if L > 1 and shapes != [p.shape for p in params] and shapes == last_first:
        raise Failed("your gradients come last layer first: return them in the order of params")
    for k, g in enumerate(grads):
        if shapes[k] != params[k].shape and shapes[k] == params[k].shape[::-1]:
            raise Failed(f"{names[k]} should have shape {params[k].shape}, but has shape {shapes[k]}: "
                         "is it transposed?")
        grads[k] = as_array(g, params[k].shape, names[k])
    expected = tape_gradients(X, Y, params)
    tols = [1e-12 * (1 + max_abs(e)) for e in expected]

    def all_close(reference, factor=1.0):
        return all(close(g, factor * e, factor * t) for g, e, t in zip(grads, reference, tols))
    if all_close(expected):
        return
    if m > 1 and all_close(expected, m):
        raise Failed(f"all your gradients are m={m} times too large: look at where the mean over the batch enters")
    if all_close(numpy_backward(P, Y, params, cache, "none")):
        raise Failed("your gradients are those of a network without its ReLUs: on the way down, account for the "
                     "ReLU of each hidden layer")
    if all_close(numpy_backward(P, Y, params, cache, ">=")):
        raise Failed("your gradients differ only where a hidden pre-activation is exactly 0: TensorFlow, like "
                     "this course, takes the ReLU's slope at 0 to be 0")
    k = max(k for k in range(2 * L) if not close(grads[k], expected[k], tols[k]))    # the wrong one nearest the output
    hints = [(m, f"is m={m} times too large"), (1 / m, f"is m={m} times too small")] if m > 1 else []
    assert_close(grads[k], expected[k], names[k], f"tf.GradientTape (the layers above layer {k // 2 + 1} are right)",
                tols[k], hints, [(expected[k].T, "is transposed")] if expected[k].ndim == 2 else [])


@TASKS.visible("backward_test", "Task 2: the visible tests pass.")
def backward_test(student):
    for X, params, Y in visible_networks():
        check_backward(student, X, Y, params)


@TASKS.hidden("backward_hidden")
def backward_hidden(student, rng):
    for X, params in hidden_networks(rng):
        check_backward(student, X, one_hot_from(rng, len(X), params[-1].shape[0]), params)


# --- Task 3: train a network on the digits within a step budget -----------------------------------------

def check_training(student, X, y, params, learning_rate, steps):
    what = f"train_mlp(X {X.shape}, y, params, learning_rate={learning_rate:g}, steps={steps})"
    got = as_sequence(student.call("train_mlp", X, y, params, learning_rate, steps), len(params), what,
                      f"a list of {len(params)} arrays, one per array of params")
    got = [as_array(v, p.shape, f"item {k} of the list it returns") for k, (v, p) in enumerate(zip(got, params))]
    ref = replay(X, y, params, learning_rate, steps)

    def same(other):
        return all(close(g, r, 1e-7 * max(1.0, max_abs(r))) for g, r in zip(got, other))
    if same(ref):
        return got
    for other, text in [(params, "returned the weights it was given, untrained"),
                        (replay(X, y, params, learning_rate * len(y), steps), "used the gradient of the summed loss"),
                        *[(replay(X, y, params, learning_rate, n), f"took {n} steps instead of {steps}")
                          for n in (steps - 1, steps + 1) if n >= 0]]:
        if same(other):
            raise Failed(f"{what} {text}")
    raise Failed(f"{what} returned weights that differ from the tests' own run of {steps} steps of full-batch "
                 "gradient descent: check that every step runs your forward and backward passes on all the rows "
                 "and updates every array of params (and that Tasks 1 and 2 pass)")


def check_experiment(student, rng, m_train):
    what = "architecture()"
    hidden, learning_rate, steps = as_tuple(student.call("architecture"), 3, what)
    if not isinstance(hidden, (list, tuple)) or not hidden or \
            not all(isinstance(h, int) and not isinstance(h, bool) and h > 0 for h in hidden):
        raise Failed(f"{what} returned the hidden layers {hidden!r}: a list of at least one positive int")
    sizes = [64, *hidden, 10]
    count = sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))
    if count > MAX_PARAMETERS:
        raise Failed(f"{what} describes a network of {count} parameters, over the limit of {MAX_PARAMETERS}")
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, (int, float)) or not learning_rate > 0 \
            or isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= BUDGET:
        raise Failed(f"{what} returned the learning rate {learning_rate!r} and {steps!r} steps: a positive number, "
                     f"and an int from 1 to {BUDGET} (the budget)")
    X, y, X_val, y_val = digits(rng, m_train)
    params = check_training(student, X, y, network_from(rng, sizes, bias=0.0), float(learning_rate), steps)
    accuracy = float(np.mean(np.argmax(numpy_forward(X_val, params)[0], axis=1) == y_val))
    if accuracy < TARGET:
        raise Failed(f"trained on {m_train} digits with hidden layers {list(hidden)}, learning_rate={learning_rate:g} "
                     f"and {steps} steps, your network classifies {accuracy:.3f} of {len(y_val)} other digits "
                     f"correctly, below the target {TARGET}: compare settings on a split of your own")


def small_problem(rng, m, sizes):    # X, y and params of a small network
    return rng.uniform(size=(m, sizes[0])), rng.integers(0, sizes[-1], size=m), network_from(rng, sizes)


@TASKS.visible("training_test", "Task 3: the visible tests pass.", disguised=True)
def training_test(student, rng):
    X, y, params = small_problem(np.random.default_rng(7), 12, [5, 4, 3])
    check_training(student, X, y, params, 0.5, 1)
    check_training(student, X, y, params, 0.5, 3)
    check_experiment(student, rng, 1000)


@TASKS.hidden("training_hidden")
def training_hidden(student, rng):
    X, y, params = small_problem(rng, int(rng.integers(5, 30)), [4, int(rng.integers(1, 8)), 3, 2])
    check_training(student, X, y, params, float(rng.uniform(0.1, 2.0)), int(rng.integers(2, 9)))
    check_training(student, X, y, params, 1.0, 0)
    check_experiment(student, rng, int(rng.integers(950, 1050)))


run = TASKS.run
report = TASKS.report
