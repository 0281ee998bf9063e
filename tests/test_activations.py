"""scratchnn.activations against keras.activations: values, derivatives, dtypes, extreme inputs."""
import warnings

import numpy as np
import pytest

from course_tools.keras_setup import keras, tf
from scratchnn import activations
from tests.helpers import keras_gradients

NAMES = ["sigmoid", "tanh", "relu", "leaky_relu", "softmax", "linear"]


def keras_activation(name):
    return getattr(keras.activations, name)


def as_keras_computes(name):
    """Keyword arguments that make scratchnn compute exactly what Keras does. TensorFlow stores
    leaky_relu's slope 0.2 as a float32 attribute (0.2000000029...), even for float64 tensors."""
    return {"negative_slope": float(np.float32(0.2))} if name == "leaky_relu" else {}


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_values_match_keras(name, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(scale=5, size=(int(rng.integers(1, 9)), int(rng.integers(1, 7))))
    x[0, 0] = 0.0  # the kink of relu and leaky relu
    ours = activations.get(name)(x, **as_keras_computes(name))
    theirs = keras_activation(name)(tf.constant(x)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("seed", [0, 1])
def test_backward_matches_gradient_tape(name, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(scale=3, size=(5, 4))
    x[1, 2] = 0.0
    upstream = rng.normal(size=x.shape)
    _, (expected,) = keras_gradients(lambda t: tf.reduce_sum(keras_activation(name)(t) * upstream), x)
    y = activations.get(name)(x)
    ours = activations.backward(name)(x, y, upstream, **as_keras_computes(name))
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", [n for n in NAMES if n != "softmax"])
def test_derivative_on_a_grid(name):
    x = np.linspace(-6, 6, 241)  # includes 0 exactly
    _, (expected,) = keras_gradients(lambda t: tf.reduce_sum(keras_activation(name)(t)), x)
    np.testing.assert_allclose(activations.derivative(name, x, **as_keras_computes(name)), expected,
                               rtol=1e-12, atol=1e-15)


def test_kink_conventions():
    """TensorFlow's choices at 0: relu'(0) = 0 and leaky_relu'(0) = negative_slope."""
    assert activations.derivative("relu", np.array([0.0]))[0] == 0.0
    assert activations.derivative("leaky_relu", np.array([0.0]))[0] == pytest.approx(0.2)


def test_leaky_relu_slope_argument():
    x = np.array([-2.0, 3.0])
    np.testing.assert_allclose(activations.leaky_relu(x, negative_slope=0.3),
                               keras.activations.leaky_relu(tf.constant(x), negative_slope=0.3).numpy())


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept(name, dtype):
    assert activations.get(name)(np.ones((2, 3), dtype=dtype)).dtype == dtype


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "softmax"])
def test_extreme_inputs_give_no_warning_and_no_nan(name):
    x = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
            y = activations.get(name)(x)
    assert np.all(np.isfinite(y))
    np.testing.assert_allclose(y, keras_activation(name)(tf.constant(x)).numpy(), atol=1e-15)


def test_softmax_rows_sum_to_one():
    y = activations.softmax(np.random.default_rng(0).normal(scale=50, size=(20, 7)))
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-14)


def test_unknown_name_and_bad_input_are_named():
    with pytest.raises(ValueError, match="Unknown activation 'relu6'"):
        activations.get("relu6")
    with pytest.raises(ValueError, match="must contain numbers"):
        activations.relu(np.array(["a", "b"]))
    with pytest.raises(ValueError, match="not elementwise"):
        activations.derivative("softmax", np.zeros(3))
