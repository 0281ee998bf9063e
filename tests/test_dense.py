"""scratchnn.layers.Dense against keras.layers.Dense: forward, backward, regularization, weights, errors."""
import numpy as np
import pytest

from course_tools.keras_setup import keras, tf
from course_tools.twins import keras_layer
from scratchnn import layers, regularizers
from scratchnn.gradient_check import check_gradients

# leaky_relu is left out of the float64 comparisons: TensorFlow keeps its slope in float32 (see
# test_activations.as_keras_computes); its backward pass is covered by the gradient check below.
ACTIVATIONS = [None, "sigmoid", "tanh", "relu", "softmax", "linear"]


def keras_layer_gradients(layer, x, upstream):
    """Gradients of sum(layer(x) * upstream) + layer.losses w.r.t. x and every trainable weight."""
    x = tf.Variable(x)
    with tf.GradientTape() as tape:
        scalar = tf.reduce_sum(layer(x) * upstream) + sum(layer.losses)
    return [g.numpy() for g in tape.gradient(scalar, [x] + layer.trainable_variables)]


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_forward_and_backward_match_keras(activation, seed):
    rng = np.random.default_rng(seed)
    m, d, units = (int(v) for v in rng.integers(1, 9, size=3))
    x, dense = rng.normal(size=(m, d)), layers.Dense(units, activation=activation)
    dense.set_weights([rng.normal(size=(d, units)), rng.normal(size=units)])  # non-zero bias too
    y = dense.forward(x)
    twin = keras_layer(dense)
    upstream = rng.normal(size=y.shape)
    d_x, d_kernel, d_bias = keras_layer_gradients(twin, x, upstream)
    np.testing.assert_allclose(y, twin(tf.constant(x)).numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(dense.backward(upstream), d_x, rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(dense.grads[0], d_kernel, rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(dense.grads[1], d_bias, rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("activation", ACTIVATIONS + ["leaky_relu"])
def test_backward_passes_the_gradient_check(activation):
    x = np.random.default_rng(5).normal(size=(6, 4))
    report = check_gradients(layers.Dense(3, activation=activation, kernel_initializer="he_normal"), x)
    assert set(report) == {"input", "kernel", "bias"}
    assert max(report.values()) < 1e-7, report


def test_gradient_check_catches_a_wrong_backward():
    class ForgetsTheActivation(layers.Dense):
        def backward(self, grad_output):
            x, _, _ = self._cached()
            self.grads = [x.T @ grad_output, grad_output.sum(axis=0)]
            return grad_output @ self.kernel.T

    report = check_gradients(ForgetsTheActivation(3, activation="sigmoid"),
                             np.random.default_rng(0).normal(size=(4, 2)))
    assert min(report.values()) > 1e-2, report


def test_l2_regularizer_matches_keras():
    # Keras's TensorFlow backend turns the Python float l2 into a float32 tensor before casting it
    # to the weights' dtype, so its factor is float32(0.03); we give scratchnn the same number.
    l2 = float(np.float32(0.03))
    rng = np.random.default_rng(8)
    x = rng.normal(size=(5, 4))
    dense = layers.Dense(3, activation="tanh", kernel_regularizer=regularizers.L2(l2))
    dense.set_weights([rng.normal(size=(4, 3)), rng.normal(size=3)])
    y = dense.forward(x)
    twin = keras_layer(dense)
    upstream = rng.normal(size=y.shape)
    _, d_kernel, _ = keras_layer_gradients(twin, x, upstream)
    dense.backward(upstream)
    np.testing.assert_allclose(dense.losses[0], float(twin.losses[0]), rtol=1e-12)
    np.testing.assert_allclose(dense.grads[0], d_kernel, rtol=1e-11)
    assert check_gradients(dense, x)["kernel"] < 1e-7


def test_weights_copy_both_ways_in_keras_order():
    theirs = keras.layers.Dense(4, dtype="float64")
    theirs.build((None, 3))
    ours = layers.Dense(4)
    ours.set_weights(theirs.get_weights())          # builds from the kernel's shape
    assert [w.shape for w in ours.get_weights()] == [(3, 4), (4,)]
    ours.set_weights([np.arange(12.0).reshape(3, 4), np.ones(4)])
    theirs.set_weights(ours.get_weights())
    np.testing.assert_array_equal(theirs.get_weights()[0], np.arange(12.0).reshape(3, 4))
    assert ours.count_params() == theirs.count_params() == 16


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_weights_and_outputs_take_the_input_dtype(dtype):
    dense = layers.Dense(2, activation="relu")
    y = dense.forward(np.ones((3, 5), dtype=dtype))
    assert y.dtype == dense.kernel.dtype == dense.bias.dtype == dtype
    dense.backward(np.ones_like(y))
    assert all(g.dtype == dtype for g in dense.grads)


def test_errors_name_the_shapes():
    dense = layers.Dense(2)
    dense.forward(np.ones((3, 5)))
    with pytest.raises(ValueError, match=r"with 5 features \(kernel shape \(5, 2\)\); got x with shape \(3, 4\)"):
        dense.forward(np.ones((3, 4)))
    with pytest.raises(ValueError, match=r"\(batch_size, features\).*got x with shape \(5,\)"):
        dense.forward(np.ones(5))
    with pytest.raises(ValueError, match=r"expects inputs of shape \(batch_size, features\); got shape \(5,\)"):
        layers.Dense(2).forward(np.ones(5))         # not built yet: the shape cannot build it
    with pytest.raises(ValueError, match=r"grad_output has shape \(3, 3\).*\(3, 2\)"):
        dense.backward(np.ones((3, 3)))
    with pytest.raises(ValueError, match=r"weight 0: expected shape \(5, 2\); got shape \(2, 5\)"):
        dense.set_weights([np.ones((2, 5)), np.ones(2)])
    with pytest.raises(RuntimeError, match="call forward before backward"):
        layers.Dense(2).backward(np.ones((1, 2)))
    with pytest.raises(ValueError, match="units must be a positive integer"):
        layers.Dense(0)
    with pytest.raises(ValueError, match="Unknown activation"):
        layers.Dense(2, activation="softplus2")


def test_activation_layer_matches_keras_and_gradient_check():
    x = np.random.default_rng(2).normal(size=(4, 3))
    layer = layers.Activation("tanh")
    np.testing.assert_allclose(layer.forward(x), keras.layers.Activation("tanh", dtype="float64")(x).numpy())
    assert check_gradients(layer, x)["input"] < 1e-7


@pytest.mark.parametrize("negative_slope", [None, 0.25])   # None: the layer's default, 0.3
def test_leaky_relu_layer_matches_keras(negative_slope):
    x = np.random.default_rng(3).normal(size=(5, 4))
    kwargs = {} if negative_slope is None else {"negative_slope": negative_slope}
    ours, theirs = layers.LeakyReLU(**kwargs), keras.layers.LeakyReLU(dtype="float64", **kwargs)
    assert ours.kwargs["negative_slope"] == theirs.negative_slope
    # Keras keeps the slope in float32: 0.3 differs from float32(0.3) by 1.2e-8 relative; 0.25 is exact.
    np.testing.assert_allclose(ours.forward(x), theirs(x).numpy(), rtol=1e-7 if negative_slope is None else 1e-15)
    assert check_gradients(ours, x)["input"] < 1e-7
    with pytest.raises(ValueError, match="negative_slope must be a number >= 0"):
        layers.LeakyReLU(-0.1)
