"""scratchnn.models.Sequential against keras.Sequential: forward, backward through a stack, weights, summary."""
import numpy as np
import pytest

from course_tools.keras_setup import keras, tf
from course_tools.twins import keras_twin
from scratchnn import layers, losses
from scratchnn.gradient_check import check_gradients
from scratchnn.models import Sequential


def build_pair(sizes, activations, d, seed):
    """A scratchnn and a float64 Keras Sequential of the same Dense stack, with the same weights."""
    ours = Sequential([layers.Dense(units, activation=act) for units, act in zip(sizes, activations)])
    ours.build((None, d), dtype="float64")
    rng = np.random.default_rng(seed)
    ours.set_weights([rng.normal(scale=0.8, size=w.shape) for w in ours.get_weights()])
    return ours, keras_twin(ours)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("hidden", [["relu"], ["tanh", "sigmoid"], ["relu", "relu", "tanh"]])
def test_forward_and_all_gradients_match_keras(seed, hidden):
    rng = np.random.default_rng(seed)
    m, d, n = int(rng.integers(1, 10)), int(rng.integers(1, 6)), int(rng.integers(2, 5))
    sizes = [int(h) for h in rng.integers(1, 7, size=len(hidden))] + [n]
    ours, theirs = build_pair(sizes, hidden + ["softmax"], d, seed)
    x, y = rng.normal(size=(m, d)), np.eye(n)[rng.integers(0, n, size=m)]

    loss = losses.CategoricalCrossentropy()
    p = ours.forward(x)
    ours.backward(loss.gradient(y, p))
    with tf.GradientTape() as tape:
        value = keras.losses.CategoricalCrossentropy(dtype="float64")(y, theirs(x))
    keras_grads = tape.gradient(value, theirs.trainable_variables)

    np.testing.assert_allclose(p, theirs(x).numpy(), rtol=1e-12, atol=1e-14)
    assert loss(y, p) == pytest.approx(float(value), rel=1e-12)
    assert len(ours.grads) == len(keras_grads) == 2 * len(sizes)
    for name, g, k in zip(ours.weight_names, ours.grads, keras_grads):
        np.testing.assert_allclose(g, k.numpy(), rtol=1e-10, atol=1e-13, err_msg=name)


def test_every_parameter_passes_the_gradient_check():
    model = Sequential([layers.Dense(5, activation="tanh"), layers.Dense(4, activation="relu"),
                        layers.Activation("sigmoid"), layers.Dense(3, activation="softmax")])
    report = check_gradients(model, np.random.default_rng(1).normal(size=(7, 3)))
    assert list(report) == ["input", "dense/kernel", "dense/bias", "dense_1/kernel", "dense_1/bias",
                            "dense_2/kernel", "dense_2/bias"]
    assert max(report.values()) < 1e-7, report


def test_parameter_count_and_summary_match_keras(capsys):
    ours = Sequential([layers.Dense(64, activation="relu"), layers.Dense(4, activation="softmax")])
    ours.build((None, 11))
    theirs = keras.Sequential([keras.Input(shape=(11,)), keras.layers.Dense(64, activation="relu"),
                               keras.layers.Dense(4, activation="softmax")])
    assert ours.count_params() == theirs.count_params() == 1028
    ours.summary()
    printed = capsys.readouterr().out
    assert "dense_1 (Dense)" in printed and "(None, 4)" in printed and "Total params: 1,028" in printed


def test_predict_in_batches_equals_predict_at_once():
    model = Sequential([layers.Dense(3, activation="softmax")])
    x = np.random.default_rng(0).normal(size=(10, 2))
    np.testing.assert_allclose(model.predict(x, batch_size=3), model.predict(x))


def test_errors_are_clear():
    with pytest.raises(ValueError, match="no layers"):
        Sequential().predict(np.ones((1, 2)))
    with pytest.raises(ValueError, match="expects a scratchnn layer; got Dense"):
        Sequential([keras.layers.Dense(2)])
    model = Sequential([layers.Dense(2)])
    with pytest.raises(ValueError, match="Build the model"):
        model.set_weights([np.ones((3, 2)), np.ones(2)])
    model.build((None, 3))
    with pytest.raises(ValueError, match="has 2 weight arrays; got 1"):
        model.set_weights([np.ones((3, 2))])
