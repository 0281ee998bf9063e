"""The part of assignment 4's checks that runs in the student's kernel (or notebook), next to the
student's code: grader.checks.a04_keras_workflow sends this module's source as a harness (see
core.Student.call), and its functions return plain data only, which the trusted checks judge.

It imports only the standard library at the top (Keras inside the functions that need it), since
it is executed in a namespace that holds the student's functions: `globals()` there is the
notebook's.
"""
import types as _types


def _names_used(code):
    """Every global or attribute name a code object and the functions inside it use."""
    codes, names = [code], []
    while codes:
        code = codes.pop()
        codes += [c for c in code.co_consts if isinstance(c, _types.CodeType)]
        names += list(code.co_names)
    return names


def _not_using(fn, forbidden, label, seen):
    """Why fn, or a function of the notebook that it calls, breaks the rule: it uses a module
    whose top-level name is in `forbidden`, the tests, or Keras's EarlyStopping. None if not."""
    seen.append(fn)
    for name in _names_used(fn.__code__):
        obj = fn.__globals__.get(name)
        owner = obj.__name__ if isinstance(obj, _types.ModuleType) else getattr(obj, "__module__", None) or name
        owner = str(owner)
        helper = owner.split(".")[0] == "grader"
        if helper or owner.split(".")[0] in forbidden or name == "EarlyStopping":
            source = "the test helpers" if helper else owner
            return (f"{label} uses {name}{'' if source == name else f' (from {source})'}"
                    f": write it yourself{', with NumPy only' if 'keras' in forbidden else ''}")
        if isinstance(obj, _types.FunctionType) and obj.__module__ == "__main__" and obj not in seen:
            found = _not_using(obj, forbidden, label, seen)
            if found:
                return found
    return None


def numpy_only_problem(name, forbidden):
    """Why the function `name` breaks the NumPy-only rule, or None (also when there is no such
    function: calling it says so)."""
    fn = globals().get(name)
    if fn is None or not callable(fn):
        return None
    if not (isinstance(fn, _types.FunctionType) and fn.__module__ == "__main__"):
        return (f"the function tested should be yours, written in this notebook with def, not {fn!r} "
                f"from {getattr(fn, '__module__', None)}")
    return _not_using(fn, list(forbidden), fn.__name__, [])


def callback_problem(name):
    """Why the class `name` is not the notebook's own keras Callback, built on Callback itself and
    not on EarlyStopping; None if it is."""
    import keras
    cls, Callback = globals().get(name), keras.callbacks.Callback
    if cls is None:
        return f"{name} is not defined: run the cell with your {name} first, and check that it runs without an error"
    if not (isinstance(cls, type) and cls.__module__ == "__main__"):
        return (f"StopBelow should be your class, written in this notebook with "
                f"class StopBelow(keras.callbacks.Callback), not {cls!r}")
    if not issubclass(cls, Callback):
        return "StopBelow should be a subclass of keras.callbacks.Callback"
    for base in cls.__mro__:
        if not (base in (Callback, object) or base.__module__ == "__main__"):
            return (f"StopBelow should be built on keras.callbacks.Callback itself, not on "
                    f"{base.__module__}.{base.__qualname__}: write the stopping rule yourself")
        for attribute in vars(base).values() if base.__module__ == "__main__" else ():
            if isinstance(attribute, _types.FunctionType):
                found = _not_using(attribute, ["scratchnn"], f"StopBelow.{attribute.__name__}", [])
                if found:
                    return found
    return None


def fit_with_stop_below(X, y, weights, epochs, threshold, monitor, runs):
    """`runs` keras fits of Task 3's float64 model (4 -> 8 -> 3, SGD(0.125), batches of 8,
    validation_split=0.25, unshuffled), each from the start `weights`, all with one
    StopBelow(threshold, monitor). For each fit: the number of epochs it ran and the callback's
    values after it ({"epochs": n, "values": [...]}, "values" None if it has none, "not_numbers"
    if they are not numbers), or a string saying what went wrong."""
    import warnings
    import keras
    import numpy
    StopBelow = globals()["StopBelow"]
    what = f"fit(..., epochs={epochs}, callbacks=[StopBelow({threshold!r}, monitor={monitor!r})])"
    try:
        callback = StopBelow(threshold) if monitor == "val_loss" else StopBelow(threshold, monitor=monitor)
    except Exception as e:
        return f"StopBelow({threshold!r}, monitor={monitor!r}) raised {type(e).__name__}: {e}"
    reports = []
    for _ in range(runs):
        keras.config.set_floatx("float64")          # in case anything changed them since setup
        keras.config.set_dtype_policy("float64")
        net = keras.Sequential([keras.Input(shape=(X.shape[1],), dtype="float64"),
                                keras.layers.Dense(8, activation="relu", dtype="float64"),
                                keras.layers.Dense(3, activation="softmax", dtype="float64")])
        net.set_weights(weights)
        net.compile(optimizer=keras.optimizers.SGD(learning_rate=0.125), loss="sparse_categorical_crossentropy")
        try:
            with warnings.catch_warnings(record=True), numpy.errstate(divide="warn", over="warn", invalid="warn"):
                warnings.simplefilter("always")        # Keras's own warnings are not test results
                history = net.fit(X, y, batch_size=8, epochs=epochs, validation_split=0.25, shuffle=False,
                                  verbose=0, callbacks=[callback])
        except Exception as e:
            reports.append(f"{what} raised {type(e).__name__}: {e}")
            break
        report = {"epochs": len(history.epoch), "values": None}
        values = getattr(callback, "values", None)
        if values is not None:
            try:
                report["values"] = [float(value) for value in values]
            except (TypeError, ValueError):
                report["not_numbers"] = repr(values)[:300]
        reports.append(report)
    return reports
