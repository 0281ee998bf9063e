"""Assignment 7's checks, against Keras and tf.GradientTape; each draws its inputs from a generator."""
import numpy as np

from . import references as ref
from .core import Failed, Tasks, as_arrays, assert_close, disguise, expect_trained, flat, max_abs, seeded

TASKS = Tasks(numpy_only=True)


def near(actual, expected, what, against, like=()):
    """assert_close with the tolerance of float64 work on numbers as large as expected."""
    assert_close(actual, expected, what, against, 1e-10 * (1 + max_abs(expected)), like=like)


def penalty(student, rng):
    """l1l2_penalty(W, l1, l2) -> (penalty, gradient); l1, l2 float32s as Keras holds them."""
    shape = rng.integers(2, 20, size=2)
    W = np.where(rng.random(shape) < 0.2, 0.0, rng.normal(size=shape))
    for W, l1, l2 in [(W, rng.uniform(), rng.uniform()), (W, 0.0, 0.5), (W, 0.3, 0.0), (0 * W, 0.1, 0.1)]:
        l1, l2 = float(np.float32(l1)), float(np.float32(l2))
        value, grad = as_arrays(student.call("l1l2_penalty", W, l1, l2), [(), W.shape], "l1l2_penalty")
        right_value, right_grad = ref.l1l2_penalty(W, l1, l2)
        near(value, right_value, "the penalty", "Keras's L1L2", like=[
            (right_value / W.size, "is an average over the weights: Keras's is a sum")])
        near(grad, right_grad, "the gradient", "tf.GradientTape", like=[
            (ref.l1l2_penalty(W, l1, l2 / 2)[1], "has an L2 part half what it should be: derive the square"),
            (right_grad + l1 * (W == 0), "differs only where a weight is 0: what is TensorFlow's there?")])


def layernorm(student, rng):
    """layernorm_backward(Z, gamma, dY, epsilon) -> (dZ, dgamma, dbeta)."""
    m, d = rng.integers(2, [30, 12])
    for Z, epsilon in [(rng.normal(loc=3.0, scale=5.0, size=(m, d)), 1e-3),
                       (rng.normal(scale=1e-3, size=(m, d)), 1e-5),  # epsilon matters
                       (np.repeat(rng.normal(size=(m, 1)), d, axis=1), 1e-3)]:  # variance 0
        gamma, beta, dY = *rng.normal(size=(2, d)), rng.normal(size=Z.shape)
        dZ, *mine = as_arrays(student.call("layernorm_backward", Z, gamma, dY, epsilon), [Z.shape, (d,), (d,)],
                              "layernorm_backward")
        right_dZ, *right = ref.normalization_gradients("LayerNormalization", Z, gamma, beta, dY, epsilon)
        near(dZ, right_dZ, "dZ", "tf.GradientTape", like=[
            (dY * gamma / np.sqrt(Z.var(axis=1, keepdims=True) + epsilon),
             "treats each example's mean and variance as constants"),
            (ref.normalization_gradients("BatchNormalization", Z, gamma, beta, dY, epsilon)[0],
             "takes the statistics over the batch (axis 0), as batch normalization does")])
        near(flat(*mine), flat(*right), "(dgamma, dbeta)", "tf.GradientTape")


