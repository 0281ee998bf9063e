"""Input checks shared by the whole library: clear errors instead of NumPy tracebacks."""
import math

import numpy as np

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def as_float_array(x, name="x"):
    """Return `x` as a floating NumPy array, keeping float32/float64; integers become float64."""
    if type(x) is np.ndarray and x.dtype in _FLOATS:   # the common case, checked first: it is cheap
        return x
    try:
        array = np.asarray(x)
    except Exception as error:  # e.g. ragged nested lists
        raise ValueError(f"`{name}` must be array-like of numbers; got {type(x).__name__}: {error}") from None
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise ValueError(f"`{name}` must contain numbers; got an array of dtype {array.dtype}.")
    if not np.issubdtype(array.dtype, np.floating):
        array = array.astype(np.float64)
    return array


def check_finite(array, name):
    """Raise a ValueError naming `name` if `array` holds NaN or infinity."""
    if math.isfinite(array.sum()):   # fast: NaN and infinity reach the sum (a finite sum proves none)
        return
    if not np.all(np.isfinite(array)):
        bad = np.argwhere(~np.isfinite(array))[0]
        raise ValueError(
            f"`{name}` contains a non-finite value ({array[tuple(bad)]}) at index {tuple(int(i) for i in bad)}. "
            "If it came from training, the model has diverged: try a smaller learning rate."
        )


def from_identifier(identifier, base, by_name, kind):
    """An object of class `base` as is, or a new one from its Keras name (case-insensitive) in
    `by_name`; a ValueError listing the known names otherwise. `kind` names it: "loss", ..."""
    if isinstance(identifier, base):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in by_name:
        return by_name[identifier.lower()]()
    raise ValueError(f"Unknown {kind} {identifier!r}. Known names: {sorted(by_name)}.")
