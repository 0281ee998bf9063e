"""Layers with a forward pass, a hand-written backward pass, and Keras's weight layout.

Every layer follows one protocol (CS231n's forward/backward pairs, Keras's names):

- `forward(x, training=False) -> y`: the base class builds the weights at the first call (from
  `x.shape`, in `x`'s dtype), then runs the subclass's `call`, which caches what backward needs.
  A layer without weights has nothing to build: it is built from the start, as in Keras.
- `backward(grad_output, input_gradient=True) -> grad_input`: given dL/dy of the last forward
  pass, returns dL/dx (None with input_gradient=False: the first layer of a model does not need
  it) and stores dL/dw of every trainable weight in `grads`, in the order of `trainable_weights`.
- `get_weights()` / `set_weights(list)`: copies, in Keras's order and shapes, so weights move both
  ways between a scratchnn layer and the Keras layer of the same name.
"""
import numpy as np

from . import activations, initializers, regularizers
from ._checks import as_float_array


class Layer:
    """Base class. Subclasses with weights create them in `build` (setting `trainable_weights`);
    every subclass writes `call` (the forward computation) and `backward`."""

    def __init__(self, name=None):
        self.name = name or type(self).__name__.lower()
        # A layer that does not override `build` has no weights to make: it is built already
        # (Keras's Layer._build_at_init does the same for its weightless layers).
        self.built = type(self).build is Layer.build
        self.trainable_weights = []
        self.weight_names = []       # a name for each trainable weight, e.g. ["kernel", "bias"]
        self.non_trainable_weights = []
        self.grads = []

    @property
    def weights(self):
        return self.trainable_weights + self.non_trainable_weights

    @property
    def losses(self):
        """Penalties this layer adds to the loss (weight regularization), as floats."""
        return []

    def build(self, input_shape, dtype="float32"):
        """Create the weights for inputs of `input_shape` (batch, features), in `dtype`."""
        self.built = True

    def __call__(self, x, training=False):
        return self.forward(x, training=training)

    def forward(self, x, training=False):
        """x -> y: build the layer at the first call, from x's shape and dtype, then `call` it."""
        x = as_float_array(x, "x")
        if not self.built:
            self.build(x.shape, dtype=x.dtype)
        return self.call(x, training=training)

    def call(self, x, training=False):
        """The forward computation of a built layer; caches what `backward` needs."""
        raise NotImplementedError

    def backward(self, grad_output, input_gradient=True):
        raise NotImplementedError

    def compute_output_shape(self, input_shape):
        return input_shape

    def count_params(self):
        return sum(int(w.size) for w in self.weights)

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        """Copy `weights` (Keras's order and shapes) into this layer, in place."""
        current = self.weights
        if len(weights) != len(current):
            raise ValueError(f"Layer {self.name!r} expects {len(current)} weight arrays; got {len(weights)}.")
        for index, (target, value) in enumerate(zip(current, weights)):
            value = np.asarray(value)
            if value.shape != target.shape:
                raise ValueError(f"Layer {self.name!r}, weight {index}: expected shape {target.shape}; "
                                 f"got shape {value.shape}.")
            target[...] = value

    def _store_weights_in(self, arrays):
        """Use `arrays` (same shapes and values: views of a model's weight buffer) as the trainable
        weights; each is also the attribute of its name (`kernel`, `bias`, ...)."""
        for name, array in zip(self.weight_names, arrays):
            setattr(self, name, array)
        self.trainable_weights = list(arrays)

    def _cached(self):
        """What the last forward pass stored for backward; a clear error if there was none."""
        if not hasattr(self, "_cache"):
            raise RuntimeError(f"Layer {self.name!r}: call forward before backward.")
        return self._cache

    def _check_grad_output(self, grad_output, output_shape):
        grad_output = as_float_array(grad_output, "grad_output")
        if grad_output.shape != output_shape:
            raise ValueError(f"Layer {self.name!r}: grad_output has shape {grad_output.shape} but the last "
                             f"forward output had shape {output_shape}.")
        return grad_output


