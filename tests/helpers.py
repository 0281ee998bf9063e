"""Small helpers shared by the library tests: Keras gradients and random data."""
import numpy as np

from course_tools.keras_setup import tf


def keras_gradients(fn, *arrays):
    """Value of the scalar `fn(*tensors)` and its gradients w.r.t. every array, with tf.GradientTape (float64)."""
    tensors = [tf.Variable(np.asarray(a, dtype=np.float64)) for a in arrays]
    with tf.GradientTape() as tape:
        value = fn(*tensors)
    return value.numpy(), [g.numpy() for g in tape.gradient(value, tensors)]


def random_probabilities(rng, m, n):
    """(m, n) rows of probabilities summing to 1."""
    p = rng.uniform(0.05, 1.0, size=(m, n))
    return p / p.sum(axis=1, keepdims=True)


def one_hot(labels, n):
    return np.eye(n)[labels]
