"""Weight initializers drawing from the same distributions as `keras.initializers`.

Call one with a shape to get an array: `GlorotUniform(seed=0)((4, 3))`. The numbers differ from
Keras's (another random generator), the distributions do not. As in Keras, an initializer built with
an integer seed returns the same values at every call; with `seed=None` it draws from the library's
generator (see `scratchnn.utils.set_random_seed`).
"""
import math

import numpy as np

from ._checks import from_identifier
from .utils import generator


class Initializer:
    """Base class: `init(shape, dtype="float32") -> np.ndarray`."""

    def __call__(self, shape, dtype="float32"):
        raise NotImplementedError


class Zeros(Initializer):
    def __call__(self, shape, dtype="float32"):
        return np.zeros(shape, dtype=dtype)


class Ones(Initializer):
    def __call__(self, shape, dtype="float32"):
        return np.ones(shape, dtype=dtype)


class Constant(Initializer):
    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype="float32"):
        return np.full(shape, self.value, dtype=dtype)


class RandomUniform(Initializer):
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval, self.seed = minval, maxval, seed

    def __call__(self, shape, dtype="float32"):
        return generator(self.seed).uniform(self.minval, self.maxval, size=shape).astype(dtype)


class RandomNormal(Initializer):
    """N(mean, stddev^2) with a fixed stddev, whatever the shape: Keras's default stddev is 0.05.
    Taught in chapter 5 (symmetry_and_depth.ipynb: a fixed scale vanishes or explodes with depth)."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def __call__(self, shape, dtype="float32"):
        return generator(self.seed).normal(self.mean, self.stddev, size=shape).astype(dtype)


def truncated_normal(rng, shape, stddev):
    """Normal(0, stddev) samples of the given shape, each redrawn until it lies within two standard
    deviations (redrawn, not clipped: clipping would pile mass on the edges).
    Taught in chapter 5 (variance_scaling.ipynb)."""
    values = rng.normal(0.0, stddev, size=shape)
    outside = np.abs(values) > 2 * stddev
    while outside.any():
        values[outside] = rng.normal(0.0, stddev, size=int(outside.sum()))
        outside = np.abs(values) > 2 * stddev
    return values


def compute_fans(shape):
    """(fan_in, fan_out) of a weight shape, as Keras computes them: a Dense kernel (in, out) gives
    (in, out); a convolution kernel (k1, k2, c_in, c_out) gives (k1 k2 c_in, k1 k2 c_out); a vector
    (k,) gives (k, k). Taught in chapter 5 (variance_scaling.ipynb)."""
    shape = tuple(shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive_field = math.prod(shape[:-2])
    return shape[-2] * receptive_field, shape[-1] * receptive_field


class VarianceScaling(Initializer):
    """Zero-mean weights with variance scale / n, where n is fan_in, fan_out or their mean.

    distribution "uniform" draws from [-limit, limit] with limit = sqrt(3 * scale / n);
    "truncated_normal" from a normal cut at two standard deviations, whose stddev is divided by
    0.8796... so that the variance after the cut is still scale / n; "untruncated_normal" from N(0, scale/n).
    Every fan-based initializer below is one of these. Taught in chapter 5 (variance_scaling.ipynb).
    """

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"mode must be 'fan_in', 'fan_out' or 'fan_avg'; got {mode!r}.")
        if distribution not in ("uniform", "truncated_normal", "untruncated_normal"):
            raise ValueError(f"distribution must be 'uniform', 'truncated_normal' or 'untruncated_normal'; "
                             f"got {distribution!r}.")
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed

    def __call__(self, shape, dtype="float32"):
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, n)
        rng = generator(self.seed)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            values = rng.uniform(-limit, limit, size=shape)
        elif self.distribution == "truncated_normal":
            values = truncated_normal(rng, shape, math.sqrt(variance) / 0.87962566103423978)
        else:
            values = rng.normal(0.0, math.sqrt(variance), size=shape)
        return values.astype(dtype)


class GlorotUniform(VarianceScaling):
    """Glorot & Bengio (2010): uniform on +-sqrt(6 / (fan_in + fan_out)). Keras's default kernel initializer."""

    def __init__(self, seed=None):
        super().__init__(1.0, "fan_avg", "uniform", seed)


class GlorotNormal(VarianceScaling):
    """Glorot normal: truncated normal with variance 2 / (fan_in + fan_out)."""

    def __init__(self, seed=None):
        super().__init__(1.0, "fan_avg", "truncated_normal", seed)


class HeUniform(VarianceScaling):
    """He et al. (2015): uniform on +-sqrt(6 / fan_in), made for ReLU layers."""

    def __init__(self, seed=None):
        super().__init__(2.0, "fan_in", "uniform", seed)


class HeNormal(VarianceScaling):
    """He normal: truncated normal with variance 2 / fan_in."""

    def __init__(self, seed=None):
        super().__init__(2.0, "fan_in", "truncated_normal", seed)


class LecunUniform(VarianceScaling):
    """LeCun et al. (1998): uniform on +-sqrt(3 / fan_in), variance 1 / fan_in."""

    def __init__(self, seed=None):
        super().__init__(1.0, "fan_in", "uniform", seed)


class LecunNormal(VarianceScaling):
    """LeCun normal: truncated normal with variance 1 / fan_in."""

    def __init__(self, seed=None):
        super().__init__(1.0, "fan_in", "truncated_normal", seed)


_BY_NAME = {
    "zeros": Zeros, "ones": Ones, "constant": Constant, "random_uniform": RandomUniform,
    "random_normal": RandomNormal, "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal,
    "he_uniform": HeUniform, "he_normal": HeNormal, "lecun_uniform": LecunUniform, "lecun_normal": LecunNormal,
}


def get(identifier):
    """An initializer from a Keras name ("glorot_uniform") or an initializer object (returned as is)."""
    return from_identifier(identifier, Initializer, _BY_NAME, "initializer")
