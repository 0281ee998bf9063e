"""scratchnn's Dropout, BatchNormalization and L2 against Keras: forward and backward in training
and inference, moving statistics, weights, whole fits, gradient checks, mask statistics, errors."""
import numpy as np
import pytest

from course_tools.keras_setup import keras, tf
from course_tools.twins import keras_layer, keras_twin
from scratchnn import layers, optimizers, regularizers, utils
from scratchnn.gradient_check import check_gradients
from scratchnn.models import Sequential


def random_bn(rng, d, momentum=0.99):
    """A built float64 BatchNormalization with random gamma, beta and moving statistics."""
    bn = layers.BatchNormalization(momentum=momentum)
    bn.set_weights([rng.normal(size=d), rng.normal(size=d), rng.normal(size=d), rng.uniform(0.2, 3.0, size=d)])
    return bn


def keras_forward_backward(layer, x, upstream, training):
    """Keras's output and the gradients of sum(layer(x) * upstream) w.r.t. x, gamma and beta."""
    x = tf.Variable(x)
    with tf.GradientTape() as tape:
        y = layer(x, training=training)
        scalar = tf.reduce_sum(y * upstream)
    return y.numpy(), [g.numpy() for g in tape.gradient(scalar, [x] + layer.trainable_variables)]


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_batch_normalization_matches_keras(seed, training):
    rng = np.random.default_rng(seed)
    m, d = int(rng.integers(2, 12)), int(rng.integers(1, 7))
    x = rng.normal(loc=rng.normal(size=d) * 3, scale=rng.uniform(0.1, 5, size=d), size=(m, d))
    ours = random_bn(rng, d, momentum=float(rng.choice([0.99, 0.9, 0.5])))
    theirs = keras_layer(ours)
    upstream = rng.normal(size=(m, d))
    y_keras, (dx_keras, dgamma_keras, dbeta_keras) = keras_forward_backward(theirs, x, upstream, training)
    y = ours.forward(x, training=training)
    dx = ours.backward(upstream)
    np.testing.assert_allclose(y, y_keras, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx, dx_keras, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.grads[0], dgamma_keras, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(ours.grads[1], dbeta_keras, rtol=1e-12, atol=1e-12)
    # the moving statistics move in training only, and as Keras moves them
    names = ["gamma", "beta", "moving_mean", "moving_variance"]
    for name, w, v in zip(names, ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(w, v, rtol=1e-13, atol=1e-14, err_msg=name)


def test_batch_normalization_statistics_are_over_the_examples():
    x = np.array([[1.0, 10.0], [3.0, 30.0]])
    bn = layers.BatchNormalization(momentum=0.5, epsilon=1e-3)
    y = bn.forward(x, training=True)
    # each column (feature) is normalized by its own mean and variance over the two rows
    np.testing.assert_allclose(y, np.array([[-1.0, -1.0], [1.0, 1.0]]) / np.sqrt(1 + np.array([1e-3, 1e-3 / 100])),
                               rtol=1e-12)
    np.testing.assert_allclose(bn.moving_mean, [1.0, 10.0])           # 0.5 * 0 + 0.5 * (2, 20)
    np.testing.assert_allclose(bn.moving_variance, [1.0, 50.5])      # 0.5 * 1 + 0.5 * (1, 100)
    np.testing.assert_array_equal(bn.forward(x), bn.forward(x, training=False))   # inference by default


def test_batch_normalization_weights_trainable_and_not():
    bn = layers.BatchNormalization()
    bn.forward(np.ones((3, 5)))
    assert bn.weight_names == ["gamma", "beta"] and len(bn.trainable_weights) == 2
    assert [w.shape for w in bn.get_weights()] == [(5,)] * 4
    theirs = keras.layers.BatchNormalization()
    theirs.build((None, 5))
    assert [v.name for v in theirs.trainable_weights] == bn.weight_names
    assert [v.name for v in theirs.weights] == ["gamma", "beta", "moving_mean", "moving_variance"]
    np.testing.assert_array_equal(np.concatenate(bn.get_weights()),
                                  np.concatenate([np.asarray(w) for w in theirs.get_weights()]))
    assert bn.count_params() == theirs.count_params() == 20


def test_a_model_with_batch_normalization_packs_only_gamma_and_beta(capsys):
    model = Sequential([layers.Dense(4), layers.BatchNormalization(), layers.Activation("relu"), layers.Dense(2)])
    model.build((None, 3), dtype="float64")
    assert model.weight_names == ["dense/kernel", "dense/bias", "batchnormalization/gamma",
                                  "batchnormalization/beta", "dense_1/kernel", "dense_1/bias"]
    assert model.weight_buffer.flat.size == 3 * 4 + 4 + 4 + 4 + 4 * 2 + 2
    bn, flat = model.layers[1], model.weight_buffer.flat
    assert np.shares_memory(bn.gamma, flat) and not np.shares_memory(bn.moving_mean, flat)
    twin = keras_twin(model)
    assert len(twin.get_weights()) == len(model.get_weights()) == 8
    model.summary()
    printed = capsys.readouterr().out
    assert "batchnormalization (BatchNormalization)" in printed
    assert "Trainable params: 34" in printed and "Non-trainable params: 8" in printed
    assert model.count_params() == twin.count_params() == 42


@pytest.mark.parametrize("batch_size", [8, 30])
def test_fit_with_batch_normalization_matches_keras_fit(batch_size):
    keras.config.set_floatx("float64")
    try:
        rng = np.random.default_rng(batch_size)
        x = rng.normal(loc=2.0, scale=3.0, size=(60, 5))
        y = (x[:, 0] - x[:, 1] + 0.5 * x[:, 2] ** 2 > 4).astype(int)
        ours = Sequential([layers.Dense(6), layers.BatchNormalization(momentum=0.9), layers.Activation("tanh"),
                           layers.Dropout(0.0), layers.Dense(2, activation="softmax")])
        ours.build((None, 5), dtype="float64")
        ours.set_weights([rng.normal(scale=0.5, size=w.shape) if w.ndim == 2 else w for w in ours.get_weights()])
        theirs = keras_twin(ours)
        ours.compile(optimizers.SGD(0.125, momentum=0.5), "sparse_categorical_crossentropy", metrics=["accuracy"])
        theirs.compile(keras.optimizers.SGD(0.125, momentum=0.5), "sparse_categorical_crossentropy",
                       metrics=["accuracy"])
        args = dict(epochs=3, batch_size=batch_size, validation_split=0.25, shuffle=False, verbose=0)
        h_ours, h_theirs = ours.fit(x, y, **args), theirs.fit(x, y, **args)
        for key in h_theirs.history:    # val_* come from inference mode: the moving statistics
            np.testing.assert_allclose(h_ours.history[key], h_theirs.history[key], rtol=1e-10, err_msg=key)
        for w, v in zip(ours.get_weights(), theirs.get_weights()):   # moving statistics included
            np.testing.assert_allclose(w, v, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(ours.predict(x), theirs.predict(x, verbose=0), rtol=1e-9, atol=1e-12)
    finally:
        keras.config.set_floatx("float32")


def test_batch_normalization_passes_the_gradient_check():
    rng = np.random.default_rng(1)
    bn = random_bn(rng, 4)
    report = check_gradients(bn, rng.normal(loc=1.0, scale=2.0, size=(9, 4)))
    assert set(report) == {"input", "gamma", "beta"}
    assert max(report.values()) < 1e-7, report
    model = Sequential([layers.Dense(5, activation="tanh"), layers.BatchNormalization(), layers.Dense(3)])
    report = check_gradients(model, rng.normal(size=(8, 3)))
    assert max(report.values()) < 1e-6, report


def test_gradient_check_catches_batch_norm_without_the_statistics_gradient():
    class Naive(layers.BatchNormalization):      # treats the batch mean and variance as constants
        def backward(self, grad_output, input_gradient=True):
            x_hat, inv_std, _ = self._cached()
            self.grads = [np.sum(grad_output * x_hat, axis=0), grad_output.sum(axis=0)]
            return grad_output * self.gamma * inv_std

    report = check_gradients(Naive(), np.random.default_rng(0).normal(size=(6, 3)))
    assert report["input"] > 1e-2, report


def test_batch_normalization_keeps_float32():
    bn = layers.BatchNormalization()
    y = bn.forward(np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32), training=True)
    assert y.dtype == bn.moving_mean.dtype == bn.gamma.dtype == np.float32
    bn.backward(np.ones_like(y))
    assert all(g.dtype == np.float32 for g in bn.grads)


def test_batch_normalization_errors_name_what_is_wrong():
    bn = layers.BatchNormalization()
    bn.forward(np.ones((3, 4)))
    with pytest.raises(ValueError, match=r"built for 4 features; got x with shape \(3, 5\)"):
        bn.forward(np.ones((3, 5)))
    with pytest.raises(ValueError, match=r"\(batch_size, features\); got shape \(4,\)"):
        layers.BatchNormalization().forward(np.ones(4))
    with pytest.raises(ValueError, match=r"momentum must be in \[0, 1\]; got 1.5"):
        layers.BatchNormalization(momentum=1.5)
    with pytest.raises(ValueError, match="epsilon must be > 0; got 0"):
        layers.BatchNormalization(epsilon=0)
    with pytest.raises(ValueError, match=r"grad_output has shape \(3, 2\)"):
        bn.backward(np.ones((3, 2)))


# --- Dropout -------------------------------------------------------------------------------------

class FixedMask(layers.Dropout):
    """Dropout with one mask drawn once (the gradient check calls forward many times)."""

    def _draw_keep_mask(self, shape):
        if not hasattr(self, "_keep"):
            self._keep = super()._draw_keep_mask(shape)
        return self._keep


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.8])
def test_dropout_keeps_one_minus_rate_and_scales_them_up(rate):
    x = np.ones((400, 250))
    y = layers.Dropout(rate, seed=3).forward(x, training=True)
    kept = y != 0
    np.testing.assert_allclose(y[kept], 1 / (1 - rate), rtol=1e-15)
    # 100,000 independent units: the kept fraction is within 5 standard errors of 1 - rate
    assert abs(kept.mean() - (1 - rate)) < 5 * np.sqrt(rate * (1 - rate) / x.size)
    # units, per example: the rows do not share one mask, nor do the columns
    assert len({row.tobytes() for row in kept[:20]}) == 20 and not np.all(kept == kept[:1])
    assert abs(y.mean() - 1.0) < 5 * np.sqrt(rate / (1 - rate) / x.size)   # the mean is kept


