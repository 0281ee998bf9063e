"""Assignment 4's harness (see core.Student.call): run in the student's kernel, next to the student's code
(`globals()` is the notebook's), it returns plain data only."""


def callback_problem():
    """Why StopBelow is not the notebook's own class on keras.callbacks.Callback, or None."""
    import keras
    cls, Callback = globals().get("StopBelow"), keras.callbacks.Callback
    if not (isinstance(cls, type) and cls.__module__ == "__main__" and issubclass(cls, Callback)):
        return f"StopBelow should be your class StopBelow(keras.callbacks.Callback), run in this notebook, not {cls!r}"
    for base in cls.__mro__:
        if not (base in (Callback, object) or base.__module__ == "__main__"):
            return (f"StopBelow should be built on keras.callbacks.Callback itself, not on {base.__module__}."
                    f"{base.__qualname__}: write the stopping rule yourself")
    return None


def fit_with_stop_below(X, y, weights, epochs, threshold, monitor, runs):
    """[epochs run, StopBelow's values] of each of `runs` fits of Task 1's float64 model from `weights`, all
    with one StopBelow(threshold, monitor); or what went wrong."""
    import warnings

    import keras
    reports = []
    try:
        callback = StopBelow(threshold) if monitor == "val_loss" else StopBelow(threshold, monitor=monitor)  # noqa: F821
        for _ in range(runs):
            keras.config.set_floatx("float64")  # as the setup cell sets them, in case anything changed them
            keras.config.set_dtype_policy("float64")
            net = keras.Sequential([keras.Input(shape=(4,), dtype="float64"),
                                    keras.layers.Dense(8, activation="relu", dtype="float64"),
                                    keras.layers.Dense(3, activation="softmax", dtype="float64")])
            net.set_weights(weights)
            net.compile(optimizer=keras.optimizers.SGD(learning_rate=0.125), loss="sparse_categorical_crossentropy")
            with warnings.catch_warnings(record=True):  # Keras's own warnings are not test results
                warnings.simplefilter("always")
                history = net.fit(X, y, batch_size=8, epochs=epochs, validation_split=0.25, shuffle=False,
                                  verbose=0, callbacks=[callback])
            values = getattr(callback, "values", None)
            reports.append([len(history.epoch), values if values is None else list(values)])
    except Exception as e:
        return f"StopBelow({threshold!r}, monitor={monitor!r}), or a fit with it, raised {type(e).__name__}: {e}"
    return reports
