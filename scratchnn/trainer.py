"""The training logic of a model, as in Keras's `Trainer`: compile, train_step, fit, evaluate, predict.

`Sequential` (models.py) is the container: its layers, forward and backward passes and weights.
`Trainer` adds what turns a container into something you train, with Keras's names and rules:

    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=10, batch_size=32, validation_split=0.2)
    model.evaluate(x_test, y_test)        # loss and metrics, averaged over every example
    model.predict(x_new)                  # outputs, batch by batch

`fit` is two loops, over epochs and over batches; one batch is `train_step` (forward, loss,
backward, one optimizer step). Everything else is a callback: the History that `fit` returns and
the progress line (ProgbarLogger) included. Taught in chapter 4 (fit_from_scratch.ipynb).
"""
import math

import numpy as np

from . import losses as losses_module
from . import metrics as metrics_module
from . import optimizers
from ._checks import as_float_array
from .callbacks import CallbackList
from .utils import generator
from .weight_buffer import WeightBuffer

_CROSSENTROPIES = (losses_module.BinaryCrossentropy, losses_module.CategoricalCrossentropy,
                   losses_module.SparseCategoricalCrossentropy)


class Trainer:
    """compile / fit / evaluate / predict for a model with `forward`, `backward`, `layers`,
    `trainable_weights`, `weight_names`, `grads` and `losses` (scratchnn's Sequential). Of the last
    layer it asks only what every `Layer` declares: `activation`, and `pre_activation` when that is
    a sigmoid or softmax (see layers.py)."""

    def __init__(self):
        self.compiled = False
        self.optimizer = self.loss = self.logits_loss = None   # set by compile
        self.loss_tracker, self.compiled_metrics = None, []
        self.history = None                                    # the History of the last fit
        self.stop_training = self.stop_evaluating = self.stop_predicting = False
        self._weight_buffer = None                             # made by the first train_step

    def compile(self, optimizer="rmsprop", loss=None, metrics=None):
        """Choose the optimizer, the loss and the metrics, as objects or by their Keras names.

        Names are looked up here, once: a misspelt one fails now, not at the first batch.
        """
        if loss is None:
            raise ValueError("compile needs a loss, e.g. loss='categorical_crossentropy'.")
        if not self.layers:
            raise ValueError(f"Model {self.name!r} has no layers: add them before compile.")
        if isinstance(metrics, (str, dict)) or callable(metrics):
            raise ValueError(f"metrics must be a list, e.g. metrics=['accuracy']; got {metrics!r}.")
        self.optimizer = optimizers.get(optimizer)
        self.loss = losses_module.get(loss)
        self.logits_loss = self._logits_twin(self.loss)
        self.loss_tracker = metrics_module.Mean("loss")
        self.compiled_metrics = [metrics_module.get(metric) for metric in metrics or []]
        names = [metric.name for metric in self.compiled_metrics]
        if "loss" in names or len(set(names)) < len(names):
            raise ValueError(f"Metric names must be unique and not 'loss'; got {names}.")
        self.stop_training = False
        self.compiled = True

    def _logits_twin(self, loss):
        """The from-logits twin of `loss` when Keras would use it, else None.

        Keras (TensorFlow backend) remembers the logits of a sigmoid or softmax output and computes
        a cross-entropy from them, exactly, instead of from clipped probabilities; the gradient at
        the logits is then simply p - y (over m). We do the same. Taught in chapter 4 (fit_from_scratch.ipynb).
        """
        if (isinstance(loss, _CROSSENTROPIES) and not loss.from_logits
                and self.layers[-1].activation in ("sigmoid", "softmax")):
            return type(loss)(from_logits=True)
        return None

    @property
    def metrics(self):
        """The loss tracker and the compiled metrics (Keras's `model.metrics`)."""
        return [self.loss_tracker] + self.compiled_metrics

    def reset_metrics(self):
        for metric in self.metrics:
            metric.reset_state()

    def compute_loss(self, y, y_pred):
        """The compiled loss of the last forward pass's output y_pred, plus the weight penalties.
        Taught in chapter 4 (fit_from_scratch.ipynb)."""
        loss, inputs = self._loss_inputs(y_pred)
        return loss(y, inputs) + sum(self.losses)

    def compute_loss_and_gradient(self, y, y_pred):
        """(loss + weight penalties, dL/d(output)), or dL/d(logits) when the loss is computed from
        the logits (`backward` is then told skip_last_activation=True).
        Taught in chapter 4 (fit_from_scratch.ipynb)."""
        loss, inputs = self._loss_inputs(y_pred)
        value, gradient = loss.value_and_gradient(y, inputs)
        return value + sum(self.losses), gradient

    def _loss_inputs(self, y_pred):
        """The loss to compute and what from: the from-logits twin and the last layer's logits, or
        the compiled loss and y_pred. Taught in chapter 4 (fit_from_scratch.ipynb)."""
        if self.logits_loss:
            return self.logits_loss, self.layers[-1].pre_activation
        return self.loss, y_pred

    def update_metrics(self, loss, y, y_pred):
        """Add one batch to the running means; return the logs so far {"loss": ..., "accuracy": ...}.
        Taught in chapter 4 (fit_from_scratch.ipynb)."""
        self.loss_tracker.update_state(loss, len(y_pred))
        for metric in self.compiled_metrics:
            metric.update_state(y, y_pred)
        return {metric.name: metric.result() for metric in self.metrics}

    def train_step(self, x, y):
        """One batch: forward, loss (+ weight penalties), backward, one optimizer step.
        The metrics see the predictions made before the update, as in Keras. The optimizer gets
        the weights as a `weight_buffer`, all in one flat array: the same update, faster.
        Taught in chapter 3 (regression.ipynb) and chapter 4 (fit_from_scratch.ipynb)."""
        y_pred = self.forward(x, training=True)
        loss, gradient = self.compute_loss_and_gradient(y, y_pred)
        # training needs the weights' gradients only, not the first layer's dL/dx
        self.backward(gradient, skip_last_activation=self.logits_loss is not None, input_gradient=False)
        self.optimizer.apply(self.grads, self.weight_buffer)
        return self.update_metrics(loss, y, y_pred)

    @property
    def weight_buffer(self):
        """The model's trainable weights in one flat array (a WeightBuffer, see weight_buffer.py), made
        at the first use, i.e. the first train_step; made again if the layers no longer use it
        (a layer added, a weight replaced)."""
        if self._weight_buffer is None or not self._weight_buffer.holds(self.trainable_weights):
            self._weight_buffer = WeightBuffer(self.layers, names=self.weight_names)
        return self._weight_buffer

    def test_step(self, x, y):
        """One batch of evaluate: forward in inference mode, loss, metrics."""
        y_pred = self.forward(x)
        return self.update_metrics(self.compute_loss(y, y_pred), y, y_pred)

    def fit(self, x, y, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, initial_epoch=0):
        """Train for `epochs` passes over (x, y) in batches of `batch_size` (32 by default).

        Each epoch has ceil(m_train / batch_size) steps; the last batch may be smaller.
        validation_split takes the LAST fraction of the rows (before any shuffling), as Keras does.
        Logs per epoch: the running mean over the epoch of the loss and metrics, and with
        validation data, val_loss and val_<metric> computed after the epoch. Returns a History.
        Taught in chapter 4 (fit_from_scratch.ipynb).
        """
        self._require_compiled("fit")
        x, y = self._check_data(x, y)
        batch_size = _check_batch_size(batch_size)
        _check_count(epochs, "epochs")
        _check_count(initial_epoch, "initial_epoch")
        x, y, validation_data = _split_validation(x, y, validation_split, validation_data)
        callbacks = CallbackList(callbacks, add_history=True, add_progbar=_check_verbose(verbose) != 0,
                                 model=self, verbose=verbose, epochs=epochs, steps=math.ceil(len(x) / batch_size))
        self.stop_training = False
        callbacks.on_train_begin()
        epoch_logs = {}
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            callbacks.on_epoch_begin(epoch)
            for step, rows in enumerate(_batches(len(x), batch_size, shuffle)):
                callbacks.on_train_batch_begin(step)
                logs = self.train_step(x[rows], y[rows])
                callbacks.on_train_batch_end(step, logs)
                if self.stop_training:
                    break
            epoch_logs = dict(logs)
            if validation_data is not None:
                val_logs = self.evaluate(*validation_data, batch_size=batch_size, callbacks=callbacks,
                                         return_dict=True)
                epoch_logs.update({f"val_{name}": value for name, value in val_logs.items()})
            callbacks.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        callbacks.on_train_end(epoch_logs)
        return self.history

    def evaluate(self, x, y, batch_size=None, verbose="auto", callbacks=None, return_dict=False):
        """Loss (+ weight penalties) and metrics on (x, y) with the current weights, averaged over
        all examples. Returns the loss alone, [loss, *metrics], or a dict with return_dict=True.
        Taught in chapter 4 (fit_from_scratch.ipynb)."""
        self._require_compiled("evaluate")
        x, y = self._check_data(x, y)
        batch_size = _check_batch_size(batch_size)
        if not isinstance(callbacks, CallbackList):
            callbacks = CallbackList(callbacks, add_progbar=_check_verbose(verbose) != 0, model=self,
                                     verbose=verbose, epochs=1, steps=math.ceil(len(x) / batch_size))
        self.stop_evaluating = False
        callbacks.on_test_begin()
        self.reset_metrics()
        for step, rows in enumerate(_batches(len(x), batch_size, shuffle=False)):
            callbacks.on_test_batch_begin(step)
            logs = self.test_step(x[rows], y[rows])
            callbacks.on_test_batch_end(step, logs)
            if self.stop_evaluating:
                break
        callbacks.on_test_end(logs)
        if return_dict:
            return logs
        return logs["loss"] if not self.compiled_metrics else list(logs.values())

    def predict(self, x, batch_size=None, verbose="auto", callbacks=None):
        """Outputs for `x` (m, d) in inference mode, `batch_size` rows (32 by default) at a time."""
        x = as_float_array(x, "x")
        if x.ndim == 0 or len(x) == 0:
            raise ValueError(f"predict needs at least one row; got x with shape {x.shape}.")
        batch_size = _check_batch_size(batch_size)
        callbacks = CallbackList(callbacks, add_progbar=_check_verbose(verbose) != 0, model=self,
                                 verbose=verbose, epochs=1, steps=math.ceil(len(x) / batch_size))
        self.stop_predicting = False
        callbacks.on_predict_begin()
        outputs = []
        for step, rows in enumerate(_batches(len(x), batch_size, shuffle=False)):
            callbacks.on_predict_batch_begin(step)
            outputs.append(self.forward(x[rows]))
            callbacks.on_predict_batch_end(step, {"outputs": outputs[-1]})
            if self.stop_predicting:
                break
        callbacks.on_predict_end()
        return np.concatenate(outputs)

    def _require_compiled(self, what):
        if not self.compiled:
            raise RuntimeError(f"You must call compile(optimizer, loss, metrics) before {what}().")

    @staticmethod
    def _check_data(x, y):
        x = as_float_array(x, "x")
        y = np.asarray(y)
        if x.ndim == 0 or y.ndim == 0:
            raise ValueError(f"x and y must have one row per example; got x.shape={x.shape} and y.shape={y.shape}.")
        if len(x) != len(y):
            raise ValueError(f"x and y must have the same number of rows; got x.shape={x.shape} and "
                             f"y.shape={y.shape}.")
        if len(x) == 0:
            raise ValueError("x is empty: there is nothing to train or evaluate on.")
        return x, y


