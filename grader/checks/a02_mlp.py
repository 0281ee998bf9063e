"""Assignment 2's checks: a ReLU network's forward pass and cache, backward pass and training on the digits,
against float64 Keras layers, tf.GradientTape and Keras's gradient descent."""
import numpy as np

from .core import Failed, Tasks, as_array, as_arrays, as_items, as_number, assert_close, disguise, expect_trained, flat
from .core import max_abs
from .references import descent, digits, float64_dense, keras_and_tf, normal, one_hot, serialized

TASKS = Tasks(numpy_only=True)
BUDGET, TARGET, MAX_PARAMETERS = 150, 0.94, 10_000    # Task 3's limits and target


def network_from(rng, sizes, bias=0.1):
    """[W1, b1, ...] for layer sizes [d, h1, ..., n]: He-normal kernels, normal biases."""
    params = []
    for fan_in, units in zip(sizes[:-1], sizes[1:]):
        params += [rng.normal(scale=np.sqrt(2.0 / fan_in), size=(fan_in, units)), rng.normal(scale=bias, size=units)]
    return params


@serialized
def keras_pass(X, params, Y=None, slope="relu"):
    """P and the cache [(A_prev, Z)...] of float64 Keras Dense layers holding params (ReLU, then softmax); with Y,
    tf.GradientTape's gradients of the mean cross-entropy, relu'(Z) 1 everywhere if slope="none", at 0 if ">="."""
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


def check_forward(student, X, params, Y=None):    # Y: Task 2's
    (P_ref, cache_ref), L = keras_pass(X, params), len(params) // 2
    P, cache = as_items(student.call("forward", X, params, hint="Use a stable softmax (chapter 1)."), 2,
                        "forward(X, params)", "a pair (P, cache)")
    Z_out = np.maximum(cache_ref[-1][1], 0.0)
    P_relu = np.exp(Z_out - np.logaddexp.reduce(Z_out, axis=1, keepdims=True))
    assert_close(as_array(P, P_ref.shape, "the P it returns"), P_ref, "the P it returns", "Keras's", 1e-12,
                 like=[(P_relu, "went through a ReLU before the softmax: look at the output layer")])
    cache = as_items(cache, L, "the cache it returns", f"a list of {L} pairs (A_prev, Z)")
    for k, (entry, (A_ref, Z_ref)) in enumerate(zip(cache, cache_ref)):
        A, Z = as_arrays(entry, [A_ref.shape, Z_ref.shape], f"cache[{k}]", ["A_prev", "Z"])
        assert_close(A, A_ref, f"cache[{k}][0] (layer {k + 1}'s input)", "Keras's", 1e-12 * (1 + max_abs(A_ref)))
        assert_close(Z, Z_ref, f"cache[{k}][1]", "Keras's pre-activation", 1e-12 * (1 + max_abs(Z_ref)), like=[
            (np.maximum(Z_ref, 0.0), f"holds layer {k + 1}'s output after the ReLU: backpropagation needs its input")])


VISIBLE = [(normal(1, (8, 4)), network_from(np.random.default_rng(2), [4, 6, 5, 3]), one_hot(3, 8, 3)),
           (normal(4, (5, 3)), network_from(np.random.default_rng(5), [3, 4, 2]), one_hot(6, 5, 2))]


def hidden_networks(rng):
    """One example, no hidden layer, huge logits, four hidden layers, exact zeros, random sizes."""
    cases = [(rng.normal(scale=scale, size=(m, sizes[0])), [p * scale for p in network_from(rng, sizes, bias)])
             for m, sizes, scale, bias in [(1, [3, 1, 2], 1, 0.1), (6, [5, 3], 1, 0.1), (10, [4, 7, 5], 30, 0.1),
                                           (16, [2, 8, 8, 8, 8, 2], 1, 0.1), (6, [3, 5, 4, 2], 1, 0.0),
                                           (rng.integers(2, 30), [4, rng.integers(1, 12), 6], 1, 0.1)]]
    cases[4][0][int(rng.integers(0, 6))] = 0.0      # zero biases and inputs
    return [(X, params, one_hot(rng, len(X), params[-1].shape[0])) for X, params in cases]


TASKS.task("forward", 1, check_forward, VISIBLE, hidden_networks)


