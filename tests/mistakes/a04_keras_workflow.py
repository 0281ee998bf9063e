"""Typical mistakes in assignment 04_keras_workflow, graded by tests/test_grading.py.

Submission name -> the code written into solution cells (by grade id), the expected score of
every task, and text expected in the error that a test cell shows.
"""

# Task 5, right but for `{weights}` (each row's weight, from s), `{n}` (what a batch's weighted loss is
# divided by); and Task 6's `{choice}`.
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


# Task 4, right but for `{improves}` (the test of an improvement), `{stops}` (the test that ends
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

# Task 3, right but for `{start}` (where the list of values starts) and `{hook}` + `{rule}` (when
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

# Task 2, right but for `{binary}` (loss and accuracy of one sigmoid unit, from p and t).
EVALUATE = (
    "def evaluate_from_predictions(P, y):\n"
    "    if P.shape[1] == 1:\n"
    "        p, t = {p_and_t}\n"
    "        return -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p)), np.mean({right})\n"
    "    classes = y.argmax(axis=1) if y.ndim == 2 else y\n"
    "    return -np.mean(np.log(P[np.arange(len(P)), classes])), np.mean(P.argmax(axis=1) == classes)\n")

# Task 1, right but for `{m_train}` and `{steps}`.
ITERATIONS = (
    "def iterations(m, batch_size, validation_split, epochs):\n"
    "    m_train = {m_train}\n"
    "    steps = {steps}\n"
    "    return m_train, steps, steps * epochs\n")

MISTAKES = {
    "rounded_split__p_half_is_1__values_never_reset__argmin_kept__divided_by_the_weights": {
        "code": {
            "iterations_code": ITERATIONS.format(m_train="m - round(m * validation_split)",
                                                 steps="math.ceil(m_train / batch_size)"),
            "evaluate_code": EVALUATE.format(p_and_t="P[:, 0], y.reshape(-1)", right="(p >= 0.5) == t"),
            "callback_code": STOP_BELOW.format(start="self.values = []", reset="False",
                                               hook=STOP_AT_END.format(rule="self.values[-1] < self.threshold")),
            "early_stopping_code": EARLY_STOPPING.format(improves="value + min_delta < best",
                                                         stops="wait >= max(patience, 1)",
                                                         kept="int(np.argmin(val_losses[:epoch])) + 1"),
            "fit_code": FIT.format(weights=WEIGHTS, n="s.sum()"),
        },
        "scores": {"iterations": 1, "evaluate": 1, "callback": 2, "early_stopping": 1, "fit": 0, "budget": 3},
        "messages": {
            "iterations_hidden": "yours says 81 training rows, more than keras fit trains on",
            "evaluate_hidden": "counts a probability of exactly 0.5 as class 1",
            "callback_hidden": "start a new list in on_train_begin",
            "early_stopping_hidden": "yours says the model ends with the weights of epoch 2, but it keeps those of "
                                     "another epoch: the best epoch",
            "fit_test": "divides each batch's weighted loss by the sum of its class weights",
        },
    },
    "last_batch_dropped__broadcast_labels__stops_an_epoch_late__last_batch_over_batch_size": {
        "code": {
            "iterations_code": ITERATIONS.format(m_train="int(math.floor(m * (1.0 - validation_split)))",
                                                 steps="m_train // batch_size"),
            "evaluate_code": EVALUATE.format(p_and_t="P, y", right="(p > 0.5) == t"),
            "callback_code": STOP_BELOW.format(start="", reset="True", hook=STOP_ONE_EPOCH_LATE),
            "fit_code": FIT.format(weights=WEIGHTS, n="batch_size"),
        },
        "scores": {"iterations": 0, "evaluate": 0, "callback": 0, "early_stopping": 2, "fit": 0, "budget": 0},
        "messages": {
            "iterations_test": "the last, smaller batch counts too, so round the division up",
            "evaluate_test": "so y * np.log(P) broadcasts to shape (40, 40)",
            "callback_test": "went on after epoch 3",
            "fit_test": "divides the last, smaller batch by batch_size",
            "budget_test": "make Task 5 pass first",
        },
    },
    "no_validation_split__keras_inside__built_on_early_stopping__tie_improves__class_weight_ignored": {
        "code": {
            "iterations_code": ITERATIONS.format(m_train="m", steps="math.ceil(m_train / batch_size)"),
            "evaluate_code": (
                "def evaluate_from_predictions(P, y):\n"
                "    loss = keras.losses.SparseCategoricalCrossentropy()(y, P)\n"
                "    return float(loss), float(np.mean(P.argmax(axis=1) == y))\n"),
            "callback_code": (
                "class StopBelow(keras.callbacks.EarlyStopping):\n"
                "    def __init__(self, threshold, monitor='val_loss'):\n"
                "        super().__init__(monitor=monitor, baseline=threshold)\n"
                "        self.values = []\n"),
            "early_stopping_code": EARLY_STOPPING.format(improves="value + min_delta <= best",
                                                         stops="wait >= max(patience, 1)", kept="best_epoch"),
            "fit_code": FIT.format(weights="1.0", n="len(X_k)"),
        },
        "scores": {"iterations": 0, "evaluate": 0, "callback": 0, "early_stopping": 1, "fit": 0, "budget": 3},
        "messages": {
            "iterations_test": "validation_split=0.1 holds the last rows out for validation",
            "evaluate_test": "evaluate_from_predictions uses keras",
            "callback_test": "built on keras.callbacks.Callback itself, not on",
            "early_stopping_hidden": "yours stops training after epoch 3, later than keras.callbacks.EarlyStopping",
            "fit_test": "leaves class_weight out",
        },
    },
    "over_the_step_budget": {
        "code": {"budget_code": chosen(1.0, 32, 2)},
        "scores": {"iterations": 2, "evaluate": 2, "callback": 3, "early_stopping": 2, "fit": 3, "budget": 0},
        "messages": {"budget_test": "asks for 30 steps on 456 training rows, over the budget of 20"},
    },
    "learning_rate_too_small_for_the_budget": {
        "code": {"budget_code": chosen(0.1, 456, 20)},
        "scores": {"iterations": 2, "evaluate": 2, "callback": 3, "early_stopping": 2, "fit": 3, "budget": 0},
        "messages": {"budget_test": "training stopped while the loss was still falling"},
    },
    "learning_rate_too_large_for_the_budget": {
        "code": {"budget_code": chosen(30.0, 456, 20)},
        "scores": {"iterations": 2, "evaluate": 2, "callback": 3, "early_stopping": 2, "fit": 3, "budget": 0},
        "messages": {"budget_test": "steps this large overshoot"},
    },
}
