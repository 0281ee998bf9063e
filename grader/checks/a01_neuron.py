"""The checks of assignment 1 (chapters/01_neuron/assignment_01.ipynb): softmax, cross-entropy,
its gradient, the perceptron rule and a gradient-descent step, compared with Keras, tf.GradientTape,
finite differences and the rule itself.

In the notebook, `tests.run("softmax_test", globals())` runs a check on the student's machine; at
grading time, the grader runs the same checks in its own process (grader.verdicts), and the hidden
ones draw their inputs from `rng`, which is different for every student.
"""
import numpy as np

from . import references as ref
from .core import Failed, Tasks, as_array, as_sequence, assert_close, max_abs

TASKS = Tasks(numpy_only=True)
PRELUDE = "import numpy as np"          # what the setup cell gives the student's code at grading time

Z_HUGE = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0], [1000.0, 999.0, -1000.0]])


def visible_data():
    """The inputs of the visible tests, as the notebook describes them: X (8, 4), W (4, 3), b (3,),
    one-hot Y (8, 3) and the logits Z = XW + b."""
    X, W, b = ref.normal(1, (8, 4)), ref.normal(2, (4, 3)), ref.normal(3, (3,))
    return X, W, b, ref.one_hot(4, 8, 3), X @ W + b


# --- Task 1: softmax ---------------------------------------------------------------------------

def check_softmax(student, Z):
    """softmax(Z) has Z's shape, rows that sum to 1 and Keras's values; Z is left alone."""
    hint = f"With logits as large as {max_abs(Z):g}, subtract each row's maximum before np.exp."
    P = as_array(student.call("softmax", Z, hint=hint), Z.shape, "softmax(Z)")
    sums = P.sum(axis=1)
    if not max_abs(sums - 1) <= 1e-9:
        row = int(np.argmax(np.abs(sums - 1)))
        raise Failed(f"softmax rows must sum to 1, row {row} sums to {sums[row]:.10g}")
    assert_close(P, ref.softmax(Z), "softmax(Z)", "keras.activations.softmax", 1e-12)


@TASKS.visible("softmax_test", "Task 1: the visible tests pass.")
def softmax_test(student):
    check_softmax(student, visible_data()[4])   # 8 examples, 3 classes
    check_softmax(student, Z_HUGE)              # logits of +-1000


@TASKS.hidden("softmax_hidden")
def softmax_hidden(student, rng):
    m, n = int(rng.integers(2, 20)), int(rng.integers(2, 12))
    for Z in [rng.normal(size=(1, 2)), rng.normal(scale=300.0, size=(m, n)),
              np.array([[-1e4, 1e4], [7.0, 7.0]]) * rng.uniform(0.5, 1.5)]:
        check_softmax(student, Z)


# --- Task 2: categorical cross-entropy -----------------------------------------------------------

def check_crossentropy(student, Y, P):
    """One number, Keras's clipped mean cross-entropy; Y and P are left alone."""
    what, m = "categorical_crossentropy(Y, P)", Y.shape[0]
    hint = "Clip P into [1e-7, 1 - 1e-7] before taking the log."
    loss = as_array(student.call("categorical_crossentropy", Y, P, hint=hint), (), what)
    assert_close(loss, ref.crossentropy(Y, P), what, "keras.losses.CategoricalCrossentropy(), which clips P into "
                 "[1e-7, 1 - 1e-7] and takes the mean over the batch,", 1e-10,
                 [(m, f"is m={m} times too large: take the mean over the batch, not the sum")])


@TASKS.visible("crossentropy_test", "Task 2: the visible tests pass.")
def crossentropy_test(student):
    _, _, _, Y, Z = visible_data()
    check_crossentropy(student, Y, ref.softmax(Z))                      # 8 examples, 3 classes
    check_crossentropy(student, np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]]),
                       np.array([[1.0, 0.0, 0.0], [0.0, 0.5, 0.5]]))    # probabilities 1 and 0


@TASKS.hidden("crossentropy_hidden")
def crossentropy_hidden(student, rng):
    m, n = int(rng.integers(20, 60)), int(rng.integers(3, 12))
    for Y, P in [(np.array([[0.0, 1.0]]), np.array([[0.3, 0.7]])), (np.eye(4), np.eye(4)),
                 (ref.one_hot_from(rng, m, n), ref.softmax(rng.normal(scale=5.0, size=(m, n))))]:
        check_crossentropy(student, Y, P)


