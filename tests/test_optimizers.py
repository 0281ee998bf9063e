"""scratchnn.optimizers.SGD against keras.optimizers.SGD: N steps from the same start give the same numbers."""
import numpy as np
import pytest

from course_tools.keras_setup import keras, tf
from scratchnn import optimizers
from scratchnn.weight_buffer import WeightBuffer


# Keras keeps learning_rate in a float32 variable, and turns momentum into a float32 tensor before
# casting it to the weights' dtype: 0.1 becomes 0.10000000149. The hyperparameters below are exact
# in float32, so the comparison can be made to float64 precision.
@pytest.mark.parametrize("momentum,nesterov", [(0.0, False), (0.875, False), (0.875, True), (0.5, True)])
@pytest.mark.parametrize("seed", [0, 1])
def test_sgd_steps_match_keras(momentum, nesterov, seed):
    rng = np.random.default_rng(seed)
    shapes = [(4, 3), (3,)]
    start = [rng.normal(size=s) for s in shapes]
    grads_per_step = [[rng.normal(size=s) for s in shapes] for _ in range(7)]

    ours = [w.copy() for w in start]
    sgd = optimizers.SGD(learning_rate=0.125, momentum=momentum, nesterov=nesterov)
    theirs = [tf.Variable(w) for w in start]
    keras_sgd = keras.optimizers.SGD(learning_rate=0.125, momentum=momentum, nesterov=nesterov)
    for grads in grads_per_step:
        sgd.apply(grads, ours)
        keras_sgd.apply([tf.constant(g) for g in grads], theirs)
    for w, v in zip(ours, theirs):
        np.testing.assert_allclose(w, v.numpy(), rtol=1e-12, atol=1e-14)
    assert sgd.iterations == int(keras_sgd.iterations.numpy()) == 7


def run_both(ours, theirs, steps=9, seed=0):
    """Apply the same gradients to the same start with a scratchnn and a Keras optimizer."""
    rng = np.random.default_rng(seed)
    shapes = [(5, 3), (3,)]
    start = [rng.normal(size=s) for s in shapes]
    mine, keras_vars = [w.copy() for w in start], [tf.Variable(w) for w in start]
    for _ in range(steps):
        grads = [rng.normal(size=s) for s in shapes]
        ours.apply(grads, mine)
        theirs.apply([tf.constant(g) for g in grads], keras_vars)
    return mine, [v.numpy() for v in keras_vars]


# Hyperparameters exact in float32 (Keras casts beta_1/beta_2 through float32 for the bias correction).
ADAPTIVE = [
    ("RMSprop", dict(learning_rate=0.0625)),
    ("RMSprop", dict(learning_rate=0.0625, momentum=0.5)),
    ("RMSprop", dict(learning_rate=0.0625, centered=True)),
    ("Adam", dict(learning_rate=0.0625, beta_1=0.875, beta_2=0.998046875)),
    ("Adam", dict(learning_rate=0.0625, beta_1=0.875, beta_2=0.998046875, amsgrad=True)),
    ("Adagrad", dict(learning_rate=0.0625, initial_accumulator_value=0.125)),
    ("Adagrad", dict(learning_rate=0.0625, initial_accumulator_value=0.0)),
    ("Adadelta", dict(learning_rate=1.0)),
    ("Adadelta", dict(learning_rate=0.5, rho=0.875)),
]


