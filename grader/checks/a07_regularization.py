"""The checks of assignment 7 (chapters/07_regularization/assignment_07.ipynb): dropout's forward
and backward rule, the backward pass of batch normalization in training mode (against
tf.GradientTape on keras.layers.BatchNormalization), the epoch at which EarlyStopping ends and
the epoch whose weights it restores (against Keras's own callback, run on the given history), and
an experiment: softmax regression with an L2 penalty on a small slice of the digits.

In the notebook, `tests.run("dropout_test", globals())` runs a check on the student's machine; at
grading time the grader runs the same checks in its own process, and the hidden ones draw their
inputs from `rng`, which is different for every student.
"""
import numpy as np

from .core import Failed, Tasks, as_array, as_sequence, assert_close, disguise, max_abs
from .references import keras_and_tf, normal, serialized

TASKS = Tasks(numpy_only=True)
PRELUDE = "import numpy as np"          # what the setup cell gives the student's code at grading time


# --- Task 1: dropout --------------------------------------------------------------------------------

def check_dropout(student, A, rate, U, G):
    """Forward: 0 where U < rate, A / (1 - rate) elsewhere; backward: G through the same mask and factor."""
    what = f"dropout_forward(A, {rate}, U)"
    out = as_array(student.call("dropout_forward", A, rate, U), A.shape, f"the array {what} returns")
    keep = U >= rate
    right = np.where(keep, A / (1 - rate), 0.0)
    hints = [(1 - rate, f"keeps the units unscaled in one place or scales them by (1 - rate): Keras scales "
                        f"the kept units UP, by 1 / (1 - rate) = {1 / (1 - rate):.6g}")] if rate else []
    if rate and max_abs(out - np.where(U < rate, A / (1 - rate), 0.0)) <= 1e-12 * (1 + max_abs(A)):
        raise Failed(f"{what} keeps the units with U < rate: a unit is DROPPED with probability rate, so "
                     "keep it where U >= rate")
    if rate and max_abs(out - np.where(keep, A, 0.0)) <= 1e-12 * (1 + max_abs(A)):
        raise Failed(f"{what} does not scale the kept units: Keras multiplies them by 1 / (1 - rate) = "
                     f"{1 / (1 - rate):.6g} in training, so that the expected output equals A")
    assert_close(out, right, what, "the rule (U >= rate) * A / (1 - rate)", 1e-12 * (1 + max_abs(right)), hints)
    what = f"dropout_backward(dOut, {rate}, U)"
    grad = as_array(student.call("dropout_backward", G, rate, U), G.shape, f"the array {what} returns")
    right = np.where(keep, G / (1 - rate), 0.0)
    if rate and max_abs(grad - np.where(keep, G, 0.0)) <= 1e-12 * (1 + max_abs(G)):
        raise Failed(f"{what} forgets the factor 1 / (1 - rate): the backward pass multiplies by the same "
                     "mask and factor as the forward pass")
    assert_close(grad, right, what, "the rule (U >= rate) * dOut / (1 - rate)", 1e-12 * (1 + max_abs(right)))


@TASKS.visible("dropout_test", "Task 1: the visible tests pass.")
def dropout_test(student):
    rng = np.random.default_rng(70)
    A, U, G = normal(71, (6, 5)), rng.uniform(size=(6, 5)), normal(72, (6, 5))
    check_dropout(student, A, 0.25, U, G)
    check_dropout(student, A, 0.0, U, G)                 # rate 0: the identity


@TASKS.hidden("dropout_hidden")
def dropout_hidden(student, rng):
    m, h = int(rng.integers(1, 30)), int(rng.integers(1, 30))
    for rate in [float(rng.uniform(0.05, 0.95)), 0.5, 0.9]:
        A, U, G = rng.normal(size=(m, h)), rng.uniform(size=(m, h)), rng.normal(size=(m, h))
        U[0, 0] = rate                                 # exactly at the threshold: kept (U >= rate)
        check_dropout(student, A, rate, U, G)
    # the statistics of the student's mask on many units: a fraction 1 - rate kept, the mean kept
    A, U = np.ones((200, 100)), rng.uniform(size=(200, 100))
    out = as_array(student.call("dropout_forward", A, 0.3, U), A.shape, "the array dropout_forward returns")
    if abs(out.mean() - 1.0) > 0.05:
        raise Failed(f"dropout_forward(ones, 0.3, U) has mean {out.mean():.4f}: inverted dropout keeps the "
                     "mean of its input (1 here), up to sampling noise")


# --- Task 2: the backward pass of batch normalization --------------------------------------------

