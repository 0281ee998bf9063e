"""Typical mistakes in assignment 07_regularization, graded by tests/test_grading.py.

Submission name -> the code written into solution cells (by grade id), the expected score of
every task, and text expected in the error that a test cell shows.
"""

# Task 1 with `{forward}` and `{backward}` as the kept values (the mask is U >= rate).
DROPOUT = ("def dropout_forward(A, rate, U):\n"
           "    return np.where(U >= rate, {forward}, 0.0)\n\n\n"
           "def dropout_backward(dOut, rate, U):\n"
           "    return {backward}\n")
RIGHT_DROPOUT = {"forward": "A / (1 - rate)", "backward": "np.where(U >= rate, dOut / (1 - rate), 0.0)"}

# Task 2 with `{dZ}` computed from G = dY * gamma, inv_std and Z_hat.
BATCHNORM = ("def batchnorm_backward(Z, gamma, dY, epsilon=1e-3):\n"
             "    m = Z.shape[0]\n"
             "    inv_std = 1 / np.sqrt(Z.var(axis=0) + epsilon)\n"
             "    Z_hat = (Z - Z.mean(axis=0)) * inv_std\n"
             "    G = dY * gamma\n"
             "    dZ = {dZ}\n"
             "    return dZ, np.sum(dY * Z_hat, axis=0), np.sum(dY, axis=0)\n")
RIGHT_DZ = "inv_std / m * (m * G - G.sum(axis=0) - Z_hat * np.sum(G * Z_hat, axis=0))"

# Task 3, returning `{result}` from the epoch index `epoch` and best index `best_epoch` (from 0).
STOPPING = ("def early_stopping(val_losses, patience, min_delta=0.0):\n"
            "    best, best_epoch, wait = None, 0, 0\n"
            "    for epoch, loss in enumerate(val_losses):\n"
            "        wait += 1\n"
            "        if best is None or loss < best - abs(min_delta):\n"
            "            best, best_epoch, wait = loss, epoch, 0\n"
            "        elif wait >= patience and epoch > 0:\n"
            "            return {result}\n"
            "    return len(val_losses), best_epoch + 1\n")

# Task 4 with `{penalty}` as the kernel's extra gradient.
EXPERIMENT = ("def train_softmax_l2(X, y, l2, learning_rate=0.5, steps=500):\n"
              "    m, n = X.shape[0], 10\n"
              "    Y = np.eye(n)[y.astype(int)]\n"
              "    W, b = np.zeros((X.shape[1], n)), np.zeros(n)\n"
              "    for _ in range(steps):\n"
              "        Z = X @ W + b\n"
              "        P = np.exp(Z - Z.max(axis=1, keepdims=True))\n"
              "        P /= P.sum(axis=1, keepdims=True)\n"
              "        dZ = (P - Y) / m\n"
              "        W = W - learning_rate * (X.T @ dZ + {penalty})\n"
              "        b = b - learning_rate * dZ.sum(axis=0)\n"
              "    return W, b\n")

MISTAKES = {
    "dropout_not_scaled__batchnorm_without_batch_terms": {
        "code": {
            "dropout_code": DROPOUT.format(forward="A", backward="np.where(U >= rate, dOut, 0.0)"),
            "batchnorm_code": BATCHNORM.format(dZ="G * inv_std"),
            "stopping_code": STOPPING.format(result="epoch + 1, best_epoch + 1"),
            "experiment_code": EXPERIMENT.format(penalty="2 * l2 * W"),
        },
        "scores": {"dropout": 0, "batchnorm": 0, "stopping": 2, "experiment": 3},
        "messages": {"dropout_test": "does not scale the kept units",
                     "batchnorm_test": "dZ treats the batch mean and variance as constants"},
    },
    "backward_without_mask__epochs_from_zero__penalty_forgotten": {
        "code": {
            "dropout_code": DROPOUT.format(forward="A / (1 - rate)", backward="dOut / (1 - rate)"),
            "batchnorm_code": BATCHNORM.format(dZ=RIGHT_DZ),
            "stopping_code": STOPPING.format(result="epoch, best_epoch"),
            "experiment_code": EXPERIMENT.format(penalty="0 * W"),
        },
        "scores": {"dropout": 0, "batchnorm": 3, "stopping": 0, "experiment": 0},
        "messages": {"dropout_test": "differs from the rule (U >= rate) * dOut / (1 - rate)",
                     "stopping_test": "but Keras's EarlyStopping runs 7 epochs and restores the weights of epoch 5",
                     "experiment_test": "not smaller than without the penalty"},
    },
}