def check_backward(student, X, params, Y):
    (P, cache), m, L, what = keras_pass(X, params), len(X), len(params) // 2, "backward(P, Y, params, cache)"
    names = [f"d{'Wb'[k % 2]}{k // 2 + 1}" for k in range(2 * L)]
    grads = as_items(student.call("backward", P, Y, params, cache), 2 * L, what, f"a list of {2 * L} gradients {names}")
    shapes = [np.shape(g) for g in grads]
    last_first = [p.shape for k in range(L - 1, -1, -1) for p in params[2 * k:2 * k + 2]]
    if shapes != [p.shape for p in params] and shapes == last_first:
        raise Failed("your gradients come last layer first: return them in the order of params")
    got, right = flat(*as_arrays(grads, [p.shape for p in params], what, names)), flat(*keras_pass(X, params, Y))
    assert_close(got, right, "your gradients", "tf.GradientTape's", 1e-12 * (1 + max_abs(right)),
                 [(m, f"are all m={m} times too large: look at where the batch mean enters")], lambda: [
                     (flat(*keras_pass(X, params, Y, "none")), "are those of a network without its ReLUs: "
                      "backpropagate through each hidden ReLU"),
                     (flat(*keras_pass(X, params, Y, ">=")), "differ only where a pre-activation is exactly 0: "
                      "TensorFlow, like this course, takes the ReLU's slope at 0 to be 0")])


TASKS.task("backward", 2, check_backward, VISIBLE, hidden_networks)


def check_training(student, X, y, params, rate, steps):
    """train_mlp's weights against Keras's after as many full-batch steps."""
    def replay(r, n):
        return flat(*descent(X, y, params, ["relu"] * (len(params) // 2 - 1) + ["softmax"], r, n))
    return expect_trained(student, "train_mlp", (X, y, params, rate, steps), [p.shape for p in params], replay, rate,
                          steps, "Keras's full-batch descent (do Tasks 1, 2 pass? does each step update all arrays?)",
                          1e-7, lambda: [(flat(*params), "returned the weights it was given, untrained")], len(y))


def check_experiment(student, rng):
    m_train = int(rng.integers(950, 1050))
    hidden, rate, steps = as_items(student.call("architecture"), 3, "architecture()")
    if not isinstance(hidden, (list, tuple)) or not hidden:
        raise Failed(f"architecture()'s hidden layers should be a list of positive ints, not {hidden!r}")
    sizes = [64, *(as_number(h, "a hidden layer's width in architecture()", whole=True) for h in hidden), 10]
    count = sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))
    if count > MAX_PARAMETERS:
        raise Failed(f"architecture() describes a network of {count} parameters, over the limit of {MAX_PARAMETERS}")
    rate = as_number(rate, "the learning rate architecture() returns")
    steps = as_number(steps, "the steps architecture() returns", whole=True, low=1, high=BUDGET)
    X, y, X_val, y_val = disguise(rng, *digits(int(rng.integers(2 ** 31)), m_train, 1797 - m_train))
    params = check_training(student, X, y, network_from(rng, sizes, bias=0.0), float(rate), steps)
    accuracy = float(np.mean(np.argmax(keras_pass(X_val, params)[0], axis=1) == y_val))
    if accuracy < TARGET:
        raise Failed(f"trained on {m_train} digits as architecture() says, your network is right on {accuracy:.3f} of "
                     f"{len(y_val)} other digits, below the target {TARGET}: compare settings on a split of your own")


def small_network(rng, m, sizes):
    """X, y and params of a small network."""
    return rng.uniform(size=(m, sizes[0])), rng.integers(0, sizes[-1], size=m), network_from(rng, sizes)


SMALL = small_network(np.random.default_rng(7), 12, [5, 4, 3])
TASKS.task("training", 3, check_training, [(*SMALL, 0.5, 1), (*SMALL, 0.5, 3)], lambda rng: [
    (*small_network(rng, int(rng.integers(5, 30)), [4, int(rng.integers(1, 8)), 3, 2]), rng.uniform(0.1, 2.0),
     int(rng.integers(2, 9))),
    (*small_network(rng, 4, [3, 2, 2]), 1.0, 0)], check_experiment)


run = TASKS.run
report = TASKS.report
