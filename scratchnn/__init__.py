"""scratchnn: neural networks from scratch in NumPy, with Keras 3's names.

The library the course builds chapter by chapter. It imports NumPy only; its layers, losses,
initializers and optimizers take the same names and arguments as their Keras counterparts, so
weights and results can be compared one for one.
"""
from . import (activations, callbacks, gradient_check, initializers, layers, losses, metrics, models,
               optimizers, regularizers, utils)

__all__ = ["activations", "callbacks", "gradient_check", "initializers", "layers", "losses", "metrics", "models",
           "optimizers", "regularizers", "utils"]
__version__ = "0.1.0"
