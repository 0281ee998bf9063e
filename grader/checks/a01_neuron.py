"""The checks of assignment 1 (chapters/01_neuron/assignment_01.ipynb): log-softmax, the gradient of
the squared error of a sigmoid unit (a loss the lesson did not differentiate), and a logistic unit
trained on the breast-cancer data within a step budget.

Per task, *what is asked* (the function, its inputs, the points in the notebook) is in the task's
section; *how the answer is known* (Keras, tf.GradientTape, finite differences, the replayed gradient
descent) in the references just below. In the notebook `tests.run("log_softmax_test", globals())`
runs a check on the student's machine; at grading time the grader runs the same checks in its own
process, the hidden ones on inputs drawn from `rng`, different for every student.
"""

import numpy as np

from .core import Failed, Tasks, as_array, as_sequence, assert_close, max_abs
from .references import keras_and_tf, normal, serialized

TASKS = Tasks(numpy_only=True)
PRELUDE = "import numpy as np"          # what the setup cell gives the student's code at grading time
BUDGET, TARGET = 10, 0.945              # Task 3: at most BUDGET steps, a validation accuracy of TARGET


# --- references ------------------------------------------------------------------------------------

@serialized
def keras_log_softmax(Z):
    keras, tf = keras_and_tf()
    return keras.activations.log_softmax(tf.constant(Z)).numpy()


@serialized
def tape_mse_gradients(X, y, w, b):
    """tf.GradientTape's (dw, db) of keras.losses.MeanSquaredError between y and a float64
    Dense(1, activation="sigmoid") holding w, b."""
    keras, tf = keras_and_tf()
    layer = keras.layers.Dense(1, activation="sigmoid", dtype="float64")
    layer.build((None, X.shape[1]))
    layer.set_weights([w[:, None], np.array([b])])
    with tf.GradientTape() as tape:
        loss = keras.losses.MeanSquaredError(dtype="float64")(tf.constant(y[:, None]), layer(tf.constant(X)))
    kernel, bias = tape.gradient(loss, layer.trainable_weights)
    return kernel.numpy()[:, 0], float(bias.numpy()[0])


def sigmoid(z):
    return np.exp(-np.logaddexp(0.0, -z))


def mse(X, y, w, b):
    return np.mean((sigmoid(X @ w + b) - y) ** 2)


def finite_differences(X, y, w, b, h=1e-6):
    """Central differences of the mean squared error with respect to every entry of w, and to b."""
    E = np.eye(len(w)) * h
    dw = np.array([(mse(X, y, w + e, b) - mse(X, y, w - e, b)) / (2 * h) for e in E])
    return dw, (mse(X, y, w, b + h) - mse(X, y, w, b - h)) / (2 * h)


def descent(X, y, learning_rate, steps, axis=0, fold=True):
    """The replay of Task 3: standardise the columns (np.std), `steps` steps of full-batch gradient
    descent on the mean binary cross-entropy from zero weights, the unit folded back onto the raw
    columns. axis="raw" (no standardisation), axis=None (one mean for the whole array) or
    fold=False replay typical mistakes."""
    mu, sd = (X.mean(axis=axis), X.std(axis=axis)) if axis != "raw" else (0.0, 1.0)
    S, w, b = (X - mu) / sd, np.zeros(X.shape[1]), 0.0
    for _ in range(steps):
        g = (sigmoid(S @ w + b) - y) / len(y)
        w, b = w - learning_rate * (S.T @ g), b - learning_rate * g.sum()
    return (w / sd, b - np.sum(mu * w / sd)) if fold else (w, b)


def breast_cancer(rng, m_train):
    """The breast-cancer data in disguise, split at random: the 30 columns shuffled and rescaled and
    the two labels swapped, all by rng; a unit standardised and trained on them does exactly as well
    as on the data themselves, while weights fitted to those are useless. The validation rows never
    enter the student's kernel."""
    from sklearn.datasets import load_breast_cancer
    X, y = load_breast_cancer(return_X_y=True)
    X = X[:, rng.permutation(30)] * np.exp(rng.uniform(-2.0, 2.0, size=30))
    y, rows = np.abs(y - rng.integers(0, 2)).astype(float), rng.permutation(len(X))
    return X[rows[:m_train]], y[rows[:m_train]], X[rows[m_train:]], y[rows[m_train:]]


