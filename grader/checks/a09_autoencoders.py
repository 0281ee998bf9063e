"""The checks of assignment 9 (chapters/09_autoencoders/assignment_09.ipynb): the backward pass of a
tied-weights autoencoder (against tf.GradientTape), the parameter count of a tied and an untied
symmetric autoencoder (against Keras's count_params), the masked reconstruction loss of a
recommender and its gradient (against tf.GradientTape on Keras's squared error weighted by the
mask), the top-k most similar items by cosine similarity (against the rule the task states), and
an experiment: a denoising autoencoder on held-out digits that must reach a PSNR target.

In the notebook, `tests.run("tied_test", globals())` runs a check on the student's machine; at
grading time the grader runs the same checks in its own process, and the hidden ones draw their
inputs from `rng`, which is different for every student.
"""
import numpy as np

from .core import Failed, Tasks, as_array, as_sequence, assert_close, max_abs
from . import references as ref
from .references import keras_and_tf, normal, serialized

TASKS = Tasks(numpy_only=True)
PRELUDE = "import numpy as np"          # what the setup cell gives the student's code at grading time

NOISE_STD = 0.3     # Task 5: the standard deviation of the Gaussian noise added to the digits
TARGET = 16.0       # Task 5: the PSNR (dB) the denoised held-out digits must reach
MAX_UNITS = 256     # Task 5: the widest hidden layer allowed


def sigmoid(Z):
    """The logistic function, without overflow for any Z."""
    return np.exp(-np.logaddexp(0.0, -Z))


# --- Task 1: the backward pass of a tied autoencoder -----------------------------------------------

@serialized
def keras_tied_gradients(X, W, b, c, only=None):
    """dL/dW, dL/db, dL/dc by tf.GradientTape, float64, of L = keras.losses.MeanSquaredError()(X, X_hat)
    with H = relu(X W + b) and X_hat = sigmoid(H W^T + c): the kernel W is used twice. With only=
    "encoder" or "decoder", W's other use is held constant (tf.stop_gradient): that use's share alone."""
    keras, tf = keras_and_tf()
    W, b, c = tf.Variable(W), tf.Variable(b), tf.Variable(c)
    with tf.GradientTape() as tape:
        encoder_W, decoder_W = (W if only != "decoder" else tf.stop_gradient(W),
                                W if only != "encoder" else tf.stop_gradient(W))
        H = keras.activations.relu(tf.constant(X) @ encoder_W + b)
        X_hat = keras.activations.sigmoid(H @ tf.transpose(decoder_W) + c)
        loss = keras.losses.MeanSquaredError(dtype="float64")(tf.constant(X), X_hat)
    return [g.numpy() for g in tape.gradient(loss, [W, b, c])]


def scale_hints(m, d):
    """The factors of the usual mistakes of the mean: (factor, text), for assert_close."""
    return [(m * d, f"is m * d = {m * d} times too large: Keras's mean squared error is a mean over every entry "
                    f"of X (m = {m} examples, d = {d} features)"),
            (d, f"is d = {d} times too large: Keras's mean squared error averages over the d features of each "
                "example too, not only over the examples"),
            (m, f"is m = {m} times too large: Keras's mean squared error averages over the m examples of the "
                "batch too, not only over the features"),
            (0.5, "is half of what it should be: look again at the derivative of the square")]


