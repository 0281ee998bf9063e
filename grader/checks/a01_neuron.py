"""Assignment 1's checks: log-softmax (Keras), a sigmoid unit's squared-error gradient (finite differences,
tf.GradientTape), a logistic unit trained on the breast-cancer data (replayed; validation rows stay here)."""
import numpy as np

from .core import Failed, Tasks, as_arrays, as_items, as_number, assert_close, expect, expect_trained, flat, max_abs
from .references import float64_dense, keras_and_tf, normal, serialized

TASKS = Tasks(numpy_only=True)
BUDGET, TARGET = 10, 0.94               # Task 3: at most BUDGET steps, a validation accuracy of TARGET


def sigmoid(z):
    return np.exp(-np.logaddexp(0.0, -z))


@serialized
def keras_log_softmax(Z):
    keras, tf = keras_and_tf()
    return keras.activations.log_softmax(tf.constant(Z)).numpy()


def check_log_softmax(student, Z):
    right = keras_log_softmax(Z)
    hint = f"With logits of {max_abs(Z):g}, an exponential overflows or a probability rounds to 0: simplify on paper."
    expect(student, "log_softmax", (Z,), right, "keras.activations.log_softmax", 1e-10 * (1 + max_abs(Z)), hint=hint,
           like=[(np.exp(right), "returns probabilities (its rows sum to 1): return their logarithms"),
                 (Z - Z.max(axis=1, keepdims=True), "has log-probabilities that are not normalised (shifting the "
                  "logits is not enough)")])


TASKS.task("log_softmax", 1, check_log_softmax, [
    (normal(1, (8, 3)),), (np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0]]),)], lambda rng: [
    (rng.normal(size=(1, 2)),), (rng.normal(scale=500.0, size=(rng.integers(2, 30), 7)),),
    (np.array([[-1e4, 1e4], [7.0, 7.0]]) * rng.uniform(0.5, 1.5),), (rng.normal(size=(5, 1)),)])


@serialized
def tape_gradients(X, y, w, b):
    """flat(dw, db) by tf.GradientTape of Keras's MeanSquaredError of a float64 Dense(1, sigmoid)."""
    keras, tf = keras_and_tf()
    unit = float64_dense([w[:, None], np.array([b])], ["sigmoid"])
    with tf.GradientTape() as tape:
        loss = keras.losses.MeanSquaredError(dtype="float64")(y[:, None], unit(X))
    return flat(*tape.gradient(loss, unit.trainable_variables))


def finite_differences(X, y, w, b, h=1e-6):
    """flat(dw, db) by central differences of the mean squared error."""
    def mse(shift):
        return np.mean((sigmoid(X @ (w + shift[:-1]) + b + shift[-1]) - y) ** 2)
    return np.array([(mse(e) - mse(-e)) / (2 * h) for e in np.eye(len(w) + 1) * h])


def check_mse_gradients(student, X, y, w, b, differences=False):
    """mse_unit_gradients(X, y, w, b) -> (dw (d,), db), compared as one vector."""
    m, what = len(y), "(dw, db) that mse_unit_gradients returns"
    hint = f"With z = Xw + b as large as {max_abs(X @ w + b):.3g}, compute the sigmoid without overflow."
    got = flat(*as_arrays(student.call("mse_unit_gradients", X, y, w, b, hint=hint), [w.shape, ()], what, ["dw", "db"]))
    right = finite_differences(X, y, w, b) if differences else tape_gradients(X, y, w, b)
    g = sigmoid(X @ w + b) - y                          # dL/dz of the binary cross-entropy, times m
    hints = [(m, f"is m={m} times too large: look at how the loss averages over the batch")] * (m > 1) + [
        (0.5, "is half what it should be: look at the derivative of the square"),
        (-1, "has the wrong sign: check which way round you subtract the label and the prediction")]
    like = [(2 * flat(X.T @ g, g.sum()) / m, "is what it would be if the sigmoid had slope 1: chain through it too"),
            (flat(X.T @ g, g.sum()) / m, "is the gradient of the binary cross-entropy, the lesson's loss"),
            (flat(right[:-1], right[-1] / m), f"has a db m={m} times too small: b is added to every example")]
    against = "central finite differences" if differences else "tf.GradientTape on Keras's MeanSquaredError"
    assert_close(got, right, f"the {what}", against, 1e-7 if differences else 1e-11, hints, like)


