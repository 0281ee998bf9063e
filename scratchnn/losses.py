"""Losses with the formulas, clipping and default reduction of `keras.losses`.

`loss(y_true, y_pred)` returns the mean over the batch (Keras's "sum_over_batch_size" reduction) as a
float; `loss.gradient(y_true, y_pred)` returns d loss / d y_pred, with y_pred's shape, the 1/m of
the mean included. From probabilities, Keras clips them to [1e-7, 1 - 1e-7] before taking logs, so
the loss stays finite; with `from_logits=True` the loss is computed from the scores directly, which
is exact and stable for any logits.

Note: Keras's TensorFlow backend remembers the logits of a sigmoid or softmax output, and its
cross-entropies silently use them instead of the clipped probabilities. A Keras model ending in
softmax is therefore trained on the exact loss; `scratchnn.models.Sequential` does the same (see
`Trainer.compute_loss` in trainer.py). Called on a plain array of probabilities, both libraries clip.
"""
import numpy as np

from . import activations
from ._checks import as_float_array, check_finite, from_identifier

EPSILON = 1e-7  # keras.config.epsilon()


class Loss:
    """Base class. Subclasses give the per-sample loss and its gradient (summed over the batch)."""

    name = "loss"

    def __init__(self, from_logits=False):
        self.from_logits = from_logits

    def __call__(self, y_true, y_pred):
        """The mean of `per_sample` over the batch, as a float. Taught in chapter 3 (regression.ipynb)."""
        y_true, y_pred = self._prepare(y_true, y_pred)
        return float(np.mean(self.per_sample(y_true, y_pred)))

    def gradient(self, y_true, y_pred):
        """d(mean loss)/d(y_pred), shape of y_pred. Taught in chapter 3 (regression.ipynb)."""
        y_true, y_pred = self._prepare(y_true, y_pred)
        n_samples = max(1, y_pred.size // y_pred.shape[-1]) if y_pred.ndim > 1 else 1
        return self.per_sample_gradient(y_true, y_pred) / n_samples

    def value_and_gradient(self, y_true, y_pred):
        """(loss, gradient) together, as a training step needs them: the inputs are checked once."""
        y_true, y_pred = self._prepare(y_true, y_pred)
        n_samples = max(1, y_pred.size // y_pred.shape[-1]) if y_pred.ndim > 1 else 1
        values, gradient = self.per_sample_and_gradient(y_true, y_pred)
        return float(values.sum() / values.size), gradient / n_samples     # the mean (np.mean is slower)

    def per_sample_and_gradient(self, y_true, y_pred):
        """`per_sample` and `per_sample_gradient`; a subclass may share work between the two."""
        return self.per_sample(y_true, y_pred), self.per_sample_gradient(y_true, y_pred)

    def per_sample(self, y_true, y_pred):
        raise NotImplementedError

    def per_sample_gradient(self, y_true, y_pred):
        raise NotImplementedError

    def _prepare(self, y_true, y_pred):
        """Float arrays of one shape (a (m,) target next to a (m, 1) prediction is reshaped, as Keras does)."""
        y_pred = as_float_array(y_pred, "y_pred")
        y_true = as_float_array(y_true, "y_true").astype(y_pred.dtype, copy=False)
        if y_pred.ndim == 0:
            raise ValueError("`y_pred` must have at least one dimension (batch_size, ...); got a scalar.")
        if y_true.shape != y_pred.shape and y_true.size == y_pred.size and abs(y_true.ndim - y_pred.ndim) == 1:
            y_true = y_true.reshape(y_pred.shape)
        if y_true.shape != y_pred.shape:
            raise ValueError(f"{type(self).__name__}: y_true and y_pred must have the same shape; "
                             f"got y_true.shape={y_true.shape} and y_pred.shape={y_pred.shape}.")
        check_finite(y_true, "y_true")
        check_finite(y_pred, "y_pred")
        return y_true, y_pred


def class_indices(labels, n_classes):
    """`labels` as integer class indices, or a ValueError naming the first label not in 0..n_classes-1."""
    labels = np.asarray(labels)
    if labels.dtype.kind in "iu" and (labels.size == 0 or (labels.min() >= 0 and labels.max() < n_classes)):
        return labels                  # integers already, all in range: nothing to convert (the common case)
    numeric = labels.dtype.kind in "iuf"
    if numeric:
        bad = ~((labels == np.round(labels)) & (labels >= 0) & (labels < n_classes))
    else:
        bad = np.ones(labels.shape, bool)
    if bad.any():
        raise ValueError(f"Labels must be integers in [0, {n_classes}) for {n_classes} classes; "
                         f"found {labels[bad].ravel()[0].item() if numeric else labels[bad].ravel()[0]!r}.")
    return labels.astype(np.int64)


def _clip(p):
    """Probabilities clipped to [eps, 1 - eps], and the mask of those left untouched (gradient 1, else 0)."""
    clipped = np.clip(p, EPSILON, 1 - EPSILON)
    return clipped, (p >= EPSILON) & (p <= 1 - EPSILON)


def _log_softmax(z):
    shifted = z - np.max(z, axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


class BinaryCrossentropy(Loss):
    """-[y log p + (1 - y) log(1 - p)], averaged over the last axis, then over the batch.

    y_true: 0/1 labels, shape (m, k) or (m,) next to y_pred (m, 1). y_pred: probabilities, or
    logits with from_logits=True.
    Taught in chapter 1 (neuron.ipynb).
    """

    name = "binary_crossentropy"

    def per_sample(self, y, p):
        if self.from_logits:   # max(z, 0) - z y + log(1 + e^-|z|): no overflow for any z
            values = np.maximum(p, 0) - p * y + np.log1p(np.exp(-np.abs(p)))
        else:
            p, _ = _clip(p)
            values = -(y * np.log(p) + (1 - y) * np.log(1 - p))
        return np.mean(values, axis=-1)

    def per_sample_gradient(self, y, p):
        if self.from_logits:
            return (activations.sigmoid(p) - y) / p.shape[-1]
        p, inside = _clip(p)
        return (-y / p + (1 - y) / (1 - p)) * inside / p.shape[-1]


class CategoricalCrossentropy(Loss):
    """-sum_j y_j log p_j over the classes, averaged over the batch.

    y_true: one-hot rows (m, n). y_pred: probabilities (m, n), or logits with from_logits=True.
    Like Keras, probabilities are first divided by their row sum, then clipped.
    Taught in chapter 1 (softmax_classifier.ipynb).
    """

    name = "categorical_crossentropy"

    def per_sample(self, y, p):
        if self.from_logits:
            return -np.sum(y * _log_softmax(p), axis=-1)
        q, _ = _clip(p / np.sum(p, axis=-1, keepdims=True))
        return -np.sum(y * np.log(q), axis=-1)

    def per_sample_gradient(self, y, p):
        if self.from_logits:   # the famous p - y (times sum(y), which is 1 for one-hot rows)
            return activations.softmax(p) * np.sum(y, axis=-1, keepdims=True) - y
        row_sum = np.sum(p, axis=-1, keepdims=True)
        q = p / row_sum
        clipped, inside = _clip(q)
        d_q = -y / clipped * inside
        # back through q = p / row_sum
        return (d_q - np.sum(d_q * q, axis=-1, keepdims=True)) / row_sum


class SparseCategoricalCrossentropy(Loss):
    """Categorical cross-entropy with integer labels: y_true (m,) or (m, 1) holds class indices."""

    name = "sparse_categorical_crossentropy"

    def _prepare(self, y_true, y_pred):
        """One-hot rows made from the integer labels, and the float predictions."""
        y_pred = as_float_array(y_pred, "y_pred")
        labels = np.asarray(y_true)
        if labels.ndim == y_pred.ndim and labels.shape[-1:] == (1,):
            labels = labels[..., 0]
        if y_pred.ndim < 1 or labels.shape != y_pred.shape[:-1]:
            raise ValueError(f"SparseCategoricalCrossentropy: y_true must hold one class index per row of "
                             f"y_pred; got y_true.shape={np.shape(y_true)} and y_pred.shape={y_pred.shape}.")
        check_finite(y_pred, "y_pred")
        classes = y_pred.shape[-1]
        one_hot = class_indices(labels, classes)[..., None] == np.arange(classes)   # (m, n), True at the label
        return one_hot.astype(y_pred.dtype), y_pred

    def per_sample(self, y, p):
        if self.from_logits:
            return -np.sum(y * _log_softmax(p), axis=-1)
        # Keras: log of the clipped probabilities, then a softmax cross-entropy on those logs
        clipped, _ = _clip(p)
        return -np.sum(y * np.log(clipped), axis=-1) + np.log(np.sum(clipped, axis=-1))

    def per_sample_and_gradient(self, y, p):
        """From logits, the loss and its gradient share one softmax: with s = z - max(z), the loss
        is log(sum e^s) - s[label] and the gradient e^s / sum(e^s) - y (the same numbers as
        per_sample and per_sample_gradient give, computed once)."""
        if not self.from_logits:
            return super().per_sample_and_gradient(y, p)
        shifted = p - p.max(axis=-1, keepdims=True)
        exp = np.exp(shifted)
        total = exp.sum(axis=-1, keepdims=True)
        return np.log(total)[..., 0] - np.sum(y * shifted, axis=-1), exp / total - y

    def per_sample_gradient(self, y, p):
        if self.from_logits:
            return activations.softmax(p) - y
        clipped, inside = _clip(p)
        return (-y / clipped + 1 / np.sum(clipped, axis=-1, keepdims=True)) * inside


class MeanSquaredError(Loss):
    """mean((y_true - y_pred)**2) over the last axis, then over the batch.

    Taught in chapter 3 (regression.ipynb); the reconstruction loss of chapter 9 (autoencoders.ipynb).
    """

    name = "mean_squared_error"

    def per_sample(self, y, p):
        return np.mean(np.square(p - y), axis=-1)

    def per_sample_gradient(self, y, p):
        return 2 * (p - y) / p.shape[-1]


class Hinge(Loss):
    """mean(max(1 - y * score, 0)): the linear SVM's loss on raw scores (a loss, not an activation).

    Labels are -1/1; labels that are all 0/1 are mapped to -1/1 first, as Keras does.
    Taught in chapter 1 (neuron.ipynb).
    """

    name = "hinge"

    @staticmethod
    def _signed(y):
        return 2 * y - 1 if np.all((y == 0) | (y == 1)) else y

    def per_sample(self, y, p):
        return np.mean(np.maximum(1 - self._signed(y) * p, 0), axis=-1)

    def per_sample_gradient(self, y, p):
        y = self._signed(y)
        # at the kink (margin exactly 0) TensorFlow passes the gradient of the first argument: -y
        return -y * (1 - y * p >= 0) / p.shape[-1]


class MaskedMeanSquaredError(Loss):
    """The squared error over the entries that were given: y_true holds np.nan where there is no target.

        loss = sum over given entries of (y_pred - y_true)**2 / n_given
        gradient = 2 (y_pred - y_true) / n_given on given entries, 0 elsewhere

    n_given counts the given entries of the whole batch, so every given rating weighs the same (a
    user who rated 20 films counts 20 times, one who rated 2 counts twice). A batch with no given
    entry has no loss: that is a ValueError. Filling the gaps with 0 instead would teach the model
    that nobody-rated means rated 0. Not in Keras (there it is a few lines: course_tools/tied.py).
    Shapes: y_true and y_pred (m, n), e.g. users x items.
    Taught in chapter 9 (recommender.ipynb).
    """

    name = "masked_mean_squared_error"

    def __init__(self):
        super().__init__(from_logits=False)

    def __call__(self, y_true, y_pred):
        return self.value_and_gradient(y_true, y_pred)[0]

    def gradient(self, y_true, y_pred):
        return self.value_and_gradient(y_true, y_pred)[1]

    def value_and_gradient(self, y_true, y_pred):
        """(loss, gradient) of the given entries; the differences are computed once."""
        y_true, y_pred = self._prepare(y_true, y_pred)
        given = ~np.isnan(y_true)                                   # (m, n), True where a target exists
        n_given = int(given.sum())
        if n_given == 0:
            raise ValueError(f"MaskedMeanSquaredError: y_true (shape {y_true.shape}) has no given entry (all are "
                             "NaN): this batch has no loss. Use larger batches, or drop rows with no rating.")
        diff = np.where(given, y_pred - np.where(given, y_true, 0), 0)   # 0 where nothing was given
        return float(np.sum(diff * diff) / n_given), 2 * diff / n_given

    def _prepare(self, y_true, y_pred):
        """As `Loss._prepare`, but NaN in y_true means "not given" (infinity is still an error)."""
        y_pred = as_float_array(y_pred, "y_pred")
        y_true = as_float_array(y_true, "y_true").astype(y_pred.dtype, copy=False)
        if y_pred.ndim == 0 or y_true.shape != y_pred.shape:
            raise ValueError(f"MaskedMeanSquaredError: y_true and y_pred must have the same shape; "
                             f"got y_true.shape={y_true.shape} and y_pred.shape={y_pred.shape}.")
        check_finite(y_pred, "y_pred")
        check_finite(np.where(np.isnan(y_true), 0, y_true), "y_true")
        return y_true, y_pred


_BY_NAME = {cls.name: cls for cls in (BinaryCrossentropy, CategoricalCrossentropy,
                                      SparseCategoricalCrossentropy, MeanSquaredError, Hinge,
                                      MaskedMeanSquaredError)}
_BY_NAME["mse"] = MeanSquaredError


def get(identifier):
    """A loss from a Keras name ("categorical_crossentropy", "mse", ...) or a Loss object."""
    return from_identifier(identifier, Loss, _BY_NAME, "loss")