@serialized
def keras_batchnorm_gradients(Z, gamma, beta, dY, epsilon):
    """dL/dZ, dL/dgamma, dL/dbeta of L = sum(BN(Z) * dY) by tf.GradientTape, training mode, float64."""
    keras, tf = keras_and_tf()
    layer = keras.layers.BatchNormalization(epsilon=epsilon, dtype="float64")
    layer.build((None, Z.shape[1]))
    layer.set_weights([gamma, beta, np.zeros(Z.shape[1]), np.ones(Z.shape[1])])
    Z = tf.Variable(Z)
    with tf.GradientTape() as tape:
        scalar = tf.reduce_sum(layer(Z, training=True) * dY)
    return [g.numpy() for g in tape.gradient(scalar, [Z, layer.gamma, layer.beta])]


def check_batchnorm(student, Z, gamma, beta, dY, epsilon):
    what = f"batchnorm_backward(Z, gamma, dY, {epsilon:g})"
    reply = as_sequence(student.call("batchnorm_backward", Z, gamma, dY, epsilon), 3, what,
                        "three arrays (dZ, dgamma, dbeta)")
    dZ = as_array(reply[0], Z.shape, "dZ, the first array it returns")
    dgamma = as_array(reply[1], gamma.shape, "dgamma, the second array it returns")
    dbeta = as_array(reply[2], gamma.shape, "dbeta, the third array it returns")
    right_dZ, right_dgamma, right_dbeta = keras_batchnorm_gradients(Z, gamma, beta, dY, epsilon)
    assert_close(dbeta, right_dbeta, "dbeta", "tf.GradientTape", 1e-10 * (1 + max_abs(right_dbeta)))
    assert_close(dgamma, right_dgamma, "dgamma", "tf.GradientTape", 1e-10 * (1 + max_abs(right_dgamma)))
    inv_std = 1 / np.sqrt(Z.var(axis=0) + epsilon)
    tol = 1e-9 * (1 + max_abs(right_dZ))
    if max_abs(dZ - dY * gamma * inv_std) <= tol and max_abs(right_dZ - dY * gamma * inv_std) > tol:
        raise Failed(f"{what}: dZ treats the batch mean and variance as constants (dZ = gamma dY / sqrt(var + "
                     "epsilon)), as at inference; in training they depend on every example of the batch, which "
                     "adds the two terms that subtract the mean of dZ_hat and its component along Z_hat")
    assert_close(dZ, right_dZ, "dZ", "tf.GradientTape on keras.layers.BatchNormalization(training=True)", tol)


@TASKS.visible("batchnorm_test", "Task 2: the visible tests pass.")
def batchnorm_test(student):
    Z = normal(73, (8, 4), scale=2.0) + 1.0
    check_batchnorm(student, Z, np.array([1.0, 0.5, -2.0, 3.0]), np.array([0.0, 1.0, -1.0, 0.5]),
                    normal(74, (8, 4)), 1e-3)


@TASKS.hidden("batchnorm_hidden")
def batchnorm_hidden(student, rng):
    m, d = int(rng.integers(2, 40)), int(rng.integers(1, 10))
    for Z, epsilon in [(rng.normal(loc=3.0, scale=5.0, size=(m, d)), 1e-3),
                       (rng.normal(scale=1e-3, size=(m, d)), 1e-5),        # tiny spread: epsilon matters
                       (rng.normal(size=(2, d)), 1e-3)]:                    # a batch of two
        check_batchnorm(student, Z, rng.normal(size=Z.shape[1]), rng.normal(size=Z.shape[1]),
                        rng.normal(size=Z.shape), epsilon)
    Z = np.repeat(rng.normal(size=(1, d)), 5, axis=0)                       # a constant feature: var 0
    check_batchnorm(student, Z, np.ones(d), np.zeros(d), rng.normal(size=Z.shape), 1e-3)


# --- Task 3: early stopping ----------------------------------------------------------------------

@serialized
def keras_early_stopping(val_losses, patience, min_delta):
    """(epochs run, best epoch), both counted from 1, when keras.callbacks.EarlyStopping(monitor="val_loss",
    patience, min_delta, restore_best_weights=True) sees the given val_loss after each epoch."""
    keras, _ = keras_and_tf()

    class Model:                       # what the callback touches: stop_training and the weights
        stop_training = False

        def get_weights(self):
            return []

        def set_weights(self, weights):
            pass

    callback = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, min_delta=min_delta,
                                             restore_best_weights=True)
    callback.set_model(Model())
    callback.on_train_begin()
    epochs = 0
    for epoch, value in enumerate(val_losses):
        epochs = epoch + 1
        callback.on_epoch_end(epoch, {"val_loss": float(value)})
        if callback.model.stop_training:
            break
    return epochs, callback.best_epoch + 1


def as_epoch(value, what):
    if isinstance(value, (int, float, np.ndarray)) and np.ndim(value) == 0 and np.isfinite(value) \
            and float(value) == round(float(value)):
        return int(value)
    raise Failed(f"{what} should be a whole number (an epoch), not {value!r}")