def gradient_cases(rng):
    """One example, a random batch, and z of +-1000."""
    d = rng.integers(1, 6)
    Xs = [rng.normal(size=(1, 2)), rng.normal(size=(rng.integers(10, 40), d)), np.array([[1.0], [-1.0], [0.5]])]
    ws = [rng.normal(size=2), rng.normal(size=d), rng.uniform(800, 1200, size=1)]
    return [(X, rng.integers(0, 2, size=len(X)) * 1.0, w, rng.normal()) for X, w in zip(Xs, ws)]


X8, Y8 = normal(2, (8, 3)), np.array([0.0, 1, 1, 0, 1, 0, 0, 1])
TASKS.task("mse_gradients", 2, check_mse_gradients, [(X8, Y8, normal(3, (3,)), 0.25, True),
                                                      (X8, Y8, normal(4, (3,), 2.0), -0.5)], gradient_cases)


def descent(X, y, learning_rate, steps, axis=0, fold=True):
    """flat(w, b) of descent from 0 on the columns standardised, folded back; axis="raw", None, fold=False: mistakes."""
    mu, sd = (X.mean(axis=axis), X.std(axis=axis)) if axis != "raw" else (0.0, 1.0)
    S, w, b = (X - mu) / sd, np.zeros(X.shape[1]), 0.0
    for _ in range(steps):
        g = (sigmoid(S @ w + b) - y) / len(y)
        w, b = w - learning_rate * (S.T @ g), b - learning_rate * g.sum()
    return flat(w / sd, b - np.sum(mu * w / sd)) if fold else flat(w, b)


def check_training(student, X, y, rate, steps):
    """train_logistic(X, y, rate, steps) -> [w (d,), b], the replay's."""
    return expect_trained(student, "train_logistic", (X, y, rate, steps), [(X.shape[1],), ()],
                          lambda r, n: descent(X, y, r, n), rate, steps, "the tests' own run", 1e-7, lambda: [
        (descent(X, y, rate, steps, axis="raw"), "trained on the raw columns: standardise them first"),
        (descent(X, y, rate, steps, axis=None), "standardised with one mean and one standard deviation for the "
         "whole array: each column has a scale of its own"),
        (descent(X, y, rate, steps, fold=False), "returned the unit of the standardised columns: fold it into w, b"),
    ], len(y))


def check_experiment(student, rng):
    """tuned_hyperparameters() -> (rate, steps) reaching TARGET on breast-cancer data disguised by rng."""
    rate, steps = as_items(student.call("tuned_hyperparameters"), 2, "tuned_hyperparameters()", "a pair")
    rate = as_number(rate, "the learning rate tuned_hyperparameters() returns")
    steps = as_number(steps, "the steps tuned_hyperparameters() returns", whole=True, low=1, high=BUDGET)
    from sklearn.datasets import load_breast_cancer
    X, y = load_breast_cancer(return_X_y=True)
    X = X[:, rng.permutation(30)] * np.exp(rng.uniform(-2.0, 2.0, size=30))
    y, rows = np.abs(y - rng.integers(0, 2)), rng.permutation(len(X))
    train, val = np.split(rows, [300])
    w, b = check_training(student, X[train], y[train] * 1.0, float(rate), steps)
    accuracy = np.mean(((X[val] @ w + b) > 0) == y[val])
    if accuracy < TARGET:
        raise Failed(f"trained on {len(train)} rows at learning_rate={rate:g} for {steps} steps, your unit is right "
                     f"on {accuracy:.3f} of {len(val)} other rows, below {TARGET}: try rates on a log scale on a split")


def small_problem(rng, m, d):
    """Random columns of very different scales, and 0/1 labels."""
    return rng.normal(size=(m, d)) * 10.0 ** rng.uniform(-2, 3, size=d), rng.integers(0, 2, size=m) * 1.0


X12, Y12 = small_problem(np.random.default_rng(5), 12, 4)
TASKS.task("training", 3, check_training, [(X12, Y12, 0.5, 1), (X12, Y12, 0.5, 4)], lambda rng: [
    (*small_problem(rng, rng.integers(5, 40), rng.integers(1, 8)), 10 ** rng.uniform(-2, 0.7),
     int(rng.integers(2, 12))),
    (*small_problem(rng, 6, 3), 1.0, 0)], check_experiment)


run = TASKS.run
report = TASKS.report
