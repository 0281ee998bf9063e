"""Typical mistakes in assignment 04_keras_workflow, graded by tests/test_grading.py.

Submission name -> the code written into solution cells (by grade id), the expected score of
every task, and text expected in the error that a test cell shows.
"""

# Task 3, right but for `{weights}` (each row's weight, from s), `{n}` (what a batch's weighted loss is
# divided by); and Task 4's `{choice}`.
FIT = (
    "def fit_weighted(X, y, w, b, learning_rate, batch_size, epochs, class_weight):\n"
    "    m, losses = X.shape[0], []\n"
    "    for epoch in range(epochs):\n"
    "        total = 0.0\n"
    "        for start in range(0, m, batch_size):\n"
    "            X_k, y_k = X[start:start + batch_size], y[start:start + batch_size]\n"
    "            s = {weights}\n"
    "            z = X_k @ w[:, 0] + b[0]\n"
    "            rows = np.maximum(z, 0) - z * y_k + np.log1p(np.exp(-np.abs(z)))\n"
    "            n = {n}\n"
    "            total += len(X_k) * np.sum(s * rows) / n\n"
    "            g = s * (0.5 * (1 + np.tanh(z / 2)) - y_k) / n\n"
    "            w = w - learning_rate * (X_k.T @ g)[:, None]\n"
    "            b = b - learning_rate * np.array([g.sum()])\n"
    "        losses.append(total / m)\n"
    "    return losses, w, b\n")
WEIGHTS = "np.where(y_k == 1, class_weight[1], class_weight[0])"
RIGHT_FIT = FIT.format(weights=WEIGHTS, n="len(X_k)")


def chosen(learning_rate, batch_size, epochs):
    return RIGHT_FIT + f"\n\ndef chosen_fit():\n    return {learning_rate}, {batch_size}, {epochs}\n"


# Task 2, right but for `{improves}` (the test of an improvement), `{stops}` (the test that ends
# training) and `{kept}` (the epoch whose weights are restored).
EARLY_STOPPING = (
    "def early_stopping(val_losses, patience=0, min_delta=0.0, restore_best_weights=False):\n"
    "    best, best_epoch, wait = None, 0, 0\n"
    "    for epoch, value in enumerate(val_losses, start=1):\n"
    "        if best is None or {improves}:\n"
    "            best, best_epoch, wait = value, epoch, 0\n"
    "            continue\n"
    "        wait += 1\n"
    "        if {stops}:\n"
    "            break\n"
    "    return epoch, {kept} if restore_best_weights else epoch\n")

# Task 1, right but for `{start}` (where the list of values starts) and `{hook}` + `{rule}` (when
# and how training is stopped).
STOP_BELOW = (
    "class StopBelow(keras.callbacks.Callback):\n"
    "    def __init__(self, threshold, monitor='val_loss'):\n"
    "        super().__init__()\n"
    "        self.threshold, self.monitor = threshold, monitor\n"
    "        {start}\n"
    "    def on_train_begin(self, logs=None):\n"
    "        if {reset}:\n"
    "            self.values = []\n"
    "    def on_epoch_end(self, epoch, logs=None):\n"
    "        self.values.append(logs[self.monitor])\n"
    "{hook}")
STOP_AT_END = ("        if {rule}:\n"
               "            self.model.stop_training = True\n")
STOP_ONE_EPOCH_LATE = ("    def on_epoch_begin(self, epoch, logs=None):\n"
                       "        if self.values and self.values[-1] < self.threshold:\n"
                       "            self.model.stop_training = True\n")

MISTAKES = {
    "values_never_reset__argmin_kept__divided_by_the_weights": {
        "code": {
            "callback_code": STOP_BELOW.format(start="self.values = []", reset="False",
                                               hook=STOP_AT_END.format(rule="self.values[-1] < self.threshold")),
            "early_stopping_code": EARLY_STOPPING.format(improves="value + min_delta < best",
                                                         stops="wait >= max(patience, 1)",
                                                         kept="int(np.argmin(val_losses[:epoch])) + 1"),
            "fit_code": FIT.format(weights=WEIGHTS, n="s.sum()"),
        },
        "scores": {"callback": 0, "early_stopping": 1, "fit": 0, "budget": 3},
        "messages": {
            "callback_test": "start a new list in on_train_begin",
            "early_stopping_hidden": "yours keeps the weights of epoch 2, EarlyStopping those of another: the best "
                                     "epoch",
            "fit_test": "divides each batch's weighted loss by the sum of its class weights",
        },
    },
    "stops_an_epoch_late__last_batch_over_batch_size": {
        "code": {
            "callback_code": STOP_BELOW.format(start="", reset="True", hook=STOP_ONE_EPOCH_LATE),
            "fit_code": FIT.format(weights=WEIGHTS, n="batch_size"),
        },
        "scores": {"callback": 0, "early_stopping": 2, "fit": 0, "budget": 0},
        "messages": {
            "callback_test": "went on after epoch 3",
            "fit_test": "divides the last, smaller batch by batch_size",
            "budget_test": "divides the last, smaller batch by batch_size",
        },
    },
    "built_on_early_stopping__tie_improves__class_weight_ignored": {
        "code": {
            "callback_code": (
                "class StopBelow(keras.callbacks.EarlyStopping):\n"
                "    def __init__(self, threshold, monitor='val_loss'):\n"
                "        super().__init__(monitor=monitor, baseline=threshold)\n"
                "        self.values = []\n"),
            "early_stopping_code": EARLY_STOPPING.format(improves="value + min_delta <= best",
                                                         stops="wait >= max(patience, 1)", kept="best_epoch"),
            "fit_code": FIT.format(weights="1.0", n="len(X_k)"),
        },
        "scores": {"callback": 0, "early_stopping": 1, "fit": 0, "budget": 3},
        "messages": {
            "callback_test": "built on keras.callbacks.Callback itself, not on",
            "early_stopping_hidden": "yours stops training after epoch 3, later than EarlyStopping",
            "fit_test": "leaves class_weight out of the loss",
        },
    },
    "over_the_step_budget": {
        "code": {"budget_code": chosen(1.0, 32, 2)},
        "scores": {"callback": 3, "early_stopping": 2, "fit": 3, "budget": 0},
        "messages": {"budget_test": "asks for 30 steps on 456 training rows, over the budget of 20"},
    },
    "learning_rate_too_small_for_the_budget": {
        "code": {"budget_code": chosen(0.1, 456, 20)},
        "scores": {"callback": 3, "early_stopping": 2, "fit": 3, "budget": 0},
        "messages": {"budget_test": "training stopped while the loss was still falling"},
    },
    "learning_rate_too_large_for_the_budget": {
        "code": {"budget_code": chosen(30.0, 456, 20)},
        "scores": {"callback": 3, "early_stopping": 2, "fit": 3, "budget": 0},
        "messages": {"budget_test": "steps this large overshoot"},
    },
}