class Dense(Layer):
    """A fully connected layer: y = activation(x @ kernel + bias).

    Shapes: x (m, d) -> y (m, units); kernel (d, units); bias (units,).
    Taught in chapter 1 (neuron.ipynb: call, weight gradients) and chapter 2 (backprop.ipynb).
    """

    def __init__(self, units, activation=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, name=None):
        super().__init__(name)
        if not (isinstance(units, (int, np.integer)) and units > 0):
            raise ValueError(f"units must be a positive integer; got {units!r}.")
        self.units = int(units)
        self.activation = activation or "linear"
        activations.get(self.activation)  # fail now, not at the first call, on an unknown name
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)

    def build(self, input_shape, dtype="float32"):
        if len(input_shape) != 2:
            raise ValueError(f"Dense layer {self.name!r} expects inputs of shape (batch_size, features); "
                             f"got shape {tuple(input_shape)}.")
        input_dim = input_shape[-1]
        self.kernel = self.kernel_initializer((input_dim, self.units), dtype=dtype)
        self.bias = self.bias_initializer((self.units,), dtype=dtype)
        self.trainable_weights = [self.kernel, self.bias]
        self.weight_names = ["kernel", "bias"]
        self.built = True

    def set_weights(self, weights):
        """As `Layer.set_weights`; an unbuilt Dense builds itself from the kernel's shape and dtype."""
        if not self.built and len(weights) == 2:
            kernel = np.asarray(weights[0])
            self.build((None, kernel.shape[0]), dtype=kernel.dtype if kernel.dtype.kind == "f" else "float64")
        super().set_weights(weights)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    @property
    def losses(self):
        return [self.kernel_regularizer(self.kernel)] if self.kernel_regularizer and self.built else []

    def call(self, x, training=False):
        """x (m, d) -> y = activation(x @ kernel + bias), (m, units); caches x, z and y for backward.

        Taught in chapter 1 (neuron.ipynb).
        """
        if x.ndim != 2 or x.shape[1] != self.kernel.shape[0]:
            raise ValueError(f"Dense layer {self.name!r} expects inputs of shape (batch_size, features) with "
                             f"{self.kernel.shape[0]} features (kernel shape {self.kernel.shape}); "
                             f"got x with shape {x.shape}.")
        z = x @ self.kernel                                   # (m, d) @ (d, units) -> (m, units)
        z += self.bias                                        # (units,), added to every row (in place: no copy)
        y = activations.get(self.activation)(z)
        self._cache = (x, z, y)
        return y

    @property
    def pre_activation(self):
        """z = x @ kernel + bias of the last forward pass, shape (m, units). For the output
        layer of a classifier these are the logits."""
        return self._cached()[1]

    def backward(self, grad_output, input_gradient=True):
        """dL/dy (m, units) -> dL/dx (m, d): back through the activation, then the affine map.

        Taught in chapter 2 (backprop.ipynb).
        """
        x, z, y = self._cached()
        grad_output = self._check_grad_output(grad_output, y.shape)
        dz = activations.backward(self.activation)(z, y, grad_output)   # (m, units)
        return self.backward_pre_activation(dz, input_gradient)

    def backward_pre_activation(self, grad_z, input_gradient=True):
        """The weight gradients and dL/dx from dL/dz (m, units), the gradient w.r.t. the pre-activation.

        Taught in chapter 1 (neuron.ipynb: the weight gradients) and chapter 2 (backprop.ipynb).
        """
        x, z, _ = self._cached()
        dz = self._check_grad_output(grad_z, z.shape)                    # (m, units)
        d_kernel = x.T @ dz                                              # (d, m) @ (m, units) -> (d, units)
        if self.kernel_regularizer:
            d_kernel = d_kernel + self.kernel_regularizer.gradient(self.kernel)
        d_bias = dz.sum(axis=0)                                          # (units,)
        self.grads = [d_kernel, d_bias]
        if not input_gradient:
            return None
        return dz @ self.kernel.T                                        # (m, units) @ (units, d) -> (m, d)


class Activation(Layer):
    """Applies an activation by name: Activation("relu"). No weights; shape in = shape out.

    `kwargs` go to the activation function, e.g. Activation("leaky_relu", negative_slope=0.1).
    Taught in chapter 3 (activations.ipynb).
    """

    def __init__(self, activation, name=None, **kwargs):
        super().__init__(name)
        activations.get(activation)
        self.activation, self.kwargs = activation, kwargs

    def call(self, x, training=False):
        y = activations.get(self.activation)(x, **self.kwargs)
        self._cache = (x, y)
        return y

    @property
    def pre_activation(self):
        """The input of the activation in the last forward pass."""
        return self._cached()[0]

    def backward(self, grad_output, input_gradient=True):
        x, y = self._cached()
        grad_output = self._check_grad_output(grad_output, y.shape)
        return activations.backward(self.activation)(x, y, grad_output, **self.kwargs) if input_gradient else None

    def backward_pre_activation(self, grad_pre_activation, input_gradient=True):
        """Given dL/d(input of the activation): nothing to do but pass it on."""
        grad = self._check_grad_output(grad_pre_activation, self._cached()[0].shape)
        return grad if input_gradient else None


class LeakyReLU(Activation):
    """The leaky ReLU as a layer, as keras.layers.LeakyReLU: note its default slope is 0.3, while
    the function keras.activations.leaky_relu (and Dense(activation="leaky_relu")) uses 0.2."""

    def __init__(self, negative_slope=0.3, name=None):
        if negative_slope < 0:
            raise ValueError(f"negative_slope must be >= 0; got {negative_slope}.")
        super().__init__("leaky_relu", name=name, negative_slope=negative_slope)
