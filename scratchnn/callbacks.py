"""Callbacks: code that `fit`, `evaluate` and `predict` run at fixed moments, with Keras's hook names.

Hooks: on_train_begin/end(logs), on_epoch_begin/end(epoch, logs), on_train_batch_begin/end(batch,
logs) during `fit`; on_test_begin/end(logs) and on_test_batch_begin/end(batch, logs) during
`evaluate` (and the validation pass at the end of each epoch of `fit`); on_predict_begin/end(logs)
and on_predict_batch_begin/end(batch, logs) during `predict` (its batch logs hold the batch's
"outputs"). Inside a hook, `self.model` is the model. Setting `self.model.stop_training = True`
ends `fit` after the current batch (Keras 3 checks it after every batch, and again after the
epoch's validation); `stop_evaluating` and `stop_predicting` do the same for `evaluate` and
`predict`. Taught in chapter 4 (callbacks.ipynb, fit_from_scratch.ipynb).
"""
import csv
import os
import sys
import time
import warnings


class Callback:
    """Base class: override the hooks you need; `self.model` and `self.params` are set by `fit`."""

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_train_batch_begin(self, batch, logs=None): pass
    def on_train_batch_end(self, batch, logs=None): pass
    def on_test_begin(self, logs=None): pass
    def on_test_end(self, logs=None): pass
    def on_test_batch_begin(self, batch, logs=None): pass
    def on_test_batch_end(self, batch, logs=None): pass
    def on_predict_begin(self, logs=None): pass
    def on_predict_end(self, logs=None): pass
    def on_predict_batch_begin(self, batch, logs=None): pass
    def on_predict_batch_end(self, batch, logs=None): pass


class History(Callback):
    """Records every epoch's logs: `history.history["loss"]` is the list of epoch losses.
    `fit` adds one to every run and returns it (it is also `model.history`). Taught in chapter 4
    (fit_from_scratch.ipynb)."""

    def __init__(self):
        super().__init__()
        self.epoch, self.history = [], {}

    def on_train_begin(self, logs=None):
        self.epoch = []
        self.model.history = self

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)


