"""course_tools.autoencoders, the helpers of chapter 9: the digits' split, the noise, PSNR and the pictures."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_tools.autoencoders import corrupt, digits_split, hourglass, psnr, show_digits  # noqa: E402


def test_split_is_disjoint_covers_the_digits_in_unit_range_and_follows_the_seed():
    (x_train, y_train), (x_test, y_test) = digits_split(n_train=1000, seed=2)
    assert x_train.shape == (1000, 64) and x_test.shape == (797, 64) and x_train.dtype == np.float32
    assert y_train.shape == (1000,) and y_test.shape == (797,)
    assert x_train.min() == 0.0 and max(x_train.max(), x_test.max()) == 1.0
    both = np.concatenate([x_train, x_test])
    default = np.concatenate([digits_split()[0][0], digits_split()[1][0]])
    assert len(np.unique(both, axis=0)) == len(np.unique(default, axis=0))
    assert np.array_equal(digits_split(n_train=1000, seed=2)[0][0], x_train)
    assert not np.array_equal(digits_split(n_train=1000, seed=3)[0][0], x_train)
    assert digits_split(dtype="float64")[0][0].dtype == np.float64


def test_split_refuses_sizes_that_leave_no_test_rows():
    with pytest.raises(ValueError, match="n_train must be between 1 and 1796"):
        digits_split(n_train=1797)


def test_corrupt_adds_seeded_gaussian_noise_and_clips():
    x = np.full((2000, 64), 0.5, dtype=np.float32)
    noisy = corrupt(x, 0.1, np.random.default_rng(0))
    assert noisy.dtype == np.float32 and noisy.shape == x.shape
    assert abs(float(np.std(noisy - x)) - 0.1) < 0.002 and abs(float(np.mean(noisy - x))) < 0.002
    assert np.array_equal(noisy, corrupt(x, 0.1, np.random.default_rng(0)))
    clipped = corrupt(x, 5.0, np.random.default_rng(1))
    assert clipped.min() == 0.0 and clipped.max() == 1.0
    assert np.array_equal(corrupt(x, 0.0, np.random.default_rng(0)), x)
    with pytest.raises(ValueError, match="stddev"):
        corrupt(x, -1.0, np.random.default_rng(0))


def test_psnr_is_ten_log10_of_one_over_the_mse():
    a = np.zeros((4, 64))
    assert psnr(a, a + 0.1) == pytest.approx(20.0)          # MSE 0.01 -> 20 dB
    assert psnr(a, a + 0.1, peak=2.0) == pytest.approx(10 * np.log10(4 / 0.01))
    assert psnr(a, a) == float("inf")
    with pytest.raises(ValueError, match=r"\(4, 64\) and \(4, 63\)"):
        psnr(a, a[:, :63])


def test_pictures_draw_and_check_their_input():
    fig = show_digits({"a": np.zeros((3, 64)), "b": np.ones((3, 64))}, titles={"a": ["x", "y", "z"]})
    assert len(fig.axes) == 6 and fig.axes[0].get_title() == "x"
    plt.close(fig)
    with pytest.raises(ValueError, match="row lengths"):
        show_digits({"a": np.zeros((3, 64)), "b": np.zeros((2, 64))})
    ax = hourglass((64, 32, 8, 32, 64))
    assert len(ax.patches) == 5 + 4
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="input, a code and an output"):
        hourglass((64, 8))