def check_tied(student, X, W, b, c):
    (m, d), k = X.shape, W.shape[1]
    what = f"tied_backward(X {X.shape}, W {W.shape}, b, c)"
    reply = as_sequence(student.call("tied_backward", X, W, b, c), 3, what, "three arrays (dW, db, dc)")
    right_dW, right_db, right_dc = keras_tied_gradients(X, W, b, c)
    dc = as_array(reply[2], c.shape, "dc, the third array it returns")
    assert_close(dc, right_dc, "dc", "tf.GradientTape", 1e-10 * (1 + max_abs(right_dc)), scale_hints(m, d))
    db = as_array(reply[1], b.shape, "db, the second array it returns")
    assert_close(db, right_db, "db", "tf.GradientTape", 1e-10 * (1 + max_abs(right_db)), scale_hints(m, d))
    tol = 1e-10 * (1 + max_abs(right_dW))
    transposed = (f"dW, the first array {what} returns, is transposed: dL/dW has the shape of W, (d, k) = "
                  f"{(d, k)}; the decoder uses W transposed, so its share must be transposed back")
    if d != k and isinstance(reply[0], np.ndarray) and reply[0].shape == (k, d):
        raise Failed(transposed)
    dW = as_array(reply[0], W.shape, "dW, the first array it returns")
    if d == k and max_abs(dW - right_dW) > tol and max_abs(dW - right_dW.T) <= tol:
        raise Failed(transposed)
    shares = [(keras_tied_gradients(X, W, b, c, only)[0], f"has only the {only}'s share: W is also the {other}'s "
               "kernel, and each use of a weight adds to its gradient")
              for only, other in (("encoder", "decoder"), ("decoder", "encoder"))]
    assert_close(dW, right_dW, "dW", "tf.GradientTape", tol, scale_hints(m, d), like=shares)


@TASKS.visible("tied_test", "Task 1: the visible tests pass.")
def tied_test(student):
    X = np.random.default_rng(90).uniform(size=(6, 5))
    check_tied(student, X, normal(91, (5, 3)), normal(92, (3,), 0.5), normal(93, (5,), 0.5))


@TASKS.hidden("tied_hidden")
def tied_hidden(student, rng):
    m, d, k = int(rng.integers(2, 40)), int(rng.integers(2, 30)), int(rng.integers(1, 12))
    cases = [(rng.uniform(size=(m, d)), rng.normal(size=(d, k)), rng.normal(size=k), rng.normal(size=d)),
             (rng.uniform(size=(1, d)), rng.normal(size=(d, k)), rng.normal(size=k), rng.normal(size=d)),  # one example
             (rng.uniform(size=(m, 4)), rng.normal(size=(4, 9)), rng.normal(size=9), rng.normal(size=4)),  # k > d
             (rng.uniform(size=(m, 6)), rng.normal(size=(6, 6)), rng.normal(size=6), rng.normal(size=6))]  # square W
    X, W, b, c = (a.copy() for a in cases[0])
    b[0] = -100.0                                          # a dead unit: ReLU passes no gradient through it
    cases.append((X, W, b, c))
    for X, W, b, c in cases:
        check_tied(student, X, W, b, c)


# --- Task 2: the parameter count of a symmetric autoencoder -----------------------------------------

@serialized
def keras_count(sizes, tied, biases=("encoder", "decoder")):
    """keras.Model.count_params() of the symmetric autoencoder with encoder widths sizes (input first):
    Dense layers down to the code and back up to sizes[0]; the decoder either has its own Dense layers
    or reuses the encoder's kernels, transposed, with its own biases (a tied layer, as in the lesson).
    `biases` names the halves whose layers have biases (all, for the model itself)."""
    keras, _ = keras_and_tf()

    class DenseTranspose(keras.layers.Layer):
        def __init__(self, dense, use_bias):
            super().__init__()
            self.dense, self.use_bias = dense, use_bias

        def build(self, input_shape):
            if self.use_bias:
                self.bias = self.add_weight(shape=(self.dense.kernel.shape[0],), initializer="zeros", name="bias")

        def call(self, x):
            return x @ keras.ops.transpose(self.dense.kernel) + (self.bias if self.use_bias else 0)

    with_bias = "decoder" in biases
    encoder = [keras.layers.Dense(units, use_bias="encoder" in biases) for units in sizes[1:]]
    decoder = [DenseTranspose(dense, with_bias) for dense in reversed(encoder)] if tied else \
        [keras.layers.Dense(units, use_bias=with_bias) for units in reversed(sizes[:-1])]
    model = keras.Sequential([keras.Input(shape=(sizes[0],)), *encoder, *decoder])
    return int(model.count_params())