class ProgbarLogger(Callback):
    """Prints the progress of `fit`, `evaluate` and `predict`, in the layout of Keras's:

        verbose=1: `12/12 ━━━━━━━━━━━━━━━━━━━━ 0s 2ms/step - accuracy: 0.9000 - loss: 0.4000`
                   (redrawn in place at most every 0.05 s, then finished at the end)
        verbose=2: `12/12 - 0s - 2ms/step - accuracy: 0.9000 - loss: 0.4000` (one line at the end)

    `fit`, `evaluate` and `predict` add one when verbose is not 0; one passed in `callbacks` takes
    their verbose too, so with verbose=0 it prints nothing, as Keras's. Inside `fit` the validation
    pass prints nothing. The clock starts when the epoch (or the evaluation) starts.
    """

    INTERVAL = 0.05   # seconds between two redraws, as Keras's Progbar

    def __init__(self):
        super().__init__()
        self.in_fit = False

    def set_params(self, params):
        super().set_params(params)
        self.verbose = 1 if params["verbose"] == "auto" else params["verbose"]
        self.epochs, self.steps = params["epochs"], params["steps"]

    def on_train_begin(self, logs=None):
        self.in_fit = True

    def on_epoch_begin(self, epoch, logs=None):
        self._start()
        if self.verbose and self.epochs > 1:
            print(f"Epoch {epoch + 1}/{self.epochs}")

    def on_train_batch_end(self, batch, logs=None):
        self._update(batch + 1, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._finish(logs)

    def on_test_begin(self, logs=None):
        if not self.in_fit:
            self._start()

    def on_test_batch_end(self, batch, logs=None):
        if not self.in_fit:
            self._update(batch + 1, logs)

    def on_test_end(self, logs=None):
        if not self.in_fit:
            self._finish(logs)

    def on_predict_begin(self, logs=None):
        self._start()

    def on_predict_batch_end(self, batch, logs=None):
        self._update(batch + 1, None)    # the batch's outputs are not printed

    def on_predict_end(self, logs=None):
        self._finish(None)

    def _start(self):
        self.start = self.last_drawn = time.perf_counter()
        self.seen = 0

    def _update(self, step, logs):
        self.seen = step
        now = time.perf_counter()
        if self.verbose == 1 and step < self.steps and now - self.last_drawn >= self.INTERVAL:
            self.last_drawn = now
            sys.stdout.write("\r" + self._line(step, logs))
            sys.stdout.flush()

    def _finish(self, logs):
        if not self.verbose:
            return
        line = self._line(self.steps, logs)
        print(("\r" if self.verbose == 1 else "") + line, flush=True)

    def _line(self, step, logs):
        elapsed = time.perf_counter() - self.start
        per_step = elapsed / max(step, 1)
        per_step = f"{1000 * per_step:.0f}ms/step" if per_step >= 1e-3 else f"{1e6 * per_step:.0f}us/step"
        values = "".join(f" - {key}: {value:.4f}" for key, value in sorted((logs or {}).items()))
        if self.verbose == 2:
            return f"{self.steps}/{self.steps} - {elapsed:.0f}s - {per_step}{values}"
        filled = int(20 * step / self.steps)
        return f"{step}/{self.steps} {'━' * filled}{' ' * (20 - filled)} {elapsed:.0f}s {per_step}{values}"


class MonitorCallback(Callback):
    """Shared by EarlyStopping and ModelCheckpoint: is a monitored value an improvement?"""

    def __init__(self, monitor="val_loss", mode="auto", min_delta=0.0):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"mode must be 'auto', 'min' or 'max'; got {mode!r}.")
        if mode == "auto":
            name = monitor.removeprefix("val_")
            if name in ("accuracy", "acc") or name.endswith("_accuracy"):
                mode = "max"
            elif name == "loss" or name in ("mse", "mae", "mean_squared_error", "mean_absolute_error"):
                mode = "min"
            else:
                raise ValueError(f"Cannot tell whether {monitor!r} should go up or down: pass mode='min' or 'max'.")
        self.monitor, self.mode, self.min_delta = monitor, mode, abs(min_delta)

    def is_improvement(self, value, reference):
        if reference is None:
            return True
        return value - self.min_delta > reference if self.mode == "max" else value + self.min_delta < reference

    def monitored(self, logs):
        value = (logs or {}).get(self.monitor)
        if value is None:
            warnings.warn(f"{type(self).__name__} monitors {self.monitor!r}, which is not in the logs: "
                          f"{sorted(logs or {})}. (val_ metrics need validation data.)", stacklevel=3)
        return value


class EarlyStopping(MonitorCallback):
    """Stop when `monitor` has not improved for `patience` epochs (Keras's rules and defaults).

    Defaults as in Keras: patience=0 (stop at the first epoch without improvement) and the weights
    of the LAST epoch are kept, unless restore_best_weights=True.
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__(monitor, mode, min_delta)
        self.patience, self.verbose, self.baseline = patience, verbose, baseline
        self.restore_best_weights, self.start_from_epoch = restore_best_weights, start_from_epoch

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch, self.best, self.best_weights, self.best_epoch = 0, 0, None, None, 0

    def on_epoch_end(self, epoch, logs=None):
        """Count the epochs without improvement; stop training after `patience` of them.
        Taught in chapter 4 (fit_from_scratch.ipynb) and chapter 7 (overfitting_l2_dropout.ipynb)."""
        current = self.monitored(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights, self.best_epoch = self.model.get_weights(), epoch
        self.wait += 1
        if self.is_improvement(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self.is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


class ModelCheckpoint(MonitorCallback):
    """Save the model's weights (a `.npz` file) after each epoch, or only when `monitor` improves.

    `filepath` may hold fields filled from the epoch and the logs: "ckpt-{epoch:02d}-{val_loss:.3f}.npz".
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, mode="auto"):
        super().__init__(monitor, mode)
        if not str(filepath).endswith(".npz"):
            raise ValueError(f"scratchnn saves weights with NumPy: filepath must end in .npz; got {filepath!r}.")
        self.filepath, self.verbose, self.save_best_only, self.best = str(filepath), verbose, save_best_only, None

    def on_epoch_end(self, epoch, logs=None):
        path = self.filepath.format(epoch=epoch + 1, **(logs or {}))
        if self.save_best_only:
            current = self.monitored(logs)
            if current is None or not self.is_improvement(current, self.best):
                return
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {self.best} to {current}, saving to {path}")
            self.best = current
        self.model.save_weights(path)


