"""The training logic (scratchnn/trainer.py) as a new user meets it: building, compile-time checks,
when fit stops, callbacks in evaluate and predict, and the clock of the progress line.
Where Keras defines the behaviour, the test runs Keras next to scratchnn and compares."""
import numpy as np
import pytest

from course_tools import model_diagram
from course_tools.keras_setup import keras
from course_tools.twins import keras_twin
from scratchnn import callbacks, layers, metrics, optimizers
from scratchnn.models import Sequential


@pytest.fixture(autouse=True)
def keras_in_float64():
    keras.config.set_floatx("float64")
    yield
    keras.config.set_floatx("float32")


def small_problem(seed=0, m=50, d=4, n=3):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(m, d)), rng.integers(0, n, size=m)


def twins(seed=0, d=4, n=3):
    ours = Sequential([layers.Dense(6, activation="tanh"), layers.Dense(n, activation="softmax")])
    ours.build((None, d), dtype="float64")
    rng = np.random.default_rng(seed)
    ours.set_weights([rng.normal(scale=0.5, size=w.shape) for w in ours.get_weights()])
    return ours, keras_twin(ours)


# --- 1. building -------------------------------------------------------------------------------

def test_weightless_layers_are_built_at_construction_as_in_keras():
    assert layers.Activation("relu").built and layers.LeakyReLU().built
    assert keras.layers.Activation("relu").built and keras.layers.LeakyReLU().built
    assert not layers.Dense(3).built and not keras.layers.Dense(3).built


def test_a_model_with_activation_layers_builds_and_takes_weights(capsys):
    model = Sequential([layers.Dense(4), layers.LeakyReLU(), layers.Dense(2), layers.Activation("softmax")])
    assert not model.built
    model.build((None, 3))
    assert model.built and model.input_shape == (None, 3)
    model.set_weights([np.ones((3, 4)), np.zeros(4), np.ones((4, 2)), np.zeros(2)])
    model.summary()
    assert "leakyrelu (LeakyReLU)" in capsys.readouterr().out
    rows = model_diagram.layer_rows(model)
    assert [row["shape"] for row in rows] == ["(None, 3)", "(None, 4)", "(None, 4)", "(None, 2)", "(None, 2)"]


def test_a_model_starting_with_an_activation_is_built_by_its_first_call():
    model = Sequential([layers.Activation("tanh"), layers.Dense(2)])
    assert not model.built                 # the input shape is not known yet
    model.predict(np.ones((5, 3)), verbose=0)
    assert model.built and model.input_shape == (None, 3) and model.count_params() == 8


# --- 3. compile resolves names once ---------------------------------------------------------------

def test_a_misspelt_metric_fails_in_compile():
    model, _ = twins()
    with pytest.raises(ValueError, match=r"Unknown metric 'acuracy'.*'accuracy'"):
        model.compile("sgd", "sparse_categorical_crossentropy", metrics=["acuracy"])
    with pytest.raises(ValueError, match="metrics must be a list"):
        model.compile("sgd", "sparse_categorical_crossentropy", metrics="accuracy")


def test_a_function_metric_is_named_by_its_function_as_in_keras(capsys):
    def absolute_error(y_true, y_pred):
        return np.mean(np.abs(y_true - y_pred), axis=-1)

    x, labels = small_problem()
    y = np.eye(3)[labels]
    ours, theirs = twins()
    ours.compile(optimizers.SGD(0.25), "categorical_crossentropy", metrics=[absolute_error])
    theirs.compile(keras.optimizers.SGD(0.25), "categorical_crossentropy", metrics=["mae"])
    args = dict(epochs=2, batch_size=16, shuffle=False, verbose=2)
    h_ours, h_theirs = ours.fit(x, y, **args), theirs.fit(x, y, **args)
    assert sorted(h_ours.history) == ["absolute_error", "loss"]
    np.testing.assert_allclose(h_ours.history["absolute_error"], h_theirs.history["mae"], rtol=1e-10)
    assert "absolute_error: " in capsys.readouterr().out


