"""The checks of assignment 7 (chapters/07_regularization/assignment_07.ipynb), none of whose
answers the lessons show: the L1 + L2 penalty and its gradient (against keras.regularizers.L1L2
and tf.GradientTape), the backward pass of layer normalization (against tf.GradientTape on
keras.layers.LayerNormalization), batch normalization in inference mode folded into the Dense
layer before it (against the two Keras layers), a network trained with L2 (replayed step for step
against Keras), and an experiment: choices that train it to a validation target on the digits.

In the notebook, `tests.run("penalty_test", globals())` runs a check on the student's machine; at
grading time the grader runs the same checks in its own process, and the hidden ones draw their
inputs from `rng`, which is different for every student.
"""
import numpy as np

from . import references as ref
from .core import Failed, Tasks, as_array, as_count, as_sequence, assert_close, disguise, max_abs

TASKS = Tasks(numpy_only=True)
PRELUDE = "import numpy as np"          # what the setup cell gives the student's code at grading time


def close(a):
    """The tolerance of float64 work on numbers as large as those of a."""
    return 1e-10 * (1 + max_abs(a))


def as_keras_holds(coefficient):
    """A regularizer's coefficient as Keras holds it (a float32): the inputs are drawn that way, so
    that float64 work without the rounding gives Keras's answer."""
    return float(np.float32(coefficient))


# --- Task 1: the L1 + L2 penalty and its gradient ----------------------------------------------

def check_penalty(student, W, l1, l2):
    l1, l2 = as_keras_holds(l1), as_keras_holds(l2)
    what = f"l1l2_penalty(W, l1={l1:g}, l2={l2:g})"
    value, grad = as_sequence(student.call("l1l2_penalty", W, l1, l2), 2, what, "a pair (penalty, gradient)")
    value, grad = as_array(value, (), "the penalty it returns"), as_array(grad, W.shape, "the gradient it returns")
    right_value, right_grad = ref.l1l2_penalty(W, l1, l2)
    assert_close(value, right_value, "the penalty", "keras.regularizers.L1L2", close(right_value), like=[
        (right_value / W.size, "is an average over the weights; Keras's penalty adds up every weight's share, "
         "so it grows with the size of the layer")])
    assert_close(grad, right_grad, "the gradient", "tf.GradientTape on keras.regularizers.L1L2", close(right_grad),
                 like=[(ref.l1l2_penalty(W, l1, l2 / 2)[1], "has an L2 part half what it should be: look again at "
                        "the derivative of the square"),
                       (right_grad + l1 * (W == 0), "differs only where a weight is exactly 0: which value does "
                        "TensorFlow give the derivative of |w| at 0?")])


@TASKS.visible("penalty_test", "Task 1: the visible tests pass.")
def penalty_test(student):
    W = ref.normal(70, (5, 3))
    W[1, 2] = W[4, 0] = 0.0                      # weights exactly 0
    check_penalty(student, W, 0.01, 0.001)
    check_penalty(student, W, 0.0, 0.5)          # L2 alone


@TASKS.hidden("penalty_hidden")
def penalty_hidden(student, rng):
    W = rng.normal(size=(int(rng.integers(1, 20)), int(rng.integers(1, 20))))
    for l1, l2 in [(float(rng.uniform(0, 1)), float(rng.uniform(0, 1))), (0.3, 0.0), (0.0, 0.0)]:
        check_penalty(student, W, l1, l2)
    check_penalty(student, np.zeros((3, 2)), 0.1, 0.1)


# --- Task 2: the backward pass of layer normalization ---------------------------------------------

def check_layernorm(student, Z, gamma, beta, dY, epsilon):
    what = f"layernorm_backward(Z, gamma, dY, {epsilon:g})"
    reply = as_sequence(student.call("layernorm_backward", Z, gamma, dY, epsilon), 3, what,
                        "three arrays (dZ, dgamma, dbeta)")
    dZ = as_array(reply[0], Z.shape, "dZ, the first array it returns")
    dgamma = as_array(reply[1], gamma.shape, "dgamma, the second array it returns")
    dbeta = as_array(reply[2], gamma.shape, "dbeta, the third array it returns")
    right_dZ, right_dgamma, right_dbeta = ref.layernorm_gradients(Z, gamma, beta, dY, epsilon)
    batch_dZ, batch_dgamma, _ = ref.batchnorm_gradients(Z, gamma, beta, dY, epsilon)
    over_batch = ("takes the statistics over the batch (axis 0), as batch normalization does: layer "
                  "normalization takes them over each example's own features")
    inv_std = 1 / np.sqrt(Z.var(axis=1, keepdims=True) + epsilon)
    assert_close(dZ, right_dZ, "dZ", "tf.GradientTape on keras.layers.LayerNormalization", close(right_dZ), like=[
        (dY * gamma * inv_std, "treats each example's mean and variance as constants: they depend on every "
         "feature of the example, which adds two terms through the chain rule"), (batch_dZ, over_batch)])
    assert_close(dgamma, right_dgamma, "dgamma", "tf.GradientTape", close(right_dgamma),
                 like=[(batch_dgamma, over_batch)])
    assert_close(dbeta, right_dbeta, "dbeta", "tf.GradientTape", close(right_dbeta))