# --- Task 3: the gradient with respect to the logits -----------------------------------------------

def check_gradient(student, Y, Z, expected, against, tol):
    """The gradient (P - Y) / m, compared with `expected` (from `against`)."""
    what, m = "softmax_crossentropy_gradient(Y, Z)", Z.shape[0]
    G = as_array(student.call("softmax_crossentropy_gradient", Y, Z, hint="Use a stable softmax."), Z.shape, what)
    assert_close(G, expected, "your gradient", against, tol, [
        (m, f"is m={m} times too large: did you forget to divide by the batch size?"),
        (-1, "has the wrong sign: it is (P - Y) / m, not (Y - P) / m"),
        (-m, f"has the wrong sign and is m={m} times too large: it is (P - Y) / m")])


@TASKS.visible("gradient_test", "Task 3: the visible tests pass.")
def gradient_test(student):
    _, _, _, Y, Z = visible_data()
    check_gradient(student, Y, Z, ref.finite_differences(Y, Z), "central finite differences", 1e-8)
    check_gradient(student, Y, Z, ref.gradient(Y, Z), "tf.GradientTape", 1e-12)


@TASKS.hidden("gradient_hidden")
def gradient_hidden(student, rng):
    m, n = int(rng.integers(16, 40)), int(rng.integers(3, 12))
    huge = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 1000.0], [5.0, 5.0, 5.0]])
    for Y, Z in [(np.array([[1.0, 0.0]]), rng.normal(size=(1, 2))), (ref.one_hot_from(rng, 3, 3), huge),
                 (ref.one_hot_from(rng, m, n), rng.normal(scale=3.0, size=(m, n)))]:
        check_gradient(student, Y, Z, ref.gradient(Y, Z), "tf.GradientTape", 1e-12)


# --- Task 4: the perceptron rule ---------------------------------------------------------------

def perceptron_rule(X, y, w, b, learning_rate):
    """(w, b) after Rosenblatt's rule makes one pass over the examples in order."""
    w, b = np.array(w, dtype=float), float(b)
    for i in range(X.shape[0]):
        y_hat = 1.0 if X[i] @ w + b > 0 else 0.0
        w = w + learning_rate * (y[i] - y_hat) * X[i]
        b = b + learning_rate * (y[i] - y_hat)
    return w, b


def check_perceptron(student, X, y, w, b, learning_rate):
    """One pass of perceptron_epoch gives what the rule gives; if not, explain the first example
    where they part."""
    what = "perceptron_epoch(X, y, w, b, learning_rate)"

    def run(k):  # the student's (w, b) after the first k examples, and the rule's
        w_k, b_k = as_sequence(student.call("perceptron_epoch", X[:k], y[:k], w, b, learning_rate), 2, what)
        w_k, b_k = as_array(w_k, w.shape, "the w it returns"), as_array(b_k, (), "the b it returns")
        w_r, b_r = perceptron_rule(X[:k], y[:k], w, b, learning_rate)
        return w_k, b_k, w_r, b_r, max_abs(w_k - w_r) + abs(b_k - b_r) <= 1e-12

    if run(X.shape[0])[-1]:
        return
    for k in range(1, X.shape[0] + 1):
        w_k, b_k, w_r, b_r, same = run(k)
        if not same:
            break
    w_0, b_0 = perceptron_rule(X[:k - 1], y[:k - 1], w, b, learning_rate)
    x, target = X[k - 1], y[k - 1]
    z = x @ w_0 + b_0
    y_hat = 1.0 if z > 0 else 0.0
    rule = ("leaves w and b as they are, since the prediction is right" if y_hat == target else
            f"adds learning_rate * (y - y_hat) * x = {learning_rate * (target - y_hat) * x} to w "
            f"and {learning_rate * (target - y_hat):g} to b")
    step0 = " (step(0) is 0: predict 1 only when z > 0)" if z == 0 else ""
    raise Failed(
        f"{what} goes wrong at example {k - 1}, x = {x}, y = {target:g}. Before it, w = {w_0} and "
        f"b = {b_0:g}, so z = w.x + b = {z:g} and the prediction is y_hat = step(z) = {y_hat:g}"
        f"{step0}. The rule {rule}, giving w = {w_r}, b = {b_r:g}; yours gives w = {w_k}, b = {b_k:g}.")


