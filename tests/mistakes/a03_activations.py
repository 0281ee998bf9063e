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

# Task 2, right but for `{slope}` (the derivative, from t = tanh(u), c and k).
GELU = (
    "def gelu(z):\n"
    "    return 0.5 * z * (1 + np.tanh(np.sqrt(2 / np.pi) * (z + 0.044715 * z ** 3)))\n\n\n"
    "def gelu_derivative(z):\n"
    "    c, k = np.sqrt(2 / np.pi), 0.044715\n"
    "    t = np.tanh(c * (z + k * z ** 3))\n"
    "    return {slope}\n")
NO_PRODUCT_RULE = "0.5 * (1 + t)"
NO_CHAIN_FACTOR = "0.5 * (1 + t) + 0.5 * z * (1 - t ** 2)"
INNER_WITHOUT_3 = "0.5 * (1 + t) + 0.5 * z * (1 - t ** 2) * c * (1 + k * z ** 2)"

# Task 3, right but for `{gradient}` (dL/dY_hat) and `{at}` (where f' is taken).
NORMS = (
    "def mse_and_gradient(Y, Y_hat):\n"
    "    return np.mean((Y_hat - Y) ** 2), {gradient}\n\n\n"
    "def kernel_gradient_norms(X, Y, params, activation):\n"
    "    L, A, cache = len(params) // 2, X, []\n"
    "    for l in range(1, L + 1):\n"
    "        Z = A @ params[2 * (l - 1)] + params[2 * (l - 1) + 1]\n"
    "        cache.append((A, Z))\n"
    "        A = activate(activation, Z) if l < L else Z\n"
    "    dZ = mse_and_gradient(Y, A)[1]\n"
    "    norms = np.zeros(L)\n"
    "    for l in range(L, 0, -1):\n"
    "        norms[l - 1] = np.linalg.norm(cache[l - 1][0].T @ dZ)\n"
    "        if l > 1:\n"
    "            Z_below = cache[l - 2][1]\n"
    "            dZ = (dZ @ params[2 * (l - 1)].T) * derivative(activation, {at})\n"
    "    return norms\n")
RIGHT_GRADIENT = "2 * (Y_hat - Y) / Y.size"

# Task 4, right but for `{steps}` (the loop over epochs), `{bias}` (the bias update) and `{kernel}`
# (the kernel seen by the backward pass), and the settings `{settings}`.
TRAIN = (
    "def train_network(X, Y, params, activation, learning_rate, epochs):\n"
    "    f = gelu if activation == 'gelu' else (lambda z: activate(activation, z))\n"
    "    df = gelu_derivative if activation == 'gelu' else (lambda z: derivative(activation, z))\n"
    "    params, L = [p.copy() for p in params], len(params) // 2\n"
    "    for _ in {steps}:\n"
    "        A, cache = X, []\n"
    "        for l in range(L):\n"
    "            Z = A @ params[2 * l] + params[2 * l + 1]\n"
    "            cache.append((A, Z))\n"
    "            A = f(Z) if l < L - 1 else Z\n"
    "        dZ = mse_and_gradient(Y, A)[1]\n"
    "        for l in range(L - 1, -1, -1):\n"
    "            W = params[2 * l]\n"
    "            params[2 * l] = W - learning_rate * (cache[l][0].T @ dZ)\n"
    "            {bias}\n"
    "            if l > 0:\n"
    "                dZ = (dZ @ {kernel}.T) * df(cache[l - 1][1])\n"
    "    return params\n\n\n"
    "def chosen_settings():\n"
    "    return {settings}\n")
RIGHT_TRAIN = {"steps": "range(epochs)", "kernel": "W", "settings": "'tanh', 0.03, 200",
               "bias": "params[2 * l + 1] = params[2 * l + 1] - learning_rate * dZ.sum(axis=0)"}
SUMMED = TRAIN.format(**RIGHT_TRAIN).replace("dZ = mse_and_gradient(Y, A)[1]", "dZ = 2 * (A - Y)")

