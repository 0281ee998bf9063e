"""Keras twins of scratchnn objects: the same layers with the same weights, for side-by-side checks.

    from course_tools.twins import keras_layer, keras_twin
    theirs = keras_twin(ours)           # a keras.Sequential twin of a built scratchnn Sequential
    k_dense = keras_layer(dense)        # a built keras Dense twin of a built scratchnn Dense

The twin computes in the dtype of the scratchnn weights (float64 for the exact comparisons of the
lessons and tests) and starts from a copy of them, so both libraries begin at the same point.
"""

from course_tools.keras_setup import keras
from course_tools.tied import DenseTranspose
from scratchnn import layers, regularizers


def keras_layer(layer, build=True, twins=None):
    """The Keras layer of the same name and settings as a scratchnn layer, with a copy of its weights
    (with build=True the layer must be built; the Keras twin is then built too).

    A DenseTranspose's twin is tied to the twin of its Dense: `twins` maps id(scratchnn layer) to
    the Keras twins made so far (keras_twin passes it); without it, a new twin of the Dense is made.
    """
    dtype = _dtype(layer.weights)
    if isinstance(layer, layers.DenseTranspose):
        twin = _dense_transpose_twin(layer, build, twins, dtype)
    elif isinstance(layer, layers.Dense):
        twin = keras.layers.Dense(layer.units, activation=layer.activation, dtype=dtype,
                                  kernel_regularizer=_keras_regularizer(layer.kernel_regularizer))
    elif isinstance(layer, layers.Dropout):
        twin = keras.layers.Dropout(layer.rate, seed=layer.seed, dtype=dtype)
    elif isinstance(layer, layers.BatchNormalization):
        twin = keras.layers.BatchNormalization(momentum=layer.momentum, epsilon=layer.epsilon, dtype=dtype)
    elif isinstance(layer, layers.LeakyReLU):
        twin = keras.layers.LeakyReLU(negative_slope=layer.kwargs["negative_slope"], dtype=dtype)
    elif isinstance(layer, layers.Activation):
        if layer.kwargs:
            raise ValueError(f"No Keras twin for Activation({layer.activation!r}, **{layer.kwargs}): "
                             "keras.layers.Activation takes no arguments for its function.")
        twin = keras.layers.Activation(layer.activation, dtype=dtype)
    else:
        raise ValueError(f"No Keras twin is defined for a {type(layer).__name__} layer.")
    if build and layer.weights and not isinstance(layer, layers.DenseTranspose):
        twin.build((None, layer.weights[0].shape[0]))
        twin.set_weights(layer.get_weights())
    if twins is not None:
        twins[id(layer)] = twin
    return twin


def _dense_transpose_twin(layer, build, twins, dtype):
    """course_tools.tied.DenseTranspose tied to the Keras twin of `layer.dense` (made if not in `twins`)."""
    dense = (twins or {}).get(id(layer.dense))
    if dense is None:
        dense = keras_layer(layer.dense, build=build)
    twin = DenseTranspose(dense, activation=layer.activation, dtype=dtype)
    if build and layer.built:
        twin.build((None, layer.dense.units))
        twin.bias.assign(layer.bias)          # its own weight only: the kernel is the Dense twin's
    return twin


def keras_twin(model):
    """A keras.Sequential with the same layers and weights as a built scratchnn Sequential."""
    if not model.built:
        raise ValueError("Build the scratchnn model first, e.g. model.build((None, n_features)).")
    dtype = _dtype(model.get_weights())
    twins = {}
    twin = keras.Sequential([keras.Input(shape=model.input_shape[1:], dtype=dtype)]
                            + [keras_layer(layer, build=False, twins=twins) for layer in model.layers])
    twin.set_weights(model.get_weights())
    return twin


def _dtype(weights):
    return str(weights[0].dtype) if weights else "float64"


def _keras_regularizer(regularizer):
    if regularizer is None:
        return None
    if isinstance(regularizer, regularizers.L2):
        return keras.regularizers.L2(regularizer.l2)
    raise ValueError(f"No Keras twin is defined for the regularizer {regularizer!r}.")