# --- Task 1: log-softmax ---------------------------------------------------------------------------

def check_log_softmax(student, Z):
    hint = (f"With logits as large as {max_abs(Z):g}, an exponential overflows or a probability rounds to 0: "
            "simplify the log of the softmax on paper until neither can happen.")
    got = as_array(student.call("log_softmax", Z, hint=hint), Z.shape, "log_softmax(Z)")
    expected, tol = keras_log_softmax(Z), 1e-10 * (1 + max_abs(Z))
    if not max_abs(got - expected) <= tol:
        with np.errstate(all="ignore"):
            sums = np.exp(got).sum(axis=1)
        if np.all(np.abs(got.sum(axis=1) - 1) < 1e-9):
            raise Failed("log_softmax(Z) returns probabilities (its rows sum to 1): return their logarithms")
        if not np.all(np.abs(sums - 1) < 1e-9):
            row = int(np.argmax(np.abs(sums - 1)))
            raise Failed(f"the exponentials of row {row} of log_softmax(Z) sum to {sums[row]:.6g}, not 1: the "
                         "log-probabilities of a row are not normalised (shifting the logits is not enough)")
    assert_close(got, expected, "log_softmax(Z)", "keras.activations.log_softmax", tol)


@TASKS.visible("log_softmax_test", "Task 1: the visible tests pass.")
def log_softmax_test(student):
    check_log_softmax(student, normal(1, (8, 3)))
    check_log_softmax(student, np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0]]))


@TASKS.hidden("log_softmax_hidden")
def log_softmax_hidden(student, rng):
    for Z in [rng.normal(size=(1, 2)), rng.normal(scale=500.0, size=(int(rng.integers(2, 30)), 7)),
              np.array([[-1e4, 1e4], [7.0, 7.0]]) * rng.uniform(0.5, 1.5), rng.normal(size=(5, 1))]:
        check_log_softmax(student, Z)


# --- Task 2: the gradient of the squared error of a sigmoid unit ------------------------------------

def check_mse_gradients(student, X, y, w, b, reference=None):
    what, m = "mse_unit_gradients(X, y, w, b)", len(y)
    hint = f"With z = Xw + b as large as {max_abs(X @ w + b):.3g}, compute the sigmoid without overflow."
    dw, db = as_sequence(student.call("mse_unit_gradients", X, y, w, b, hint=hint), 2, what, "a pair (dw, db)")
    dw, db = as_array(dw, w.shape, "the dw it returns"), as_array(db, (), "the db it returns")
    expected, against = (finite_differences(X, y, w, b), "central finite differences") if reference else \
        (tape_mse_gradients(X, y, w, b), "tf.GradientTape on Keras's MeanSquaredError")
    p = sigmoid(X @ w + b)
    hints = [(m, f"is m={m} times too large: look at how the loss averages over the batch"),
             (0.5, "is half what it should be: look at the derivative of the square"),
             (-1, "has the wrong sign: check which way round you subtract the label and the prediction")]
    for name, got, right, other in [("dw", dw, expected[0], X.T @ (p - y) / m),
                                    ("db", db, expected[1], np.mean(p - y))]:
        like = [(2 * other, "is what it would be if the sigmoid had slope 1: the chain rule passes through "
                            "the sigmoid too"),
                (other, "is the gradient of the binary cross-entropy, the lesson's loss, not of the squared error")]
        extra = [(1 / m, f"is m={m} times too small: b is added to every example")] if name == "db" else []
        assert_close(got, right, f"the {name} it returns", against, 1e-7 if reference else 1e-11,
                    hints + extra if m > 1 else hints[1:], like)


@TASKS.visible("mse_gradients_test", "Task 2: the visible tests pass.")
def mse_gradients_test(student):
    X, y = normal(2, (8, 3)), np.array([0.0, 1, 1, 0, 1, 0, 0, 1])
    check_mse_gradients(student, X, y, normal(3, (3,)), 0.25, "finite differences")
    check_mse_gradients(student, X, y, normal(4, (3,), 2.0), -0.5)


@TASKS.hidden("mse_gradients_hidden")
def mse_gradients_hidden(student, rng):
    m, d = int(rng.integers(10, 40)), int(rng.integers(1, 6))
    for X, w in [(rng.normal(size=(1, 2)), rng.normal(size=2)), (rng.normal(size=(m, d)), rng.normal(size=d)),
                 (np.array([[1.0], [-1.0], [0.5]]), rng.uniform(800, 1200, size=1))]:    # z of +-1000
        check_mse_gradients(student, X, rng.integers(0, 2, size=len(X)) * 1.0, w, float(rng.normal()))