def check_count(student, sizes, tied):
    what = f"autoencoder_params({sizes}, tied={tied})"
    got = student.call("autoencoder_params", list(sizes), tied)
    if isinstance(got, bool) or not isinstance(got, (int, float)) or not np.isfinite(got) or got != round(got):
        raise Failed(f"{what} should return a whole number (an int), not {got!r}")
    got, right = int(got), keras_count(sizes, tied)
    hints = [(tied and keras_count(sizes, False), ": that is the untied count. In a tied autoencoder the decoder's "
              "kernels are the encoder's, transposed: they are stored (and counted) once"),
             (keras_count(sizes, tied, biases=()), ": count the biases too, every layer's"),
             (keras_count(sizes, tied, biases=("encoder",)), ": count the decoder's biases too: a tied layer "
              "shares its kernel, not its bias")]
    if got != right:
        raise Failed(f"{what} returned {got}, but Keras's count_params() of that model is {right}"
                     + next((text for count, text in hints if got == count), ""))


@TASKS.visible("count_test", "Task 2: the visible tests pass.")
def count_test(student):
    for tied in (False, True):
        check_count(student, [64, 32, 8], tied)


@TASKS.hidden("count_hidden")
def count_hidden(student, rng):
    sizes = [[int(n) for n in sorted(rng.integers(2, 800, size=int(rng.integers(3, 6))), reverse=True)],
             [int(rng.integers(2, 100)), int(rng.integers(1, 10))],          # one layer each way
             [int(rng.integers(5, 50)), int(rng.integers(60, 200)), int(rng.integers(1, 5))]]  # a wide middle
    for widths in sizes:
        for tied in (False, True):
            check_count(student, widths, tied)


# --- Task 3: the masked reconstruction loss ----------------------------------------------------------

@serialized
def keras_masked(Y, Y_hat):
    """(loss, dL/dY_hat) by tf.GradientTape, float64: Keras's squared error per entry (each entry a
    sample of one value), weighted by the mask of the given entries (1, or 0 where Y is NaN), summed,
    and divided by the number of given entries."""
    keras, tf = keras_and_tf()
    given = ~np.isnan(Y)
    target = np.where(given, Y, 0.0)
    Y_hat = tf.Variable(Y_hat)
    with tf.GradientTape() as tape:
        total = keras.losses.MeanSquaredError(reduction="sum", dtype="float64")(
            tf.constant(target[..., None]), Y_hat[..., None], sample_weight=tf.constant(given * 1.0))
        loss = total / float(given.sum())
    return float(loss.numpy()), tape.gradient(loss, Y_hat).numpy()


def no_given_entry(student, Y, Y_hat, name):
    """That name(Y, Y_hat) raises a ValueError when Y has no given entry."""
    what = f"{name}(Y, Y_hat) with every entry of Y missing (NaN)"
    try:
        got = student.call(name, Y, Y_hat)
    except Failed as failure:
        if "raised ValueError" in str(failure):
            return
        if "raised FloatingPointError" in str(failure) or "raised ZeroDivisionError" in str(failure):
            raise Failed(f"{what} divides 0 by 0 ({failure}): raise a ValueError that says that no entry "
                         "is given") from None
        raise
    raise Failed(f"{what} returned {got!r}: with no given entry the mean is undefined, and the task asks for a "
                 "ValueError that says so")


def check_masked(student, Y, Y_hat):
    given = ~np.isnan(Y)
    n, size = int(given.sum()), Y.size
    right_loss, right_grad = keras_masked(Y, Y_hat)
    what = f"masked_mse(Y {Y.shape}, Y_hat) (Y has {n} given entries of {size})"
    value = student.call("masked_mse", Y, Y_hat)
    if isinstance(value, float) and np.isnan(value) or \
            isinstance(value, np.ndarray) and value.dtype.kind == "f" and np.isnan(value).any():
        raise Failed(f"{what} returned NaN: the missing ratings (NaN) got into the sum")
    loss = float(as_array(value, (), what))
    zeros = np.sum((Y_hat - np.where(given, Y, 0.0)) ** 2)
    if n < size and abs(loss - zeros / size) <= 1e-10 * (1 + zeros / size):
        raise Failed(f"{what} returned {loss:.10g}, which counts the missing ratings as ratings of 0: they are "
                     "unknown, not 0")
    hints = ([(n / size, f"is divided by all {size} entries, given or not: the mean is over the {n} given ones")]
             if n < size else [])
    assert_close(np.array(loss), np.array(right_loss), what, "the masked mean (Keras's squared error weighted "
                 "by the mask)", 1e-10 * (1 + right_loss), hints)

    what = f"masked_mse_gradient(Y {Y.shape}, Y_hat)"
    grad = student.call("masked_mse_gradient", Y, Y_hat)
    if isinstance(grad, np.ndarray) and grad.shape == Y.shape and grad.dtype.kind == "f" and np.isnan(grad).any():
        raise Failed(f"{what} contains NaN where Y is missing: does the loss depend on those entries of Y_hat?")
    grad = as_array(grad, Y.shape, f"the array {what} returns")
    tol = 1e-10 * (1 + max_abs(right_grad))
    zeros = 2 * (Y_hat - np.where(given, Y, 0.0))
    if n < size and (max_abs(grad - zeros / size) <= tol or max_abs(grad - zeros / n) <= tol):
        raise Failed(f"{what} treats the missing ratings (NaN) as ratings of 0: does the loss depend on those "
                     "entries of Y_hat?")
    hints = [(n / size, f"is divided by all {size} entries, given or not: the mean is over the {n} given ones"),
             (0.5, "is half of what it should be: look again at the derivative of the square")]
    assert_close(grad, right_grad, what, "tf.GradientTape", tol, hints if n < size else hints[1:])


