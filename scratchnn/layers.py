"""Layers with a forward pass, a hand-written backward pass, and Keras's weight layout.

Every layer follows one protocol (CS231n's forward/backward pairs, Keras's names). The base class
`Layer` declares all of it, so a model or a trainer never has to guess what a layer has:

- `name`, `built`; `forward(x, training=False) -> y`: the base class builds the weights at the
  first call (from `x.shape`, in `x`'s dtype), then runs the subclass's `call`, which caches what
  backward needs. A layer without weights has nothing to build: it is built from the start, as in
  Keras. `compute_output_shape(input_shape)`: the output's shape, without data.
- `backward(grad_output, input_gradient=True) -> grad_input`: given dL/dy of the last forward
  pass, returns dL/dx (None with input_gradient=False: the first layer of a model does not need
  it) and stores dL/dw of every trainable weight in `grads`, in the order of `trainable_weights`.
- `trainable_weights` with a name for each in `weight_names` (["kernel", "bias"]),
  `non_trainable_weights` (batch norm's moving statistics), `weights` (both), `count_params()`.
- `get_weights()` / `set_weights(list)`: copies, in Keras's order and shapes, so weights move both
  ways between a scratchnn layer and the Keras layer of the same name.
- `set_weight_arrays(arrays)`: use these arrays (same shapes and values) as the trainable weights
  from now on; fit uses it to keep all of a model's weights in one flat array (see weight_buffer.py).
- `losses`: the penalties the layer adds to the loss (weight regularization), as floats; [] by default.
- `shared_grads`: a layer that uses another layer's weight (DenseTranspose uses its Dense's kernel)
  leaves its contribution to that weight's gradient here, as (owner layer, weight index, array);
  `Sequential.grads` adds it to the owner's gradient. `borrowed_from`: those owner layers.
- `activation`: the name of the activation the layer ends with ("relu", "linear", ...), or None for
  a layer that has none (Dropout, BatchNormalization). A layer with an activation also has
  `pre_activation` (z, its input, of the last forward pass: the logits of a classifier's output
  layer) and `backward_pre_activation(grad_z, input_gradient=True)`, which starts the backward
  pass from dL/dz, skipping the activation. A layer without one raises a ValueError that says so
  ("BatchNormalization 'batch_normalization' has no activation to skip").
"""
import numpy as np

from . import activations, initializers, regularizers, utils
from ._checks import as_float_array


class Layer:
    """Base class. Subclasses with weights create them in `build` (setting `trainable_weights`);
    every subclass writes `call` (the forward computation) and `backward`. The module docstring
    lists everything a model may ask of a layer; this class gives each a default or a clear error."""

    activation = None   # the name of the activation the layer ends with; None: it has none

    def __init__(self, name=None):
        self.name = name or type(self).__name__.lower()
        # A layer that does not override `build` has no weights to make: it is built already
        # (Keras's Layer._build_at_init does the same for its weightless layers).
        self.built = type(self).build is Layer.build
        self.trainable_weights = []
        self.weight_names = []       # a name for each trainable weight, e.g. ["kernel", "bias"]
        self.non_trainable_weights = []
        self.grads = []
        self.shared_grads = []       # (owner layer, index in owner.grads, contribution) for borrowed weights

    @property
    def borrowed_from(self):
        """The layers whose weights this layer uses without owning them (they must come earlier in a model)."""
        return []

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
        raise NotImplementedError(f"{type(self).__name__} must define call(x, training=False).")

    def backward(self, grad_output, input_gradient=True):
        """dL/dy -> dL/dx, storing the weights' gradients in `grads`."""
        raise NotImplementedError(f"{type(self).__name__} must define backward(grad_output, "
                                  "input_gradient=True).")

    @property
    def pre_activation(self):
        """z, the input of the layer's activation in the last forward pass (a layer with an activation)."""
        raise ValueError(f"{type(self).__name__} {self.name!r} has no activation, so no pre-activation.")

    def backward_pre_activation(self, grad_z, input_gradient=True):
        """The backward pass from dL/dz, skipping the activation (a layer with an activation)."""
        raise ValueError(f"{type(self).__name__} {self.name!r} has no activation to skip: start its backward "
                         "pass from dL/d(output), with backward(grad_output).")

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

    def set_weight_arrays(self, arrays):
        """Use `arrays` (the same shapes and values: views of a model's WeightBuffer) as the trainable
        weights from now on; each is also the attribute of its name (`kernel`, `bias`, ...)."""
        if [a.shape for a in arrays] != [w.shape for w in self.trainable_weights]:
            raise ValueError(f"Layer {self.name!r}: set_weight_arrays needs arrays of shapes "
                             f"{[w.shape for w in self.trainable_weights]}; got {[a.shape for a in arrays]}.")
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
        if isinstance(units, bool) or not (isinstance(units, (int, np.integer)) and units > 0):
            raise ValueError(f"units must be a positive integer; got {units!r}.")   # True is not 1 unit
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

        Taught in chapter 1 (neuron.ipynb: the weight gradients), chapter 2 (backprop.ipynb) and, with the
        L2 penalty's gradient, chapter 7 (overfitting_l2_dropout.ipynb).
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


