"""Tied weights (DenseTranspose) and the masked squared error, scratchnn against Keras in float64:
outputs, every gradient (the tied kernel's is the sum of its two uses), central differences,
Adam steps and whole fits, weight copying both ways, parameter counts and error messages."""
import numpy as np
import pytest

from course_tools.keras_setup import keras, tf
from course_tools.tied import DenseTranspose as KerasDenseTranspose
from course_tools.tied import masked_mse
from course_tools.twins import keras_layer, keras_twin
from scratchnn import layers, losses, optimizers
from scratchnn.gradient_check import check_gradients, check_loss, numerical_gradient
from scratchnn.models import Sequential
from tests.helpers import keras_gradients

# Keras keeps hyperparameters in float32: these are exact there (see test_optimizers.py).
ADAM = dict(learning_rate=0.0625, beta_1=0.875, beta_2=0.998046875)


@pytest.fixture
def float64_keras():
    """Keras's fit and predict cast NumPy inputs to floatx: float64 for exact comparisons."""
    keras.config.set_floatx("float64")
    yield
    keras.config.set_floatx("float32")


def tied_autoencoder(d=64, code=16, activations=("relu", "sigmoid"), seed=0, scale=0.3):
    """A built float64 scratchnn d-code-d autoencoder whose decoder is tied to its encoder, random weights."""
    encoder = layers.Dense(code, activation=activations[0])
    model = Sequential([encoder, layers.DenseTranspose(encoder, activation=activations[1])])
    model.build((None, d), dtype="float64")
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(scale=scale, size=w.shape) for w in model.get_weights()])
    return model


def deep_tied_autoencoder(d, hidden, code, seed):
    """d-hidden-code-hidden-d, both decoder layers tied (to the second and the first Dense)."""
    first, second = layers.Dense(hidden, activation="tanh"), layers.Dense(code, activation="linear")
    model = Sequential([first, second, layers.DenseTranspose(second, activation="relu"),
                        layers.DenseTranspose(first, activation="sigmoid")])
    model.build((None, d), dtype="float64")
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(scale=0.4, size=w.shape) for w in model.get_weights()])
    return model


def same_variables(got, expected):
    return len(got) == len(expected) and all(a is b for a, b in zip(got, expected))


def keras_output_and_gradients(model, x, upstream):
    """Keras's output and the gradients of sum(model(x) * upstream) w.r.t. x and every trainable weight."""
    x = tf.Variable(x)
    with tf.GradientTape() as tape:
        y = model(x)
        scalar = tf.reduce_sum(y * upstream)
    grads = tape.gradient(scalar, [x] + model.trainable_variables)
    return y.numpy(), [g.numpy() for g in grads]


CASES = [(0, 64, 16, ("relu", "sigmoid")), (1, 64, 16, ("relu", "sigmoid")), (2, 64, 16, ("relu", "sigmoid")),
         (3, 10, 3, ("tanh", "linear")), (4, 7, 5, ("sigmoid", "relu")), (5, 12, 4, ("linear", "tanh"))]