@pytest.mark.parametrize("name,kwargs", ADAPTIVE)
@pytest.mark.parametrize("seed", [0, 1])
def test_adaptive_optimizers_match_keras(name, kwargs, seed):
    mine, theirs = run_both(getattr(optimizers, name)(**kwargs), getattr(keras.optimizers, name)(**kwargs), seed=seed)
    for w, v in zip(mine, theirs):
        np.testing.assert_allclose(w, v, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", ["SGD", "RMSprop", "Adam", "Adagrad", "Adadelta"])
def test_defaults_agree_with_keras_up_to_its_float32_hyperparameters(name):
    ours, theirs = getattr(optimizers, name)(), getattr(keras.optimizers, name)()
    for attribute in ["momentum", "nesterov", "rho", "epsilon", "centered", "beta_1", "beta_2", "amsgrad",
                      "initial_accumulator_value"]:
        if hasattr(theirs, attribute):
            assert getattr(ours, attribute) == getattr(theirs, attribute), attribute
    assert ours.learning_rate == pytest.approx(float(theirs.learning_rate.numpy()), rel=1e-7)
    mine, keras_values = run_both(ours, theirs)
    for w, v in zip(mine, keras_values):
        np.testing.assert_allclose(w, v, rtol=1e-6)


def test_updates_in_place_and_keeps_dtype():
    w = np.ones(3, dtype=np.float32)
    same = w
    optimizers.SGD(learning_rate=0.5).apply([np.ones(3)], [w])
    assert same is w and w.dtype == np.float32
    np.testing.assert_allclose(w, 0.5)
    for optimizer in [optimizers.RMSprop(), optimizers.Adam()]:
        optimizer.apply([np.ones(3, dtype=np.float32)], [w])
        assert w.dtype == np.float32


def test_errors_name_what_is_wrong():
    sgd = optimizers.SGD()
    with pytest.raises(ValueError, match="2 gradients for 1 variables"):
        sgd.apply([np.ones(2), np.ones(2)], [np.ones(2)])
    with pytest.raises(ValueError, match=r"gradient 0 has shape \(3,\) but its variable has shape \(2,\)"):
        sgd.apply([np.ones(3)], [np.ones(2)])
    with pytest.raises(ValueError, match="float NumPy array"):
        sgd.apply([np.ones(2)], [[1.0, 2.0]])
    with pytest.raises(ValueError, match="NaN or infinity"):
        sgd.apply([np.array([np.nan, 1.0])], [np.ones(2)])
    sgd.apply([np.ones(2)], [np.ones(2)])
    with pytest.raises(ValueError, match="built for variables of shapes"):
        sgd.apply([np.ones(3)], [np.ones(3)])
    with pytest.raises(ValueError, match=r"momentum must be a number in \[0, 1\]; got 1.5"):
        optimizers.SGD(momentum=1.5)


@pytest.mark.parametrize("make,message", [
    (lambda: optimizers.SGD(learning_rate=-0.1), r"learning_rate must be a number in \[0, inf\); got -0.1"),
    (lambda: optimizers.SGD(learning_rate=float("nan")), "learning_rate must be a number"),
    (lambda: optimizers.SGD(learning_rate="0.1"), r"learning_rate must be a number .*got '0.1'"),
    (lambda: optimizers.Adam(beta_1=1.0), r"beta_1 must be a number in \[0, 1\); got 1.0"),
    (lambda: optimizers.Adam(beta_2=-0.5), "beta_2 must be a number"),
    (lambda: optimizers.Adam(epsilon=0), "epsilon must be > 0"),
    (lambda: optimizers.RMSprop(rho=1.5), r"rho must be a number in \[0, 1\); got 1.5"),
    (lambda: optimizers.RMSprop(epsilon=-1e-7), "epsilon must be a number"),
    (lambda: optimizers.RMSprop(momentum=2), "momentum must be a number"),
    (lambda: optimizers.Adagrad(initial_accumulator_value=-1), "initial_accumulator_value must be a number"),
    (lambda: optimizers.Adadelta(rho=1.0), r"rho must be a number in \[0, 1\); got 1.0"),
])
def test_invalid_hyperparameters_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_learning_rate_is_checked_when_it_is_changed_too():
    adam = optimizers.Adam()
    adam.learning_rate = 0.5
    assert adam.learning_rate == 0.5
    with pytest.raises(ValueError, match="learning_rate must be a number"):
        adam.learning_rate = -1


# --- one update for a whole model: fit hands the optimizer a WeightBuffer -------------------------

def packed_model(seed=0):
    """A built model, its weights moved into a WeightBuffer as the first train_step does."""
    from scratchnn import layers
    from scratchnn.models import Sequential
    model = Sequential([layers.Dense(5, activation="relu"), layers.Dense(3, activation="softmax")])
    model.build((None, 4), dtype="float64")
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(size=w.shape) for w in model.get_weights()])
    return model, WeightBuffer(model.layers, names=model.weight_names)


