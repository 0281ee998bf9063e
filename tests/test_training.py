"""Whole training runs: a softmax classifier and a logistic unit trained by scratchnn and by Keras
(tf.GradientTape + keras.optimizers.SGD) from the same weights end with the same weights."""
import numpy as np
import pytest
from sklearn.datasets import load_iris

from course_tools.keras_setup import keras, tf
from course_tools.twins import keras_layer
from scratchnn import initializers, layers, losses, optimizers


def train_both(x, y, units, activation, ours_loss, keras_loss, steps=25, learning_rate=0.5, seed=0):
    """Full-batch gradient descent on one Dense layer in both libraries; returns both layers and the
    (scratchnn, keras) loss of every step. learning_rate must be exact in float32 (Keras stores it so)."""
    dense = layers.Dense(units, activation=activation, kernel_initializer=initializers.GlorotUniform(seed))
    dense.forward(x)
    twin = keras_layer(dense)
    sgd, keras_sgd = optimizers.SGD(learning_rate), keras.optimizers.SGD(learning_rate)
    history = []
    for _ in range(steps):
        p = dense.forward(x)
        ours_value = ours_loss(y, p)
        dense.backward(ours_loss.gradient(y, p))
        sgd.apply(dense.grads, dense.trainable_weights)
        with tf.GradientTape() as tape:
            value = keras_loss(y, twin(x))
        keras_sgd.apply(tape.gradient(value, twin.trainable_variables), twin.trainable_variables)
        history.append((ours_value, float(value)))
    return dense, twin, np.array(history)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_softmax_classifier_on_iris(seed):
    features, labels = load_iris(return_X_y=True)
    x = (features - features.mean(0)) / features.std(0)
    y = np.eye(3)[labels]
    dense, twin, history = train_both(x, y, 3, "softmax", losses.CategoricalCrossentropy(),
                                      keras.losses.CategoricalCrossentropy(dtype="float64"), seed=seed)
    np.testing.assert_allclose(history[:, 0], history[:, 1], rtol=1e-10)
    for ours, theirs in zip(dense.get_weights(), twin.get_weights()):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)
    assert history[-1, 0] < 0.5 * history[0, 0]   # it learned


def test_logistic_unit_with_sparse_labels_shape():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 2))
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(float)  # shape (m,), next to predictions (m, 1)
    dense, twin, history = train_both(x, y, 1, "sigmoid", losses.BinaryCrossentropy(),
                                      keras.losses.BinaryCrossentropy(dtype="float64"))
    np.testing.assert_allclose(history[:, 0], history[:, 1], rtol=1e-10)
    np.testing.assert_allclose(dense.kernel, twin.kernel.numpy(), rtol=1e-9)