class LearningRateScheduler(Callback):
    """At the start of each epoch set the learning rate to schedule(epoch, current_lr); logs it.
    Taught in chapter 4 (fit_from_scratch.ipynb)."""

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        """Set the optimizer's learning rate to schedule(epoch, current rate) before the epoch runs.
        Taught in chapter 4 (callbacks.ipynb) and chapter 7 (overfitting_l2_dropout.ipynb)."""
        learning_rate = self.schedule(epoch, float(self.model.optimizer.learning_rate))
        try:
            self.model.optimizer.learning_rate = learning_rate
        except ValueError as error:
            raise ValueError(f"The schedule returned an invalid learning rate at epoch {epoch}: {error}") from None
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {learning_rate}.")

    def on_epoch_end(self, epoch, logs=None):
        logs["learning_rate"] = float(self.model.optimizer.learning_rate)


class CSVLogger(Callback):
    """Append one row per epoch to a CSV file: epoch, then the logs' keys in sorted order."""

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename, self.separator, self.append = str(filename), separator, append

    def on_train_begin(self, logs=None):
        has_header = self.append and os.path.exists(self.filename) and os.path.getsize(self.filename) > 0
        self.file = open(self.filename, "a" if self.append else "w", newline="")
        self.writer = None if not has_header else csv.writer(self.file, delimiter=self.separator)
        self.keys = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
        if self.writer is None:
            self.writer = csv.writer(self.file, delimiter=self.separator)
            self.writer.writerow(["epoch"] + self.keys)
        self.writer.writerow([epoch] + [logs.get(key, "NA") for key in self.keys])
        self.file.flush()

    def on_train_end(self, logs=None):
        self.file.close()


class CallbackList:
    """Calls a hook on every callback, in order, as Keras's CallbackList.

    add_history / add_progbar append a History / ProgbarLogger unless the list has one; `params`
    (verbose, epochs, steps) go to every callback's set_params. Taught in chapter 4 (fit_from_scratch.ipynb).
    """

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None, **params):
        self.callbacks = list(callbacks or [])
        for callback in self.callbacks:
            if not isinstance(callback, Callback):
                raise ValueError(f"callbacks must be scratchnn.callbacks.Callback objects; got "
                                 f"{type(callback).__module__}.{type(callback).__name__}.")
        if add_history and not any(isinstance(c, History) for c in self.callbacks):
            self.callbacks.append(History())
        if add_progbar and not any(isinstance(c, ProgbarLogger) for c in self.callbacks):
            self.callbacks.append(ProgbarLogger())
        for callback in self.callbacks:
            callback.set_model(model)
            callback.set_params(params)

    def __getattr__(self, hook):
        """`callback_list.on_epoch_end(epoch, logs)` calls on_epoch_end on every callback. As in
        Keras, each hook gets a logs dict ({} when none is given)."""
        if not hook.startswith("on_"):
            raise AttributeError(hook)
        if "epoch" in hook or "batch" in hook:
            def call_all(number, logs=None):
                logs = {} if logs is None else logs
                for callback in self.callbacks:
                    getattr(callback, hook)(number, logs=logs)
        else:
            def call_all(logs=None):
                logs = {} if logs is None else logs
                for callback in self.callbacks:
                    getattr(callback, hook)(logs=logs)
        setattr(self, hook, call_all)   # made once per hook: the next call finds it directly
        return call_all