@TASKS.visible("layernorm_test", "Task 2: the visible tests pass.")
def layernorm_test(student):
    Z = ref.normal(73, (6, 5), scale=2.0) + 1.0
    check_layernorm(student, Z, np.array([1.0, 0.5, -2.0, 3.0, 1.5]), np.array([0.0, 1.0, -1.0, 0.5, 2.0]),
                    ref.normal(74, (6, 5)), 1e-3)


@TASKS.hidden("layernorm_hidden")
def layernorm_hidden(student, rng):
    m, d = int(rng.integers(1, 30)), int(rng.integers(2, 12))
    for Z, epsilon in [(rng.normal(loc=3.0, scale=5.0, size=(m, d)), 1e-3),
                       (rng.normal(scale=1e-3, size=(m, d)), 1e-5),        # tiny spread: epsilon matters
                       (np.repeat(rng.normal(size=(m, 1)), d, axis=1), 1e-3)]:   # constant rows: variance 0
        check_layernorm(student, Z, rng.normal(size=d), rng.normal(size=d), rng.normal(size=Z.shape), epsilon)


# --- Task 3: batch normalization in inference mode, folded into the Dense layer before it ----------

def check_fold(student, X, W, b, bn, epsilon):
    """bn = (gamma, beta, moving_mean, moving_variance): the folded Dense layer gives Keras's output."""
    what = f"fold_batchnorm(W, b, gamma, beta, moving_mean, moving_variance, {epsilon:g})"
    reply = as_sequence(student.call("fold_batchnorm", W, b, *bn, epsilon), 2, what, "a pair (W, b)")
    W_new, b_new = as_array(reply[0], W.shape, "the W it returns"), as_array(reply[1], b.shape, "the b it returns")
    gamma, beta, mean, variance = bn
    right = ref.dense_then_batchnorm(X, W, b, bn, epsilon)
    with np.errstate(divide="ignore", invalid="ignore"):
        no_epsilon = ref.dense_then_batchnorm(X, W, b, bn, 0.0)
    assert_close(X @ W_new + b_new, right, "the folded layer's output on a batch",
                 "keras.layers.Dense then keras.layers.BatchNormalization (inference)", close(right), like=[
                     (no_epsilon, "leaves out epsilon: look at what Keras adds to the moving variance"),
                     (ref.dense_then_batchnorm(X, W, b, (gamma, beta, 0 * mean, variance), epsilon),
                      "forgets the moving mean: the bias must move too"),
                     (ref.dense_then_batchnorm(X, W, 0 * b, bn, epsilon) + b, "does not scale the old bias")])


def draw_fold(rng, d, h):
    """W (d, h), b (h,), and a batch-norm layer's four weights (h,) as after training."""
    return (rng.normal(size=(d, h)), rng.normal(size=h),
            (rng.normal(size=h), rng.normal(size=h), rng.normal(size=h), rng.uniform(0.1, 3.0, size=h)))


@TASKS.visible("fold_test", "Task 3: the visible tests pass.")
def fold_test(student):
    rng = np.random.default_rng(76)
    W, b, bn = draw_fold(rng, 4, 3)
    check_fold(student, rng.normal(size=(5, 4)), W, b, bn, 1e-3)


@TASKS.hidden("fold_hidden")
def fold_hidden(student, rng):
    d, h = int(rng.integers(1, 12)), int(rng.integers(1, 12))
    W, b, bn = draw_fold(rng, d, h)
    for epsilon in [1e-3, 0.5]:
        check_fold(student, rng.normal(size=(7, d)), W, b, bn, epsilon)
    gamma, beta, mean, _ = bn
    check_fold(student, rng.normal(size=(7, d)), W, b, (gamma, beta, mean, np.zeros(h)), 1e-3)   # variance 0


# --- Task 4: a network trained with L2, replayed against Keras -------------------------------------

