"""Typical mistakes in assignment 01_neuron, graded by tests/test_grading.py.

Submission name -> the code written into solution cells (by grade id), the expected score of
every task, and text expected in the error that a test cell shows.
"""

MISTAKES = {
    "unstable_softmax__summed_loss__perceptron_updates_always": {
        "code": {
            "softmax_code": "def softmax(Z):\n    E = np.exp(Z)\n    return E / E.sum(axis=1, keepdims=True)\n",
            "crossentropy_code": (
                "def categorical_crossentropy(Y, P):\n"
                "    return -np.sum(Y * np.log(np.clip(P, 1e-7, 1 - 1e-7)))\n"),
            "perceptron_code": (
                "def perceptron_epoch(X, y, w, b, learning_rate):\n"
                "    w, b = np.array(w, dtype=float), float(b)\n"
                "    for x_i, y_i in zip(X, y):  # moves towards the label, right or wrong\n"
                "        w = w + learning_rate * (2 * y_i - 1) * x_i\n"
                "        b = b + learning_rate * (2 * y_i - 1)\n"
                "    return w, b\n"),
        },
        "scores": {"softmax": 0, "crossentropy": 0, "gradient": 2, "perceptron": 0, "sgd_step": 3},
        "messages": {
            "softmax_test": "subtract each row's maximum before np.exp",
            "crossentropy_test": "is m=8 times too large: take the mean over the batch",
            "gradient_hidden": "overflow encountered in exp",
            "perceptron_test": "The rule leaves w and b as they are, since the prediction is right",
        },
    },
    "gradient_without_1_over_m__keras_loss__perceptron_wrong_sign": {
        "code": {
            "crossentropy_code": (
                "def categorical_crossentropy(Y, P):\n"
                "    return float(keras.losses.CategoricalCrossentropy()(Y, P))\n"),
            "gradient_code": "def softmax_crossentropy_gradient(Y, Z):\n    return softmax(Z) - Y\n",
            "perceptron_code": (
                "def perceptron_epoch(X, y, w, b, learning_rate):\n"
                "    w, b = np.array(w, dtype=float), float(b)\n"
                "    for x_i, y_i in zip(X, y):\n"
                "        y_hat = 1.0 if x_i @ w + b > 0 else 0.0\n"
                "        w = w + learning_rate * (y_hat - y_i) * x_i\n"
                "        b = b + learning_rate * (y_hat - y_i)\n"
                "    return w, b\n"),
        },
        "scores": {"softmax": 2, "crossentropy": 0, "gradient": 0, "perceptron": 0, "sgd_step": 0},
        "messages": {
            "crossentropy_test": "categorical_crossentropy uses keras",
            "gradient_test": "your gradient is m=8 times too large: did you forget to divide by the batch size?",
            "perceptron_test": "goes wrong at example 3",
            "sgd_step_test": "is m=8 times too large",
        },
    },
}