class DenseTranspose(Layer):
    """A decoder layer tied to an encoder `Dense`: y = activation(x @ dense.kernel.T + bias).

    Shapes: x (m, units) -> y (m, d), where dense.kernel is (d, units); its own bias (d,), zeros.
    It owns only the bias (`trainable_weights == [bias]`): the kernel is the Dense's, read at every
    call, so a model with both trains one kernel used twice, and its gradient is the sum of the two
    uses. `backward` leaves the decoder's use in `shared_grads` as (dense, 0, (dL/dz).T @ x), of the
    kernel's shape (d, units); `Sequential.grads` adds it to the Dense's own kernel gradient.
    Taught in chapter 9 (tied_weights.ipynb).
    """

    def __init__(self, dense, activation=None, name=None):
        if not isinstance(dense, Dense):
            raise ValueError(f"DenseTranspose must be tied to a scratchnn Dense layer; got {type(dense).__name__}.")
        super().__init__(name)
        self.dense = dense
        self.activation = activation or "linear"
        activations.get(self.activation)

    @property
    def borrowed_from(self):
        return [self.dense]

    @property
    def units(self):
        """The output width d: the number of rows of the tied kernel (d, units)."""
        if not self.dense.built:
            raise ValueError(f"DenseTranspose {self.name!r}: its Dense {self.dense.name!r} is not built yet.")
        return self.dense.kernel.shape[0]

    def build(self, input_shape, dtype="float32"):
        if not self.dense.built:
            raise ValueError(f"DenseTranspose {self.name!r} is tied to Dense {self.dense.name!r}, which is not built "
                             "yet: put the Dense earlier in the model (or call it first), so its kernel exists.")
        self._check_input_shape(tuple(input_shape))
        self.bias = np.zeros(self.units, dtype=dtype)
        self.trainable_weights = [self.bias]
        self.weight_names = ["bias"]
        self.built = True

    def set_weights(self, weights):
        """As `Layer.set_weights` ([bias]); an unbuilt layer builds itself if its Dense is built."""
        if not self.built and len(weights) == 1:
            bias = np.asarray(weights[0])
            self.build((None, self.dense.units), dtype=bias.dtype if bias.dtype.kind == "f" else "float64")
        super().set_weights(weights)

    def _check_input_shape(self, shape):
        if len(shape) != 2 or shape[1] != self.dense.units:
            raise ValueError(f"DenseTranspose {self.name!r} expects inputs of shape (batch_size, {self.dense.units}) "
                             f"(the units of Dense {self.dense.name!r}, kernel shape {self.dense.kernel.shape}); "
                             f"got shape {shape}.")

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def call(self, x, training=False):
        """x (m, units) -> y = activation(x @ kernel.T + bias), (m, d); caches x, z and y for backward.
        Taught in chapter 9 (tied_weights.ipynb)."""
        self._check_input_shape(x.shape)
        z = x @ self.dense.kernel.T                           # (m, units) @ (units, d) -> (m, d)
        z += self.bias                                        # (d,), added to every row
        y = activations.get(self.activation)(z)
        self._cache = (x, z, y)
        return y

    @property
    def pre_activation(self):
        """z = x @ kernel.T + bias of the last forward pass, shape (m, d)."""
        return self._cached()[1]

    def backward(self, grad_output, input_gradient=True):
        """dL/dy (m, d) -> dL/dx (m, units): back through the activation, then the tied affine map.
        Taught in chapter 9 (tied_weights.ipynb)."""
        x, z, y = self._cached()
        grad_output = self._check_grad_output(grad_output, y.shape)
        dz = activations.backward(self.activation)(z, y, grad_output)   # (m, d)
        return self.backward_pre_activation(dz, input_gradient)

    def backward_pre_activation(self, grad_z, input_gradient=True):
        """From dL/dz (m, d): grads = [dL/dbias (d,)], the kernel's share (d, units) in `shared_grads`,
        and dL/dx (m, units). Since z = x @ K.T + b, dL/dK = (dL/dz).T @ x: the transpose of what a
        Dense with kernel K.T would get. Taught in chapter 9 (tied_weights.ipynb)."""
        x, z, _ = self._cached()
        dz = self._check_grad_output(grad_z, z.shape)                    # (m, d)
        d_kernel = dz.T @ x                                              # (d, m) @ (m, units) -> (d, units)
        self.grads = [dz.sum(axis=0)]                                    # (d,)
        self.shared_grads = [(self.dense, 0, d_kernel)]
        if not input_gradient:
            return None
        return dz @ self.dense.kernel                                    # (m, d) @ (d, units) -> (m, units)