def fold(student, rng):
    """fold_batchnorm(W, b, gamma, beta, mean, variance, epsilon) -> (W, b)."""
    d, h = rng.integers(1, 12, size=2)
    W, b, bn = rng.normal(size=(d, h)), rng.normal(size=h), [*rng.normal(size=(3, h)), rng.uniform(0.1, 3, h)]
    for variance, epsilon in [(bn[3], 1e-3), (bn[3], 0.5), (0 * bn[3], 1e-3)]:
        X, moments = rng.normal(size=(7, d)), (*bn[:3], variance)
        W_new, b_new = as_arrays(student.call("fold_batchnorm", W, b, *moments, epsilon), [W.shape, b.shape],
                                 "fold_batchnorm")
        near(X @ W_new + b_new, ref.dense_then_batchnorm(X, W, b, moments, epsilon), "the folded layer's output",
             "Keras's layers", like=[
                 (ref.dense_then_batchnorm(X, W, b, moments, 1e-300),
                  "leaves out epsilon: what does Keras add to the moving variance?"),
                 (ref.dense_then_batchnorm(X, W, b, (*bn[:2], 0 * bn[2], variance), epsilon),
                  "forgets the moving mean: the bias must move too"),
                 (ref.dense_then_batchnorm(X, W, 0 * b, moments, epsilon) + b, "does not scale the old bias")])


def draw_network(rng, d, h, n):
    """[W1 (d, h), b1, W2 (h, n), b2] as Keras starts them: Glorot uniform, zeros."""
    a, c = np.sqrt(6 / (d + h)), np.sqrt(6 / (h + n))
    return [rng.uniform(-a, a, (d, h)), np.zeros(h), rng.uniform(-c, c, (h, n)), np.zeros(n)]


def training(student, rng):
    """train_l2(X, y, params, l2, learning_rate, steps), step for step as Keras."""
    m, d, h, n = rng.integers([2, 1, 1, 2], [20, 8, 10, 6])
    X, y = rng.normal(size=(m, d)), np.append(rng.integers(0, n, m - 1), n - 1)  # the last class is present
    params, l2 = draw_network(rng, d, h, n), float(np.float32(rng.uniform(0.01, 0.1)))
    def keras(rate, steps, l2=l2, biases_too=False):
        return flat(*ref.descent(X, y, params, ["relu", "softmax"], rate, steps, l2, biases_too))
    expect_trained(student, "train_l2", (X, y, params, l2, 0.5, 3), [p.shape for p in params], keras, 0.5, 3,
                   "Keras's SGD", 1e-10, lambda: [
                       (keras(0.5, 3, l2 / 2), "moves as if the penalty's gradient were half what it should be"),
                       (keras(0.5, 3, (0.0, l2)), "moves as if only the last layer's kernel were penalized"),
                       (keras(0.5, 3, l2, True), "moves as if the biases were penalized too")])


def experiment(student, rng, seed):
    """The student's choices and train_l2 on 150 digits in disguise; 600 others judge."""
    hidden, l2, learning_rate, steps = as_arrays(student.call("choose_hyperparameters"), [()] * 4, "your choices")
    if not (hidden in range(1, 129) and steps in range(1, 1001) and l2 >= 0 and learning_rate > 0):
        raise Failed("choose_hyperparameters(): the budget is 1 to 128 hidden units, 1 to 1000 steps, l2 >= 0, "
                     "learning_rate > 0")
    X, y, X_val, y_val = disguise(rng, *ref.digits(seed, 150, 600))
    params = draw_network(rng, 64, int(hidden), 10)
    W1, b1, W2, b2 = as_arrays(student.call("train_l2", X, y, params, float(l2), float(learning_rate), int(steps)),
                               [p.shape for p in params], "train_l2")
    accuracy = np.mean(np.argmax(np.maximum(X_val @ W1 + b1, 0) @ W2 + b2, axis=1) == y_val)
    if accuracy < 0.87:
        raise Failed(f"your choices reach a validation accuracy of {accuracy:.3f}, below the target 0.87: change "
                     "one at a time")


TASKS.task("penalty", 1, penalty, *seeded(70))
TASKS.task("layernorm", 2, layernorm, *seeded(73))
TASKS.task("fold", 3, fold, *seeded(76))
TASKS.task("training", 4, training, *seeded(77))
TASKS.task("experiment", 5, experiment, lambda rng: [(rng, 75)], lambda rng: [(rng, int(rng.integers(0, 2 ** 31)))])

run = TASKS.run
report = TASKS.report