def test_a_weight_buffer_holds_the_weights_as_views_of_one_array():
    model, buffer = packed_model()
    values = model.get_weights()
    assert buffer.flat.shape == (4 * 5 + 5 + 5 * 3 + 3,) and buffer.holds(model.trainable_weights)
    assert all(np.shares_memory(w, buffer.flat) for w in model.trainable_weights)
    kernel = model.layers[0].kernel
    assert kernel is model.layers[0].trainable_weights[0] and np.shares_memory(kernel, buffer.flat)
    for before, after in zip(values, model.get_weights()):                # the same numbers
        np.testing.assert_array_equal(before, after)
    model.set_weights([np.full(w.shape, 2.0) for w in model.get_weights()])   # in place: still views
    assert np.all(buffer.flat == 2.0) and buffer.holds(model.trainable_weights)


def test_fit_makes_the_buffer_at_the_first_train_step_not_in_forward():
    from scratchnn import layers
    from scratchnn.models import Sequential
    model = Sequential([layers.Dense(3, activation="relu"), layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x, y = np.ones((6, 4)), np.array([0, 1, 0, 1, 0, 1])
    model.predict(x, verbose=0)
    kernel = model.layers[0].kernel
    model.predict(x, verbose=0)
    assert model.layers[0].kernel is kernel and model._weight_buffer is None   # forward is only the loop
    model.train_step(x, y)
    buffer = model._weight_buffer
    assert isinstance(buffer, WeightBuffer) and buffer.holds(model.trainable_weights)
    model.fit(x, y, epochs=2, verbose=0)
    assert model.weight_buffer is buffer                                      # made once


@pytest.mark.parametrize("make", [lambda: optimizers.SGD(0.1, momentum=0.9, nesterov=True),
                                  lambda: optimizers.RMSprop(0.01, momentum=0.5, centered=True),
                                  lambda: optimizers.Adam(0.01, amsgrad=True), lambda: optimizers.Adam(0.01)])
def test_one_update_of_the_buffer_equals_one_update_per_array(make):
    model, buffer = packed_model()
    separate = [w.copy() for w in model.trainable_weights]       # the same numbers, in separate arrays
    together, apart = make(), make()
    rng = np.random.default_rng(1)
    for _ in range(25):
        grads = [rng.normal(size=w.shape) for w in separate]
        together.apply(grads, buffer)
        apart.apply(grads, separate)
    for w, v in zip(model.trainable_weights, separate):
        np.testing.assert_array_equal(w, v)


def test_the_buffer_update_still_names_what_is_wrong():
    model, buffer = packed_model()
    adam = optimizers.Adam()
    grads = [np.ones(w.shape) for w in model.trainable_weights]
    adam.apply(grads, buffer)
    grads[2] = np.full(grads[2].shape, np.inf)
    with pytest.raises(ValueError, match="gradient of dense_1/kernel contains NaN or infinity"):
        adam.apply(grads, buffer)
    with pytest.raises(ValueError, match=r"gradient of dense/bias has shape \(4,\), but the weight has shape \(5,\)"):
        adam.apply([grads[0], np.ones(4), grads[2], grads[3]], buffer)
    with pytest.raises(ValueError, match="built for variables of shapes"):      # a list after a buffer
        adam.apply([np.ones(w.shape) for w in model.trainable_weights], model.trainable_weights)


def test_the_buffer_update_takes_huge_finite_gradients_and_rejects_nan():
    """The fast finite check (grad . grad) overflows on huge gradients: those must still be applied
    (the same step as separate arrays), and a single NaN among them still named."""
    model, buffer = packed_model()
    separate = [w.copy() for w in model.trainable_weights]
    together, apart = optimizers.SGD(learning_rate=1e-30), optimizers.SGD(learning_rate=1e-30)
    grads = [np.full(w.shape, 1e200) for w in separate]               # grad . grad = inf in float64
    together.apply(grads, buffer)
    apart.apply(grads, separate)
    for w, v in zip(model.trainable_weights, separate):
        np.testing.assert_array_equal(w, v)
        assert np.all(np.isfinite(w))
    grads[3] = grads[3].copy()
    grads[3].flat[0] = np.nan
    with pytest.raises(ValueError, match="gradient of dense_1/bias contains NaN or infinity"):
        together.apply(grads, buffer)


def test_optimizers_have_no_address_arithmetic():
    import inspect
    assert "__array_interface__" not in inspect.getsource(optimizers)


@pytest.mark.parametrize("name", ["adagrad", "adadelta"])
def test_the_keras_names_of_adagrad_and_adadelta_work_in_compile(name):
    optimizer = optimizers.get(name)
    assert type(optimizer).__name__ == type(keras.optimizers.get(name)).__name__