class Activation(Layer):
    """Applies an activation by name: Activation("relu"). No weights; shape in = shape out.

    `kwargs` go to the activation function, e.g. Activation("leaky_relu", negative_slope=0.1).
    Taught in chapter 3 (activations.ipynb).
    """

    def __init__(self, activation, name=None, **kwargs):
        super().__init__(name)
        activations.check_arguments(activation, kwargs)    # fail now, not at the first call
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
        if (isinstance(negative_slope, bool) or not isinstance(negative_slope, (int, float, np.integer, np.floating))
                or not 0 <= negative_slope < np.inf):
            raise ValueError(f"negative_slope must be a number >= 0; got negative_slope={negative_slope!r}.")
        super().__init__("leaky_relu", name=name, negative_slope=negative_slope)


class Dropout(Layer):
    """Inverted dropout, as keras.layers.Dropout: in training, each unit of each example is kept
    with probability 1 - rate and scaled by 1 / (1 - rate), or set to 0; at inference it is the
    identity. The expected output equals the input either way.

    Shapes: x (m, h) -> y (m, h); the mask is (m, h), drawn anew at every training call.
    `seed` makes the masks repeatable (None: the library's generator, see utils.set_random_seed).
    Taught in chapter 7 (overfitting_l2_dropout.ipynb).
    """

    def __init__(self, rate, seed=None, name=None):
        super().__init__(name)
        if isinstance(rate, bool) or not isinstance(rate, (int, float, np.floating)) or not 0 <= rate < 1:
            raise ValueError(f"Dropout rate must be a number in [0, 1) (the fraction of units dropped); got {rate!r}.")
        self.rate, self.seed = float(rate), seed
        self._rng = None if seed is None else np.random.default_rng(seed)

    def call(self, x, training=False):
        """x (m, h) -> x * mask / (1 - rate) in training (mask of 0s and 1s, (m, h)), x at inference."""
        if not training or self.rate == 0:
            self._cache = (None, x.shape)
            return x
        keep = self._draw_keep_mask(x.shape)                              # (m, h), True = kept
        scale = np.asarray(1.0 / (1.0 - self.rate), dtype=x.dtype)
        mask = keep * scale                                               # 0 or 1 / (1 - rate)
        self._cache = (mask, x.shape)
        return x * mask

    def _draw_keep_mask(self, shape):
        """True where a unit is kept: each independently, with probability 1 - rate."""
        rng = self._rng if self._rng is not None else utils.generator()
        return rng.random(shape) >= self.rate

    def backward(self, grad_output, input_gradient=True):
        """dL/dy (m, h) -> dL/dx = dL/dy * mask / (1 - rate), the same mask as the forward pass."""
        mask, shape = self._cached()
        grad_output = self._check_grad_output(grad_output, shape)
        if not input_gradient:
            return None
        return grad_output if mask is None else grad_output * mask


