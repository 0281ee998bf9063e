"""Weight penalties added to the loss, as `keras.regularizers`."""
import numpy as np


class L2:
    """penalty(W) = l2 * sum(W**2), whose gradient is 2 * l2 * W (Keras's definition: no 1/2, no 1/m).
    Taught in chapter 7 (overfitting_l2_dropout.ipynb)."""

    def __init__(self, l2=0.01):
        if (isinstance(l2, bool) or not isinstance(l2, (int, float, np.integer, np.floating))
                or not 0 <= l2 < np.inf):        # as Keras: a number, not NaN, infinite or negative
            raise ValueError(f"l2 must be a number >= 0; got l2={l2!r}.")
        self.l2 = float(l2)

    def __call__(self, weights):
        return float(self.l2 * np.sum(np.square(weights)))

    def gradient(self, weights):
        return 2 * self.l2 * weights


def get(identifier):
    """None, an `L2` object, or the Keras name "l2" (which means L2(0.01))."""
    if identifier is None or isinstance(identifier, L2):
        return identifier
    if identifier == "l2":
        return L2()
    raise ValueError(f"Unknown regularizer {identifier!r}: use scratchnn.regularizers.L2(l2=...) or 'l2'.")
