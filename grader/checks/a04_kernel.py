"""Assignment 4's harness, run in the student's kernel (see core.Student.call): it returns plain data."""


def fit_with_stop_below(X, y, weights, epochs, threshold, monitor):
    """[epochs run, StopBelow's values] of two float64 fits of Task 1's model with one
    StopBelow(threshold, monitor), or what is wrong."""
    import warnings

    import keras
    for base in getattr(globals().get("StopBelow"), "__mro__", ()):
        if base not in (keras.callbacks.Callback, object) and base.__module__ != "__main__":
            return (f"StopBelow should be built on keras.callbacks.Callback itself, not on {base.__module__}."
                    f"{base.__qualname__}: write the stopping rule yourself")
    reports = []
    try:
        callback = StopBelow(threshold) if monitor == "val_loss" else StopBelow(threshold, monitor=monitor)  # noqa: F821
        keras.config.set_floatx("float64")
        keras.config.set_dtype_policy("float64")
        for _ in range(2):
            net = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, "relu"), keras.layers.Dense(3, "softmax")])
            net.set_weights(weights)
            net.compile(optimizer=keras.optimizers.SGD(learning_rate=0.125), loss="sparse_categorical_crossentropy")
            with warnings.catch_warnings(action="ignore"):
                history = net.fit(X, y, batch_size=8, epochs=epochs, validation_split=0.25, shuffle=False,
                                  verbose=0, callbacks=[callback])
            reports.append([len(history.epoch), list(getattr(callback, "values", []))])
    except Exception as e:
        return f"StopBelow({threshold!r}, monitor={monitor!r}), or a fit with it, raised {type(e).__name__}: {e}"
    return reports
