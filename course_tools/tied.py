"""Tied weights and a masked loss in Keras 3: the twins of scratchnn's DenseTranspose and
MaskedMeanSquaredError, for chapter 9 (tied_weights.ipynb, recommender.ipynb).

    from course_tools.tied import DenseTranspose, masked_mse
    encoder = keras.layers.Dense(16, activation="relu")
    model = keras.Sequential([keras.Input(shape=(64,)), encoder, DenseTranspose(encoder, activation="sigmoid")])
    model.compile(optimizer="adam", loss=masked_mse)     # masked_mse: for targets with NaN gaps

Keras has neither built in. The tied layer keeps its Dense as an attribute, so Keras tracks that
Dense as a sublayer of it too: `model.weights` lists each variable once, in the order
[dense kernel, dense bias, tied bias] (the Dense first, where the model meets it), which is the
order of scratchnn's `model.get_weights()`, so `set_weights` copies both ways.
"""
from course_tools.keras_setup import keras

ops = keras.ops


class DenseTranspose(keras.layers.Layer):
    """y = activation(x @ dense.kernel.T + bias): a decoder layer that reuses an encoder Dense's kernel.

    Shapes: x (m, units) -> y (m, d), where dense.kernel is (d, units); its own bias (d,), zeros.
    The kernel is read at every call (`ops.transpose(self.dense.kernel)`), so there is one kernel
    variable, used twice, and the tape sums the gradients of both uses. The Dense must be built
    first (earlier in the model). Taught in chapter 9 (tied_weights.ipynb).
    """

    def __init__(self, dense, activation=None, **kwargs):
        if not isinstance(dense, keras.layers.Dense):
            raise ValueError(f"DenseTranspose must be tied to a keras.layers.Dense; got {type(dense).__name__}.")
        super().__init__(**kwargs)
        self.dense = dense
        self.activation = keras.activations.get(activation)

    def build(self, input_shape):
        if not self.dense.built:
            raise ValueError(f"DenseTranspose {self.name!r}: its Dense {self.dense.name!r} is not built yet; "
                             "put the Dense earlier in the model.")
        if input_shape[-1] != self.dense.units:
            raise ValueError(f"DenseTranspose {self.name!r} expects inputs with {self.dense.units} features "
                             f"(the units of Dense {self.dense.name!r}); got shape {tuple(input_shape)}.")
        self.bias = self.add_weight(name="bias", shape=(self.dense.kernel.shape[0],), initializer="zeros")

    def call(self, inputs):
        return self.activation(ops.matmul(inputs, ops.transpose(self.dense.kernel)) + self.bias)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.dense.kernel.shape[0],)

    def count_params(self):
        """The bias only. (Keras's default counts `self.weights`, which include the tracked Dense's
        kernel and bias: its row in `summary()` would count again what the Dense's row counts.)"""
        return int(self.bias.shape[0])


def masked_mse(y_true, y_pred):
    """Mean of (y_pred - y_true)**2 over the entries where y_true is not NaN, over the whole batch.

    The NaNs are replaced before any arithmetic (a NaN that reaches the squared difference would
    make its gradient NaN, even multiplied by 0). A batch with nothing given gives 0 (scratchnn's
    MaskedMeanSquaredError raises a ValueError instead). Returns a scalar, which Keras's default
    reduction leaves as it is. Taught in chapter 9 (recommender.ipynb).
    """
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.cast(y_true, y_pred.dtype)
    given = ops.logical_not(ops.isnan(y_true))
    diff = ops.where(given, y_pred - ops.where(given, y_true, ops.zeros_like(y_true)), ops.zeros_like(y_pred))
    n_given = ops.sum(ops.cast(given, y_pred.dtype))
    return ops.sum(ops.square(diff)) / ops.maximum(n_given, 1)