def _batches(m, batch_size, shuffle):
    """The rows of each batch of one epoch: slices in order, or index arrays of a fresh permutation.
    Taught in chapter 4 (fit_from_scratch.ipynb)."""
    if not shuffle:
        return [slice(start, start + batch_size) for start in range(0, m, batch_size)]
    order = generator().permutation(m)
    return [order[start:start + batch_size] for start in range(0, m, batch_size)]


def _split_validation(x, y, validation_split, validation_data):
    """(x_train, y_train, validation_data): the last `validation_split` of the rows, as Keras takes them."""
    if not (isinstance(validation_split, (int, float)) and 0 <= validation_split < 1):
        raise ValueError(f"validation_split must be in [0, 1); got {validation_split!r}.")
    if validation_data is not None:
        if not (isinstance(validation_data, (tuple, list)) and len(validation_data) == 2):
            raise ValueError("validation_data must be a tuple (x_val, y_val).")
        return x, y, validation_data
    if not validation_split:
        return x, y, None
    split_at = int(math.floor(len(x) * (1.0 - validation_split)))
    if split_at == 0 or split_at == len(x):
        raise ValueError(f"validation_split={validation_split} of {len(x)} rows leaves "
                         f"{split_at} for training and {len(x) - split_at} for validation: both need rows.")
    return x[:split_at], y[:split_at], (x[split_at:], y[split_at:])


def _check_batch_size(batch_size):
    if batch_size is None:
        return 32
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer or None (32); got {batch_size!r}.")
    return int(batch_size)


def _check_count(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be an integer >= 0; got {value!r}.")


def _check_verbose(verbose):
    if verbose not in ("auto", 0, 1, 2):
        raise ValueError(f"verbose must be 'auto', 0, 1 or 2; got {verbose!r}.")
    return verbose
