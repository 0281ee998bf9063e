"""Typical mistakes in assignment 07_regularization, graded by tests/test_grading.py.

Submission name -> the code written into solution cells (by grade id), the expected score of
every task, and text expected in the error that a test cell shows.
"""

# Task 1 with `{value}` and `{gradient}` computed from W, l1 and l2.
PENALTY = ("def l1l2_penalty(W, l1, l2):\n"
           "    return {value}, {gradient}\n")
RIGHT_VALUE = "l1 * np.sum(np.abs(W)) + l2 * np.sum(W**2)"

# Task 2 with the statistics over `{axis}` and `{dZ}` computed from G = dY * gamma, inv_std, Z_hat, k.
LAYERNORM = ("def layernorm_backward(Z, gamma, dY, epsilon=1e-3):\n"
             "    k = Z.shape[{axis}]\n"
             "    inv_std = 1 / np.sqrt(Z.var(axis={axis}, keepdims=True) + epsilon)\n"
             "    Z_hat = (Z - Z.mean(axis={axis}, keepdims=True)) * inv_std\n"
             "    G = dY * gamma\n"
             "    dZ = {dZ}\n"
             "    return dZ, np.sum(dY * Z_hat, axis=0), np.sum(dY, axis=0)\n")
FULL_DZ = ("inv_std / k * (k * G - G.sum(axis={axis}, keepdims=True)"
           " - Z_hat * np.sum(G * Z_hat, axis={axis}, keepdims=True))")

# Task 3 with `{scale}` and `{bias}`.
FOLD = ("def fold_batchnorm(W, b, gamma, beta, moving_mean, moving_variance, epsilon=1e-3):\n"
        "    scale = {scale}\n"
        "    return W * scale, {bias}\n")
RIGHT_SCALE, RIGHT_BIAS = "gamma / np.sqrt(moving_variance + epsilon)", "(b - moving_mean) * scale + beta"

# Task 4 with `{penalty1}`, `{penalty2}` added to the kernels' gradients and `{bias1}`, `{bias2}` to the biases'.
TRAINING = ("def train_l2(X, y, params, l2, learning_rate, steps):\n"
            "    W1, b1, W2, b2 = [np.array(p, dtype=float) for p in params]\n"
            "    m, n = X.shape[0], W2.shape[1]\n"
            "    Y = np.eye(n)[np.asarray(y, dtype=int)]\n"
            "    for _ in range(steps):\n"
            "        Z1 = X @ W1 + b1\n"
            "        A1 = np.maximum(Z1, 0.0)\n"
            "        Z2 = A1 @ W2 + b2\n"
            "        P = np.exp(Z2 - Z2.max(axis=1, keepdims=True))\n"
            "        P /= P.sum(axis=1, keepdims=True)\n"
            "        dZ2 = (P - Y) / m\n"
            "        dZ1 = (dZ2 @ W2.T) * (Z1 > 0)\n"
            "        W2 = W2 - learning_rate * (A1.T @ dZ2 + {penalty2})\n"
            "        b2 = b2 - learning_rate * (dZ2.sum(axis=0) + {bias2})\n"
            "        W1 = W1 - learning_rate * (X.T @ dZ1 + {penalty1})\n"
            "        b1 = b1 - learning_rate * (dZ1.sum(axis=0) + {bias1})\n"
            "    return [W1, b1, W2, b2]\n")

MISTAKES = {
    "l2_gradient_halved__layernorm_over_the_batch__fold_without_epsilon": {
        "code": {
            "penalty_code": PENALTY.format(value=RIGHT_VALUE, gradient="l1 * np.sign(W) + l2 * W"),
            "layernorm_code": LAYERNORM.format(axis=0, dZ=FULL_DZ.format(axis=0)),
            "fold_code": FOLD.format(scale="gamma / np.sqrt(moving_variance)", bias=RIGHT_BIAS),
            "training_code": TRAINING.format(penalty1="l2 * W1", penalty2="l2 * W2", bias1="0", bias2="0"),
        },
        "scores": {"penalty": 0, "layernorm": 0, "fold": 0, "training": 0, "experiment": 2},
        "messages": {
            "penalty_test": "has an L2 part half what it should be",
            "layernorm_test": "takes the statistics over the batch (axis 0), as batch normalization does",
            "fold_test": "leaves out epsilon",
            "training_test": "moves as if the penalty's gradient were half what it should be",
        },
    },
    "sign_at_zero__statistics_held_constant__mean_forgotten__last_kernel_only": {
        "code": {
            "penalty_code": PENALTY.format(value=RIGHT_VALUE,
                                           gradient="l1 * np.where(W >= 0, 1.0, -1.0) + 2 * l2 * W"),
            "layernorm_code": LAYERNORM.format(axis=1, dZ="G * inv_std"),
            "fold_code": FOLD.format(scale=RIGHT_SCALE, bias="b * scale + beta"),
            "training_code": TRAINING.format(penalty1="0", penalty2="2 * l2 * W2", bias1="0", bias2="0"),
        },
        "scores": {"penalty": 0, "layernorm": 0, "fold": 0, "training": 0, "experiment": 2},
        "messages": {
            "penalty_test": "differs only where a weight is 0",
            "layernorm_test": "treats each example's mean and variance as constants",
            "fold_test": "forgets the moving mean",
            "training_test": "moves as if only the last layer's kernel were penalized",
        },
    },
    "averaged_penalty__old_bias_unscaled__bias_penalized__penalty_too_strong": {
        "code": {
            "penalty_code": PENALTY.format(value="l1 * np.mean(np.abs(W)) + l2 * np.mean(W**2)",
                                           gradient="l1 * np.sign(W) + 2 * l2 * W"),
            "fold_code": FOLD.format(scale=RIGHT_SCALE, bias="b + beta - moving_mean * scale"),
            "training_code": TRAINING.format(penalty1="2 * l2 * W1", penalty2="2 * l2 * W2",
                                             bias1="2 * l2 * b1", bias2="2 * l2 * b2"),
            "experiment_code": "def choose_hyperparameters():\n    return 64, 0.05, 1.0, 1000\n",
        },
        "scores": {"penalty": 0, "layernorm": 3, "fold": 0, "training": 0, "experiment": 0},
        "messages": {
            "penalty_test": "is an average over the weights",
            "fold_test": "does not scale the old bias",
            "training_test": "moves as if the biases were penalized too",
            "experiment_test": "below the target 0.87",
        },
    },
    "budget_exceeded": {
        "code": {"experiment_code": "def choose_hyperparameters():\n    return 256, 0.0, 0.5, 5000\n"},
        "scores": {"penalty": 2, "layernorm": 3, "fold": 2, "training": 2, "experiment": 0},
        "messages": {"experiment_test": "the budget is 1 to 128 hidden units, 1 to 1000 steps"},
    },
}