def ratings(rng, m, n, density):
    """m users x n items: ratings 1 to 5 where given (a share `density`), NaN elsewhere; and
    predictions Y_hat around 3."""
    Y = rng.integers(1, 6, size=(m, n)).astype(float)
    Y[rng.uniform(size=(m, n)) > density] = np.nan
    return Y, rng.uniform(0.5, 5.5, size=(m, n))


@TASKS.visible("masked_test", "Task 3: the visible tests pass.")
def masked_test(student):
    rng = np.random.default_rng(94)
    Y, Y_hat = ratings(rng, 5, 6, 0.4)
    check_masked(student, Y, Y_hat)


@TASKS.hidden("masked_hidden")
def masked_hidden(student, rng):
    m, n = int(rng.integers(2, 50)), int(rng.integers(2, 40))
    Y, Y_hat = ratings(rng, m, n, float(rng.uniform(0.05, 0.5)))
    Y[0, 0] = 4.0                                                 # at least one given entry
    check_masked(student, Y, Y_hat)
    Y[1] = np.nan                                                 # a user who rated nothing
    Y[:, -1] = np.nan                                             # an item nobody rated
    check_masked(student, Y, Y_hat)
    single = np.full((3, 4), np.nan)
    single[1, 2] = 5.0                                            # one given entry
    check_masked(student, single, rng.uniform(0.5, 5.5, size=(3, 4)))
    full, full_hat = ratings(rng, 4, 3, 1.1)                      # nothing missing: the plain mean squared error
    check_masked(student, full, full_hat)
    empty = np.full((2, 3), np.nan)
    for name in ("masked_mse", "masked_mse_gradient"):
        no_given_entry(student, empty, rng.uniform(size=(2, 3)), name)


# --- Task 4: the top-k most similar items ------------------------------------------------------------

def similarities(E, item):
    """The cosine similarity of every row of E with row `item`; 0 where either row has norm 0."""
    norms = np.sqrt(np.sum(E * E, axis=1))
    dots = np.array([np.sum(row * E[item]) for row in E])
    s = np.zeros(len(E))
    ok = (norms > 0) & (norms[item] > 0)
    s[ok] = dots[ok] / (norms[ok] * norms[item])
    return s


def ranking(s, item, k):
    """The k items other than `item` of highest s, the lower index first on a tie."""
    return sorted((j for j in range(len(s)) if j != item), key=lambda j: (-s[j], j))[:k]


def as_indices(value, k, n, what):
    """A list of k item indices (whole numbers in [0, n))."""
    if isinstance(value, (list, tuple)):
        items = list(value)
    elif isinstance(value, np.ndarray) and value.ndim == 1:
        items = value.tolist()
    else:
        raise Failed(f"{what} should return a 1-D array (or list) of {k} item indices, not {value!r}")
    if len(items) != k:
        raise Failed(f"{what} should return {k} item indices, not {len(items)}")
    for j in items:
        if isinstance(j, bool) or not isinstance(j, (int, float)) or not np.isfinite(j) or j != round(j):
            raise Failed(f"{what} should return item indices, whole numbers, not {j!r}")
        if not 0 <= j < n:
            raise Failed(f"{what} returned the index {j!r}, outside 0 to {n - 1} (E has {n} rows, one per item)")
    return [int(j) for j in items]