class BatchNormalization(Layer):
    """Batch normalization, as keras.layers.BatchNormalization (axis=-1, center and scale on).

    Training (training=True): each feature is normalized with the mean and (biased) variance over
    the m examples of the batch, then scaled and shifted:
        x_hat = (x - mean) / sqrt(var + epsilon),   y = gamma * x_hat + beta
    and the moving statistics are updated as Keras does:
        moving_mean = momentum * moving_mean + (1 - momentum) * mean   (same for the variance)
    Inference (training=False): the moving mean and variance take the place of the batch's.

    Shapes: x (m, d) -> y (m, d); gamma, beta, moving_mean, moving_variance (d,).
    Weights in Keras's order: [gamma, beta, moving_mean, moving_variance]; only gamma and beta are
    trainable (`trainable_weights`, `grads`); the moving statistics are `non_trainable_weights`.
    Taught in chapter 7 (batch_normalization.ipynb).
    """

    def __init__(self, momentum=0.99, epsilon=1e-3, name=None):
        super().__init__(name)
        for value, what in ((momentum, "momentum"), (epsilon, "epsilon")):
            if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)):
                raise ValueError(f"BatchNormalization {what} must be a number; got {value!r}.")
        if not 0 <= momentum <= 1:
            raise ValueError(f"BatchNormalization momentum must be in [0, 1]; got {momentum!r}.")
        if not epsilon > 0:
            raise ValueError(f"BatchNormalization epsilon must be > 0; got {epsilon!r}.")
        self.momentum, self.epsilon = float(momentum), float(epsilon)

    def build(self, input_shape, dtype="float32"):
        """gamma = 1, beta = 0, moving mean 0 and variance 1, each (d,); only gamma and beta train.
        Taught in chapter 7 (batch_normalization.ipynb)."""
        if len(input_shape) != 2:
            raise ValueError(f"BatchNormalization layer {self.name!r} expects inputs of shape (batch_size, features); "
                             f"got shape {tuple(input_shape)}.")
        d = input_shape[-1]
        self.gamma, self.beta = np.ones(d, dtype=dtype), np.zeros(d, dtype=dtype)
        self.moving_mean, self.moving_variance = np.zeros(d, dtype=dtype), np.ones(d, dtype=dtype)
        self.trainable_weights = [self.gamma, self.beta]
        self.weight_names = ["gamma", "beta"]
        self.non_trainable_weights = [self.moving_mean, self.moving_variance]
        self.built = True

    def set_weights(self, weights):
        """As `Layer.set_weights`; an unbuilt layer builds itself from gamma's shape and dtype."""
        if not self.built and len(weights) == 4:
            gamma = np.asarray(weights[0])
            self.build((None, gamma.shape[0]), dtype=gamma.dtype if gamma.dtype.kind == "f" else "float64")
        super().set_weights(weights)

    def call(self, x, training=False):
        """x (m, d) -> gamma * x_hat + beta (m, d); in training also updates the moving statistics.
        Taught in chapter 7 (batch_normalization.ipynb)."""
        d = self.gamma.shape[0]
        if x.ndim != 2 or x.shape[1] != d:
            raise ValueError(f"BatchNormalization layer {self.name!r} was built for {d} features; "
                             f"got x with shape {x.shape}.")
        if training:
            mean = x.mean(axis=0)                                   # (d,): over the m examples
            variance = x.var(axis=0)                                # (d,): biased, divided by m
            self.moving_mean[...] = self.moving_mean * self.momentum + mean * (1 - self.momentum)
            self.moving_variance[...] = self.moving_variance * self.momentum + variance * (1 - self.momentum)
        else:
            mean, variance = self.moving_mean, self.moving_variance
        inv_std = 1 / np.sqrt(variance + np.asarray(self.epsilon, dtype=x.dtype))   # (d,)
        x_hat = (x - mean) * inv_std                                # (m, d)
        self._cache = (x_hat, inv_std, bool(training))
        return self.gamma * x_hat + self.beta

    def backward(self, grad_output, input_gradient=True):
        """dL/dy (m, d) -> dL/dx (m, d); stores [dL/dgamma, dL/dbeta] (each (d,)) in `grads`.

        In training the batch's mean and variance depend on x, which gives (per feature)
            dx = inv_std / m * (m * g - sum(g) - x_hat * sum(g * x_hat)),   g = gamma * dL/dy;
        at inference the statistics are constants and dx = g * inv_std.
        Taught in chapter 7 (batch_normalization.ipynb).
        """
        x_hat, inv_std, training = self._cached()
        grad_output = self._check_grad_output(grad_output, x_hat.shape)
        self.grads = [np.sum(grad_output * x_hat, axis=0), np.sum(grad_output, axis=0)]   # dgamma, dbeta
        if not input_gradient:
            return None
        g = grad_output * self.gamma                                # dL/dx_hat, (m, d)
        if not training:
            return g * inv_std
        m = x_hat.shape[0]
        return inv_std / m * (m * g - g.sum(axis=0) - x_hat * np.sum(g * x_hat, axis=0))
