"""The checks of assignment 9: a tied autoencoder's backward pass (tf.GradientTape), the parameter
count of a symmetric autoencoder (Keras's count_params), the masked loss of a recommender and its
gradient (tf.GradientTape on Keras's weighted squared error), the top-k cosine neighbours (the
task's rule), and a denoiser that must reach a PSNR on held-out digits whose pixels are shuffled.
"""
import numpy as np

from . import references as ref
from .core import Failed, Tasks, as_array, as_count, as_sequence, as_tuple, assert_close, max_abs
from .references import keras_and_tf, normal, serialized

TASKS = Tasks(numpy_only=True)
PRELUDE = "import numpy as np"
NOISE_STD, TARGET, MAX_UNITS = 0.3, 16.0, 256      # Task 5: the noise, the PSNR (dB), the widest layer


def tol(a):
    """The tolerance of float64 work on numbers as large as those of a."""
    return 1e-10 * (1 + max_abs(a))


# --- Task 1: the backward pass of a tied autoencoder ------------------------------------

@serialized
def keras_tied(X, W, b, c, only=None):
    """[dW, db, dc] of Keras's MeanSquaredError(X, sigmoid(relu(X W + b) W^T + c)), float64;
    with only="encoder" or "decoder", W's other use is held constant (its share alone)."""
    keras, tf = keras_and_tf()
    W, b, c = tf.Variable(W), tf.Variable(b), tf.Variable(c)
    with tf.GradientTape() as tape:
        W_in = tf.stop_gradient(W) if only == "decoder" else W
        W_out = tf.stop_gradient(W) if only == "encoder" else W
        H = keras.activations.relu(tf.constant(X) @ W_in + b)
        X_hat = keras.activations.sigmoid(H @ tf.transpose(W_out) + c)
        loss = keras.losses.MeanSquaredError(dtype="float64")(tf.constant(X), X_hat)
    return [g.numpy() for g in tape.gradient(loss, [W, b, c])]


def check_tied(student, X, W, b, c):
    """tied_backward(X, W, b, c) -> (dW (d, k), db (k,), dc (d,))."""
    (m, d), what = X.shape, f"of tied_backward(X {X.shape}, W {W.shape}, b, c)"
    got = as_tuple(student.call("tied_backward", X, W, b, c), 3, what[3:])
    hints = [(m * d, f"is m * d = {m * d} times too large: the loss is a mean, not a sum"),
             (d, f"is d = {d} times too large: Keras's mean squared error averages over the d features too")]
    shares = [(keras_tied(X, W, b, c, use)[0], f"has only the {use}'s share: W is also the {other}'s kernel, "
               "and each use of a weight adds to its gradient") for use, other in [("encoder", "decoder"),
                                                                                    ("decoder", "encoder")]]
    for mine, right, name, like in zip(got, keras_tied(X, W, b, c), ["dW", "db", "dc"], [shares, (), ()]):
        mine = as_array(mine, right.shape, f"{name} {what}")
        assert_close(mine, right, name, "tf.GradientTape", tol(right), hints, like)


def tied_cases(rng):
    """Random sizes, one example, k > d, k = d, and a dead unit (ReLU passes no gradient)."""
    m, d, k = rng.integers(2, 40), rng.integers(2, 30), rng.integers(1, 12)
    cases = [(rng.uniform(size=(m, d)), rng.normal(size=(d, k)), rng.normal(size=k), rng.normal(size=d))
             for m, d, k in [(m, d, k), (1, d, k), (m, 4, 9), (m, 6, 6), (m, d, k)]]
    cases[-1][2][0] -= 100
    return cases


TASKS.task("tied", 1, check_tied, [(np.random.default_rng(90).uniform(size=(6, 5)), normal(91, (5, 3)),
                                    normal(92, (3,), 0.5), normal(93, (5,), 0.5))], tied_cases)


# --- Task 2: the parameter count of a symmetric autoencoder -----------------------------

