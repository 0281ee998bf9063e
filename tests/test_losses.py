"""scratchnn.losses against keras.losses: values, gradients w.r.t. y_pred, clipping, extreme logits, errors."""
import warnings

import numpy as np
import pytest

from course_tools.keras_setup import keras, tf
from scratchnn import losses
from scratchnn.gradient_check import check_loss
from tests.helpers import keras_gradients, one_hot, random_probabilities

NAMES = ["BinaryCrossentropy", "CategoricalCrossentropy", "SparseCategoricalCrossentropy",
         "MeanSquaredError", "Hinge"]


def make_case(name, rng, m, n, from_logits=False):
    """(y_true, y_pred) of the kind each loss expects."""
    labels = rng.integers(0, n, size=m)
    if name == "BinaryCrossentropy":
        y_true = rng.integers(0, 2, size=(m, n)).astype(float)
        y_pred = rng.normal(size=(m, n)) if from_logits else rng.uniform(0.02, 0.98, size=(m, n))
    elif name == "SparseCategoricalCrossentropy":
        y_true = labels
        y_pred = rng.normal(size=(m, n)) if from_logits else random_probabilities(rng, m, n)
    elif name == "CategoricalCrossentropy":
        y_true = one_hot(labels, n)
        y_pred = rng.normal(size=(m, n)) if from_logits else random_probabilities(rng, m, n)
    elif name == "Hinge":
        y_true = rng.choice([-1.0, 1.0], size=(m, n))
        y_pred = rng.normal(size=(m, n))
    else:
        y_true, y_pred = rng.normal(size=(m, n)), rng.normal(size=(m, n))
    return y_true, y_pred


def both(name, from_logits=False):
    kwargs = {"from_logits": True} if from_logits else {}
    return getattr(losses, name)(**kwargs), getattr(keras.losses, name)(dtype="float64", **kwargs)


def assert_same_loss_and_gradient(name, y_true, y_pred, from_logits=False, rtol=1e-12):
    ours, theirs = both(name, from_logits)
    value, (grad,) = keras_gradients(lambda p: theirs(tf.constant(y_true), p), y_pred)
    np.testing.assert_allclose(ours(y_true, y_pred), value, rtol=rtol)
    np.testing.assert_allclose(ours.gradient(y_true, y_pred), grad, rtol=rtol, atol=1e-15)


CASES = [(name, False) for name in NAMES] + [(name, True) for name in NAMES[:3]]


@pytest.mark.parametrize("name,from_logits", CASES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_value_and_gradient_match_keras(name, from_logits, seed):
    rng = np.random.default_rng(seed)
    m, n = int(rng.integers(1, 12)), int(rng.integers(2, 6))
    assert_same_loss_and_gradient(name, *make_case(name, rng, m, n, from_logits), from_logits=from_logits)


@pytest.mark.parametrize("name,from_logits", CASES)
def test_gradient_matches_finite_differences(name, from_logits):
    rng = np.random.default_rng(7)
    y_true, y_pred = make_case(name, rng, 6, 3, from_logits)
    ours = getattr(losses, name)(from_logits=from_logits) if from_logits else getattr(losses, name)()
    assert check_loss(ours, y_true, y_pred) < 1e-7


@pytest.mark.parametrize("name", ["BinaryCrossentropy", "CategoricalCrossentropy", "SparseCategoricalCrossentropy"])
def test_probabilities_of_exactly_0_and_1_are_clipped_like_keras(name):
    y_pred = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.2, 0.3, 0.5]])
    y_true = {"BinaryCrossentropy": np.array([[0.0, 1, 0], [1, 1, 0], [0, 0, 1]]),
              "CategoricalCrossentropy": one_hot([1, 1, 2], 3),
              "SparseCategoricalCrossentropy": np.array([1, 1, 2])}[name]
    assert_same_loss_and_gradient(name, y_true, y_pred, rtol=1e-10)
    assert np.isfinite(getattr(losses, name)()(y_true, y_pred))


@pytest.mark.parametrize("name", ["BinaryCrossentropy", "CategoricalCrossentropy", "SparseCategoricalCrossentropy"])
def test_logits_of_plus_minus_1000_are_exact_and_quiet(name):
    logits = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 1000.0]])
    y_true = {"BinaryCrossentropy": np.array([[0.0, 1, 0], [1, 1, 0]]),
              "CategoricalCrossentropy": one_hot([1, 0], 3),
              "SparseCategoricalCrossentropy": np.array([1, 0])}[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            ours = getattr(losses, name)(from_logits=True)
            value, grad = ours(y_true, logits), ours.gradient(y_true, logits)
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    assert_same_loss_and_gradient(name, y_true, logits, from_logits=True)


def test_k_equals_2_cross_entropy_is_log_loss():
    rng = np.random.default_rng(3)
    p = rng.uniform(0.05, 0.95, size=10)
    y = rng.integers(0, 2, size=10)
    two_class = losses.CategoricalCrossentropy()(one_hot(y, 2), np.stack([1 - p, p], axis=1))
    assert two_class == pytest.approx(losses.BinaryCrossentropy()(y[:, None], p[:, None]), rel=1e-12)


def test_hinge_maps_0_1_labels_to_minus_1_plus_1_like_keras():
    rng = np.random.default_rng(4)
    y_true, y_pred = rng.integers(0, 2, size=(8, 1)).astype(float), rng.normal(size=(8, 1))
    assert_same_loss_and_gradient("Hinge", y_true, y_pred)


def test_vector_targets_next_to_column_predictions():
    y_true, y_pred = np.array([0.0, 1.0, 1.0]), np.array([[0.2], [0.7], [0.9]])
    assert_same_loss_and_gradient("BinaryCrossentropy", y_true, y_pred)
    assert losses.BinaryCrossentropy().gradient(y_true, y_pred).shape == (3, 1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gradient_keeps_dtype(dtype):
    y_pred = np.full((4, 3), 1 / 3, dtype=dtype)
    assert losses.CategoricalCrossentropy().gradient(one_hot([0, 1, 2, 0], 3), y_pred).dtype == dtype


def test_errors_name_what_is_wrong():
    with pytest.raises(ValueError, match=r"y_true.shape=\(4, 3\) and y_pred.shape=\(4, 2\)"):
        losses.CategoricalCrossentropy()(np.zeros((4, 3)), np.full((4, 2), 0.5))
    with pytest.raises(ValueError, match=r"integers in \[0, 3\).*found 3"):
        losses.SparseCategoricalCrossentropy()([0, 3], np.full((2, 3), 1 / 3))
    with pytest.raises(ValueError, match=r"found 1.5"):
        losses.SparseCategoricalCrossentropy()([0, 1.5], np.full((2, 3), 1 / 3))
    with pytest.raises(ValueError, match="y_pred.*non-finite.*diverged"):
        losses.MeanSquaredError()(np.zeros((2, 1)), np.array([[0.0], [np.nan]]))
    with pytest.raises(ValueError, match="Unknown loss 'cross_entropy'"):
        losses.get("cross_entropy")


def test_keras_names_are_understood():
    for name in ["binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy",
                 "mean_squared_error", "mse", "hinge"]:
        assert isinstance(losses.get(name), losses.Loss)