def test_dropout_is_the_identity_at_inference_and_with_rate_zero():
    x = np.random.default_rng(0).normal(size=(5, 6))
    dropout = layers.Dropout(0.5)
    np.testing.assert_array_equal(dropout.forward(x), x)
    np.testing.assert_array_equal(dropout.backward(np.ones_like(x)), np.ones_like(x))
    np.testing.assert_array_equal(layers.Dropout(0.0).forward(x, training=True), x)
    np.testing.assert_array_equal(keras_layer(dropout, build=False)(x, training=False).numpy(), x)


def test_dropout_backward_uses_the_forward_mask_and_passes_the_gradient_check():
    x = np.random.default_rng(1).normal(size=(6, 5))
    dropout = layers.Dropout(0.4, seed=2)
    y = dropout.forward(x, training=True)
    upstream = np.random.default_rng(2).normal(size=y.shape)
    kept = y != 0
    np.testing.assert_allclose(dropout.backward(upstream), np.where(kept, upstream / 0.6, 0.0), rtol=1e-15)
    np.testing.assert_allclose(y, np.where(kept, x / 0.6, 0.0), rtol=1e-15)
    report = check_gradients(FixedMask(0.4, seed=4), x)
    assert report["input"] < 1e-8, report


def test_dropout_seed_is_reproducible_and_masks_change_between_calls():
    x = np.ones((10, 10))
    a, b = layers.Dropout(0.5, seed=7), layers.Dropout(0.5, seed=7)
    first = a.forward(x, training=True)
    np.testing.assert_array_equal(first, b.forward(x, training=True))
    assert not np.array_equal(first, a.forward(x, training=True))     # a new mask at every step
    utils.set_random_seed(11)
    c = layers.Dropout(0.5).forward(x, training=True)
    utils.set_random_seed(11)
    np.testing.assert_array_equal(c, layers.Dropout(0.5).forward(x, training=True))