@pytest.mark.parametrize("labels_shape,outputs,expected", [
    ((8,), 3, metrics.sparse_categorical_accuracy), ((8, 1), 3, metrics.sparse_categorical_accuracy),
    ((8, 3), 3, metrics.categorical_accuracy), ((8, 1), 1, metrics.binary_accuracy),
    ((8,), 1, metrics.binary_accuracy)])
def test_accuracy_is_picked_from_the_shapes_as_keras_picks_it(labels_shape, outputs, expected):
    assert metrics.accuracy_for(labels_shape, (8, outputs)) is expected


def test_accuracy_is_resolved_once_not_per_batch(monkeypatch):
    calls = []
    real = metrics.accuracy_for
    monkeypatch.setattr(metrics, "accuracy_for", lambda *shapes: calls.append(shapes) or real(*shapes))
    model, _ = twins()
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(*small_problem(), epochs=3, batch_size=10, verbose=0)
    assert len(calls) == 1


# --- 4. when fit stops, and its arguments ---------------------------------------------------------

def stop_at_batch(base, batch_to_stop):
    class StopAtBatch(base):
        def __init__(self):
            super().__init__()
            self.batches = []

        def on_train_batch_end(self, batch, logs=None):
            self.batches.append(batch)
            if batch == batch_to_stop:
                self.model.stop_training = True
    return StopAtBatch()


def test_stop_training_ends_fit_after_the_current_batch_as_in_keras():
    x, labels = small_problem(1)
    ours, theirs = twins(1)
    ours.compile(optimizers.SGD(0.5), "sparse_categorical_crossentropy", metrics=["accuracy"])
    theirs.compile(keras.optimizers.SGD(0.5), "sparse_categorical_crossentropy", metrics=["accuracy"])
    stop_ours, stop_theirs = stop_at_batch(callbacks.Callback, 1), stop_at_batch(keras.callbacks.Callback, 1)
    args = dict(epochs=5, batch_size=10, validation_split=0.2, shuffle=False, verbose=0)
    h_ours = ours.fit(x, labels, callbacks=[stop_ours], **args)
    h_theirs = theirs.fit(x, labels, callbacks=[stop_theirs], **args)
    assert stop_ours.batches == stop_theirs.batches == [0, 1]      # 4 batches per epoch; stopped after 2
    assert h_ours.epoch == h_theirs.epoch == [0]
    for key in h_theirs.history:
        np.testing.assert_allclose(h_ours.history[key], h_theirs.history[key], rtol=1e-10, err_msg=key)
    for w, v in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(w, v, rtol=1e-10)


@pytest.mark.parametrize("batch_size", [0, -4, 2.5, True, "32"])
def test_fit_evaluate_predict_refuse_a_bad_batch_size(batch_size):
    model, _ = twins()
    model.compile("sgd", "sparse_categorical_crossentropy")
    x, y = small_problem()
    for run in (lambda: model.fit(x, y, batch_size=batch_size, verbose=0),
                lambda: model.evaluate(x, y, batch_size=batch_size, verbose=0),
                lambda: model.predict(x, batch_size=batch_size, verbose=0)):
        with pytest.raises(ValueError, match=f"batch_size must be a positive integer.*got {batch_size!r}"):
            run()


def test_fit_refuses_bad_epochs_verbose_and_validation():
    model, _ = twins()
    model.compile("sgd", "sparse_categorical_crossentropy")
    x, y = small_problem()
    with pytest.raises(ValueError, match="epochs must be an integer >= 0; got 2.5"):
        model.fit(x, y, epochs=2.5)
    with pytest.raises(ValueError, match="verbose must be 'auto', 0, 1 or 2; got 3"):
        model.fit(x, y, verbose=3)
    with pytest.raises(ValueError, match="leaves 0 for training"):
        model.fit(x[:1], y[:1], validation_split=0.5, verbose=0)
    with pytest.raises(ValueError, match="callbacks must be scratchnn.callbacks.Callback objects"):
        model.fit(x, y, verbose=0, callbacks=[keras.callbacks.History()])


