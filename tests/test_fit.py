"""scratchnn's fit/evaluate/callbacks against keras.Model.fit: same start, shuffle=False => same
trajectory (every epoch's loss, metrics and validation numbers) and the same final weights."""
import csv

import numpy as np
import pytest
from sklearn.datasets import make_classification

from course_tools.keras_setup import keras
from course_tools.twins import keras_twin
from scratchnn import callbacks, layers, optimizers, regularizers
from scratchnn.models import Sequential


@pytest.fixture(autouse=True)
def keras_in_float64():
    """Keras's metric trackers (loss, accuracy) are floatx variables: float32 by default, which
    would round every logged number to ~7 digits. For a float64 comparison, floatx is float64 here."""
    keras.config.set_floatx("float64")
    yield
    keras.config.set_floatx("float32")


def data(seed, m=90, d=5, n=3):
    x, labels = make_classification(n_samples=m, n_features=d, n_informative=3, n_classes=n,
                                    random_state=seed)
    return x, labels


def twin_models(d, n, hidden=8, seed=0):
    ours = Sequential([layers.Dense(hidden, activation="relu"), layers.Dense(n, activation="softmax")])
    ours.build((None, d), dtype="float64")
    rng = np.random.default_rng(seed)
    ours.set_weights([rng.normal(scale=0.5, size=w.shape) for w in ours.get_weights()])
    return ours, keras_twin(ours)


# Keras keeps hyperparameters in float32: these learning rates are exact there (see test_optimizers).
OPTIMIZERS = [("SGD", dict(learning_rate=0.125)), ("Adam", dict(learning_rate=0.0625, beta_1=0.875,
                                                                 beta_2=0.998046875))]