@serialized
def keras_count(sizes, tied, biases="encoder decoder"):
    """count_params() of Dense layers down sizes and back up (`biases`: the halves with biases),
    less the decoder's kernels if tied: a tied layer uses its encoder layer's, transposed."""
    keras, _ = keras_and_tf()
    half = len(sizes) - 1
    layers = [keras.layers.Dense(n, use_bias=["encoder", "decoder"][i >= half] in biases)
              for i, n in enumerate(sizes[1:] + sizes[-2::-1])]
    model = keras.Sequential([keras.Input(shape=(sizes[0],)), *layers])
    return model.count_params() - tied * sum(int(np.prod(layer.kernel.shape)) for layer in layers[half:])


def check_count(student, sizes, tied):
    """autoencoder_params(sizes, tied) -> an int."""
    what = f"autoencoder_params({sizes}, tied={tied})"
    got = as_count(student.call("autoencoder_params", list(sizes), tied), what)
    like = [(keras_count(sizes, tied, ""), "counts no biases: every layer has its own"),
            (keras_count(sizes, tied, "encoder"), "misses the decoder's biases: a tied layer shares its "
             "kernel, not its bias")] + tied * [(keras_count(sizes, False), "is the untied count: a tied "
                                                 "decoder's kernels are the encoder's, stored once")]
    assert_close(got, keras_count(sizes, tied), what, "Keras's count_params()", 0.5, like=like)


TASKS.task("count", 2, check_count, [([64, 32, 8], False), ([64, 32, 8], True)], lambda rng: [
    ([int(n) for n in sizes], tied) for sizes in [sorted(rng.integers(2, 800, size=rng.integers(3, 6)), reverse=True),
                                                  [rng.integers(2, 100), rng.integers(1, 10)],
                                                  [rng.integers(5, 50), 100, 3]] for tied in (False, True)])


# --- Task 3: the masked reconstruction loss ---------------------------------------------

@serialized
def keras_masked(Y, Y_hat):
    """(loss, dL/dY_hat): Keras's summed squared error per entry weighted by the mask of the
    given (not NaN) entries of Y, over their number; the gradient by tf.GradientTape."""
    keras, tf = keras_and_tf()
    given = ~np.isnan(Y)
    Y_hat = tf.Variable(Y_hat)
    with tf.GradientTape() as tape:
        total = keras.losses.MeanSquaredError(reduction="sum", dtype="float64")(
            np.where(given, Y, 0.0)[..., None], Y_hat[..., None], sample_weight=given * 1.0)
        loss = total / given.sum()
    return loss.numpy(), tape.gradient(loss, Y_hat).numpy()


def check_masked(student, Y, Y_hat):
    """masked_mse(Y, Y_hat) -> a number, masked_mse_gradient(Y, Y_hat) -> an array like Y."""
    n, size = int(np.sum(~np.isnan(Y))), Y.size
    loss, grad = keras_masked(Y, Y_hat)
    zeros = Y_hat - np.where(np.isnan(Y), 0.0, Y)                   # the missing ratings taken as 0
    for name, right, by_0 in [("masked_mse", loss, [np.mean(zeros ** 2)]),
                              ("masked_mse_gradient", grad, [2 * zeros / size, 2 * zeros / n])]:
        what = f"{name}(Y {Y.shape}, Y_hat) (Y has {n} given entries of {size})"
        got = as_array(student.call(name, Y, Y_hat), np.shape(right), what)
        like = [(a, "counts the missing ratings as ratings of 0: they are unknown, not 0") for a in by_0 * (n < size)]
        assert_close(got, right, what, "the masked mean of Keras's squared error", tol(right), like=like,
                     hints=[(n / size, f"is divided by all {size} entries, given or not")] * (n < size))