ZERO_NORM = ("A row of E that is all zeros has norm 0: by the rule of the task its similarity with every "
             "item is 0 (do not divide by its norm).")
NEAR = 1e-12        # similarities this close are ties that rounding may order either way


def check_top_k(student, E, item, k):
    """top_k_similar(E, item, k) against the rule. Exact ties (items whose similarity is 0 because an
    embedding is zero) must come lower index first; near-ties that only rounding separates (an
    embedding and its copy, which matrix products may round differently) may come in either order."""
    n = len(E)
    what = f"top_k_similar(E {E.shape}, item={item}, k={k})"
    got = as_indices(student.call("top_k_similar", E, item, k, hint=ZERO_NORM), k, n, what)
    s = similarities(E, item)
    right = ranking(s, item, k)
    if got == right:
        return
    zero = np.sqrt(np.sum(E * E, axis=1)) == 0
    exact = np.ones(n, dtype=bool) if zero[item] else zero        # the items whose similarity is exactly 0
    same = item not in got and len(set(got)) == k and all(abs(s[a] - s[b]) <= NEAR for a, b in zip(got, right))
    if same and not any(a != b and exact[a] and exact[b] for a, b in zip(got, right)):
        return                                                     # only rounding-level ties differ
    def listed(items):
        text = ", ".join(f"{j} ({s[j]:.4f})" for j in items[:10])
        return text + (f", ... ({len(items)} items)" if len(items) > 10 else "")
    differ = [i for i, (a, b) in enumerate(zip(got, right)) if a != b]
    first = next((i for i in differ if exact[got[i]] and exact[right[i]]), differ[0]) if same else differ[0]
    where = f"; the first wrong rank is {first + 1}, where yours is item {got[first]}"
    hint = ""
    if item in got:
        hint = f": item {item} itself is in the list (its similarity with itself is 1); leave it out"
    elif len(set(got)) < k:
        hint = ": an item appears twice"
    elif same:
        hint = (": the similarities are right, but on a tie the lower index comes first: look at how your sort "
                "orders equal values")
    elif got == ranking(-s, item, k):
        hint = ": those are the LEAST similar items; sort the similarities in decreasing order"
    elif got == ranking(np.array([np.sum(row * E[item]) for row in E]), item, k):
        hint = (": that is the ranking by the dot product E[j] . E[item]; the cosine divides it by both norms, so "
                "that long embeddings do not win")
    raise Failed(f"{what} returned {listed(got)} (index (cosine similarity)), which are not the {k} most similar "
                 f"items{where}{hint}")


def visible_embeddings():
    """8 items with 3-D embeddings: item 5 is item 1 scaled by 2 (the same direction, a tie), item 7 is 0."""
    return np.array([[1.0, 0.0, 2.0], [2.0, 1.0, 0.0], [0.5, -1.0, 1.0], [-1.0, -2.0, 0.0],
                     [3.0, 1.0, 1.0], [4.0, 2.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]])


@TASKS.visible("topk_test", "Task 4: the visible tests pass.")
def topk_test(student):
    E = visible_embeddings()
    check_top_k(student, E, 4, 3)
    check_top_k(student, E, 0, 7)          # every other item, the zero row last but one
    check_top_k(student, normal(95, (30, 5)), 11, 5)


@TASKS.hidden("topk_hidden")
def topk_hidden(student, rng):
    n, c = int(rng.integers(12, 80)), int(rng.integers(2, 12))
    E = rng.normal(size=(n, c)) * rng.uniform(0.1, 10.0, size=(n, 1))     # lengths that differ a lot
    check_top_k(student, E, int(rng.integers(0, n)), int(rng.integers(1, 8)))
    check_top_k(student, E, 0, n - 1)                                      # every other item
    rows = rng.choice(n, size=7, replace=False)
    E[rows[3:6]] = E[rows[:3]] * np.array([[1.0], [2.0], [1.0]])           # copies and a doubled copy
    E[rows[6]] = 0.0                                                       # an item with a zero embedding
    for item in rows[:4]:
        check_top_k(student, E, int(item), int(rng.integers(3, min(n - 1, 12))))
    E[rng.choice(n, size=4, replace=False)] = 0.0                          # several zero rows: exact ties at 0
    check_top_k(student, -np.abs(E), int(rows[0]), n - 1)     # similarities >= 0: the zero rows last, in order
    check_top_k(student, E, int(rows[6]), 5)                  # the query is zero: all 0, lowest indices first