def check_early_stopping(student, val_losses, patience, min_delta):
    what = f"early_stopping(val_losses, patience={patience}, min_delta={min_delta:g})"
    reply = as_sequence(student.call("early_stopping", val_losses, patience, min_delta), 2, what,
                        "a pair (epochs run, best epoch)")
    epochs, best = as_epoch(reply[0], "the epochs run"), as_epoch(reply[1], "the best epoch")
    right_epochs, right_best = keras_early_stopping(val_losses, patience, min_delta)
    shown = ", ".join(f"{v:.4g}" for v in val_losses[:right_epochs + 2])
    if (epochs, best) == (right_epochs, right_best):
        return
    if epochs == right_epochs - 1 or epochs == right_epochs + 1:
        hint = (": training stops at the end of the epoch in which the number of epochs without improvement "
                "reaches patience (with patience=0, at the first epoch that does not improve, never at the "
                "first epoch)")
    elif best != right_best:
        hint = (f": an epoch improves only when its loss is below the best so far minus min_delta "
                f"({min_delta:g}); the best epoch is the last one that improved, counted from 1")
    else:
        hint = ""
    raise Failed(f"{what} returned ({epochs}, {best}), but Keras's EarlyStopping runs {right_epochs} epochs and "
                 f"restores the weights of epoch {right_best} (val_loss: {shown}, ...){hint}")


VISIBLE_HISTORY = np.array([1.0, 0.8, 0.7, 0.72, 0.69, 0.695, 0.71, 0.73, 0.74, 0.6, 0.61])


@TASKS.visible("stopping_test", "Task 3: the visible tests pass.")
def stopping_test(student):
    check_early_stopping(student, VISIBLE_HISTORY, 2, 0.0)
    check_early_stopping(student, VISIBLE_HISTORY, 0, 0.0)
    check_early_stopping(student, VISIBLE_HISTORY, 3, 0.02)


@TASKS.hidden("stopping_hidden")
def stopping_hidden(student, rng):
    n = int(rng.integers(15, 40))
    noisy = 1 / np.arange(1, n + 1) + np.linspace(0, 0.3, n) + rng.normal(scale=0.02, size=n)
    for history, patience, min_delta in [(noisy, int(rng.integers(1, 6)), 0.0), (noisy, 3, 0.01),
                                         (np.linspace(1.0, 0.1, 10), 2, 0.0),          # never stops
                                         (np.array([0.5, 0.5, 0.5, 0.5]), 1, 0.0),       # equal is no gain
                                         (np.array([0.3]), 0, 0.0)]:                     # one epoch
        check_early_stopping(student, history, patience, min_delta)


# --- Task 4: an experiment: softmax regression with L2 on the digits ------------------------------

def digits(seed, n_train=150, n_val=600):
    """(x_train, y_train, x_val, y_val): pixels / 16 (m, 64) and labels (m,) of load_digits, seeded split."""
    from sklearn.datasets import load_digits
    x, y = load_digits(return_X_y=True)
    order = np.random.default_rng(seed).permutation(len(x))
    x = x / 16.0
    return x[order[:n_train]], y[order[:n_train]], x[order[n_train:n_train + n_val]], y[order[n_train:n_train + n_val]]


TARGET = 0.88


def check_experiment(student, seed, rng):
    """train_softmax_l2 on 150 digits in disguise (pixels rotated, labels renamed, from rng: see
    core.disguise), with and without the penalty; the validation rows never enter the kernel."""
    x, y, x_val, y_val = disguise(rng, *digits(seed))
    results = {}
    for l2 in [0.0, 0.01]:
        what = f"train_softmax_l2(x_train, y_train, l2={l2})"
        reply = as_sequence(student.call("train_softmax_l2", x, y, l2), 2, what, "a pair (W, b)")
        W = as_array(reply[0], (64, 10), "W, the kernel it returns")
        b = as_array(reply[1], (10,), "b, the bias it returns")
        accuracy = float(np.mean(np.argmax(x_val @ W + b, axis=1) == y_val))
        results[l2] = (accuracy, float(np.sum(W ** 2)))
    (acc0, norm0), (acc1, norm1) = results[0.0], results[0.01]
    if not norm1 < norm0:
        raise Failed(f"with l2=0.01 the kernel's sum of squares is {norm1:.4g}, not smaller than without the "
                     f"penalty ({norm0:.4g}): add 2 * l2 * W to the kernel's gradient")
    if acc1 < TARGET:
        raise Failed(f"with l2=0.01 the validation accuracy is {acc1:.3f}; the target is {TARGET} (train "
                     f"longer or with a larger learning rate, on the x_train and y_train your function is "
                     f"given; without the penalty it is {acc0:.3f})")


@TASKS.visible("experiment_test", "Task 4: the visible tests pass.", disguised=True)
def experiment_test(student, rng):
    check_experiment(student, 75, rng)


@TASKS.hidden("experiment_hidden")
def experiment_hidden(student, rng):
    check_experiment(student, int(rng.integers(0, 2 ** 31)), rng)


run = TASKS.run
report = TASKS.report