def check_empty(student, name, Y_hat):
    """name(Y, Y_hat) raises a ValueError when no entry of Y is given."""
    try:
        got = student.call(name, np.full(Y_hat.shape, np.nan), Y_hat)
    except Failed as failure:
        if "raised ValueError" in str(failure):
            return
        got = failure
    raise Failed(f"{name}(Y, Y_hat) with no given entry in Y gave {got}: raise a ValueError that says that "
                 "no entry is given")


def ratings(rng, m, n, density):
    """Ratings (m, n) from 1 to 5, a share `density` given and NaN elsewhere; Y_hat (m, n)."""
    Y = rng.integers(1, 6, size=(m, n)).astype(float)
    Y[rng.uniform(size=(m, n)) > density] = np.nan
    return Y, rng.uniform(0.5, 5.5, size=(m, n))


@TASKS.visible("masked_test", "Task 3: the visible tests pass.")
def masked_test(student):
    check_masked(student, *ratings(np.random.default_rng(94), 5, 6, 0.4))


@TASKS.hidden("masked_hidden")
def masked_hidden(student, rng):
    Y, Y_hat = ratings(rng, rng.integers(2, 50), rng.integers(2, 40), rng.uniform(0.05, 0.5))
    Y[0, 0] = 4.0
    check_masked(student, Y, Y_hat)
    Y[1], Y[:, -1] = np.nan, np.nan                     # a user who rated nothing, an item nobody rated
    check_masked(student, Y, Y_hat)
    check_masked(student, np.where(np.arange(12).reshape(3, 4) == 6, 5.0, np.nan), rng.uniform(size=(3, 4)))
    check_masked(student, *ratings(rng, 4, 3, 1.1))    # nothing missing
    check_empty(student, "masked_mse", rng.uniform(size=(2, 3)))
    check_empty(student, "masked_mse_gradient", rng.uniform(size=(2, 3)))


# --- Task 4: the top-k most similar items -----------------------------------------------

def ranking(s, item, k):
    """The k items other than `item` of highest s, the lower index first on a tie."""
    return sorted((j for j in range(len(s)) if j != item), key=lambda j: (-s[j], j))[:k]


def check_top_k(student, E, item, k):
    """top_k_similar(E, item, k) -> k indices. Near-ties that only rounding separates (a copy of
    an embedding) may come in either order; exact ties (similarity 0 by a zero row) may not."""
    what = f"top_k_similar(E {E.shape}, item={item}, k={k})"
    got = as_array(student.call("top_k_similar", E, item, k, hint="A zero row has similarity 0."), (k,), what)
    if np.any(got != np.round(got)) or np.any(got < 0) or np.any(got >= len(E)):
        raise Failed(f"{what} should return {k} item indices, whole numbers from 0 to {len(E) - 1}")
    got, norms = got.astype(int).tolist(), np.linalg.norm(E, axis=1)
    s = np.where(norms * norms[item] > 0, E @ E[item] / np.maximum(norms * norms[item], 1e-300), 0.0)
    right, exact = ranking(s, item, k), (norms == 0) | (norms[item] == 0)
    tie = item not in got and len(set(got)) == k and max_abs(s[got] - s[right]) <= 1e-12
    differ = [i for i, (a, b) in enumerate(zip(got, right)) if a != b and not (tie and not exact[a] * exact[b])]
    if not differ:
        return
    text = f"is wrong from rank {differ[0] + 1} on, where yours is item {got[differ[0]]}"
    if tie:
        text = "has the right similarities, but on a tie the lower index comes first"
    elif got == ranking(E @ E[item], item, k):
        text = "is the ranking by the dot product: the cosine divides by both norms"
    elif item in got:
        text = f"holds item {item} itself: leave it out"
    raise Failed(f"the list of {what} {text}")


@TASKS.visible("topk_test", "Task 4: the visible tests pass.")
def topk_test(student):
    E = np.array([[1.0, 0.0, 2.0], [2.0, 1.0, 0.0], [0.5, -1.0, 1.0], [-1.0, -2.0, 0.0],
                  [3.0, 1.0, 1.0], [4.0, 2.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]])   # 5 = 2 x 1; 7 is 0
    check_top_k(student, E, 4, 3)
    check_top_k(student, E, 0, 7)
    check_top_k(student, normal(95, (30, 5)), 11, 5)