# --- Task 3: a logistic unit on the breast-cancer data, within a step budget -------------------------

def check_training(student, X, y, learning_rate, steps):
    """train_logistic must return the replay's (w, b); returns them."""
    what = f"train_logistic(X {X.shape}, y, learning_rate={learning_rate:g}, steps={steps})"
    w, b = as_sequence(student.call("train_logistic", X, y, learning_rate, steps), 2, what, "a pair (w, b)")
    w, b = as_array(w, (X.shape[1],), f"the w that {what} returns"), float(as_array(b, (), "the b it returns"))
    ref = descent(X, y, learning_rate, steps)

    def same(pair):
        return max(max_abs(w - pair[0]), abs(b - pair[1])) <= 1e-7 * max(1.0, max_abs(pair[0]), abs(pair[1]))
    if same(ref):
        return w, b
    hints = [(descent(X, y, learning_rate, steps, axis="raw"),
              "trained on the raw columns: their scales differ by orders of magnitude, standardise them first"),
             (descent(X, y, learning_rate, steps, axis=None), "standardised with one mean and one standard "
              "deviation for the whole array: each column has a scale of its own"),
             (descent(X, y, learning_rate, steps, fold=False),
              "returned the unit of the standardised columns: the tests apply (w, b) to raw columns, so fold the "
              "standardisation into w and b"),
             (descent(X, y, learning_rate * len(y), steps), "used the gradient of the summed loss, not the mean"),
             *[(descent(X, y, learning_rate, n), f"took {n} steps instead of {steps}") for n in (steps - 1, steps + 1)
               if n >= 0]]
    for pair, text in hints:
        if same(pair):
            raise Failed(f"{what} {text}")
    raise Failed(f"{what} returned weights that differ by up to {max(max_abs(w - ref[0]), abs(b - ref[1])):.3g} "
                 f"from the tests' own run of {steps} steps: check the standardisation (np.std), the start "
                 "from zero, the gradient of the mean loss and the folding back onto the raw columns")


def check_experiment(student, rng, m_train):
    what = "tuned_hyperparameters()"
    learning_rate, steps = as_sequence(student.call("tuned_hyperparameters"), 2, what, "a pair (learning_rate, steps)")
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, (int, float)) or not learning_rate > 0 \
            or isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= BUDGET:
        raise Failed(f"{what} returned the learning rate {learning_rate!r} and {steps!r} steps: a positive number, "
                     f"and an int from 1 to {BUDGET} (the budget)")
    X, y, X_val, y_val = breast_cancer(rng, m_train)
    w, b = check_training(student, X, y, float(learning_rate), steps)
    accuracy = float(np.mean(((X_val @ w + b) > 0) == y_val))
    if accuracy < TARGET:
        raise Failed(f"trained on {len(y)} rows with learning_rate={learning_rate:g} for {steps} steps, your unit "
                     f"classifies {accuracy:.3f} of {len(y_val)} other rows correctly, below the target {TARGET}: "
                     "try learning rates on a log scale on a split of your own")


def small_problem(rng, m, d):
    """Random columns of very different scales, and 0/1 labels."""
    return rng.normal(size=(m, d)) * 10.0 ** rng.uniform(-2, 3, size=d), rng.integers(0, 2, size=m) * 1.0


@TASKS.visible("training_test", "Task 3: the visible tests pass.", disguised=True)
def training_test(student, rng):
    X, y = small_problem(np.random.default_rng(5), 12, 4)
    check_training(student, X, y, 0.5, 1)
    check_training(student, X, y, 0.5, 4)
    check_experiment(student, rng, 300)


@TASKS.hidden("training_hidden")
def training_hidden(student, rng):
    X, y = small_problem(rng, int(rng.integers(5, 40)), int(rng.integers(1, 8)))
    check_training(student, X, y, float(10 ** rng.uniform(-2, 0.7)), int(rng.integers(2, 12)))
    check_training(student, X, y, 1.0, 0)
    check_experiment(student, rng, int(rng.integers(280, 320)))


run = TASKS.run
report = TASKS.report
