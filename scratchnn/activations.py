"""Activation functions, NumPy in and NumPy out, with the names and defaults of `keras.activations`.

Each function keeps the input's floating dtype (float64 in gives float64 out). `backward(name)`
returns the function that carries a gradient back through an activation, and `derivative(name, x)`
gives the elementwise derivative for plots.
"""
import inspect

import numpy as np

from ._checks import as_float_array


def sigmoid(x):
    """1 / (1 + e^-x), computed without overflow for any x (e^-|x| never exceeds 1).

    Taught in chapter 1 (neuron.ipynb) and chapter 3 (activations.ipynb).
    """
    x = as_float_array(x)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def tanh(x):
    """Hyperbolic tangent, (e^x - e^-x) / (e^x + e^-x). Taught in chapter 3 (activations.ipynb)."""
    return np.tanh(as_float_array(x))


def relu(x):
    """max(x, 0). Taught in chapter 3 (activations.ipynb)."""
    x = as_float_array(x)
    return np.maximum(x, 0)


def leaky_relu(x, negative_slope=0.2):
    """x for x > 0, negative_slope * x otherwise (Keras's function default is 0.2; its layer's is 0.3).

    Taught in chapter 3 (activations.ipynb).
    """
    x = as_float_array(x)
    return np.where(x > 0, x, negative_slope * x).astype(x.dtype, copy=False)


def softmax(x, axis=-1):
    """e^x / sum(e^x) along `axis`. Subtracting the row maximum first changes nothing
    mathematically and keeps every exponent <= 0, so logits of +-1000 cannot overflow.

    Taught in chapter 1 (softmax_classifier.ipynb).
    """
    x = as_float_array(x)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def linear(x):
    """The identity: the output layer of a regression network, or "no activation".

    Taught in chapter 3 (regression.ipynb).
    """
    return as_float_array(x)


# Backward functions: given the input x, the output y = f(x) and dL/dy, return dL/dx.
# Derivatives at the kinks (x == 0) are those TensorFlow uses: relu'(0) = 0, leaky_relu'(0) = slope.

def _sigmoid_backward(x, y, grad):
    """dL/dx = dL/dy * y (1 - y), from the output. Taught in chapter 3 (activations.ipynb)."""
    return grad * y * (1 - y)


def _tanh_backward(x, y, grad):
    """dL/dx = dL/dy * (1 - y^2), from the output.

    Taught in chapter 2 (backprop.ipynb) and chapter 3 (activations.ipynb).
    """
    return grad * (1 - y * y)


def _relu_backward(x, y, grad):
    """dL/dx = dL/dy where x > 0, else 0 (relu'(0) = 0). Taught in chapter 3 (activations.ipynb)."""
    return grad * (x > 0)


def _leaky_relu_backward(x, y, grad, negative_slope=0.2):
    """dL/dx = dL/dy where x > 0, else negative_slope * dL/dy. Taught in chapter 3 (activations.ipynb)."""
    return np.where(x > 0, grad, negative_slope * grad)


def _softmax_backward(x, y, grad):
    """dL/dx from dL/dy through softmax's Jacobian, without building it.

    Taught in chapter 1 (softmax_classifier.ipynb) and chapter 2 (backprop.ipynb).
    """
    # Jacobian-vector product: dL/dx_i = y_i * (dL/dy_i - sum_j dL/dy_j * y_j), one row at a time.
    return y * (grad - np.sum(grad * y, axis=-1, keepdims=True))


def _linear_backward(x, y, grad):
    """dL/dx = dL/dy: the identity passes the gradient through. Taught in chapter 3 (regression.ipynb)."""
    return grad


_FUNCTIONS = {
    "sigmoid": (sigmoid, _sigmoid_backward),
    "tanh": (tanh, _tanh_backward),
    "relu": (relu, _relu_backward),
    "leaky_relu": (leaky_relu, _leaky_relu_backward),
    "softmax": (softmax, _softmax_backward),
    "linear": (linear, _linear_backward),
}


def _lookup(name):
    if name is None:
        name = "linear"
    if name not in _FUNCTIONS:
        raise ValueError(f"Unknown activation {name!r}. Known: {sorted(_FUNCTIONS)}.")
    return _FUNCTIONS[name]


def get(name):
    """The activation function called `name` (None means linear), as `keras.activations.get`."""
    return _lookup(name)[0]


def check_arguments(name, kwargs):
    """A ValueError now if the activation called `name` does not take the keyword arguments `kwargs`
    (e.g. Activation("relu", negative_slope=0.1)), rather than a TypeError at its first call."""
    parameters = list(inspect.signature(get(name)).parameters)[1:]       # all but x
    unknown = sorted(set(kwargs) - set(parameters))
    if unknown:
        raise ValueError(f"The activation {name!r} takes no argument {', '.join(map(repr, unknown))}; got {kwargs}. "
                         f"Its keyword arguments: {parameters or 'none'}.")


def backward(name):
    """The function `(x, y, grad_output) -> grad_input` of the activation called `name`."""
    return _lookup(name)[1]


def derivative(name, x, **kwargs):
    """Elementwise derivative f'(x) of an elementwise activation (not softmax), for plots and tests.

    `kwargs` go to the activation, e.g. derivative("leaky_relu", x, negative_slope=0.3).
    Taught in chapter 3 (activations.ipynb).
    """
    if name == "softmax":
        raise ValueError("softmax is not elementwise: its derivative is a Jacobian; use backward('softmax').")
    x = as_float_array(x)
    return backward(name)(x, get(name)(x, **kwargs), np.ones_like(x), **kwargs)
