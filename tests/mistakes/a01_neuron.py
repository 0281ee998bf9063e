"""Typical mistakes in assignment 01_neuron, graded by tests/test_grading.py.

Submission name -> the code written into solution cells (by grade id), the expected score of
every task, and text expected in the error that a test cell shows.
"""

LOG_SOFTMAX = "def log_softmax(Z):\n    shifted = Z - Z.max(axis=1, keepdims=True)\n    return {}\n"
SIGMOID = ("def sigmoid(z):\n    e = np.exp(-np.abs(z))\n"
           "    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))\n\n\n")
# Task 2 with `{g}` standing for dL/dz and `{db}` for the bias gradient
GRADIENTS = SIGMOID + ("def mse_unit_gradients(X, y, w, b):\n    p = sigmoid(X @ w + b)\n"
                       "    g = {g}\n    return X.T @ g, {db}\n")
RIGHT_G = "2 * (p - y) * p * (1 - p) / len(y)"
# Task 3 with `{loop}` for the range of steps, `{g}` for dL/dz and `{ret}` for what is returned
TRAINING = (
    "def train_logistic(X, y, learning_rate, steps):\n"
    "    mu, sd = X.mean(axis=0), X.std(axis=0)\n"
    "    S = {S}\n"
    "    w, b = np.zeros(X.shape[1]), 0.0\n"
    "    for _ in range({loop}):\n"
    "        g = {g}\n"
    "        w = w - learning_rate * (S.T @ g)\n"
    "        b = b - learning_rate * g.sum()\n"
    "    return {ret}\n\n\n"
    "def tuned_hyperparameters():\n    return {choice}\n")
RIGHT_T = {"S": "(X - mu) / sd", "loop": "steps", "g": "(sigmoid(S @ w + b) - y) / len(y)",
           "ret": "w / sd, b - np.sum(mu * w / sd)", "choice": "2.0, 10"}

MISTAKES = {
    "log_of_softmax__summed_squared_error__over_budget": {
        "code": {
            "log_softmax_code": LOG_SOFTMAX.format(
                "np.log(np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True))"),
            "mse_gradients_code": GRADIENTS.format(g="2 * (p - y) * p * (1 - p)", db="g.sum()"),
            "training_code": TRAINING.format(**{**RIGHT_T, "choice": "1.0, 100"}),
        },
        "scores": {"log_softmax": 0, "mse_gradients": 0, "training": 0},
        "messages": {
            "log_softmax_test": "an exponential overflows or a probability rounds to 0",
            "mse_gradients_test": "is m=8 times too large: look at how the loss averages over the batch",
            "training_test": "the steps tuned_hyperparameters() returns should be an int from 1 to 10, not 100",
        },
    },
    "shift_without_normalising__half_gradient__raw_columns": {
        "code": {
            "log_softmax_code": LOG_SOFTMAX.format("shifted"),
            "mse_gradients_code": GRADIENTS.format(g="(p - y) * p * (1 - p) / len(y)", db="g.sum()"),
            "training_code": TRAINING.format(**{**RIGHT_T, "S": "X", "ret": "w, b"}),
        },
        "scores": {"log_softmax": 0, "mse_gradients": 0, "training": 0},
        "messages": {
            "log_softmax_test": "has log-probabilities that are not normalised",
            "mse_gradients_test": "is half what it should be: look at the derivative of the square",
            "training_test": "trained on the raw columns",
        },
    },
    "unstable_log_sum_exp__sigmoid_slope_ignored__weights_not_folded": {
        "code": {
            "log_softmax_code": "def log_softmax(Z):\n    return Z - np.log(np.exp(Z).sum(axis=1, keepdims=True))\n",
            "mse_gradients_code": GRADIENTS.format(g="2 * (p - y) / len(y)", db="g.sum()"),
            "training_code": TRAINING.format(**{**RIGHT_T, "ret": "w, b"}),
        },
        "scores": {"log_softmax": 0, "mse_gradients": 0, "training": 0},
        "messages": {
            "log_softmax_test": "raised FloatingPointError (overflow encountered in exp)",
            "mse_gradients_test": "is what it would be if the sigmoid had slope 1",
            "training_test": "returned the unit of the standardised columns",
        },
    },
    "probabilities_not_logs__wrong_sign__summed_loss_in_training": {
        "code": {
            "log_softmax_code": LOG_SOFTMAX.format(
                "np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)"),
            "mse_gradients_code": GRADIENTS.format(g="2 * (y - p) * p * (1 - p) / len(y)", db="g.sum()"),
            "training_code": TRAINING.format(**{**RIGHT_T, "g": "sigmoid(S @ w + b) - y"}),
        },
        "scores": {"log_softmax": 0, "mse_gradients": 0, "training": 0},
        "messages": {
            "log_softmax_test": "returns probabilities (its rows sum to 1)",
            "mse_gradients_test": "has the wrong sign",
            "training_test": "follows the gradient of the summed loss, not of its mean",
        },
    },
    "unstable_sigmoid__one_step_too_many": {
        "code": {
            "mse_gradients_code": GRADIENTS.replace(SIGMOID, "def sigmoid(z):\n    return 1 / (1 + np.exp(-z))\n\n\n")
            .format(g=RIGHT_G, db="g.sum()"),
            "training_code": TRAINING.format(**{**RIGHT_T, "loop": "steps + 1"}),
        },
        "scores": {"log_softmax": 2, "mse_gradients": 2, "training": 0},
        "messages": {
            "mse_gradients_hidden": "compute the sigmoid without overflow",
            "training_test": "took 2 steps instead of 1",
        },
    },
    "bias_gradient_averaged__one_scale_for_all_columns": {
        "code": {
            "mse_gradients_code": GRADIENTS.format(g=RIGHT_G, db="g.mean()"),
            "training_code": TRAINING.format(**RIGHT_T).replace("axis=0", "axis=None"),
        },
        "scores": {"log_softmax": 2, "mse_gradients": 0, "training": 0},
        "messages": {
            "mse_gradients_test": "has a db m=8 times too small",
            "training_test": "standardised with one mean and one standard deviation for the whole array",
        },
    },
    "standardises_the_given_array_in_place": {
        "code": {"training_code": TRAINING.format(**{**RIGHT_T, "S": "X"}).replace(
            "    S = X\n", "    X -= mu\n    X /= sd\n    S = X\n")},
        "scores": {"log_softmax": 2, "mse_gradients": 3, "training": 0},
        "messages": {"training_test": "train_logistic changed its argument 1"},
    },
    "cross_entropy_gradient_instead": {
        "code": {
            "mse_gradients_code": SIGMOID + (
                "def mse_unit_gradients(X, y, w, b):\n    p = sigmoid(X @ w + b)\n"
                "    return X.T @ (p - y) / len(y), np.mean(p - y)\n"),
        },
        "scores": {"log_softmax": 2, "mse_gradients": 0, "training": 4},
        "messages": {
            "mse_gradients_test": "is the gradient of the binary cross-entropy, the lesson's loss",
        },
    },
}