@pytest.mark.parametrize("seed,d,code,acts", CASES)
def test_tied_autoencoder_matches_keras_tape(seed, d, code, acts):
    rng = np.random.default_rng(100 + seed)
    ours = tied_autoencoder(d, code, acts, seed=seed)
    theirs = keras_twin(ours)
    assert theirs.layers[1].dense is theirs.layers[0]          # the twin is tied too
    m = int(rng.integers(1, 20))
    x, upstream = rng.random((m, d)), rng.normal(size=(m, d))
    y_keras, (dx_keras, *weight_grads_keras) = keras_output_and_gradients(theirs, x, upstream)
    y = ours.forward(x)
    dx = ours.backward(upstream)
    np.testing.assert_allclose(y, y_keras, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(dx, dx_keras, rtol=1e-11, atol=1e-14)
    assert [v.shape for v in theirs.trainable_variables] == [g.shape for g in ours.grads] == [(d, code), (code,), (d,)]
    for name, g, g_keras in zip(ours.weight_names, ours.grads, weight_grads_keras):
        np.testing.assert_allclose(g, g_keras, rtol=1e-11, atol=1e-14, err_msg=name)


def test_the_tied_kernel_gradient_is_the_sum_of_both_uses():
    rng = np.random.default_rng(7)
    ours = tied_autoencoder(seed=7)
    x, upstream = rng.random((9, 64)), rng.normal(size=(9, 64))
    ours.forward(x)
    ours.backward(upstream)
    encoder, decoder = ours.layers
    encoder_use = encoder.grads[0]                 # the Dense's own gradient: its use in the encoder only
    [(owner, index, decoder_use)] = decoder.shared_grads
    assert owner is encoder and index == 0 and decoder_use.shape == encoder.kernel.shape == (64, 16)
    # by hand: z2 = h @ K.T + b2, so dL/dK (decoder) = dz2.T @ h
    h = encoder.forward(x)
    z2 = h @ encoder.kernel.T + decoder.bias
    s = 1 / (1 + np.exp(-z2))
    np.testing.assert_allclose(decoder_use, (upstream * s * (1 - s)).T @ h, rtol=1e-12)
    np.testing.assert_array_equal(ours.grads[0], encoder_use + decoder_use)
    assert np.abs(encoder_use).max() > 1e-3 and np.abs(decoder_use).max() > 1e-3   # both matter
    assert encoder.grads[0] is encoder_use         # Sequential.grads left the Dense's own list alone
    # the tape's gradient of the one kernel variable is that sum
    theirs = keras_twin(ours)
    _, (_, kernel_grad, *_) = keras_output_and_gradients(theirs, x, upstream)
    np.testing.assert_allclose(kernel_grad, encoder_use + decoder_use, rtol=1e-11, atol=1e-14)
    assert np.abs(kernel_grad - encoder_use).max() > 1e-3 and np.abs(kernel_grad - decoder_use).max() > 1e-3


@pytest.mark.parametrize("seed", [0, 1])
def test_tied_autoencoders_pass_the_gradient_check(seed):
    rng = np.random.default_rng(seed)
    for model in [tied_autoencoder(12, 4, ("tanh", "sigmoid"), seed=seed), deep_tied_autoencoder(8, 5, 3, seed)]:
        report = check_gradients(model, rng.random((6, model.input_shape[1])), seed=seed)
        assert set(report) == {"input"} | set(model.weight_names)
        assert max(report.values()) < 1e-7, report


def test_the_tied_kernel_gradient_against_central_differences_of_a_loss():
    rng = np.random.default_rng(3)
    model = tied_autoencoder(10, 4, ("sigmoid", "sigmoid"), seed=3)
    x = rng.random((5, 10))
    loss = losses.MeanSquaredError()
    value = lambda: loss(x, model.forward(x))  # noqa: E731
    model.backward(loss.gradient(x, model.forward(x)))
    analytic = model.grads[0]
    numeric = numerical_gradient(value, model.layers[0].kernel)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-10)
    # either use alone is wrong by far
    assert np.abs(model.layers[0].grads[0] - numeric).max() > 1e-2 * np.abs(numeric).max()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_deep_tied_autoencoder_matches_keras(seed):
    rng = np.random.default_rng(seed)
    ours = deep_tied_autoencoder(9, 6, 2, seed)
    theirs = keras_twin(ours)
    assert theirs.layers[2].dense is theirs.layers[1] and theirs.layers[3].dense is theirs.layers[0]
    first, second, decoder_1, decoder_2 = theirs.layers
    assert same_variables(theirs.weights, [first.kernel, first.bias, second.kernel, second.bias,
                                           decoder_1.bias, decoder_2.bias])
    x, upstream = rng.random((11, 9)), rng.normal(size=(11, 9))
    y_keras, (dx_keras, *grads_keras) = keras_output_and_gradients(theirs, x, upstream)
    np.testing.assert_allclose(ours.forward(x), y_keras, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(ours.backward(upstream), dx_keras, rtol=1e-11, atol=1e-14)
    for name, g, g_keras in zip(ours.weight_names, ours.grads, grads_keras):
        np.testing.assert_allclose(g, g_keras, rtol=1e-11, atol=1e-14, err_msg=name)


def test_weights_copy_both_ways_in_keras_order():
    ours = tied_autoencoder(seed=1)
    theirs = keras_twin(ours)
    assert ours.weight_names == ["dense/kernel", "dense/bias", "densetranspose/bias"]
    encoder, decoder = theirs.layers
    assert same_variables(theirs.weights, [encoder.kernel, encoder.bias, decoder.bias])   # Keras's order
    assert same_variables(decoder.weights, [decoder.bias, encoder.kernel, encoder.bias])  # the Dense is tracked
    for w, v in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_array_equal(w, v)
    rng = np.random.default_rng(5)
    new = [rng.normal(size=w.shape) for w in theirs.get_weights()]
    theirs.set_weights(new)
    ours.set_weights(theirs.get_weights())
    for w, v in zip(ours.get_weights(), new):
        np.testing.assert_array_equal(w, v)
    # the tied layer's weights are its bias alone, in both libraries' layer lists
    assert [w.shape for w in ours.layers[1].get_weights()] == [(64,)]
    np.testing.assert_array_equal(ours.layers[1].bias, np.asarray(theirs.layers[1].bias))


def test_keras_layer_of_a_lone_dense_transpose_is_tied_to_a_twin_of_its_dense():
    ours = tied_autoencoder(6, 3, ("relu", "tanh"), seed=2)
    twin = keras_layer(ours.layers[1])
    assert isinstance(twin, KerasDenseTranspose) and isinstance(twin.dense, keras.layers.Dense)
    np.testing.assert_array_equal(np.asarray(twin.dense.kernel), ours.layers[0].kernel)
    np.testing.assert_array_equal(np.asarray(twin.bias), ours.layers[1].bias)
    h = np.random.default_rng(0).random((4, 3))
    np.testing.assert_allclose(twin(h).numpy(), ours.layers[1].forward(h), rtol=1e-13, atol=1e-15)


def test_parameter_counts_do_not_count_the_shared_kernel_twice(capsys):
    tied = tied_autoencoder()
    untied = Sequential([layers.Dense(16, activation="relu"), layers.Dense(64, activation="sigmoid")])
    untied.build((None, 64), dtype="float64")
    assert tied.count_params() == 64 * 16 + 16 + 64 == 1104
    assert untied.count_params() == 2 * 64 * 16 + 16 + 64 == 2128
    assert tied.count_params() < untied.count_params()
    theirs = keras_twin(tied)
    assert theirs.count_params() == 1104 and keras_twin(untied).count_params() == 2128
    assert theirs.layers[1].count_params() == tied.layers[1].count_params() == 64
    assert tied.weight_buffer.flat.size == 1104    # one buffer, the kernel in it once
    tied.summary()
    out = capsys.readouterr().out
    assert "densetranspose (DenseTranspose)" in out and "Total params: 1,104" in out
    theirs.summary()
    assert "Total params: 1,104" in capsys.readouterr().out
    # 64-32-8-32-64: tying both decoder layers leaves their biases only
    deep = deep_tied_autoencoder(64, 32, 8, seed=0)
    deep_untied = Sequential([layers.Dense(32), layers.Dense(8), layers.Dense(32), layers.Dense(64)])
    deep_untied.build((None, 64))
    assert deep.count_params() == keras_twin(deep).count_params() == 2440
    assert deep_untied.count_params() == keras_twin(deep_untied).count_params() == 4744


def test_the_tied_layer_reads_the_kernel_at_every_call():
    model = tied_autoencoder(5, 2, ("linear", "linear"), seed=4)
    encoder, decoder = model.layers
    flat = model.weight_buffer.flat                                 # made now, as by the first train_step
    assert np.shares_memory(encoder.kernel, flat)                   # packed: the kernel is a view now
    h = np.ones((1, 2))
    before = decoder.forward(h)
    encoder.kernel[...] *= 2
    np.testing.assert_allclose(decoder.forward(h), 2 * before - decoder.bias)


@pytest.mark.parametrize("seed", [0, 1])
def test_one_adam_step_gives_keras_weights(seed, float64_keras):
    rng = np.random.default_rng(seed)
    ours = tied_autoencoder(seed=seed)
    theirs = keras_twin(ours)
    x = rng.random((20, 64))
    ours.compile(optimizers.Adam(**ADAM), "mse")
    theirs.compile(keras.optimizers.Adam(**ADAM), "mse")
    start = ours.get_weights()
    ours.fit(x, x, epochs=1, batch_size=20, shuffle=False, verbose=0)
    theirs.fit(x, x, epochs=1, batch_size=20, shuffle=False, verbose=0)
    for name, w0, w, v in zip(ours.weight_names, start, ours.get_weights(), theirs.get_weights()):
        assert np.abs(w - w0).max() > 1e-2, name            # every weight moved, the tied kernel included
        np.testing.assert_allclose(w, v, rtol=1e-12, atol=1e-14, err_msg=name)


@pytest.mark.parametrize("loss", ["mse", "binary_crossentropy"])
def test_fit_of_a_tied_autoencoder_matches_keras_fit(loss, float64_keras):
    rng = np.random.default_rng(11)
    ours = deep_tied_autoencoder(16, 8, 3, seed=11)
    theirs = keras_twin(ours)
    x = rng.random((48, 16))
    ours.compile(optimizers.Adam(**ADAM), loss)
    theirs.compile(keras.optimizers.Adam(**ADAM), loss)
    args = dict(epochs=3, batch_size=16, shuffle=False, verbose=0, validation_split=0.25)
    h_ours, h_theirs = ours.fit(x, x, **args), theirs.fit(x, x, **args)
    for key in h_theirs.history:
        np.testing.assert_allclose(h_ours.history[key], h_theirs.history[key], rtol=1e-10, err_msg=key)
    assert h_ours.history["loss"][-1] < h_ours.history["loss"][0]
    for name, w, v in zip(ours.weight_names, ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(w, v, rtol=1e-9, atol=1e-12, err_msg=name)


# ---------------------------------------------------------------- masked mean squared error

def with_gaps(rng, shape, missing):
    y = rng.uniform(1, 5, size=shape)
    y[rng.random(shape) < missing] = np.nan
    return y


@pytest.mark.parametrize("seed,missing", [(0, 0.0), (1, 0.5), (2, 0.85), (3, 0.97)])
def test_masked_mse_matches_keras_tape(seed, missing):
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(3, 30)), int(rng.integers(2, 12)))
    y_true, y_pred = with_gaps(rng, shape, missing), rng.normal(3, 1, size=shape)
    y_true[0, 0] = 2.5                                        # at least one given entry
    loss = losses.MaskedMeanSquaredError()
    value_keras, [grad_keras] = keras_gradients(lambda p: masked_mse(tf.constant(y_true), p), y_pred)
    assert np.all(np.isfinite(grad_keras))                   # the NaNs did not leak into Keras's gradient
    np.testing.assert_allclose(loss(y_true, y_pred), value_keras, rtol=1e-13)
    np.testing.assert_allclose(loss.gradient(y_true, y_pred), grad_keras, rtol=1e-13, atol=1e-16)
    value, grad = loss.value_and_gradient(y_true, y_pred)
    assert value == loss(y_true, y_pred) and np.array_equal(grad, loss.gradient(y_true, y_pred))
    assert check_loss(loss, y_true, y_pred) < 1e-8
    given = ~np.isnan(y_true)
    assert np.all(grad[~given] == 0)
    np.testing.assert_allclose(value, np.mean((y_pred[given] - y_true[given]) ** 2), rtol=1e-13)