@TASKS.hidden("topk_hidden")
def topk_hidden(student, rng):
    n, c = int(rng.integers(12, 80)), int(rng.integers(2, 12))
    E = rng.normal(size=(n, c)) * rng.uniform(0.1, 10.0, size=(n, 1))     # lengths that differ a lot
    check_top_k(student, E, int(rng.integers(0, n)), int(rng.integers(1, 8)))
    check_top_k(student, E, 0, n - 1)
    rows = rng.choice(n, size=7, replace=False)
    E[rows[3:6]] = E[rows[:3]] * np.array([[1.0], [2.0], [1.0]])           # copies and a doubled copy
    E[rows[6]] = 0.0
    for item in rows[:4]:
        check_top_k(student, E, int(item), int(rng.integers(3, min(n - 1, 12))))
    E[rng.choice(n, size=4, replace=False)] = 0.0                          # exact ties at 0
    check_top_k(student, -np.abs(E), int(rows[0]), n - 1)
    check_top_k(student, E, int(rows[6]), 5)                               # the query is zero


# --- Task 5: a denoising autoencoder on the digits --------------------------------------

def check_experiment(student, seed, m_train, student_seed, rng):
    """train_denoiser on digits whose pixels are in a secret order drawn from rng, scored on
    held-out digits that never enter the kernel."""
    pixels = rng.permutation(64)
    X_train, _, X_test, _ = ref.digits(seed, m_train, 1797 - m_train)
    X_train, X_test = X_train[:, pixels], X_test[:, pixels]
    noisy = np.clip(X_test + np.random.default_rng(seed + 1).normal(scale=NOISE_STD, size=X_test.shape), 0, 1)
    what = f"train_denoiser(X_train {X_train.shape}, noise_std={NOISE_STD}, seed={student_seed})"
    params = as_sequence(student.call("train_denoiser", X_train, NOISE_STD, student_seed), 4, what,
                         "a list [W1, b1, W2, b2]")
    h = np.shape(params[0])[-1] if np.ndim(params[0]) == 2 else 0
    if not 1 <= h <= MAX_UNITS:
        raise Failed(f"W1 of {what} should have shape (64, h), h from 1 to {MAX_UNITS}")
    W1, b1, W2, b2 = (as_array(p, shape, f"{name} of {what}") for p, shape, name in
                      zip(params, [(64, h), (h,), (h, 64), (64,)], ["W1", "b1", "W2", "b2"]))
    with np.errstate(all="ignore"):                     # huge weights may overflow: that scores NaN, a fail
        X_hat = np.exp(-np.logaddexp(0, -(np.maximum(noisy @ W1 + b1, 0) @ W2 + b2)))
        denoised, before = (10 * np.log10(1 / np.mean((X - X_test) ** 2)) for X in (X_hat, noisy))
    if not denoised >= TARGET:
        raise Failed(f"the PSNR of your network's reconstructions of {len(X_test)} noisy held-out digits is "
                     f"{denoised:.2f} dB, below the target {TARGET} dB (the noisy digits: {before:.2f} dB). Train "
                     "with a fresh noisy copy of each batch as the input and the CLEAN images as the target, "
                     "long enough (watch the loss on a split of your own)")


@TASKS.visible("experiment_test", "Task 5: the visible tests pass.", disguised=True)
def experiment_test(student, rng):
    check_experiment(student, 0, 1400, 0, rng)


@TASKS.hidden("experiment_hidden")
def experiment_hidden(student, rng):
    seed, m_train, student_seed = rng.integers(1, 10 ** 6), rng.integers(1200, 1500), rng.integers(0, 10 ** 6)
    check_experiment(student, int(seed), int(m_train), int(student_seed), rng)


run = TASKS.run
report = TASKS.report
