"""Metrics reported by `fit` and `evaluate`, with Keras's names and definitions.

Each metric function returns one value per example; `compile` turns every metric it is given into
a metric object (`get`) once, and `fit` averages the values over every example seen in the epoch
(a running mean, as Keras's metric objects do). Taught in chapter 4 (fit_from_scratch.ipynb).
"""
import numpy as np

from .losses import class_indices


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1 where (y_pred > threshold) equals the 0/1 label, averaged over the last axis. Shape (m,)."""
    y_true = np.asarray(y_true).reshape(np.shape(y_pred))
    return np.mean(y_true == (np.asarray(y_pred) > threshold), axis=-1)


def categorical_accuracy(y_true, y_pred):
    """1 where the most probable class is the one-hot label's class. Shape (m,)."""
    return (np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)).astype(float)


def sparse_categorical_accuracy(y_true, y_pred):
    """1 where the most probable class equals the integer label. Shape (m,)."""
    y_pred = np.asarray(y_pred)
    labels = class_indices(np.reshape(y_true, y_pred.shape[:-1]), y_pred.shape[-1])
    return (labels == y_pred.argmax(axis=-1)).astype(float)


def mean_squared_error(y_true, y_pred):
    return np.mean(np.square(np.asarray(y_pred) - np.reshape(y_true, np.shape(y_pred))), axis=-1)


def mean_absolute_error(y_true, y_pred):
    return np.mean(np.abs(np.asarray(y_pred) - np.reshape(y_true, np.shape(y_pred))), axis=-1)


_BY_NAME = {"binary_accuracy": binary_accuracy, "categorical_accuracy": categorical_accuracy,
            "sparse_categorical_accuracy": sparse_categorical_accuracy,
            "mean_squared_error": mean_squared_error, "mse": mean_squared_error,
            "mean_absolute_error": mean_absolute_error, "mae": mean_absolute_error}


def accuracy_for(y_true_shape, y_pred_shape):
    """The accuracy Keras means by "accuracy", from the shapes of the labels and the predictions
    (keras/src/trainers/compile_utils.py): binary for one output unit, sparse for integer labels
    (one rank less than y_pred, or one column next to several outputs), categorical otherwise."""
    if y_pred_shape[-1] == 1:
        return binary_accuracy
    if len(y_true_shape) < len(y_pred_shape) or (y_true_shape[-1] == 1 and y_pred_shape[-1] > 1):
        return sparse_categorical_accuracy
    return categorical_accuracy


class Mean:
    """Running mean of values weighted by how many examples each covers (keras.metrics.Mean).
    Taught in chapter 4 (fit_from_scratch.ipynb)."""

    def __init__(self, name="mean"):
        self.name = name
        self.reset_state()

    def reset_state(self):
        self.total, self.count = 0.0, 0

    def update_state(self, value, count=1):
        self.total += float(value) * count
        self.count += count

    def result(self):
        return self.total / self.count if self.count else 0.0


class MeanMetricWrapper(Mean):
    """The running mean over every example seen of a per-example metric `fn(y_true, y_pred) -> (m,)`.
    Taught in chapter 4 (fit_from_scratch.ipynb)."""

    def __init__(self, fn, name):
        super().__init__(name)
        self.fn = fn

    def update_state(self, y_true, y_pred):
        """Add the batch's values; a function that returns one number per batch counts as one value,
        as in Keras."""
        values = np.asarray(self.fn(y_true, y_pred))
        super().update_state(values.sum() / values.size, values.size)


class Accuracy(MeanMetricWrapper):
    """"accuracy" as compile reads it: binary, sparse or categorical (see `accuracy_for`), picked
    once, from the shapes of the first batch, as Keras does."""

    def __init__(self, name="accuracy"):
        super().__init__(None, name)

    def update_state(self, y_true, y_pred):
        if self.fn is None:
            self.fn = accuracy_for(np.shape(y_true), np.shape(y_pred))
        super().update_state(y_true, y_pred)


def get(identifier):
    """A metric object for `compile`: from a Keras name ("accuracy", "mse", ...), a function
    `fn(y_true, y_pred) -> (m,)` (named by its __name__ in the logs, as Keras does), or a Mean."""
    if isinstance(identifier, Mean):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in ("accuracy", "acc"):
        return Accuracy(identifier)
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return MeanMetricWrapper(_BY_NAME[identifier.lower()], identifier)
    if callable(identifier) and not isinstance(identifier, type):
        return MeanMetricWrapper(identifier, getattr(identifier, "__name__", type(identifier).__name__))
    raise ValueError(f"Unknown metric {identifier!r}. Known names: {sorted(_BY_NAME) + ['accuracy']}; "
                     "or pass a function fn(y_true, y_pred) returning one value per example.")