def test_masked_mse_divides_by_the_given_entries_of_the_batch():
    y_true = np.array([[1.0, np.nan, np.nan], [np.nan, 3.0, 5.0]])
    y_pred = np.array([[2.0, 9.0, 9.0], [9.0, 3.0, 3.0]])
    loss = losses.get("masked_mean_squared_error")
    assert isinstance(loss, losses.MaskedMeanSquaredError)
    assert loss(y_true, y_pred) == pytest.approx((1 + 0 + 4) / 3)
    np.testing.assert_allclose(loss.gradient(y_true, y_pred), [[2 / 3, 0, 0], [0, 0, -4 / 3]])
    # without gaps it is the plain mean squared error
    full = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert loss(full, full[::-1]) == pytest.approx(losses.MeanSquaredError()(full, full[::-1]))
    assert float(masked_mse(y_true, y_pred)) == pytest.approx(5 / 3)


def test_masked_mse_errors():
    loss = losses.MaskedMeanSquaredError()
    with pytest.raises(ValueError, match=r"y_true \(shape \(2, 3\)\) has no given entry"):
        loss(np.full((2, 3), np.nan), np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"y_true.shape=\(2, 3\) and y_pred.shape=\(3, 2\)"):
        loss(np.ones((2, 3)), np.ones((3, 2)))
    with pytest.raises(ValueError, match="`y_true` contains a non-finite value"):
        loss(np.array([[np.inf, 1.0]]), np.ones((1, 2)))
    with pytest.raises(ValueError, match="`y_pred` contains a non-finite value"):
        loss(np.array([[np.nan, 1.0]]), np.array([[np.nan, 1.0]]))
    assert float(masked_mse(np.full((2, 3), np.nan), np.zeros((2, 3)))) == 0.0   # Keras's: 0, not an error