# --- 5. callbacks in evaluate and predict, hooks in Keras's order -----------------------------------

HOOKS = ["on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_train_batch_begin",
         "on_train_batch_end", "on_test_begin", "on_test_end", "on_test_batch_begin", "on_test_batch_end",
         "on_predict_begin", "on_predict_end", "on_predict_batch_begin", "on_predict_batch_end"]


def recorder(base):
    """A callback of class `base` (scratchnn's or Keras's) that writes down every hook it sees,
    with the batch or epoch number and the keys of its logs."""
    class Recorder(base):
        pass

    def make_hook(name):
        def hook(self, *args, logs=None):   # Keras passes some logs by position, some by name
            if args and isinstance(args[-1], dict):
                *args, logs = args
            self.calls.append((name, *args, tuple(sorted(logs or {}))))
        return hook

    for name in HOOKS:
        setattr(Recorder, name, make_hook(name))
    callback = Recorder()
    callback.calls = []
    return callback


def test_every_hook_runs_in_keras_order_in_fit_evaluate_and_predict():
    x, labels = small_problem(2, m=25)
    ours, theirs = twins(2)
    ours.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    theirs.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    runs = {}
    for name, model, base in [("scratchnn", ours, callbacks.Callback), ("keras", theirs, keras.callbacks.Callback)]:
        record = recorder(base)
        model.fit(x, labels, epochs=2, batch_size=10, validation_split=0.2, verbose=0, callbacks=[record])
        model.evaluate(x, labels, batch_size=10, verbose=0, callbacks=[record])
        model.predict(x, batch_size=10, verbose=0, callbacks=[record])
        runs[name] = record.calls
    assert ("on_test_batch_end", 0, ("accuracy", "loss")) in runs["keras"]
    assert ("on_predict_batch_end", 2, ("outputs",)) in runs["keras"]
    assert runs["scratchnn"] == runs["keras"]


def test_stop_evaluating_and_stop_predicting_end_after_the_current_batch():
    class Stop(callbacks.Callback):
        def on_test_batch_end(self, batch, logs=None):
            self.model.stop_evaluating = True

        def on_predict_batch_end(self, batch, logs=None):
            self.model.stop_predicting = True

    model, _ = twins()
    model.compile("sgd", "sparse_categorical_crossentropy")
    x, y = small_problem()
    assert model.predict(x, batch_size=10, verbose=0, callbacks=[Stop()]).shape == (10, 3)
    first_batch = model.evaluate(x[:10], y[:10], verbose=0)
    assert model.evaluate(x, y, batch_size=10, verbose=0, callbacks=[Stop()]) == pytest.approx(first_batch)


# --- 2. the progress line's clock --------------------------------------------------------------------

class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        self.now += 0.001      # every reading is one millisecond later
        return self.now


def test_evaluate_after_fit_times_the_evaluation_only(capsys, monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(callbacks.time, "perf_counter", clock)
    model, _ = twins()
    model.compile("sgd", "sparse_categorical_crossentropy")
    x, y = small_problem()
    model.fit(x, y, epochs=1, batch_size=10, verbose=2)
    clock.now += 120                                  # two minutes pass between fit and evaluate
    capsys.readouterr()
    model.evaluate(x, y, batch_size=10, verbose=2)
    line = capsys.readouterr().out.strip()
    assert line.startswith("5/5 - 0s - ") and "ms/step" in line, line


def test_progress_of_predict_and_evaluate(capsys):
    model, _ = twins()
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = small_problem()
    model.predict(x, batch_size=10)
    assert capsys.readouterr().out.split("\r")[-1].startswith("5/5 ━━━━━━━━━━━━━━━━━━━━ ")
    model.evaluate(x, y, batch_size=25, verbose=2)
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.startswith("2/2 - ") and " - accuracy: " in out and " - loss: " in out
