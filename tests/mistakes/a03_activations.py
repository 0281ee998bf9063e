"""Typical mistakes in assignment 03_activations, graded by tests/test_grading.py.

Submission name -> the code written into solution cells (by grade id), the expected score of
every task, and text expected in the error that a test cell shows.
"""

# Task 1, right but for `{sigmoid}` (the sigmoid's formula) and `{corner}` (the test that picks the
# slope 1 of relu and leaky_relu).
ACTIVATIONS = (
    "def activate(name, z, negative_slope=0.2):\n"
    "    if name == 'sigmoid':\n"
    "        {sigmoid}\n"
    "    if name == 'tanh':\n"
    "        return np.tanh(z)\n"
    "    if name == 'relu':\n"
    "        return np.maximum(z, 0.0)\n"
    "    return np.where(z > 0, z, negative_slope * z)\n\n\n"
    "def derivative(name, z, negative_slope=0.2):\n"
    "    if name == 'sigmoid':\n"
    "        s = activate('sigmoid', z)\n"
    "        return s * (1 - s)\n"
    "    if name == 'tanh':\n"
    "        return 1 - np.tanh(z) ** 2\n"
    "    return np.where({corner}, 1.0, 0.0 if name == 'relu' else negative_slope)\n")
STABLE_SIGMOID = "e = np.exp(-np.abs(z))\n        return np.where(z >= 0, 1 / (1 + e), e / (1 + e))"

# Task 3, right but for `{dY}` (the gradient at the output) and `{at}` (where f' is taken).
NORMS = (
    "def kernel_gradient_norms(X, Y, params, activation):\n"
    "    L, A, cache = len(params) // 2, X, []\n"
    "    for l in range(1, L + 1):\n"
    "        Z = A @ params[2 * (l - 1)] + params[2 * (l - 1) + 1]\n"
    "        cache.append((A, Z))\n"
    "        A = activate(activation, Z) if l < L else Z\n"
    "    dZ = {dY}\n"
    "    norms = np.zeros(L)\n"
    "    for l in range(L, 0, -1):\n"
    "        norms[l - 1] = np.linalg.norm(cache[l - 1][0].T @ dZ)\n"
    "        if l > 1:\n"
    "            Z_below = cache[l - 2][1]\n"
    "            dZ = (dZ @ params[2 * (l - 1)].T) * derivative(activation, {at})\n"
    "    return norms\n")
RIGHT = {"dY": "mse_and_gradient(Y, A)[1]", "at": "Z_below"}

# Task 5, right but for `{dead}` (the test that a unit is dead).
DEAD = (
    "def dead_fractions(X, params):\n"
    "    fractions, A = [], X\n"
    "    for k in range(0, len(params) - 2, 2):\n"
    "        Z = A @ params[k] + params[k + 1]\n"
    "        fractions.append({dead})\n"
    "        A = np.maximum(Z, 0.0)\n"
    "    return np.array(fractions)\n")

MISTAKES = {
    "overflowing_sigmoid__mse_gradient_without_2__dead_counts_entries": {
        "code": {
            "activation_code": ACTIVATIONS.format(sigmoid="return 1 / (1 + np.exp(-z))", corner="z > 0"),
            "mse_code": "def mse_and_gradient(Y, Y_hat):\n    return np.mean((Y_hat - Y) ** 2), (Y_hat - Y) / Y.size\n",
            "dead_code": DEAD.format(dead="np.mean(Z <= 0)"),
        },
        "scores": {"activation": 2, "mse": 0, "norms": 0, "vanishing": 1, "dead": 0},
        "messages": {
            "activation_hidden": "activate('sigmoid', array(7,)) raised FloatingPointError "
                                 "(overflow encountered in exp)",
            "mse_test": "the gradient it returns is half the right size: "
                        "the derivative of (y_hat - y)^2 is 2 (y_hat - y)",
            "norms_test": "returns are half the right size",
            "vanishing_test": "returned 5, but the first layer's gradient norm falls below 0.001 first at depth 6",
            "dead_test": "you counted the (example, unit) pairs with Z <= 0",
        },
    },
    "relu_slope_1_at_zero__derivative_taken_at_A__dead_misses_exact_zeros": {
        "code": {
            "activation_code": ACTIVATIONS.format(sigmoid=STABLE_SIGMOID, corner="z >= 0"),
            "norms_code": NORMS.format(**{**RIGHT, "at": "activate(activation, Z_below)"}),
            "dead_code": DEAD.format(dead="np.mean(np.all(Z < 0, axis=0))"),
        },
        "scores": {"activation": 0, "mse": 2, "norms": 0, "vanishing": 2, "dead": 1},
        "messages": {
            "activation_test": "At the corner z = 0 TensorFlow takes the slope of the left side, relu'(0) = 0",
            "norms_test": "you take the derivative of sigmoid at A = sigmoid(Z), the layer's output",
            "dead_hidden": "a unit whose Z is exactly 0 on every example is dead too",
        },
    },
    "mse_gradient_divided_by_m__depth_counted_from_0": {
        "code": {
            "mse_code": "def mse_and_gradient(Y, Y_hat):\n"
                        "    return np.mean((Y_hat - Y) ** 2), 2 * (Y_hat - Y) / len(Y)\n",
            "vanishing_code": (
                "def vanishing_depth(X, Y, hidden, output, activation, threshold):\n"
                "    for k in range(len(hidden) // 2):  # k hidden layers below the first one\n"
                "        if kernel_gradient_norms(X, Y, hidden[:2 * k + 2] + output, activation)[0] < threshold:\n"
                "            return k\n"
                "    return None\n"),
        },
        "scores": {"activation": 3, "mse": 0, "norms": 2, "vanishing": 0, "dead": 2},
        "messages": {
            "mse_test": "is n=3 times too large: divide by m * n = 24, the number of entries the loss averages over, "
                        "not by m = 8",
            "norms_hidden": "returns are n=3 times too large",
            "vanishing_test": "returned 5, but the first layer's gradient norm falls below 0.001 first at depth 6",
        },
    },
    "summed_loss__gradient_norms_by_tf_gradient_tape": {
        "code": {
            "mse_code": "def mse_and_gradient(Y, Y_hat):\n"
                        "    return np.sum((Y_hat - Y) ** 2), 2 * (Y_hat - Y) / Y.size\n",
            "norms_code": (
                "def kernel_gradient_norms(X, Y, params, activation):\n"
                "    weights = [tf.Variable(p) for p in params]\n"
                "    with tf.GradientTape() as tape:\n"
                "        A = tf.constant(X)\n"
                "        for k in range(0, len(weights), 2):\n"
                "            A = A @ weights[k] + weights[k + 1]\n"
                "            if k < len(weights) - 2:\n"
                "                A = keras.activations.get(activation)(A)\n"
                "        loss = tf.reduce_mean((A - Y) ** 2)\n"
                "    return np.array([np.linalg.norm(g) for g in tape.gradient(loss, weights)[0::2]])\n"),
        },
        "scores": {"activation": 3, "mse": 0, "norms": 0, "vanishing": 0, "dead": 2},
        "messages": {
            "mse_test": "the loss it returns is 16 times too large: "
                        "the loss is the mean over all m * n = 16 entries, not the sum",
            "norms_test": "kernel_gradient_norms uses tensorflow: write it yourself, with NumPy only",
            "vanishing_test": "vanishing_depth uses tensorflow: write it yourself, with NumPy only",
        },
    },
}