# --- Task 5: an experiment: a denoising autoencoder on the digits -----------------------------------

def digits_split(seed, m_train):
    """The digits, pixels / 16 (so in [0, 1]), shuffled by seed: m_train training rows and the rest."""
    X_train, _, X_test, _ = ref.digits(seed, m_train, 1797 - m_train)
    return X_train, X_test


def add_noise(X, std, seed):
    """X plus Gaussian noise of the given standard deviation, clipped into [0, 1]."""
    return np.clip(X + np.random.default_rng(seed).normal(scale=std, size=X.shape), 0.0, 1.0)


def psnr(X_hat, X):
    """The peak signal-to-noise ratio in dB of X_hat against X, pixels in [0, 1]: 10 log10(1 / MSE)."""
    return float(10 * np.log10(1.0 / np.mean((X_hat - X) ** 2)))


def check_experiment(student, seed, m_train, student_seed, rng):
    """train_denoiser on digits in disguise: their 64 pixels in a secret order drawn from rng (a
    fully connected network learns them as well; weights fitted to the digits themselves are
    useless). The held-out digits never enter the kernel."""
    pixels = rng.permutation(64)
    X_train, X_test = (X[:, pixels] for X in digits_split(seed, m_train))
    X_noisy = add_noise(X_test, NOISE_STD, seed + 1)
    what = f"train_denoiser(X_train {X_train.shape}, noise_std={NOISE_STD}, seed={student_seed})"
    reply = as_sequence(student.call("train_denoiser", X_train, NOISE_STD, student_seed), 4, what,
                        "a list of four arrays [W1, b1, W2, b2]")
    W1 = np.asarray(reply[0]) if isinstance(reply[0], np.ndarray) else None
    h = W1.shape[1] if W1 is not None and W1.ndim == 2 else None
    if h is None or not 1 <= h <= MAX_UNITS:
        raise Failed(f"W1, the first array {what} returns, should have shape (64, h) with h from 1 to {MAX_UNITS} "
                     f"hidden units, not {np.shape(reply[0])}")
    W1 = as_array(reply[0], (64, h), "W1, the first array it returns")
    b1 = as_array(reply[1], (h,), "b1, the second array it returns")
    W2 = as_array(reply[2], (h, 64), "W2, the third array it returns")
    b2 = as_array(reply[3], (64,), "b2, the fourth array it returns")
    with np.errstate(all="ignore"):                     # huge weights may overflow: that scores NaN, a fail
        X_hat = sigmoid(np.maximum(X_noisy @ W1 + b1, 0.0) @ W2 + b2)
        denoised, noisy = psnr(X_hat, X_test), psnr(X_noisy, X_test)
    if not denoised >= TARGET:
        raise Failed(f"the PSNR of your network's reconstructions of {len(X_test)} noisy held-out digits, against "
                     f"the clean digits, is {denoised:.2f} dB, below the target {TARGET} dB (the noisy digits "
                     f"themselves are at {noisy:.2f} dB). Train with a fresh noisy copy of each batch as the "
                     "input and the CLEAN images as the target, long enough (watch the loss on a split of "
                     "your own)")


@TASKS.visible("experiment_test", "Task 5: the visible tests pass.", disguised=True)
def experiment_test(student, rng):
    check_experiment(student, 0, 1400, 0, rng)


@TASKS.hidden("experiment_hidden")
def experiment_hidden(student, rng):
    check_experiment(student, int(rng.integers(1, 10**6)), int(rng.integers(1200, 1500)), int(rng.integers(0, 10**6)),
                     rng)


run = TASKS.run
report = TASKS.report
