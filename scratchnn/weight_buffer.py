"""A model's trainable weights in one flat array, so that an optimizer updates them all at once.

This is for speed only: nothing in it is new mathematics. On the course's small networks a
training step is many small NumPy calls (Adam alone makes about ten per weight array), and each
call costs a fixed few microseconds whatever its size. Laid end to end in one array, the weights
take one call per formula instead of one per array, with the same arithmetic on the same numbers.

`fit` makes one at its first `train_step` (`Trainer.weight_buffer`) and hands it to the optimizer
in place of the list of weights: `optimizer.apply(model.grads, model.weight_buffer)`.
"""
import math

import numpy as np


class WeightBuffer:
    """Every trainable weight of `layers`, in order, copied into one flat array `flat` (shape (n,),
    n = the number of trainable parameters); each layer then uses views of its part of `flat` as its
    weights (`Layer.set_weight_arrays`), so the layers and the optimizer share the same numbers.

    `gradient(grads)` lays a list of gradients (one per weight, in the same order) end to end, (n,).
    """

    def __init__(self, layers, names=None):
        weights = [w for layer in layers for w in layer.trainable_weights]
        dtypes = {w.dtype for w in weights}
        if len(dtypes) > 1:
            raise ValueError(f"The model's weights have several dtypes {sorted(map(str, dtypes))}: training "
                             "needs one. Build every layer from inputs of one dtype.")
        dtype = dtypes.pop() if dtypes else np.float32
        self.flat = np.concatenate([w.ravel() for w in weights]) if weights else np.zeros(0, dtype=dtype)
        self.shapes = [w.shape for w in weights]
        self.names = names or [f"weight {index}" for index in range(len(weights))]
        self.views, start = [], 0
        for layer in layers:
            views = []
            for weight in layer.trainable_weights:
                views.append(self.flat[start:start + weight.size].reshape(weight.shape))
                start += weight.size
            layer.set_weight_arrays(views)
            self.views += views
        self._grad = np.empty_like(self.flat)     # gradient() writes here: no new array per step

    def holds(self, weights):
        """True if `weights` are this buffer's views, in order (the layers still use the buffer)."""
        return len(weights) == len(self.views) and all(w is v for w, v in zip(weights, self.views))

    def gradient(self, grads):
        """The gradients laid end to end, shape (n,), checked: a ValueError names a gradient of the
        wrong shape, or one with NaN or infinity (the model has diverged)."""
        grads = [np.asarray(g) for g in grads]
        if [g.shape for g in grads] != self.shapes:
            self._raise_for_shapes(grads)
        if not self.flat.size:
            return self._grad
        grad = np.concatenate([g.ravel() for g in grads], out=self._grad)
        # grad . grad is NaN or inf if any entry is (or if the gradient is huge, which is allowed:
        # then the check below finds every entry finite); one BLAS call, faster than grad.sum().
        if not math.isfinite(np.dot(grad, grad)) and not np.isfinite(grad).all():
            bad = next(name for name, g in zip(self.names, grads) if not np.isfinite(g).all())
            raise ValueError(f"The gradient of {bad} contains NaN or infinity; the model has diverged "
                             "(try a smaller learning rate).")
        return grad

    def _raise_for_shapes(self, grads):
        """A ValueError naming the first gradient whose shape is not its weight's."""
        if len(grads) != len(self.shapes):
            raise ValueError(f"Got {len(grads)} gradients for the {len(self.shapes)} weights of the model.")
        for name, grad, shape in zip(self.names, grads, self.shapes):
            if grad.shape != shape:
                raise ValueError(f"The gradient of {name} has shape {grad.shape}, but the weight has shape {shape}.")
