"""course_tools/speed.py, the timing that the speed and fit-from-scratch pages and
tools/benchmarks/fit_speed.py share: what it counts and the data it times on. No wall time is
asserted here (the pages assert only which library is faster, from one-thread processor times)."""
import numpy as np
import pytest

from course_tools import speed
from tools.benchmarks import fit_speed


def test_weights_and_flops_are_counted_per_dense_layer():
    assert speed.parameters([784, 256, 128, 10]) == 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10
    # m = 5 rows; the first layer needs no input gradient (4 m d u), the others do (6 m d u)
    assert speed.epoch_flops([3, 4, 2], 5) == 4 * 5 * 3 * 4 + 6 * 5 * 4 * 2


@pytest.mark.parametrize("data, widths, rows", [("digits", [64, 10], None), ("mnist_like", [784, 10], 50),
                                                ("classification", [20, 4], 60)])
def test_the_data_fits_the_net(data, widths, rows):
    x, y = speed.dataset(data, widths, rows)
    assert x.dtype == np.float32 and x.shape[1] == widths[0]
    assert y.dtype == np.int64 and set(np.unique(y)) <= set(range(widths[-1])) and len(np.unique(y)) > 1
    assert rows is None or len(x) == rows


def test_bad_requests_are_refused_before_any_process_starts():
    with pytest.raises(ValueError, match="at least 2"):
        speed.measure({}, epochs=1)
    with pytest.raises(ValueError, match="unknown data 'mnist'"):
        speed.dataset("mnist", [784, 10])


def test_the_benchmark_prints_which_library_is_faster(capsys):
    case = dict(widths=[64, 64, 10], optimizer="adam", rows=1797, batch=32, flops=2e9, scratchnn=0.01,
                keras=0.1, scratchnn_loss=0.5, keras_loss=0.5, weight_gap=1e-3)
    fit_speed.print_results({"peak": 100.0, "blas": "openblas", "epochs": 4, "repeats": 2,
                             "versions": {"numpy": "2", "keras": "3", "tensorflow": "2"},
                             "cases": {"digits": case, "slow": {**case, "scratchnn": 0.3}}})
    out = capsys.readouterr().out
    assert "digits: scratchnn is 10.0x faster than Keras" in out
    assert "slow: Keras is 3.0x faster than scratchnn" in out
    assert "200.00" in out and "200.0%" in out   # 2 GFLOP in 0.01 s, twice the 100 GFLOP/s peak
