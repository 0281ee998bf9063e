"""Reference answers and inputs for the checks: Keras, tf.GradientTape, finite differences.

They run in the trusted grader's process (and on the student's machine for the visible tests),
never in a grading kernel. Keras is imported at the first reference that needs it.
"""
import functools
import threading

import numpy as np

_KERAS_LOCK = threading.RLock()   # the grader runs several students' checks at once, in threads


def serialized(reference):
    """One Keras computation at a time (Keras keeps global state, such as layer names)."""
    @functools.wraps(reference)
    def locked(*args, **kwargs):
        with _KERAS_LOCK:
            return reference(*args, **kwargs)
    return locked


def keras_and_tf():
    """keras and tensorflow on the TensorFlow backend, imported without TensorFlow's start-up lines
    on stderr (course_tools.keras_setup): in a test cell they would read as an error, and make
    `nbgrader validate` fail correct work."""
    from course_tools.keras_setup import keras, tf
    return keras, tf


@serialized
def warm_up():
    """Import Keras and run one operation, so that the first check does not wait for it (the
    grader calls this in a thread while the first kernels start)."""
    keras_and_tf()[0].activations.softmax(np.zeros((1, 2)))


# --- inputs ------------------------------------------------------------------------------------

def normal(seed, shape, scale=1.0):
    """Seeded normal random numbers of the given shape (the visible tests' inputs)."""
    return np.random.default_rng(seed).normal(scale=scale, size=shape)


def one_hot(rng, m, n):
    """m random one-hot labels over n classes, shape (m, n), drawn from rng (a generator or a seed)."""
    return np.eye(n)[np.random.default_rng(rng).integers(0, n, size=m)]


# --- answers -----------------------------------------------------------------------------------

def digits(seed, n_train, n_val):
    """(x_train (n_train, 64), y_train, x_val (n_val, 64), y_val) of scikit-learn's digits, pixels
    divided by 16 (so in [0, 1]), labels 0 to 9, split by a permutation seeded with `seed`."""
    from sklearn.datasets import load_digits
    x, y = load_digits(return_X_y=True)
    order = np.random.default_rng(seed).permutation(len(x))
    train, val = order[:n_train], order[n_train:n_train + n_val]
    return x[train] / 16.0, y[train], x[val] / 16.0, y[val]


def float64_dense(params, activations):
    """A float64 keras.Sequential of Dense layers holding params [W1, b1, W2, b2, ...], with the
    given activations (names or functions, one per layer)."""
    keras, _ = keras_and_tf()
    model = keras.Sequential([keras.Input(shape=(params[0].shape[0],), dtype="float64")] + [
        keras.layers.Dense(W.shape[1], activation=activation, dtype="float64")
        for W, activation in zip(params[::2], activations)])
    model.set_weights([np.asarray(p, dtype=float) for p in params])
    return model


# --- assignment 7 ------------------------------------------------------------------------------

@serialized
def l1l2_penalty(W, l1, l2):
    """keras.regularizers.L1L2(l1, l2)(W) and its gradient by tf.GradientTape, in float64."""
    keras, tf = keras_and_tf()
    variable = tf.Variable(W)
    with tf.GradientTape() as tape:
        value = keras.regularizers.L1L2(l1=l1, l2=l2)(variable)
    grad = tape.gradient(value, variable)
    return float(value.numpy()), np.zeros(W.shape) if grad is None else grad.numpy()


@serialized
def normalization_gradients(layer, Z, gamma, beta, dY, epsilon):
    """dL/dZ, dL/dgamma, dL/dbeta of L = sum(N(Z) * dY), by tf.GradientTape, N a float64
    keras.layers.<layer>(epsilon) ("LayerNormalization", or "BatchNormalization" in training mode)
    holding gamma and beta."""
    keras, tf = keras_and_tf()
    N = getattr(keras.layers, layer)(epsilon=epsilon, dtype="float64")
    N.build((None, Z.shape[1]))
    N.set_weights([gamma, beta, np.zeros(Z.shape[1]), np.ones(Z.shape[1])][:len(N.weights)])
    Z = tf.Variable(Z)
    with tf.GradientTape() as tape:
        scalar = tf.reduce_sum(N(Z, training=True) * dY)
    return [g.numpy() for g in tape.gradient(scalar, [Z, N.gamma, N.beta])]


@serialized
def dense_then_batchnorm(X, W, b, batchnorm_weights, epsilon):
    """The output for X of float64 keras.layers.Dense(W, b) then BatchNormalization(epsilon) in
    inference mode, holding batchnorm_weights = (gamma, beta, moving_mean, moving_variance)."""
    keras, _ = keras_and_tf()
    model = keras.Sequential([keras.Input(shape=(W.shape[0],), dtype="float64"),
                              keras.layers.Dense(W.shape[1], dtype="float64"),
                              keras.layers.BatchNormalization(epsilon=epsilon, dtype="float64")])
    model.set_weights([W, b, *batchnorm_weights])
    return model(X, training=False).numpy()


@serialized
def descent(X, y, params, activations, learning_rate, steps, l2=0.0, biases_too=False):
    """[W1, b1, ...] after `steps` full-batch steps of gradient descent (keras.optimizers.SGD without
    momentum) on Keras's objective for float64 Dense layers holding params with the given
    activations: the mean sparse categorical cross-entropy plus keras.regularizers.L2(l2) on every
    kernel (l2 may be a tuple, one value per layer; biases_too: on the biases as well).
    Gradients by tf.GradientTape."""
    keras, tf = keras_and_tf()
    l2 = l2 if isinstance(l2, tuple) else (l2,) * len(activations)
    model = float64_dense(params, activations)
    penalized = [(keras.regularizers.L2(value), weight) for value, layer in zip(l2, model.layers) if value
                 for weight in layer.trainable_weights[:1 + biases_too]]
    loss = keras.losses.SparseCategoricalCrossentropy(dtype="float64")
    X, y = tf.constant(X), tf.constant(y)
    for _ in range(steps):
        with tf.GradientTape() as tape:
            objective = loss(y, model(X)) + sum(penalty(weight) for penalty, weight in penalized)
        for variable, grad in zip(model.trainable_variables, tape.gradient(objective, model.trainable_variables)):
            variable.assign_sub(learning_rate * grad)
    return model.get_weights()
