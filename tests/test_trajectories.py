"""course_tools.trajectories, which the optimizer lessons (chapter 6) plot and compare with."""
import numpy as np
import pytest

from course_tools.keras_setup import keras
from course_tools.trajectories import keras_path, path, quadratic, rosenbrock, rosenbrock_gradient
from scratchnn import optimizers


def central_differences(f, w, h=1e-6):
    return np.array([(f(w + h * e) - f(w - h * e)) / (2 * h) for e in np.eye(len(w))])


def test_quadratic_gradient_matches_finite_differences_and_takes_grids():
    f, grad = quadratic([1.0, 10.0, 0.5], center=(1.0, -2.0, 0.0))
    w = np.array([0.3, -1.0, 2.0])
    np.testing.assert_allclose(grad(w), central_differences(f, w), rtol=1e-7)
    grid = np.random.default_rng(0).normal(size=(3, 4, 5))
    assert f(grid).shape == (4, 5)
    assert np.isclose(f(grid)[2, 3], f(grid[:, 2, 3]))


@pytest.mark.parametrize("curvatures, center", [([1.0, -1.0], (0.0, 0.0)), ([1.0, 2.0], (0.0,)), ([[1.0]], ((0.0,),))])
def test_quadratic_rejects_bad_curvatures(curvatures, center):
    with pytest.raises(ValueError, match="curvatures"):
        quadratic(curvatures, center)


def test_rosenbrock_gradient_matches_finite_differences_and_vanishes_at_the_minimum():
    for w in [np.array([-1.5, 2.0]), np.array([0.3, 0.1])]:
        np.testing.assert_allclose(rosenbrock_gradient(w), central_differences(rosenbrock, w), rtol=1e-6)
    assert rosenbrock(np.array([1.0, 1.0])) == 0 and not rosenbrock_gradient(np.array([1.0, 1.0])).any()


def test_sgd_path_on_a_quadratic_follows_the_closed_form():
    """e_k = (1 - eta lambda)^k e_0 in each coordinate, for converging and diverging rates."""
    curvatures, start = np.array([1.0, 10.0]), np.array([-4.5, 1.5])
    for eta in [0.05, 0.18, 0.21]:
        points = path(optimizers.SGD(eta), quadratic(curvatures)[1], start, steps=30)
        expected = start * (1 - eta * curvatures) ** np.arange(31)[:, None]
        np.testing.assert_allclose(points, expected, rtol=1e-10, atol=1e-300)


def test_keras_path_equals_path_for_sgd_with_a_float32_exact_rate():
    grad = quadratic([1.0, 25.0])[1]
    ours = path(optimizers.SGD(0.0625, momentum=0.5), grad, [1.0, 1.0], 20)
    theirs = keras_path(keras.optimizers.SGD(0.0625, momentum=0.5), grad, [1.0, 1.0], 20)
    assert ours.shape == theirs.shape == (21, 2)
    np.testing.assert_array_equal(ours, theirs)
