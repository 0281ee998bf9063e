"""The checks of assignment 2 (chapters/02_mlp/assignment_02.ipynb): the forward pass of a ReLU network
of any depth with its cache, its backward pass, and its training on the digits within a step budget,
compared with float64 Keras layers, tf.GradientTape and Keras's own gradient descent.
"""

import numpy as np

from .core import Failed, Tasks, as_array, as_number, as_sequence, as_tuple, assert_close, disguise, flat, max_abs
from .references import descent, digits, float64_dense, keras_and_tf, normal, one_hot, one_hot_from, serialized

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


def activations(params):
    return ["relu"] * (len(params) // 2 - 1) + ["softmax"]


@serialized
def keras_pass(X, params, Y=None, slope="relu"):
    """Without Y: the output P of float64 Keras Dense layers holding params (ReLU, then softmax) and
    their (A_prev, Z). With Y: tf.GradientTape's gradients of the mean categorical cross-entropy; with
    slope "none" (1 everywhere) or ">=" (1 at 0 too) in place of relu'(Z): a mistake's gradients."""
    keras, tf = keras_and_tf()
    layers, A, cache = float64_dense(params, [None] * (len(params) // 2)).layers, tf.constant(X), []
    with tf.GradientTape() as tape:
        for layer in layers:
            Z = layer(A)
            cache.append((A.numpy(), Z.numpy()))
            mask = {"none": tf.ones_like(Z), ">=": tf.cast(Z >= 0, Z.dtype)}.get(slope)
            A = keras.activations.relu(Z) if mask is None else tf.stop_gradient(tf.nn.relu(Z) - Z * mask) + Z * mask
        P = keras.activations.softmax(Z)
        loss = None if Y is None else keras.losses.CategoricalCrossentropy(dtype="float64")(tf.constant(Y), P)
    if Y is None:
        return P.numpy(), cache
    return [g.numpy() for g in tape.gradient(loss, [w for layer in layers for w in layer.trainable_weights])]


# --- Task 1: the forward pass and its cache ------------------------------------------------------------

def check_forward(student, X, params, Y=None):    # Y: Task 2's
    (P_ref, cache_ref), L = keras_pass(X, params), len(params) // 2
    hint = "Use a stable softmax (chapter 1)."
    P, cache = as_sequence(student.call("forward", X, params, hint=hint), 2, "forward(X, params)", "a pair (P, cache)")
    Z_out = np.maximum(cache_ref[-1][1], 0.0)
    E = np.exp(Z_out - Z_out.max(axis=1, keepdims=True))
    assert_close(as_array(P, P_ref.shape, "the P it returns"), P_ref, "the P it returns", "the output of Keras", 1e-12,
                 like=[(E / E.sum(axis=1, keepdims=True), "went through a ReLU before the softmax: look at the "
                                                         "output layer")])
    cache = as_sequence(cache, L, "the cache it returns", f"a list of {L} pairs (A_prev, Z), one per layer")
    for k, (entry, (A_ref, Z_ref)) in enumerate(zip(cache, cache_ref)):
        A, Z = as_sequence(entry, 2, f"cache[{k}]", "a pair (A_prev, Z)")
        assert_close(as_array(A, A_ref.shape, f"cache[{k}][0]"), A_ref, f"cache[{k}][0], the input of layer {k + 1},",
                     "Keras's", 1e-12 * (1 + max_abs(A_ref)))
        assert_close(as_array(Z, Z_ref.shape, f"cache[{k}][1]"), Z_ref, f"cache[{k}][1]", "Keras's pre-activation",
                     1e-12 * (1 + max_abs(Z_ref)), like=[(np.maximum(Z_ref, 0.0), f"holds layer {k + 1}'s output "
                                                          "after the ReLU: the backward pass needs what went into it")])


VISIBLE = [(normal(1, (8, 4)), network_from(np.random.default_rng(2), [4, 6, 5, 3]), one_hot(3, 8, 3)),
           (normal(4, (5, 3)), network_from(np.random.default_rng(5), [3, 4, 2]), one_hot(6, 5, 2))]


def hidden_networks(rng):
    """One example, no hidden layer, huge logits, four hidden layers, pre-activations of exactly 0, random sizes."""
    cases = [(rng.normal(scale=scale, size=(m, sizes[0])), [p * scale for p in network_from(rng, sizes, bias)])
             for m, sizes, scale, bias in [(1, [3, 1, 2], 1, 0.1), (6, [5, 3], 1, 0.1), (10, [4, 7, 5], 30, 0.1),
                                           (16, [2, 8, 8, 8, 8, 2], 1, 0.1), (6, [3, 5, 4, 2], 1, 0.0),
                                           (int(rng.integers(2, 30)), [4, int(rng.integers(1, 12)), 6], 1, 0.1)]]
    cases[4][0][int(rng.integers(0, 6))] = 0.0      # zero biases and an input of zeros
    return [(X, params, one_hot_from(rng, len(X), params[-1].shape[0])) for X, params in cases]


TASKS.task("forward", 1, check_forward, VISIBLE, hidden_networks)


# --- Task 2: backpropagation through any number of layers ---------------------------------------------

def check_backward(student, X, params, Y):
    (P, cache), m, L = keras_pass(X, params), len(X), len(params) // 2
    names = [f"d{'Wb'[k % 2]}{k // 2 + 1}" for k in range(2 * L)]
    grads = as_sequence(student.call("backward", P, Y, params, cache), 2 * L, "backward(P, Y, params, cache)",
                        f"a list of {2 * L} gradients {names}")
    shapes = [np.shape(g) for g in grads]
    last_first = [params[2 * (L - 1 - k // 2) + k % 2].shape for k in range(2 * L)]
    if shapes != [p.shape for p in params] and shapes == last_first:
        raise Failed("your gradients come last layer first: return them in the order of params")
    for k, (g, p) in enumerate(zip(grads, params)):
        if np.shape(g) != p.shape and np.shape(g) == p.shape[::-1]:
            raise Failed(f"{names[k]} should have shape {p.shape}, but has shape {np.shape(g)}: is it transposed?")
    grads = [as_array(g, p.shape, name) for g, p, name in zip(grads, params, names)]
    expected = keras_pass(X, params, Y)
    tol = 1e-12 * (1 + max_abs(flat(*expected)))
    if max_abs(flat(*grads) - flat(*expected)) <= tol:
        return
    assert_close(flat(*grads), flat(*expected), "your gradients", "tf.GradientTape's", tol,
                 [(m, f"are all m={m} times too large: look at where the mean over the batch enters")],
                 [(flat(*keras_pass(X, params, Y, "none")), "are those of a network without its ReLUs: on the way "
                   "down, account for the ReLU of each hidden layer"),
                  (flat(*keras_pass(X, params, Y, ">=")), "differ only where a hidden pre-activation is exactly 0: "
                   "TensorFlow, like this course, takes the ReLU's slope at 0 to be 0")])


TASKS.task("backward", 2, check_backward, VISIBLE, hidden_networks)


# --- Task 3: train a network on the digits within a step budget -----------------------------------------

def check_training(student, X, y, params, learning_rate, steps):
    """train_mlp must return Keras's weights after the same full-batch descent; returns them."""
    what = f"train_mlp(X {X.shape}, y, params, learning_rate={learning_rate:g}, steps={steps})"
    got = as_sequence(student.call("train_mlp", X, y, params, learning_rate, steps), len(params), what,
                      f"a list of {len(params)} arrays, one per array of params")
    got = [as_array(v, p.shape, f"item {k} of the list it returns") for k, (v, p) in enumerate(zip(got, params))]
    def replay(rate, n):
        return flat(*descent(X, y, params, activations(params), rate, n))
    ref = replay(learning_rate, steps)
    tol = 1e-7 * max(1.0, max_abs(ref))
    if max_abs(flat(*got) - ref) > tol:
        like = [(flat(*params), "returned the weights it was given, untrained"),
                (replay(learning_rate * len(y), steps), "used the gradient of the summed loss"),
                *[(replay(learning_rate, n), f"took {n} steps instead of {steps}") for n in (steps - 1, steps + 1)
                  if n >= 0]]
        assert_close(flat(*got), ref, what, f"Keras's {steps} steps of full-batch gradient descent (do Tasks 1 and 2 "
                     "pass? does every step update every array of params?)", tol, like=like)
    return got


def check_experiment(student, rng):
    m_train = int(rng.integers(950, 1050))
    hidden, learning_rate, steps = as_tuple(student.call("architecture"), 3, "architecture()")
    if not isinstance(hidden, (list, tuple)) or not hidden:
        raise Failed(f"architecture() returned the hidden layers {hidden!r}: a list of at least one positive int")
    sizes = [64, *(as_number(h, "a hidden layer's width in architecture()", whole=True) for h in hidden), 10]
    count = sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))
    if count > MAX_PARAMETERS:
        raise Failed(f"architecture() describes a network of {count} parameters, over the limit of {MAX_PARAMETERS}")
    learning_rate = as_number(learning_rate, "the learning rate architecture() returns")
    steps = as_number(steps, "the number of steps architecture() returns", whole=True, low=1, high=BUDGET)
    X, y, X_val, y_val = disguise(rng, *digits(int(rng.integers(2 ** 31)), m_train, 1797 - m_train))
    params = check_training(student, X, y, network_from(rng, sizes, bias=0.0), float(learning_rate), steps)
    accuracy = float(np.mean(np.argmax(keras_pass(X_val, params)[0], axis=1) == y_val))
    if accuracy < TARGET:
        raise Failed(f"trained on {m_train} digits with hidden layers {list(hidden)}, learning_rate={learning_rate:g} "
                     f"and {steps} steps, your network classifies {accuracy:.3f} of {len(y_val)} other digits "
                     f"correctly, below the target {TARGET}: compare settings on a split of your own")


def small_network(rng, m, sizes):    # X, y and params of a small network
    return rng.uniform(size=(m, sizes[0])), rng.integers(0, sizes[-1], size=m), network_from(rng, sizes)


def training_cases(rng):
    """A small network of random width on random data, trained a random number of steps, then none."""
    X, y, params = small_network(rng, int(rng.integers(5, 30)), [4, int(rng.integers(1, 8)), 3, 2])
    return [(X, y, params, float(rng.uniform(0.1, 2.0)), int(rng.integers(2, 9))), (X, y, params, 1.0, 0)]


SMALL = small_network(np.random.default_rng(7), 12, [5, 4, 3])
TASKS.task("training", 3, check_training, [(*SMALL, 0.5, 1), (*SMALL, 0.5, 3)], training_cases, check_experiment)


run = TASKS.run
report = TASKS.report