def check_training(student, X, y, params, l2, learning_rate, steps):
    l2 = as_keras_holds(l2)
    what = f"train_l2(X, y, params, l2={l2:g}, learning_rate={learning_rate:g}, steps={steps})"
    reply = as_sequence(student.call("train_l2", X, y, params, l2, learning_rate, steps), 4, what,
                        "a list [W1, b1, W2, b2]")
    names = ["W1", "b1", "W2", "b2"]
    mine = [as_array(p, q.shape, f"{name}, the array it returns") for p, q, name in zip(reply, params, names)]
    def keras(l2, biases_too=False):
        return ref.descent(X, y, params, ["relu", "softmax"], learning_rate, steps, l2, biases_too)
    right = keras(l2)
    mistakes = [(keras(l2 / 2), "moves as if the penalty's gradient were half what it should be"),
                (keras((0.0, l2)), "moves as if only the last layer's kernel were penalized"),
                (keras(l2, biases_too=True), "moves as if the biases were penalized too")]
    for k, name in enumerate(names):
        assert_close(mine[k], right[k], f"{name} after {steps} steps",
                     "Keras (Dense layers with kernel_regularizer=L2, SGD)", close(right[k]),
                     like=[(weights[k], text) for weights, text in mistakes])


def draw_network(rng, d, h, n):
    """[W1 (d, h), b1 (h,), W2 (h, n), b2 (n,)]: Glorot uniform kernels, zero biases (Keras's start)."""
    def glorot(fan_in, fan_out):
        limit = np.sqrt(6 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, size=(fan_in, fan_out))
    return [glorot(d, h), np.zeros(h), glorot(h, n), np.zeros(n)]


@TASKS.visible("training_test", "Task 4: the visible tests pass.")
def training_test(student):
    rng = np.random.default_rng(77)
    X, y = rng.normal(size=(12, 4)), rng.integers(0, 3, size=12)
    check_training(student, X, y, draw_network(rng, 4, 5, 3), 0.01, 0.5, 3)


@TASKS.hidden("training_hidden")
def training_hidden(student, rng):
    m, d, h, n = (int(rng.integers(1, 20)), int(rng.integers(1, 8)), int(rng.integers(1, 10)),
                  int(rng.integers(2, 6)))
    X, y = rng.normal(size=(m, d)), rng.integers(0, n, size=m)
    y[0] = n - 1                                   # the last class is present
    check_training(student, X, y, draw_network(rng, d, h, n), float(rng.uniform(0, 0.1)), 0.3, 4)


# --- Task 5: an experiment: choices that reach a validation target on the digits --------------------

TARGET, MAX_STEPS, MAX_HIDDEN = 0.87, 1000, 128


def check_experiment(student, seed, rng):
    """The student's choices and train_l2, on 150 digits in disguise (pixels rotated, labels renamed,
    from rng: see core.disguise) from a Glorot start drawn from rng; 600 other digits judge."""
    what = "choose_hyperparameters()"
    hidden, l2, learning_rate, steps = as_sequence(student.call("choose_hyperparameters"), 4, what,
                                                   "four numbers (hidden, l2, learning_rate, steps)")
    hidden, steps = as_count(hidden, "hidden"), as_count(steps, "steps")
    l2, learning_rate = float(as_array(l2, (), "l2")), float(as_array(learning_rate, (), "learning_rate"))
    if not (1 <= hidden <= MAX_HIDDEN and 1 <= steps <= MAX_STEPS and l2 >= 0 and learning_rate > 0):
        raise Failed(f"{what} returned hidden={hidden}, l2={l2:g}, learning_rate={learning_rate:g}, steps={steps}: "
                     f"the budget is 1 to {MAX_HIDDEN} hidden units, 1 to {MAX_STEPS} steps, l2 >= 0 and a "
                     "positive learning rate")
    X, y, X_val, y_val = disguise(rng, *ref.digits(seed, 150, 600))
    params = draw_network(rng, 64, hidden, 10)
    reply = as_sequence(student.call("train_l2", X, y, params, l2, learning_rate, steps), 4, "train_l2",
                        "a list [W1, b1, W2, b2]")
    W1, b1, W2, b2 = [as_array(p, q.shape, "an array train_l2 returns") for p, q in zip(reply, params)]
    accuracy = float(np.mean(np.argmax(np.maximum(X_val @ W1 + b1, 0) @ W2 + b2, axis=1) == y_val))
    if accuracy < TARGET:
        raise Failed(f"trained with your choices, the network reaches a validation accuracy of {accuracy:.3f}, "
                     f"below the target {TARGET}: change one choice at a time and watch the training and "
                     "validation accuracies")


@TASKS.visible("experiment_test", "Task 5: the visible tests pass.", disguised=True)
def experiment_test(student, rng):
    check_experiment(student, 75, rng)


@TASKS.hidden("experiment_hidden")
def experiment_hidden(student, rng):
    check_experiment(student, int(rng.integers(0, 2 ** 31)), rng)


run = TASKS.run
report = TASKS.report
