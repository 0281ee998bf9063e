"""course_tools.tuning, the helpers of chapter 8: the digits' splits, the error rate, log-uniform draws."""
import numpy as np
import pytest
from scipy import stats

from course_tools.tuning import digits_splits, error_rate, log_uniform


def test_splits_are_disjoint_cover_the_digits_and_depend_on_the_seed():
    data = digits_splits(seed=3, train=500, val=200)
    assert [len(data[k][0]) for k in ("train", "val", "test")] == [500, 200, 1797 - 700]
    rows = np.concatenate([data[k][0] for k in ("train", "val", "test")])
    labels = np.concatenate([data[k][1] for k in ("train", "val", "test")])
    default = digits_splits(seed=0)
    all_labels = default["test"][1].tolist() + default["train"][1].tolist() + default["val"][1].tolist()
    assert np.array_equal(np.bincount(labels), np.bincount(all_labels))
    assert rows.min() == 0.0 and rows.max() == 1.0
    assert not np.array_equal(digits_splits(seed=4)["train"][1], data["train"][1][:1000])
    assert np.array_equal(digits_splits(seed=3, train=500, val=200)["val"][0], data["val"][0])


def test_splits_refuse_sizes_that_leave_no_test_rows():
    with pytest.raises(ValueError, match="train=1700 and val=200"):
        digits_splits(train=1700, val=200)


def test_error_rate_counts_wrong_argmax():
    scores = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    assert error_rate(scores, np.array([0, 1, 1, 0])) == 0.5
    assert error_rate(scores, np.array([0, 1, 0, 1])) == 0.0


def test_error_rate_names_bad_shapes():
    with pytest.raises(ValueError, match=r"\(3, 2\) and \(4,\)"):
        error_rate(np.zeros((3, 2)), np.zeros(4))


def test_log_uniform_is_uniform_in_the_exponent_and_in_range():
    x = log_uniform(np.random.default_rng(0), 1e-5, 1e-1, size=4000)
    assert x.min() >= 1e-5 and x.max() <= 1e-1
    assert stats.kstest((np.log10(x) + 5) / 4, "uniform").pvalue > 1e-3
    assert abs(np.mean(x < 1e-3) - 0.5) < 0.05            # half below the geometric mean
    uniform = np.random.default_rng(0).uniform(1e-5, 1e-1, size=4000)
    assert stats.kstest((np.log10(uniform) + 5) / 4, "uniform").pvalue < 1e-6   # the test can fail


def test_log_uniform_refuses_bad_bounds():
    with pytest.raises(ValueError, match="low=0"):
        log_uniform(np.random.default_rng(0), 0, 1)
    with pytest.raises(ValueError, match="low=2"):
        log_uniform(np.random.default_rng(0), 2, 1)
