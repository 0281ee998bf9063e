"""Metrics reported by `fit` and `evaluate`, with Keras's names and definitions.

Each metric function returns one value per example; `fit` averages them over every example seen
in the epoch (a running mean, as Keras's metric objects do).
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
    labels = class_indices(np.reshape(y_true, np.shape(y_pred)[:-1]), np.shape(y_pred)[-1])
    return (labels == np.argmax(y_pred, axis=-1)).astype(float)


def mean_squared_error(y_true, y_pred):
    return np.mean(np.square(np.asarray(y_pred) - np.reshape(y_true, np.shape(y_pred))), axis=-1)


def mean_absolute_error(y_true, y_pred):
    return np.mean(np.abs(np.asarray(y_pred) - np.reshape(y_true, np.shape(y_pred))), axis=-1)


_BY_NAME = {"binary_accuracy": binary_accuracy, "categorical_accuracy": categorical_accuracy,
            "sparse_categorical_accuracy": sparse_categorical_accuracy,
            "mean_squared_error": mean_squared_error, "mse": mean_squared_error,
            "mean_absolute_error": mean_absolute_error, "mae": mean_absolute_error}


def get(name, loss_name=None, output_units=None):
    """The metric function for a Keras metric name. "accuracy" picks the variant Keras picks:
    binary for one output unit or a binary cross-entropy loss, sparse for a sparse loss,
    categorical otherwise."""
    if name in ("accuracy", "acc"):
        if output_units == 1 or loss_name == "binary_crossentropy":
            return binary_accuracy
        if loss_name == "sparse_categorical_crossentropy":
            return sparse_categorical_accuracy
        return categorical_accuracy
    if callable(name):
        return name
    if name not in _BY_NAME:
        raise ValueError(f"Unknown metric {name!r}. Known: {sorted(_BY_NAME) + ['accuracy']}.")
    return _BY_NAME[name]


class Mean:
    """Running mean of values weighted by how many examples each covers (keras.metrics.Mean)."""

    def __init__(self):
        self.total, self.count = 0.0, 0

    def update(self, value, count):
        self.total += float(value) * count
        self.count += count

    def result(self):
        return self.total / self.count if self.count else 0.0