def test_fit_with_the_masked_loss_matches_keras(float64_keras):
    rng = np.random.default_rng(21)
    ratings = with_gaps(rng, (40, 12), 0.8)
    ratings[np.arange(40), rng.integers(0, 12, size=40)] = 3.0   # every row has one rating at least
    inputs = np.nan_to_num(ratings)
    ours = tied_autoencoder(12, 4, ("relu", "linear"), seed=21)
    theirs = keras_twin(ours)
    ours.compile(optimizers.Adam(**ADAM), "masked_mean_squared_error")
    theirs.compile(keras.optimizers.Adam(**ADAM), masked_mse)
    args = dict(epochs=3, batch_size=10, shuffle=False, verbose=0)
    h_ours, h_theirs = ours.fit(inputs, ratings, **args), theirs.fit(inputs, ratings, **args)
    np.testing.assert_allclose(h_ours.history["loss"], h_theirs.history["loss"], rtol=1e-10)
    for name, w, v in zip(ours.weight_names, ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(w, v, rtol=1e-9, atol=1e-12, err_msg=name)
    np.testing.assert_allclose(ours.evaluate(inputs, ratings, verbose=0),
                               theirs.evaluate(inputs, ratings, verbose=0), rtol=1e-10)


# ---------------------------------------------------------------- errors

def test_dense_transpose_errors():
    with pytest.raises(ValueError, match="tied to a scratchnn Dense layer; got Dropout"):
        layers.DenseTranspose(layers.Dropout(0.5))
    with pytest.raises(ValueError, match="Unknown activation"):
        layers.DenseTranspose(layers.Dense(3), activation="relux")
    dense = layers.Dense(4, name="encoder")
    lone = layers.DenseTranspose(dense, name="decoder")
    with pytest.raises(ValueError, match="tied to Dense 'encoder', which is not built yet"):
        lone.forward(np.ones((2, 4)))
    dense.forward(np.ones((2, 6)))
    with pytest.raises(ValueError, match=r"expects inputs of shape \(batch_size, 4\).*kernel shape \(6, 4\).*"
                                         r"got shape \(2, 6\)"):
        lone.forward(np.ones((2, 6)))
    assert lone.forward(np.ones((2, 4))).shape == (2, 6)
    with pytest.raises(ValueError, match=r"grad_output has shape \(2, 5\) but the last forward output had "
                                         r"shape \(2, 6\)"):
        lone.backward(np.ones((2, 5)))
    with pytest.raises(RuntimeError, match="call forward before backward"):
        layers.DenseTranspose(dense).backward(np.ones((2, 6)))


def test_a_tied_layer_needs_its_dense_earlier_in_the_same_model():
    dense = layers.Dense(4, name="encoder")
    with pytest.raises(ValueError, match="uses the weights of Dense 'encoder', which must come earlier in the same"):
        Sequential([layers.DenseTranspose(dense), dense])
    with pytest.raises(ValueError, match="must come earlier"):
        Sequential([layers.Dense(3), layers.DenseTranspose(dense)])
    model = Sequential([dense, layers.DenseTranspose(dense)])
    model.build((None, 7))
    assert model.forward(np.ones((3, 7))).shape == (3, 7)


def test_keras_dense_transpose_errors():
    with pytest.raises(ValueError, match="tied to a keras.layers.Dense; got Dropout"):
        KerasDenseTranspose(keras.layers.Dropout(0.5))
    dense = keras.layers.Dense(4)
    with pytest.raises(ValueError, match="is not built yet"):
        KerasDenseTranspose(dense)(np.ones((2, 4)))
    dense.build((None, 6))
    with pytest.raises(ValueError, match="expects inputs with 4 features"):
        KerasDenseTranspose(dense)(np.ones((2, 5)))
