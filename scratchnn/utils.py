"""Random state of the library: `set_random_seed` makes every unseeded initializer and Dropout repeatable."""
import numpy as np

_generator = np.random.default_rng()


def set_random_seed(seed):
    """Seed the generator that unseeded initializers and layers draw from (like `keras.utils.set_random_seed`)."""
    global _generator
    _generator = np.random.default_rng(seed)


def generator(seed=None):
    """A fresh Generator for an integer `seed`, or the library's shared one for `seed=None`."""
    return _generator if seed is None else np.random.default_rng(seed)
