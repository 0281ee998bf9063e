"""Per-layer diagnostics of a scratchnn ``Sequential``: gradient norms, pre-activations, dead ReLU units.

Used by the lesson on vanishing gradients (chapter 3, activations.ipynb) and, for the
pre-activations, by chapter 5 (symmetry_and_depth.ipynb)::

    p = model.forward(x)
    model.backward(loss.gradient(y, p))
    kernel_gradient_norms(model)     # {"dense": 1.0e-06, "dense_1": 1.4e-06, ...}
    pre_activations(model, x)        # {"dense": Z (m, units), ...}
    dead_fraction(model, x)          # {"dense": 0.0, ..., "dense_4": 1.0, ...}

They read only the public API: the model's ``weight_names``, ``grads``, ``layers`` and ``forward``,
and each Dense layer's ``pre_activation``.
"""
import numpy as np

from scratchnn.layers import Dense


def kernel_gradient_norms(model):
    """||dL/dW^l|| (Frobenius norm) of every Dense kernel, from the model's last backward pass.

    Returns ``{layer name: norm}`` in layer order. Call it after ``model.backward(...)``.
    Taught in chapter 3 (activations.ipynb).
    """
    norms = {}
    for name, grad in zip(model.weight_names, model.grads):
        layer_name, weight = name.rsplit("/", 1)
        if weight == "kernel":
            norms[layer_name] = float(np.linalg.norm(grad))
    if not norms:
        raise ValueError("No kernel gradients yet: run model.backward(...) after a forward pass first.")
    return norms


def pre_activations(model, x):
    """The pre-activations Z^l = A^(l-1) W^l + b^l, shape (m, units), of every Dense layer for inputs x (m, d).

    Returns ``{layer name: Z}`` in layer order. Runs a forward pass (so the layers' caches now hold x).
    Taught in chapter 3 (activations.ipynb) and chapter 5 (symmetry_and_depth.ipynb).
    """
    model.forward(x)
    return {layer.name: layer.pre_activation for layer in model.layers if isinstance(layer, Dense)}


def dead_fraction(model, x):
    """Fraction of the units of each Dense layer whose pre-activation is <= 0 on every row of x.

    For a ReLU layer these units output 0 for all of x and pass back no gradient: they are dead on
    this data. (Leaky ReLU units in that state still pass negative_slope times the gradient.)
    Returns ``{layer name: fraction in [0, 1]}``. Taught in chapter 3 (activations.ipynb).
    """
    return {name: float(np.mean(np.all(z <= 0, axis=0))) for name, z in pre_activations(model, x).items()}