# 72 training rows: 16 does not divide them, 30 leaves a last batch of 12, 90 is the full batch
@pytest.mark.parametrize("seed,batch_size", [(0, 16), (1, 30), (2, 90)])
@pytest.mark.parametrize("optimizer,kwargs", OPTIMIZERS)
@pytest.mark.parametrize("sparse", [False, True])
def test_trajectory_matches_keras_fit(seed, batch_size, optimizer, kwargs, sparse):
    x, labels = data(seed)
    y = labels if sparse else np.eye(3)[labels]
    loss = "sparse_categorical_crossentropy" if sparse else "categorical_crossentropy"
    ours, theirs = twin_models(x.shape[1], 3, seed=seed)
    ours.compile(getattr(optimizers, optimizer)(**kwargs), loss, metrics=["accuracy"])
    theirs.compile(getattr(keras.optimizers, optimizer)(**kwargs), loss, metrics=["accuracy"])
    fit_args = dict(epochs=4, batch_size=batch_size, validation_split=0.2, shuffle=False, verbose=0)
    h_ours, h_theirs = ours.fit(x, y, **fit_args), theirs.fit(x, y, **fit_args)
    assert sorted(h_ours.history) == sorted(h_theirs.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    for key in h_theirs.history:
        np.testing.assert_allclose(h_ours.history[key], h_theirs.history[key], rtol=1e-10, err_msg=key)
    for w, v in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(w, v, rtol=1e-9, atol=1e-12)
    ours_eval = ours.evaluate(x, y, batch_size=batch_size, verbose=0)
    np.testing.assert_allclose(ours_eval, theirs.evaluate(x, y, batch_size=batch_size, verbose=0), rtol=1e-8)


def test_binary_model_with_l2_and_validation_data_matches_keras():
    x, labels = data(3, n=2)
    ours = Sequential([layers.Dense(4, activation="tanh", kernel_regularizer=regularizers.L2(0.0625)),
                       layers.Dense(1, activation="sigmoid")])
    ours.build((None, x.shape[1]), dtype="float64")
    theirs = keras_twin(ours)
    ours.compile(optimizers.SGD(0.25, momentum=0.5), "binary_crossentropy", metrics=["accuracy"])
    theirs.compile(keras.optimizers.SGD(0.25, momentum=0.5), "binary_crossentropy", metrics=["accuracy"])
    args = dict(epochs=3, batch_size=20, validation_data=(x[:30], labels[:30]), shuffle=False, verbose=0)
    h_ours, h_theirs = ours.fit(x[30:], labels[30:], **args), theirs.fit(x[30:], labels[30:], **args)
    for key in h_theirs.history:
        np.testing.assert_allclose(h_ours.history[key], h_theirs.history[key], rtol=1e-10, err_msg=key)


def test_saturated_softmax_loss_is_computed_from_logits_like_keras():
    """Keras computes the cross-entropy of a softmax output from its logits (no 1e-7 clipping):
    with logit gaps in the thousands the loss goes far above -log(1e-7) = 16.1, in both libraries."""
    x, labels = data(7)
    ours, theirs = twin_models(x.shape[1], 3, seed=7)
    big = [w * 300 for w in ours.get_weights()]
    ours.set_weights(big)
    theirs.set_weights(big)
    ours.compile("sgd", "sparse_categorical_crossentropy")
    theirs.compile("sgd", "sparse_categorical_crossentropy")
    ours_loss = ours.evaluate(x, labels, verbose=0)
    assert ours_loss > 100
    np.testing.assert_allclose(ours_loss, theirs.evaluate(x, labels, verbose=0), rtol=1e-12)


class Recorder(callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.calls = []

    def on_train_begin(self, logs=None): self.calls.append("train_begin")
    def on_epoch_begin(self, epoch, logs=None): self.calls.append(f"epoch_begin {epoch}")
    def on_train_batch_end(self, batch, logs=None): self.calls.append(f"batch_end {batch}")
    def on_epoch_end(self, epoch, logs=None): self.calls.append(f"epoch_end {epoch} {sorted(logs)}")
    def on_train_end(self, logs=None): self.calls.append("train_end")


def compiled_model(seed=0):
    x, labels = data(seed)
    model, _ = twin_models(x.shape[1], 3, seed=seed)
    model.compile(optimizers.SGD(0.125), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, x, labels


def test_callback_hooks_run_in_keras_order():
    model, x, y = compiled_model()
    recorder = Recorder()
    model.fit(x, y, epochs=2, batch_size=40, validation_split=0.2, verbose=0, callbacks=[recorder])
    assert recorder.calls == ["train_begin", "epoch_begin 0", "batch_end 0", "batch_end 1",
                              "epoch_end 0 ['accuracy', 'loss', 'val_accuracy', 'val_loss']",
                              "epoch_begin 1", "batch_end 0", "batch_end 1",
                              "epoch_end 1 ['accuracy', 'loss', 'val_accuracy', 'val_loss']", "train_end"]


@pytest.mark.parametrize("patience,restore", [(0, False), (2, True)])
def test_early_stopping_matches_keras(patience, restore):
    x, labels = data(5)
    ours, theirs = twin_models(x.shape[1], 3, seed=5)
    # a large learning rate makes val_loss go up and down
    ours.compile(optimizers.SGD(2.0), "sparse_categorical_crossentropy")
    theirs.compile(keras.optimizers.SGD(2.0), "sparse_categorical_crossentropy")
    args = dict(epochs=15, batch_size=8, validation_split=0.3, shuffle=False, verbose=0)
    stop = dict(patience=patience, restore_best_weights=restore)
    h_ours = ours.fit(x, labels, callbacks=[callbacks.EarlyStopping(**stop)], **args)
    h_theirs = theirs.fit(x, labels, callbacks=[keras.callbacks.EarlyStopping(**stop)], **args)
    assert h_ours.epoch == h_theirs.epoch and len(h_ours.epoch) < 15
    for w, v in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(w, v, rtol=1e-8, atol=1e-10)


def test_learning_rate_scheduler_matches_keras():
    x, labels = data(6)
    ours, theirs = twin_models(x.shape[1], 3, seed=6)
    ours.compile(optimizers.SGD(0.5), "sparse_categorical_crossentropy")
    theirs.compile(keras.optimizers.SGD(0.5), "sparse_categorical_crossentropy")
    halve = lambda epoch, lr: lr if epoch == 0 else lr / 2  # noqa: E731  (0.5, 0.25, ...: exact in float32)
    args = dict(epochs=4, batch_size=30, shuffle=False, verbose=0)
    h_ours = ours.fit(x, labels, callbacks=[callbacks.LearningRateScheduler(halve)], **args)
    h_theirs = theirs.fit(x, labels, callbacks=[keras.callbacks.LearningRateScheduler(halve)], **args)
    np.testing.assert_allclose(h_ours.history["learning_rate"], h_theirs.history["learning_rate"])
    np.testing.assert_allclose(h_ours.history["loss"], h_theirs.history["loss"], rtol=1e-10)


def test_checkpoint_csv_logger_and_weights_files(tmp_path):
    model, x, y = compiled_model()
    best = tmp_path / "best.npz"
    log = tmp_path / "log.csv"
    history = model.fit(x, y, epochs=3, batch_size=30, validation_split=0.2, verbose=0, callbacks=[
        callbacks.ModelCheckpoint(str(best), save_best_only=True), callbacks.CSVLogger(str(log)),
        callbacks.ModelCheckpoint(str(tmp_path / "e{epoch:02d}.npz"))])
    rows = list(csv.DictReader(open(log)))
    assert [row["epoch"] for row in rows] == ["0", "1", "2"]
    np.testing.assert_allclose([float(r["val_loss"]) for r in rows], history.history["val_loss"])
    assert sorted(p.name for p in tmp_path.glob("e*.npz")) == ["e01.npz", "e02.npz", "e03.npz"]
    final = model.get_weights()
    model.load_weights(str(tmp_path / "e03.npz"))
    for w, v in zip(final, model.get_weights()):
        np.testing.assert_array_equal(w, v)
    with pytest.raises(ValueError, match="must end in .npz"):
        callbacks.ModelCheckpoint("model.keras")


def test_progress_output_like_keras(capsys, monkeypatch):
    model, x, y = compiled_model()
    model.fit(x, y, epochs=2, batch_size=32, verbose=2)
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "Epoch 1/2" and lines[1].startswith("3/3 - ") and "accuracy: " in lines[1]
    monkeypatch.setattr(callbacks.ProgbarLogger, "INTERVAL", 0.0)   # redraw after every batch
    model.fit(x, y, epochs=1, batch_size=32, verbose=1)
    out = capsys.readouterr().out
    assert "Epoch" not in out            # Keras prints "Epoch 1/1" only when there are several epochs
    assert out.startswith("\r1/3 ") and "\r2/3 " in out and out.split("\r")[-1].startswith("3/3 ━━━━")


def test_fit_errors_are_clear():
    model = Sequential([layers.Dense(2, activation="softmax")])
    with pytest.raises(RuntimeError, match="call compile"):
        model.fit(np.ones((4, 3)), np.zeros(4))
    model.compile("sgd", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"same number of rows.*\(4, 3\).*\(5,\)"):
        model.fit(np.ones((4, 3)), np.zeros(5))
    with pytest.raises(ValueError, match="validation_split must be in"):
        model.fit(np.ones((4, 3)), np.zeros(4), validation_split=1.0)
    with pytest.raises(ValueError, match="Unknown loss"):
        model.compile("sgd", "crossentropy")
    with pytest.raises(ValueError, match="Unknown optimizer 'adamw'"):
        model.compile("adamw", "mse")
