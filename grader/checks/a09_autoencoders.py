"""Assignment 9's checks: tied gradients, a count, a masked loss, cosine neighbours, a denoiser."""
import numpy as np

from .core import Failed, Tasks, as_array, as_arrays, as_items, assert_close, expect, flat, max_abs
from .references import digits, keras_and_tf, normal, serialized

TASKS = Tasks(numpy_only=True)


@serialized
def keras_tied(X, W, b, c, only=None):
    """flat(dW, db, dc) by tf.GradientTape (`only`: W's "encoder" or "decoder" use alone)."""
    keras, tf = keras_and_tf()
    W, b, c = map(tf.Variable, (W, b, c))
    with tf.GradientTape() as tape:
        W_in, W_out = (tf.stop_gradient(W) if only == use else W for use in ("decoder", "encoder"))
        H = keras.activations.relu(tf.constant(X) @ W_in + b)
        X_hat = keras.activations.sigmoid(H @ tf.transpose(W_out) + c)
        loss = keras.losses.MeanSquaredError(dtype="float64")(X, X_hat)
    return flat(*tape.gradient(loss, [W, b, c]))


def check_tied(student, X, W, b, c):
    """tied_backward(X, W, b, c) -> (dW (d, k), db (k,), dc (d,))."""
    d, what = X.shape[1], f"tied_backward(X {X.shape}, W {W.shape}, b, c)"
    got = as_arrays(student.call("tied_backward", X, W, b, c), [W.shape, b.shape, c.shape], what, "dW db dc".split())
    right = keras_tied(X, W, b, c)
    assert_close(flat(*got), right, what, "tf.GradientTape", 1e-10 * (1 + max_abs(right)), [
        (d, f"is d = {d} times too large: the mean is over the d features too")], [
        (keras_tied(X, W, b, c, use), f"has only the {use}'s share of dW: W is also the {other}'s kernel")
        for use, other in [("encoder", "decoder"), ("decoder", "encoder")]])


@serialized
def keras_count(sizes, tied):
    """(count, untied count): count_params() of Dense layers down sizes and back up."""
    keras, _ = keras_and_tf()
    layers = [keras.layers.Dense(n) for n in sizes[1:] + sizes[-2::-1]]
    untied = keras.Sequential([keras.Input(shape=(sizes[0],)), *layers]).count_params()
    return untied - tied * sum(np.size(layer.kernel) for layer in layers[len(sizes) - 1:]), untied


def check_count(student, sizes, tied):
    right, untied = keras_count(sizes, tied)
    expect(student, "autoencoder_params", (sizes, tied), right, "count_params()", 0, [
        (right - sum(sizes[1:]) - sum(sizes[:-1]), "counts no biases: every layer has its own"),
        (right - sum(sizes[:-1]), "misses the decoder's biases: tying shares kernels only"),
        (untied, "is the untied count: a tied decoder's kernels are the encoder's")][:2 + tied],
        what=f"autoencoder_params({sizes}, tied={tied})")


@serialized
def keras_masked(Y, Y_hat):
    """(loss, dL/dY_hat) by tf.GradientTape: Keras's squared error over Y's given entries."""
    keras, tf = keras_and_tf()
    given, Y_hat = ~np.isnan(Y), tf.Variable(Y_hat)
    with tf.GradientTape() as tape:
        loss = keras.losses.MeanSquaredError(reduction="sum", dtype="float64")(
            np.nan_to_num(Y)[..., None], Y_hat[..., None], given * 1.0) / given.sum()
    return loss.numpy(), tape.gradient(loss, Y_hat).numpy()


def check_masked(student, Y, Y_hat):
    """masked_mse -> a number, masked_mse_gradient -> like Y_hat; a ValueError if none is given."""
    n, size = int(np.sum(~np.isnan(Y))), Y.size
    rights = keras_masked(Y, Y_hat) if n else (np.nan, np.nan)
    zeros = keras_masked(np.nan_to_num(Y), Y_hat)
    for name, right, zero in zip(["masked_mse", "masked_mse_gradient"], rights, zeros):
        what = f"{name}(Y {Y.shape}, Y_hat) with {n} of {size} entries given"
        try:    # none given: any answer fails (NaN)
            expect(student, name, (Y, Y_hat), right, "Keras's", 1e-10 * (1 + max_abs(right)),
                   [(zero, "counts missing ratings as 0s: they are unknown")],
                   [(n / size, f"is divided by all {size} entries, given or not")], what=what)
        except Failed as failure:
            if n:
                raise
            if "raised ValueError" not in str(failure):
                raise Failed(f"{what} should raise a ValueError") from None


def ratings(rng, m, n, density):
    """Y (m, n): ratings 1 to 5, a share `density` given (NaN elsewhere); and Y_hat."""
    Y = rng.integers(1, 6, size=(m, n)).astype(float)
    Y[rng.uniform(size=(m, n)) > density] = np.nan
    return Y, rng.uniform(0.5, 5.5, size=(m, n))


def masked_cases(rng):
    """A user and an item without ratings; all given; none; one of two."""
    Y, Y_hat = ratings(rng, rng.integers(2, 50), rng.integers(2, 40), rng.uniform(0.05, 0.5))
    Y[0, 0], Y[1], Y[:, -1] = 4.0, np.nan, np.nan
    return [(Y, Y_hat), ratings(rng, 4, 3, 1.1), (Y[1:2], Y_hat[1:2]), (Y[:2, :1], Y_hat[:2, :1])]


