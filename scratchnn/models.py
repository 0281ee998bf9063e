"""Models: a stack of layers with one forward and one backward pass (`Sequential`, as in Keras),
and Keras's training workflow on top: compile, fit, evaluate, predict.

Backpropagation is a loop: the forward pass calls each layer in order, the backward pass hands the
gradient from the last layer to the first, each layer turning dL/d(output) into dL/d(input) and
keeping the gradients of its own weights. `fit` repeats, for every batch: forward, loss, backward,
optimizer step.
"""
import math
import sys
import time

import numpy as np

from . import losses as losses_module
from . import metrics as metrics_module
from . import optimizers
from ._checks import as_float_array
from .callbacks import CallbackList, History
from .layers import Layer
from .utils import generator


class Sequential:
    """A linear stack of layers: `Sequential([Dense(16, activation="relu"), Dense(3, activation="softmax")])`.

    The weights are built by the first call (`predict`, `forward` or `build((None, d))`), from the
    number of input features. `trainable_weights` and `grads` list every layer's, in order.
    """

    def __init__(self, layers=None, name="sequential"):
        self.name = name
        self.layers = []
        for layer in layers or []:
            self.add(layer)

    def add(self, layer):
        """Append a layer; its name is made unique within the model (dense, dense_1, ...)."""
        if not isinstance(layer, Layer):
            raise ValueError(f"Sequential.add expects a scratchnn layer; got {type(layer).__name__}. "
                             "(Keras layers cannot be mixed with scratchnn layers.)")
        taken = {other.name for other in self.layers}
        base, suffix = layer.name, 1
        while layer.name in taken:
            layer.name, suffix = f"{base}_{suffix}", suffix + 1
        self.layers.append(layer)

    @property
    def built(self):
        return bool(self.layers) and all(layer.built for layer in self.layers)

    def build(self, input_shape, dtype="float32"):
        """Create every layer's weights for inputs of shape (batch, d), without data."""
        self.forward(np.zeros((1,) + tuple(input_shape[1:]), dtype=dtype))

    def __call__(self, x, training=False):
        return self.forward(x, training=training)

    def forward(self, x, training=False):
        """x (m, d) -> output of the last layer; each layer caches what its backward pass needs."""
        if not self.layers:
            raise ValueError("This Sequential model has no layers: add some first.")
        x = as_float_array(x, "x")
        for layer in self.layers:
            x = layer.forward(x, training=training)
        return x

    def backward(self, grad_output, from_logits=False):
        """dL/d(output) -> dL/d(input), filling every layer's `grads` on the way (the chain rule).

        With from_logits=True, `grad_output` is the gradient w.r.t. the last layer's logits (its
        input to the final activation), and that activation's backward step is skipped.
        """
        last, *others = reversed(self.layers)
        grad = last.backward_logits(grad_output) if from_logits else last.backward(grad_output)
        for layer in others:
            grad = layer.backward(grad)
        return grad

    def predict(self, x, batch_size=None):
        """Outputs for `x` in inference mode, computed `batch_size` rows at a time (all at once by default)."""
        x = as_float_array(x, "x")
        if batch_size is None or len(x) <= batch_size:
            return self.forward(x)
        return np.concatenate([self.forward(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])

    @property
    def trainable_weights(self):
        return [w for layer in self.layers for w in layer.trainable_weights]

    @property
    def weight_names(self):
        """"layer/weight" for every trainable weight, e.g. ["dense/kernel", "dense/bias", ...]."""
        return [f"{layer.name}/{name}" for layer in self.layers for name in layer.weight_names]

    @property
    def grads(self):
        return [g for layer in self.layers for g in layer.grads]

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

    def summary(self, input_shape=None):
        """Print one row per layer (name, type, output shape, parameter count), as Keras's summary."""
        if not self.built:
            raise ValueError("Build the model first (call it on data, or model.build((None, n_features))).")
        shape = (None, self.layers[0].weights[0].shape[0]) if input_shape is None else tuple(input_shape)
        rows = []
        for layer in self.layers:
            shape = layer.compute_output_shape(shape)
            rows.append((f"{layer.name} ({type(layer).__name__})", str(shape), f"{layer.count_params():,}"))
        widths = [max(len(r[i]) for r in rows + [("Layer (type)", "Output Shape", "Param #")]) + 2 for i in range(3)]
        line = "-" * sum(widths)
        print(f'Model: "{self.name}"')
        print(line)
        for row in [("Layer (type)", "Output Shape", "Param #")] + rows:
            print("".join(cell.ljust(width) for cell, width in zip(row, widths)))
        print(line)
        print(f"Total params: {self.count_params():,}")

    # --- the training workflow -------------------------------------------------------------

    def compile(self, optimizer="rmsprop", loss=None, *, metrics=None):
        """Choose the optimizer, the loss and the metrics, as objects or by their Keras names."""
        if loss is None:
            raise ValueError("compile needs a loss, e.g. loss='categorical_crossentropy'.")
        self.optimizer = optimizers.get(optimizer)
        self.loss = losses_module.get(loss)
        self.metric_names = list(metrics or [])
        self.stop_training = False

    def _logits_loss(self):
        """The from-logits twin of the compiled loss when Keras would use it, else None.

        Keras (TensorFlow backend) remembers the logits of a sigmoid or softmax output and computes
        a cross-entropy from them, exactly, instead of from clipped probabilities; the gradient at
        the logits is then simply p - y (over m). We do the same.
        """
        crossentropies = (losses_module.BinaryCrossentropy, losses_module.CategoricalCrossentropy,
                          losses_module.SparseCategoricalCrossentropy)
        last = self.layers[-1]
        if (isinstance(self.loss, crossentropies) and not self.loss.from_logits
                and getattr(last, "activation", None) in ("sigmoid", "softmax")):
            return type(self.loss)(from_logits=True)
        return None

    def compute_loss(self, y, y_pred):
        """The compiled loss of the last forward pass's output y_pred, plus the weight penalties."""
        logits_loss = self._logits_loss()
        data_loss = logits_loss(y, self.layers[-1].logits) if logits_loss else self.loss(y, y_pred)
        return data_loss + sum(self.losses)

    def train_step(self, x, y):
        """One batch: forward, loss (+ weight penalties), backward, optimizer step.
        Returns the loss and the predictions made before the update (as Keras reports them)."""
        y_pred = self.forward(x, training=True)
        loss = self.compute_loss(y, y_pred)
        logits_loss = self._logits_loss()
        if logits_loss:
            self.backward(logits_loss.gradient(y, self.layers[-1].logits), from_logits=True)
        else:
            self.backward(self.loss.gradient(y, y_pred))
        self.optimizer.apply(self.grads, self.trainable_weights)
        return loss, y_pred

    def fit(self, x, y, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, initial_epoch=0):
        """Train for `epochs` passes over (x, y) in batches of `batch_size` (32 by default).

        Each epoch has ceil(m_train / batch_size) iterations; the last batch may be smaller.
        validation_split takes the LAST fraction of the rows (before any shuffling), as Keras does.
        Logs per epoch: the running mean over the epoch of the loss and metrics, and with
        validation data, val_loss and val_<metric> computed after the epoch. Returns a History.
        """
        self._require_compiled("fit")
        x, y = self._check_data(x, y)
        if not 0 <= validation_split < 1:
            raise ValueError(f"validation_split must be in [0, 1); got {validation_split}.")
        if validation_data is None and validation_split:
            split_at = int(math.floor(len(x) * (1.0 - validation_split)))
            x, y, validation_data = x[:split_at], y[:split_at], (x[split_at:], y[split_at:])
        batch_size = batch_size or 32
        steps = math.ceil(len(x) / batch_size)
        history = History()
        callback_list = CallbackList(list(callbacks or []) + [history], self,  # History last, as in Keras
                                     {"epochs": epochs, "steps": steps, "verbose": verbose})
        self.stop_training = False
        callback_list.on_train_begin({})
        for epoch in range(initial_epoch, epochs):
            callback_list.on_epoch_begin(epoch, {})
            if verbose:
                print(f"Epoch {epoch + 1}/{epochs}")
            logs = self._run_epoch(x, y, batch_size, shuffle, callback_list, verbose)
            if validation_data is not None:
                val_logs = self.evaluate(*validation_data, batch_size=batch_size, verbose=0, return_dict=True)
                logs.update({f"val_{key}": value for key, value in val_logs.items()})
            callback_list.on_epoch_end(epoch, logs)
            if verbose:
                self._progress(steps, steps, logs, final=True, verbose=verbose)
            if self.stop_training:
                break
        callback_list.on_train_end({})
        self.history = history
        return history

    def _run_epoch(self, x, y, batch_size, shuffle, callback_list, verbose):
        order = generator().permutation(len(x)) if shuffle else np.arange(len(x))
        trackers = {name: metrics_module.Mean() for name in ["loss"] + self.metric_names}
        steps = math.ceil(len(x) / batch_size)
        self._epoch_start = time.perf_counter()
        for step in range(steps):
            rows = order[step * batch_size:(step + 1) * batch_size]
            callback_list.on_train_batch_begin(step, {})
            loss, y_pred = self.train_step(x[rows], y[rows])
            logs = self._update(trackers, loss, y[rows], y_pred)
            callback_list.on_train_batch_end(step, logs)
            if verbose == 1 and step + 1 < steps:
                self._progress(step + 1, steps, logs)
        return {name: tracker.result() for name, tracker in trackers.items()}

    def _update(self, trackers, loss, y_true, y_pred):
        """Add one batch to the running means; return the current logs."""
        trackers["loss"].update(loss, len(y_pred))
        for name in self.metric_names:
            metric = metrics_module.get(name, self.loss.name, y_pred.shape[-1])
            trackers[name].update(np.mean(metric(y_true, y_pred)), len(y_pred))
        return {name: tracker.result() for name, tracker in trackers.items()}

    def evaluate(self, x, y, batch_size=None, verbose="auto", return_dict=False):
        """Loss (+ weight penalties) and metrics on (x, y) with the current weights, averaged over
        all examples. Returns the loss alone, [loss, *metrics], or a dict with return_dict=True."""
        self._require_compiled("evaluate")
        x, y = self._check_data(x, y)
        batch_size = batch_size or 32
        trackers = {name: metrics_module.Mean() for name in ["loss"] + self.metric_names}
        for start in range(0, len(x), batch_size):
            y_pred = self.forward(x[start:start + batch_size])
            batch_y = y[start:start + batch_size]
            logs = self._update(trackers, self.compute_loss(batch_y, y_pred), batch_y, y_pred)
        if verbose:
            steps = math.ceil(len(x) / batch_size)
            self._epoch_start = getattr(self, "_epoch_start", time.perf_counter())
            self._progress(steps, steps, logs, final=True, verbose=verbose)
        if return_dict:
            return logs
        return logs["loss"] if not self.metric_names else list(logs.values())

    def _require_compiled(self, what):
        if not hasattr(self, "loss"):
            raise RuntimeError(f"You must call compile(optimizer, loss, metrics) before {what}().")

    @staticmethod
    def _check_data(x, y):
        x = as_float_array(x, "x")
        y = np.asarray(y)
        if len(x) != len(y):
            raise ValueError(f"x and y must have the same number of rows; got x.shape={x.shape} and "
                             f"y.shape={y.shape}.")
        if len(x) == 0:
            raise ValueError("x is empty: there is nothing to train or evaluate on.")
        return x, y

    def _progress(self, step, steps, logs, final=False, verbose=1):
        """Keras-like progress line: `12/12 ━━━━━━━━━━━━━━━━━━━━ 0s 2ms/step - loss: 0.4 - accuracy: 0.9`."""
        elapsed = time.perf_counter() - self._epoch_start
        values = " - ".join(f"{key}: {value:.4f}" for key, value in sorted(logs.items()))
        per_step = elapsed / step
        per_step = f"{1000 * per_step:.0f}ms/step" if per_step >= 1e-3 else f"{1e6 * per_step:.0f}us/step"
        if verbose == 2:
            print(f"{steps}/{steps} - {elapsed:.0f}s - {per_step} - {values}")
            return
        timing = f"{elapsed:.0f}s {per_step}"
        bar = "━" * int(20 * step / steps) + " " * (20 - int(20 * step / steps))
        end = "\n" if final else ""
        sys.stdout.write(f"\r{step}/{steps} {bar} {timing} - {values}{end}")
        sys.stdout.flush()

    def save_weights(self, filepath):
        """Write every weight array to a NumPy .npz file, in get_weights() order."""
        if not str(filepath).endswith(".npz"):
            raise ValueError(f"save_weights writes NumPy files: the path must end in .npz; got {filepath!r}.")
        np.savez(filepath, *self.get_weights())

    def load_weights(self, filepath):
        """Read weights written by save_weights (the model must have the same layers)."""
        with np.load(filepath) as data:
            self.set_weights([data[f"arr_{i}"] for i in range(len(data.files))])
