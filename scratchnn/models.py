"""Models: a stack of layers with one forward and one backward pass (`Sequential`, as in Keras).

Backpropagation is a loop: the forward pass calls each layer in order, the backward pass hands the
gradient from the last layer to the first, each layer turning dL/d(output) into dL/d(input) and
keeping the gradients of its own weights. The training workflow (compile, fit, evaluate,
predict) comes from `Trainer` (trainer.py), as Keras's Model gets it from its Trainer.
"""
import numpy as np

from ._checks import as_float_array
from .layers import Layer
from .trainer import Trainer


class Sequential(Trainer):
    """A linear stack of layers: `Sequential([Dense(16, activation="relu"), Dense(3, activation="softmax")])`.

    The weights are built by the first call (`predict`, `forward` or `build((None, d))`), from the
    number of input features. `trainable_weights` and `grads` list every layer's, in order.
    Taught in chapter 2 (mlp.ipynb: forward; backprop.ipynb: backward).
    """

    def __init__(self, layers=None, name="sequential"):
        super().__init__()
        self.name = name
        self.layers = []
        self.input_shape = None     # (None, d), recorded by the first forward pass (or build)
        for layer in layers or []:
            self.add(layer)

    def add(self, layer):
        """Append a layer; its name is made unique within the model (dense, dense_1, ...)."""
        if not isinstance(layer, Layer):
            raise ValueError(f"Sequential.add expects a scratchnn layer; got {type(layer).__name__}. "
                             "(Keras layers cannot be mixed with scratchnn layers.)")
        for owner in layer.borrowed_from:
            if not any(owner is other for other in self.layers):
                raise ValueError(f"{type(layer).__name__} {layer.name!r} uses the weights of {type(owner).__name__} "
                                 f"{owner.name!r}, which must come earlier in the same model.")
        taken = {other.name for other in self.layers}
        base, suffix = layer.name, 1
        while layer.name in taken:
            layer.name, suffix = f"{base}_{suffix}", suffix + 1
        self.layers.append(layer)

    @property
    def built(self):
        """True once the model has seen its input shape and every layer has its weights."""
        return self.input_shape is not None and bool(self.layers) and all(layer.built for layer in self.layers)

    def build(self, input_shape, dtype="float32"):
        """Create every layer's weights for inputs of shape (batch, d), without data."""
        self.forward(np.zeros((1,) + tuple(input_shape[1:]), dtype=dtype))

    def __call__(self, x, training=False):
        return self.forward(x, training=training)

    def forward(self, x, training=False):
        """x (m, d) -> output of the last layer: a loop that hands each layer's output to the next
        layer; each layer caches what its backward pass needs. Taught in chapter 2 (mlp.ipynb)."""
        if not self.layers:
            raise ValueError("This Sequential model has no layers: add some first.")
        x = as_float_array(x, "x")
        if self.input_shape is None:
            self.input_shape = (None,) + x.shape[1:]
        for layer in self.layers:
            x = layer.forward(x, training=training)
        return x

    def backward(self, grad_output, skip_last_activation=False, input_gradient=True):
        """dL/d(output) -> dL/d(input), filling every layer's `grads` on the way (the chain rule).

        With skip_last_activation=True, `grad_output` is the gradient w.r.t. the last layer's
        pre-activation z (for a classifier's output layer, its logits), so that layer starts at
        `backward_pre_activation` and its activation's backward step is skipped. With
        input_gradient=False the first layer skips dL/d(input) and None is returned (training
        needs only the weights' gradients).
        Taught in chapter 2 (backprop.ipynb) and chapter 3 (activations.ipynb).
        """
        if not self.layers:
            raise ValueError("This Sequential model has no layers: add some first.")
        last = len(self.layers) - 1
        grad = grad_output
        for index in range(last, -1, -1):                  # from the last layer back to the first
            layer = self.layers[index]
            wanted = input_gradient or index > 0            # the first layer's dL/dx only if asked for
            if index == last and skip_last_activation:
                grad = layer.backward_pre_activation(grad, wanted)
            else:
                grad = layer.backward(grad, wanted)
        return grad

    @property
    def trainable_weights(self):
        return [w for layer in self.layers for w in layer.trainable_weights]

    @property
    def weight_names(self):
        """"layer/weight" for every trainable weight, e.g. ["dense/kernel", "dense/bias", ...]."""
        return [f"{layer.name}/{name}" for layer in self.layers for name in layer.weight_names]

    @property
    def grads(self):
        """Every layer's `grads`, in the order of `trainable_weights`. A weight used by two layers (a
        DenseTranspose's tied kernel) gets the sum of both uses: each `shared_grads` contribution is
        added to its owner's gradient (in a new list: the owner's own `grads` are left as they are).
        Taught in chapter 2 (backprop.ipynb) and, for tied weights, chapter 9 (tied_weights.ipynb)."""
        if not any(layer.shared_grads for layer in self.layers):
            return [g for layer in self.layers for g in layer.grads]
        per_layer = {id(layer): list(layer.grads) for layer in self.layers}
        for layer in self.layers:
            for owner, index, contribution in layer.shared_grads:
                if id(owner) not in per_layer or index >= len(per_layer[id(owner)]):
                    raise ValueError(f"Layer {layer.name!r} has a gradient for weight {index} of layer "
                                     f"{owner.name!r}, which has no such gradient in model {self.name!r} "
                                     "(is it in the model, and has backward run?).")
                per_layer[id(owner)][index] = per_layer[id(owner)][index] + contribution
        return [g for layer in self.layers for g in per_layer[id(layer)]]

    @property
    def losses(self):
        """Every layer's weight penalty (regularization), as floats."""
        return [value for layer in self.layers for value in layer.losses]

    def get_weights(self):
        return [w for layer in self.layers for w in layer.get_weights()]

    def set_weights(self, weights):
        """Set every layer's weights from one flat list, in Keras's order (model.get_weights())."""
        if not self.built:
            raise ValueError("Build the model before setting its weights: call it on data or use "
                             "model.build((None, n_features)).")
        expected = sum(len(layer.weights) for layer in self.layers)
        if len(weights) != expected:
            raise ValueError(f"Model {self.name!r} has {expected} weight arrays; got {len(weights)}.")
        start = 0
        for layer in self.layers:
            layer.set_weights(weights[start:start + len(layer.weights)])
            start += len(layer.weights)

    def count_params(self):
        return sum(layer.count_params() for layer in self.layers)

    def summary(self, print_fn=None):
        """Print one row per layer (name, type, output shape, parameter count), then the total,
        trainable and non-trainable parameter counts, as Keras's summary. `print_fn` (print by
        default) gets each line."""
        if not self.built:
            raise ValueError("Build the model first (call it on data, or model.build((None, n_features))).")
        print_fn = print_fn or print
        shape, rows = self.input_shape, []
        for layer in self.layers:
            shape = layer.compute_output_shape(shape)
            rows.append((f"{layer.name} ({type(layer).__name__})", str(shape), f"{layer.count_params():,}"))
        header = ("Layer (type)", "Output Shape", "Param #")
        widths = [max(len(row[i]) for row in rows + [header]) + 2 for i in range(3)]
        line = "-" * sum(widths)
        trainable = sum(w.size for w in self.trainable_weights)
        print_fn(f'Model: "{self.name}"')
        print_fn(line)
        for row in [header] + rows:
            print_fn("".join(cell.ljust(width) for cell, width in zip(row, widths)))
        print_fn(line)
        print_fn(f"Total params: {self.count_params():,}")
        print_fn(f"Trainable params: {trainable:,}")
        print_fn(f"Non-trainable params: {self.count_params() - trainable:,}")

    def save_weights(self, filepath):
        """Write every weight array to a NumPy .npz file, in get_weights() order."""
        if not str(filepath).endswith(".npz"):
            raise ValueError(f"save_weights writes NumPy files: the path must end in .npz; got {filepath!r}.")
        np.savez(filepath, *self.get_weights())

    def load_weights(self, filepath):
        """Read weights written by save_weights (the model must have the same layers)."""
        with np.load(filepath) as data:
            self.set_weights([data[f"arr_{i}"] for i in range(len(data.files))])
