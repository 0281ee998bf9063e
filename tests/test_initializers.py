"""scratchnn.initializers draw from Keras's distributions (same bounds, same spread, same shape of law)."""
import numpy as np
import pytest
from scipy import stats

from course_tools.keras_setup import keras
from scratchnn import initializers, utils

NAMES = ["RandomUniform", "RandomNormal", "GlorotUniform", "GlorotNormal", "HeUniform", "HeNormal", "LecunUniform",
         "LecunNormal"]
SHAPE = (300, 200)


def samples(name, seed):
    ours = getattr(initializers, name)(seed=seed)(SHAPE, dtype="float64")
    theirs = np.asarray(getattr(keras.initializers, name)(seed=seed)(SHAPE, dtype="float64"))
    return ours.ravel(), theirs.ravel()


@pytest.mark.parametrize("name", NAMES)
def test_same_distribution_as_keras(name):
    ours, theirs = samples(name, seed=3)
    assert ours.std() == pytest.approx(theirs.std(), rel=0.02)
    assert abs(ours.mean()) < 0.02 * theirs.std() + 1e-12 or name.startswith("Random")
    assert np.abs(ours).max() <= np.abs(theirs).max() * 1.02 or "Normal" in name
    # two-sample Kolmogorov-Smirnov: 60,000 draws each, fixed seeds
    assert stats.ks_2samp(ours, theirs).pvalue > 1e-3


@pytest.mark.parametrize("name,variance", [("GlorotUniform", 2 / 500), ("GlorotNormal", 2 / 500),
                                           ("HeUniform", 2 / 300), ("HeNormal", 2 / 300)])
def test_variance_is_the_papers(name, variance):
    ours, _ = samples(name, seed=4)
    assert ours.var() == pytest.approx(variance, rel=0.02)


@pytest.mark.parametrize("name", ["GlorotNormal", "HeNormal"])
def test_normal_variants_are_truncated_at_two_stddev(name):
    ours, _ = samples(name, seed=5)
    stddev = np.sqrt({"GlorotNormal": 2 / 500, "HeNormal": 2 / 300}[name]) / 0.87962566103423978
    assert np.abs(ours).max() <= 2 * stddev


def test_seeded_initializers_repeat_and_unseeded_follow_the_library_seed():
    init = initializers.GlorotUniform(seed=1)
    np.testing.assert_array_equal(init((3, 2)), init((3, 2)))
    utils.set_random_seed(7)
    first = initializers.HeNormal()((3, 2))
    utils.set_random_seed(7)
    np.testing.assert_array_equal(first, initializers.HeNormal()((3, 2)))


def test_constant_zeros_and_names():
    np.testing.assert_array_equal(initializers.Constant(2.5)((2,)), [2.5, 2.5])
    assert initializers.get("zeros")((2, 2)).sum() == 0
    assert isinstance(initializers.get("glorot_uniform"), initializers.GlorotUniform)
    with pytest.raises(ValueError, match="Unknown initializer 'xavier'"):
        initializers.get("xavier")
    with pytest.raises(ValueError, match="mode must be"):
        initializers.VarianceScaling(mode="fan_sum")


@pytest.mark.parametrize("shape", [(3, 3, 16, 32), (40_000,)], ids=["conv_kernel", "vector"])
@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "fan_avg"])
@pytest.mark.parametrize("distribution", ["uniform", "truncated_normal", "untruncated_normal"])
def test_variance_scaling_matches_keras_for_every_mode_and_distribution(shape, mode, distribution):
    """Fans from a convolution kernel (receptive field 3 x 3) and from a vector, as Keras computes them."""
    ours = initializers.VarianceScaling(1.5, mode, distribution, seed=6)(shape, dtype="float64").ravel()
    initializer = keras.initializers.VarianceScaling(1.5, mode, distribution, seed=6)
    theirs = np.asarray(initializer(shape, dtype="float64")).ravel()
    assert ours.std() == pytest.approx(theirs.std(), rel=0.03)
    if distribution != "untruncated_normal":
        assert np.abs(ours).max() <= np.abs(theirs).max() * 1.02
    assert stats.ks_2samp(ours, theirs).pvalue > 1e-3


def test_truncation_constant_is_the_std_of_a_normal_cut_at_two():
    """sqrt(1 - 2 c phi(c) / (2 Phi(c) - 1)) at c = 2, scipy's truncnorm, and Keras's source agree."""
    import inspect
    import math
    import re
    c = 2.0
    derived = math.sqrt(1 - 2 * c * math.exp(-c * c / 2) / math.sqrt(2 * math.pi) / math.erf(c / math.sqrt(2)))
    assert derived == pytest.approx(stats.truncnorm(-c, c).std(), rel=1e-12)
    for code in (inspect.getsource(initializers.VarianceScaling.__call__),
                 inspect.getsource(keras.initializers.VarianceScaling.__call__)):
        constant = float(re.search(r"math\.sqrt\((?:variance|scale)\)\s*/\s*([0-9.]+)", code).group(1))
        assert constant == pytest.approx(derived, rel=1e-15)


def test_truncated_normal_redraws_instead_of_clipping():
    values = initializers.truncated_normal(np.random.default_rng(0), (100_000,), 1.0)
    assert np.abs(values).max() <= 2.0
    assert np.mean(np.abs(values) > 2 - 1e-6) < 1e-4       # clipping would put 4.6% of the mass at +-2