def check_top_k(student, E, item, k):
    """top_k_similar(E, item, k) -> k indices; near-ties (copies) in any order, exact ones (0) not."""
    def ranking(s):    # lower index first on ties
        return [j for j in np.argsort(-s, kind="stable") if j != item][:k]
    what = f"top_k_similar(E {E.shape}, item={item}, k={k})"
    got = as_array(student.call("top_k_similar", E, item, k, hint="A zero row has similarity 0."), (k,), what)
    if not np.isin(got, range(len(E))).all():
        raise Failed(f"{what} should return {k} indices from 0 to {len(E) - 1}")
    got = got.astype(int).tolist()
    norms = np.linalg.norm(E, axis=1)
    s = E @ E[item] / np.maximum(norms * norms[item], 1e-300)  # 0 for a zero row
    right, exact = ranking(s), (norms == 0) | (norms[item] == 0)
    tie = item not in got and len(set(got)) == k and max_abs(s[got] - s[right]) <= 1e-12
    if tie and [j for j in got if exact[j]] == [j for j in right if exact[j]]:
        return
    text = "differs from the ranking by cosine similarity"
    if tie:
        text = "orders a tie wrongly: the lower index comes first"
    elif got == ranking(E @ E[item]):
        text = "is the ranking by dot product: the cosine divides by both norms"
    elif item in got:
        text = f"holds item {item} itself: leave it out"
    raise Failed(f"the list of {what} {text}")


def topk_cases(rng):
    """Lengths that differ a lot; copies (one doubled); a zero row, also the item."""
    n, c = rng.integers([12, 2], [80, 12]).tolist()
    E = rng.normal(size=(n, c)) * 10 ** rng.uniform(-1, 1, (n, 1))
    rows = rng.choice(n, 7, False)
    E[rows[3:6]], E[rows[6]] = E[rows[:3]] * [[1], [2], [1]], 0.0
    return [(E, int(item), int(rng.integers(1, min(n - 1, 12)))) for item in rows[:4]] + [
        (E, 0, n - 1), (-abs(E), int(rows[0]), n - 1), (E, int(rows[6]), 5)]


def check_experiment(student, rng, seed, m, student_seed):
    """train_denoiser on digits, pixels shuffled by rng; scored on held-out ones."""
    pixels = rng.permutation(64)
    X_train, X_test = (x[:, pixels] for x in digits(seed, m, 1797 - m)[::2])
    noisy = np.clip(X_test + normal(seed + 1, X_test.shape, 0.3), 0, 1)
    params = as_items(student.call("train_denoiser", X_train, 0.3, student_seed), 4, "train_denoiser")
    h = min(np.size(params[1]), 256)    # b1's size (at most 256)
    W1, b1, W2, b2 = as_arrays(params, [(64, h), (h,), (h, 64), (64,)], "train_denoiser", "W1 b1 W2 b2".split())
    with np.errstate(all="ignore"):  # an overflow: NaN, a fail
        X_hat = np.exp(-np.logaddexp(0, -(np.maximum(noisy @ W1 + b1, 0) @ W2 + b2)))
        psnr = 10 * np.log10(1 / np.mean((X_hat - X_test) ** 2))
    if not psnr >= 16:
        raise Failed(f"your denoised held-out digits reach {psnr:.2f} dB PSNR, below the target 16.0 dB: "
                     "train longer, on fresh noise each batch, towards the clean batch")


TASKS.task("tied", 1, check_tied, [
    (np.random.default_rng(90).uniform(size=(6, 5)), normal(91, (5, 3)), normal(92, 3, 0.5), normal(93, 5, 0.5))
], lambda rng: [    # unit 0 dead; random, one example, k > d, k = d
    (rng.uniform(size=(m, d)), rng.normal(size=(d, k)), np.r_[-100, rng.normal(size=k - 1)], rng.normal(size=d))
    for m, d, k in [rng.integers(2, 40, 3), (1, 7, 3), (9, 4, 6), (8, 5, 5)]])
TASKS.task("count", 2, check_count, [([64, 32, 8], False), ([64, 32, 8], True)], lambda rng: [
    (rng.integers(1, 800, rng.integers(2, 6)).tolist(), tied) for tied in (False, True) for _ in range(3)])
TASKS.task("masked", 3, check_masked, [ratings(np.random.default_rng(94), 5, 6, 0.4)], masked_cases)
E8 = np.array([[1, 0, 2], [2, 1, 0], [0.5, -1, 1], [-1, -2, 0], [3, 1, 1], [4, 2, 0], [0, 0, 1], [0, 0, 0]])
TASKS.task("topk", 4, check_top_k, [(E8, 4, 3), (E8, 0, 7), (normal(95, (30, 5)), 11, 5)], topk_cases)
TASKS.task("experiment", 5, check_experiment, lambda rng: [(rng, 0, 1400, 0)],
           lambda rng: [(rng, *rng.integers([1, 1200, 0], [10 ** 6, 1500, 10 ** 6]).tolist())])

run = TASKS.run
report = TASKS.report
