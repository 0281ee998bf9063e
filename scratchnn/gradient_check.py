"""Numerical gradient checking: compare a hand-written backward pass with central differences.

    df/dx_i ~ (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)      error O(eps^2)

Run it in float64: in float32 the rounding error of f swamps the difference quotient.
"""
import numpy as np

from ._checks import as_float_array


def numerical_gradient(f, x, epsilon=1e-6):
    """Central-difference gradient of the scalar function `f()` with respect to the array `x`.

    `x` is perturbed in place, one entry at a time, and restored; `f` must read it. Shape of x.
    Taught in chapter 2 (backprop.ipynb).
    """
    if not (isinstance(x, np.ndarray) and x.dtype == np.float64):
        raise ValueError(f"numerical_gradient needs a float64 array (perturbed in place); got "
                         f"{type(x).__name__} of dtype {getattr(x, 'dtype', None)}.")
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + epsilon
        f_plus = f()
        x[index] = original - epsilon
        f_minus = f()
        x[index] = original
        grad[index] = (f_plus - f_minus) / (2 * epsilon)
    return grad


def relative_error(analytic, numeric):
    """||a - n|| / (||a|| + ||n||): about 1e-8 or less when a float64 backward pass is right."""
    analytic, numeric = as_float_array(analytic, "analytic"), as_float_array(numeric, "numeric")
    if analytic.shape != numeric.shape:
        raise ValueError(f"relative_error: shapes differ: {analytic.shape} and {numeric.shape}.")
    scale = np.linalg.norm(analytic) + np.linalg.norm(numeric)
    return 0.0 if scale == 0 else float(np.linalg.norm(analytic - numeric) / scale)


def check_gradients(layer, x, seed=0, epsilon=1e-6):
    """Relative error of `layer.backward` for the input and for each trainable weight.

    `layer` is a layer or a model (anything with forward, backward, trainable_weights, weight_names,
    grads and losses), run in training mode, which must then be deterministic (a ValueError says so
    for Dropout). Uses the scalar L = sum(layer(x) * R) + penalties for a fixed random R, so that
    dL/dy = R reaches every output. Returns {"input": error, "kernel": error, "bias": error, ...}.
    """
    x = as_float_array(x, "x")
    if x.dtype != np.float64:
        raise ValueError(f"check_gradients needs float64 inputs; got {x.dtype}.")
    x = x.copy()
    y = layer.forward(x, training=True)
    if not np.array_equal(y, layer.forward(x, training=True)):
        raise ValueError("check_gradients: two forward passes in training mode on the same x gave different "
                         "outputs, so central differences would compare different functions and report errors "
                         "near 1 that mean nothing. A Dropout layer does this: it draws a new mask at every "
                         "pass. Check the model without its Dropout layers (or with rate=0).")
    upstream = np.random.default_rng(seed).normal(size=y.shape)

    def scalar_loss():
        return float(np.sum(layer.forward(x, training=True) * upstream))

    layer.forward(x, training=True)
    report = {"input": relative_error(layer.backward(upstream), numerical_gradient(scalar_loss, x, epsilon))}
    analytic = layer.grads
    penalty = lambda: sum(layer.losses)  # a regularized layer's grads include its penalty  # noqa: E731
    for name, weight, grad in zip(layer.weight_names, layer.trainable_weights, analytic):
        numeric = numerical_gradient(lambda: scalar_loss() + penalty(), weight, epsilon)
        report[name] = relative_error(grad, numeric)
    return report


def check_loss(loss, y_true, y_pred, epsilon=1e-6):
    """Relative error of `loss.gradient` against central differences of `loss(y_true, y_pred)`."""
    y_pred = as_float_array(y_pred, "y_pred").astype(np.float64, copy=True)
    numeric = numerical_gradient(lambda: loss(y_true, y_pred), y_pred, epsilon)
    return relative_error(loss.gradient(y_true, y_pred), numeric)

