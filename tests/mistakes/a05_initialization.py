"""Typical mistakes in assignment 05_initialization, graded by tests/test_grading.py.

Submission name -> the code written into solution cells (by grade id), the expected score of
every task, and text expected in the error that a test cell shows.
"""

# Task 3, right but for `{fans}` (how fan_in and fan_out come from the shape) and `{truncate}` (how the
# normal is cut at two standard deviations, from `stddev`).
VARIANCE_SCALING = (
    "def variance_scaling(shape, scale, mode, distribution, seed):\n"
    "    {fans}\n"
    "    n = {{'fan_in': fan_in, 'fan_out': fan_out, 'fan_avg': (fan_in + fan_out) / 2}}[mode]\n"
    "    variance = scale / max(1.0, n)\n"
    "    rng = np.random.default_rng(seed)\n"
    "    if distribution == 'uniform':\n"
    "        limit = math.sqrt(3 * variance)\n"
    "        return rng.uniform(-limit, limit, size=shape)\n"
    "    if distribution == 'untruncated_normal':\n"
    "        return rng.normal(0.0, math.sqrt(variance), size=shape)\n"
    "    stddev = math.sqrt(variance) / {constant}\n"
    "    values = rng.normal(0.0, stddev, size=shape)\n"
    "    {truncate}\n"
    "    return values\n")
KERAS_FANS = ("field = math.prod(shape[:-2])\n"
              "    fan_in, fan_out = (shape[0], shape[0]) if len(shape) == 1 "
              "else (shape[-2] * field, shape[-1] * field)")
REDRAW = ("outside = np.abs(values) > 2 * stddev\n"
          "    while outside.any():\n"
          "        values[outside] = rng.normal(0.0, stddev, size=int(outside.sum()))\n"
          "        outside = np.abs(values) > 2 * stddev")
RIGHT = {"fans": KERAS_FANS, "constant": "0.87962566103423978", "truncate": REDRAW}

# Task 4 with kernels `{kernel}` drawn from `rng` for a layer (fan_in, units).
WEIGHTS = (
    "def initial_weights(sizes, seed):\n"
    "    rng = np.random.default_rng(seed)\n"
    "    params = []\n"
    "    for fan_in, units in zip(sizes[:-1], sizes[1:]):\n"
    "        params += [{kernel}, np.zeros(units)]\n"
    "    return params\n")
TRUNCATION = ("def truncation_std(c):\n"
              "    mass = math.erf(c / math.sqrt(2))\n"
              "    density = math.exp(-c * c / 2) / math.sqrt(2 * math.pi)\n"
              "    return {value}\n")

MISTAKES = {
    "truncation_returns_variance__clipped_not_redrawn__glorot_for_relu": {
        "code": {
            "truncation_code": TRUNCATION.format(value="1 - 2 * c * density / mass"),
            "variance_scaling_code": VARIANCE_SCALING.format(
                **{**RIGHT, "truncate": "values = np.clip(values, -2 * stddev, 2 * stddev)"}),
            "weights_code": WEIGHTS.format(
                kernel="rng.uniform(-1, 1, size=(fan_in, units)) * math.sqrt(6 / (fan_in + units))"),
        },
        "scores": {"truncation": 0, "scale": 2, "variance_scaling": 0, "weights": 0},
        "messages": {
            "truncation_test": "returned the variance, not the standard deviation",
            "variance_scaling_test": "clipping piles mass on the edges",
            "weights_test": "below 0.8: at the start, the std of Z is",
        },
    },
    "truncation_not_renormalized__slope_not_squared__stddev_not_corrected": {
        "code": {
            "truncation_code": TRUNCATION.format(value="math.sqrt(1 - 2 * c * density)"),
            "scale_code": "def leaky_relu_scale(negative_slope):\n    return 2.0 / (1.0 + negative_slope)\n",
            "variance_scaling_code": VARIANCE_SCALING.format(**{**RIGHT, "constant": "1.0"}),
            "weights_code": WEIGHTS.format(kernel="rng.normal(0.0, math.sqrt(2 / fan_in), size=(fan_in, units))"),
        },
        "scores": {"truncation": 0, "scale": 0, "variance_scaling": 0, "weights": 3},
        "messages": {
            "truncation_test": "is not a probability density on [-c, c]",
            "scale_test": "is off on the negative side: square the whole of f(z) there",
            "variance_scaling_test": "the cut distribution is narrower than the normal it was cut from",
        },
    },
    "fans_without_receptive_field__constant_weights": {
        "code": {
            "variance_scaling_code": VARIANCE_SCALING.format(
                **{**RIGHT, "fans": "fan_in, fan_out = shape[0], shape[1]"}),
            "weights_code": WEIGHTS.format(kernel="np.full((fan_in, units), 0.1)"),
        },
        "scores": {"truncation": 2, "scale": 2, "variance_scaling": 2, "weights": 0},
        "messages": {
            "variance_scaling_hidden": "leaves out the receptive field",
            "weights_test": "all columns of W1 are equal",
        },
    },
    "truncation_by_scipy__fans_swapped_as_in_the_notes": {
        "code": {
            "truncation_code": ("def truncation_std(c):\n    from scipy import stats\n"
                                "    return float(stats.truncnorm(-c, c).std())\n"),
            "variance_scaling_code": VARIANCE_SCALING.format(**{**RIGHT, "fans": KERAS_FANS + "[::-1]"}),
            "weights_code": WEIGHTS.format(kernel="rng.uniform(-1, 1, size=(fan_in, units)) * math.sqrt(6 / fan_in)"),
        },
        "scores": {"truncation": 0, "scale": 2, "variance_scaling": 0, "weights": 3},
        "messages": {
            "truncation_test": "truncation_std uses scipy: write it yourself",
            "variance_scaling_test": "fan_in and fan_out are swapped",
        },
    },
}