MISTAKES = {
    "overflowing_sigmoid__gelu_without_product_rule__mse_gradient_without_2": {
        "code": {
            "activation_code": ACTIVATIONS.format(sigmoid="return 1 / (1 + np.exp(-z))", corner="z > 0"),
            "gelu_code": GELU.format(slope=NO_PRODUCT_RULE),
            "norms_code": NORMS.format(gradient="(Y_hat - Y) / Y.size", at="Z_below"),
            "regression_code": SUMMED,
        },
        "scores": {"activation": 0, "gelu": 0, "norms": 0, "regression": 0},
        "messages": {
            "activation_hidden": "activate('sigmoid', array(7,)) raised FloatingPointError (overflow encountered",
            "gelu_test": "misses a term of the product rule",
            "norms_test": "divided by Keras's norms is one half: look at the gradient of the loss at the output",
            "regression_test": "follows the gradient of the summed loss, not of its mean",
        },
    },
    "relu_slope_1_at_zero__gelu_without_chain_factor__derivative_at_A__one_step_too_few": {
        "code": {
            "activation_code": ACTIVATIONS.format(sigmoid=STABLE_SIGMOID, corner="z >= 0"),
            "gelu_code": GELU.format(slope=NO_CHAIN_FACTOR),
            "norms_code": NORMS.format(gradient=RIGHT_GRADIENT, at="activate(activation, Z_below)"),
            "regression_code": TRAIN.format(**{**RIGHT_TRAIN, "steps": "range(epochs - 1)"}),
        },
        "scores": {"activation": 0, "gelu": 0, "norms": 0, "regression": 0},
        "messages": {
            "activation_test": "Look at the corner z = 0",
            "gelu_test": "lacks the chain-rule factor du/dz of tanh(u)",
            "norms_test": "evaluates the derivative of tanh at the layer's output A",
            "regression_test": "took 2 steps instead of 3",
        },
    },
    "gelu_inner_derivative_without_3__biases_never_updated__norms_by_gradient_tape": {
        "code": {
            "gelu_code": GELU.format(slope=INNER_WITHOUT_3),
            "norms_code": (
                "def mse_and_gradient(Y, Y_hat):\n"
                "    return np.mean((Y_hat - Y) ** 2), 2 * (Y_hat - Y) / Y.size\n\n\n"
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
            "regression_code": TRAIN.format(**{**RIGHT_TRAIN, "bias": "pass"}),
        },
        "scores": {"activation": 2, "gelu": 0, "norms": 0, "regression": 0},
        "messages": {
            "gelu_test": "has a wrong chain-rule factor du/dz",
            "norms_test": "kernel_gradient_norms uses tensorflow: write it yourself, with NumPy only",
            "regression_hidden": "never updates the biases",
        },
    },
    "kernel_updated_before_the_gradient_passes_through_it": {
        "code": {"regression_code": TRAIN.format(**{**RIGHT_TRAIN, "kernel": "params[2 * l]"})},
        "scores": {"activation": 2, "gelu": 3, "norms": 3, "regression": 0},
        "messages": {"regression_test": "updates a kernel before the gradient has passed through it"},
    },
    "sigmoid_chosen_for_the_deep_network": {
        "code": {"regression_code": TRAIN.format(**{**RIGHT_TRAIN, "settings": "'sigmoid', 0.1, 200"})},
        "scores": {"activation": 2, "gelu": 3, "norms": 3, "regression": 0},
        "messages": {"regression_test": "below 0.25; look at what the activation's derivative does to the gradient",
                     "regression_hidden": "below 0.25; look at what the activation's derivative"},
    },
    "over_the_epoch_budget": {
        "code": {"regression_code": TRAIN.format(**{**RIGHT_TRAIN, "settings": "'tanh', 0.03, 500"})},
        "scores": {"activation": 2, "gelu": 3, "norms": 3, "regression": 0},
        "messages": {"regression_test": "(the budget) should be an int from 1 to 200, not 500"},
    },
}