def test_dropout_matches_keras_in_distribution():
    x = np.ones((200, 200), dtype=np.float32)
    theirs = keras.layers.Dropout(0.3, seed=1)(x, training=True).numpy()
    ours = layers.Dropout(0.3, seed=1).forward(x, training=True)
    assert set(np.unique(ours)) == set(np.unique(theirs))              # {0, 1 / 0.7} in float32
    assert abs((ours == 0).mean() - (theirs == 0).mean()) < 0.01


def test_fit_uses_training_mode_and_predict_inference_mode():
    seen = []

    class Spy(layers.Dropout):
        def call(self, x, training=False):
            seen.append(training)
            return super().call(x, training)

    model = Sequential([layers.Dense(3), Spy(0.5, seed=0), layers.Dense(1)])
    model.compile("sgd", "mse")
    x, y = np.ones((4, 2)), np.ones((4, 1))
    model.fit(x, y, epochs=1, batch_size=4, validation_data=(x, y), verbose=0)
    assert seen[-2:] == [True, False]                     # a training step, then validation
    seen.clear()
    model.predict(x, verbose=0)
    model.evaluate(x, y, verbose=0)
    assert seen == [False, False]


@pytest.mark.parametrize("rate", [-0.1, 1, 1.5, "0.5", None, True])
def test_dropout_rate_is_checked(rate):
    with pytest.raises(ValueError, match=rf"rate must be a number in \[0, 1\).*got {rate!r}"):
        layers.Dropout(rate)


