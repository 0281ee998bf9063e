"""scratchnn.initializers draw from Keras's distributions (same bounds, same spread, same shape of law)."""
import numpy as np
import pytest
from scipy import stats

from course_tools.keras_setup import keras
from scratchnn import initializers, utils

NAMES = ["RandomUniform", "RandomNormal", "GlorotUniform", "GlorotNormal", "HeUniform", "HeNormal"]
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