def check_perceptron_learns(student, X, y, passes):
    """From w = 0, b = 0, repeated passes (learning rate 1) separate separable data."""
    what = "perceptron_epoch(X, y, w, b, learning_rate)"
    w, b = np.zeros(X.shape[1]), 0.0
    for _ in range(passes):
        w, b = as_sequence(student.call("perceptron_epoch", X, y, w, b, 1.0), 2, what)
        w, b = as_array(w, (X.shape[1],), "the w it returns"), float(as_array(b, (), "the b it returns"))
        wrong = int(np.sum(((X @ w + b > 0) * 1.0 - y) != 0))
        if not wrong:
            return                     # converged: every example is on its side of the line
    if wrong:
        raise Failed(f"after {passes} passes over {X.shape[0]} linearly separable examples, your perceptron "
                     f"still gets {wrong} of them wrong, where the rule is guaranteed to get them all right")


@TASKS.visible("perceptron_test", "Task 4: the visible tests pass.")
def perceptron_test(student):
    X_and, y_and = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]), np.array([0.0, 0.0, 0.0, 1.0])
    check_perceptron(student, X_and, y_and, np.zeros(2), 0.0, 1.0)       # logical AND, from w = 0, b = 0
    X = ref.normal(5, (12, 3))
    y = (X @ np.array([1.0, -2.0, 0.5]) > 0.2) * 1.0
    check_perceptron(student, X, y, ref.normal(6, (3,)), 0.5, 0.1)        # 12 random examples


@TASKS.hidden("perceptron_hidden")
def perceptron_hidden(student, rng):
    check_perceptron(student, np.array([[2.0, -1.0]]), np.array([1.0]), np.array([-1.0, 1.0]), 0.0, 0.5)
    m, d = int(rng.integers(20, 40)), int(rng.integers(3, 7))
    check_perceptron(student, rng.normal(size=(m, d)), (rng.normal(size=m) > 0) * 1.0, rng.normal(size=d), -0.2, 0.3)
    X, y = ref.separable(rng, 40)
    check_perceptron_learns(student, X, y, 100)


# --- Task 5: one gradient-descent step -------------------------------------------------------------

def check_sgd_step(student, X, Y, W, b, learning_rate):
    """The step taken on W and on b is the step Keras's SGD takes; X, Y, W, b are left alone."""
    what, m = "gradient_descent_step(X, Y, W, b, learning_rate)", X.shape[0]
    W_new, b_new = as_sequence(student.call("gradient_descent_step", X, Y, W, b, learning_rate), 2, what)
    W_new, b_new = as_array(W_new, W.shape, "the W it returns"), as_array(b_new, b.shape, "the b it returns")
    expected_W, expected_b = ref.sgd_step(X, Y, W, b, learning_rate)
    against = "the step of keras.optimizers.SGD on a Dense softmax layer"
    hints = [(-1, "goes the wrong way: gradient descent subtracts learning_rate * gradient"),
             (m, f"is m={m} times too large: is the gradient of Task 3 divided by the batch size?")]
    assert_close(W - W_new, W - expected_W, "the step your function takes on W (W - new W)", against, 1e-8, hints)
    assert_close(b - b_new, b - expected_b, "the step your function takes on b (b - new b)", against, 1e-8,
                 hints + [(1 / m, f"is m={m} times too small: dL/db is the sum of (P - Y) / m over the examples")])


@TASKS.visible("sgd_step_test", "Task 5: the visible tests pass.")
def sgd_step_test(student):
    X, W, b, Y, _ = visible_data()
    check_sgd_step(student, X, Y, W, b, 0.5)


@TASKS.hidden("sgd_step_hidden")
def sgd_step_hidden(student, rng):
    for m, d, n, learning_rate in [(1, 3, 2, 0.25), (int(rng.integers(10, 30)), 5, 4, 0.125)]:
        X, W, b = rng.normal(size=(m, d)), rng.normal(size=(d, n)), rng.normal(size=(n,))
        check_sgd_step(student, X, ref.one_hot_from(rng, m, n), W, b, learning_rate)


run = TASKS.run
report = TASKS.report