# --- L2 ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("l2", [0.0078125, 0.25])
def test_l2_penalty_and_gradient_match_keras(l2):
    """Keras's L2(l2) is l2 * sum(w^2): no 1/2 and no 1/m (the l2 here are exact in float32)."""
    w = np.random.default_rng(0).normal(size=(4, 3))
    theirs = keras.regularizers.L2(l2)
    variable = tf.Variable(w)
    with tf.GradientTape() as tape:
        penalty = theirs(variable)
    np.testing.assert_allclose(regularizers.L2(l2)(w), float(penalty), rtol=1e-13)
    np.testing.assert_allclose(regularizers.L2(l2).gradient(w), tape.gradient(penalty, variable).numpy(), rtol=1e-13)
    np.testing.assert_allclose(regularizers.L2(l2)(w), l2 * np.sum(w ** 2), rtol=1e-13)


def test_l2_is_added_to_the_mean_loss_in_fit_as_keras_adds_it():
    keras.config.set_floatx("float64")
    try:
        rng = np.random.default_rng(4)
        x, y = rng.normal(size=(20, 3)), rng.normal(size=(20, 1))
        ours = Sequential([layers.Dense(1, kernel_regularizer=regularizers.L2(0.5))])
        ours.build((None, 3), dtype="float64")
        ours.set_weights([rng.normal(size=(3, 1)), np.zeros(1)])
        theirs = keras_twin(ours)
        ours.compile(optimizers.SGD(0.0625), "mse")
        theirs.compile(keras.optimizers.SGD(0.0625), "mse")
        loss_ours = ours.evaluate(x, y, verbose=0)
        kernel = ours.get_weights()[0]
        np.testing.assert_allclose(loss_ours, np.mean((x @ kernel - y) ** 2) + 0.5 * np.sum(kernel ** 2), rtol=1e-12)
        np.testing.assert_allclose(loss_ours, theirs.evaluate(x, y, verbose=0), rtol=1e-12)
        args = dict(epochs=2, batch_size=5, shuffle=False, verbose=0)
        np.testing.assert_allclose(ours.fit(x, y, **args).history["loss"], theirs.fit(x, y, **args).history["loss"],
                                   rtol=1e-10)
    finally:
        keras.config.set_floatx("float32")
