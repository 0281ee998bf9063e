"""Assignment 9's checks: tied gradients, parameter count, masked loss, top-k cosine neighbours, a denoiser."""
import functools

import numpy as np

from .core import Failed, Tasks, as_array, as_count, as_sequence, as_tuple, assert_close, flat, max_abs
from .references import digits, keras_and_tf, normal, serialized

TASKS = Tasks(numpy_only=True)
PRELUDE = "import numpy as np"
NOISE_STD, TARGET, MAX_UNITS = 0.3, 16.0, 256  # Task 5: noise, PSNR (dB), width


@serialized
def keras_tied(X, W, b, c, only=None):
    """flat(dW, db, dc) of Keras's MeanSquaredError(X, sigmoid(relu(X W + b) W^T + c)); only="encoder"
    or "decoder" holds W's other use constant."""
    keras, tf = keras_and_tf()
    W, b, c = tf.Variable(W), tf.Variable(b), tf.Variable(c)
    with tf.GradientTape() as tape:
        W_in, W_out = (tf.stop_gradient(W) if only == use else W for use in ("decoder", "encoder"))
        H = keras.activations.relu(tf.constant(X) @ W_in + b)
        X_hat = keras.activations.sigmoid(H @ tf.transpose(W_out) + c)
        loss = keras.losses.MeanSquaredError(dtype="float64")(tf.constant(X), X_hat)
    return flat(*[g.numpy() for g in tape.gradient(loss, [W, b, c])])


def check_tied(student, X, W, b, c):
    """tied_backward(X, W, b, c) -> (dW (d, k), db (k,), dc (d,))."""
    (m, d), call = X.shape, f"tied_backward(X {X.shape}, W {W.shape}, b, c)"
    got = as_tuple(student.call("tied_backward", X, W, b, c), 3, call)
    got = flat(*[as_array(g, np.shape(a), f"{n} of {call}") for g, a, n in zip(got, (W, b, c), ["dW", "db", "dc"])])
    hints = [(m * d, f"is m * d = {m * d} times too large: the loss is a mean, not a sum"),
             (d, f"is d = {d} times too large: the mean is over the d features too")]
    like = [(keras_tied(X, W, b, c, use), f"has only the {use}'s share of dW: W is also the {other}'s kernel")
            for use, other in [("encoder", "decoder"), ("decoder", "encoder")]]
    right = keras_tied(X, W, b, c)
    assert_close(got, right, f"(dW, db, dc) of {call}", "tf.GradientTape", 1e-10 * (1 + max_abs(right)), hints, like)


def tied_cases(rng):
    """Random sizes, one example, k > d, k = d, a dead ReLU unit."""
    m, d, k = rng.integers(2, 40), rng.integers(2, 30), rng.integers(1, 12)
    cases = [(rng.uniform(size=(m, d)), rng.normal(size=(d, k)), rng.normal(size=k), rng.normal(size=d))
             for m, d, k in [(m, d, k), (1, d, k), (m, 4, 9), (m, 6, 6), (m, d, k)]]
    cases[-1][2][0] -= 100
    return cases


TASKS.task("tied", 1, check_tied, [
    (np.random.default_rng(90).uniform(size=(6, 5)), normal(91, (5, 3)), normal(92, 3, 0.5), normal(93, 5, 0.5))
], tied_cases)


@serialized
def keras_count(sizes, tied, biases=2):
    """count_params() of Dense layers down sizes and back up (biases in `biases` halves), less the tied
    decoder's kernels."""
    keras, _ = keras_and_tf()
    half = len(sizes) - 1
    layers = [keras.layers.Dense(n, use_bias=biases > (i >= half))
              for i, n in enumerate(sizes[1:] + sizes[-2::-1])]
    model = keras.Sequential([keras.Input(shape=(sizes[0],)), *layers])
    return model.count_params() - tied * sum(int(np.prod(layer.kernel.shape)) for layer in layers[half:])


def check_count(student, sizes, tied):
    """autoencoder_params(sizes, tied) -> an int."""
    what = f"autoencoder_params({sizes}, tied={tied})"
    got = as_count(student.call("autoencoder_params", list(sizes), tied), what)
    like = [(keras_count(sizes, tied, 0), "counts no biases: every layer has its own"),
            (keras_count(sizes, tied, 1), "misses the decoder's biases: tied layers share only kernels"),
            (keras_count(sizes, False), "is the untied count: a tied decoder's kernels are the encoder's")]
    assert_close(got, keras_count(sizes, tied), what, "Keras's count_params()", 0.5, like=like[:2 + tied])


TASKS.task("count", 2, check_count, [([64, 32, 8], False), ([64, 32, 8], True)], lambda rng: [
    (sizes, tied) for sizes in [sorted(rng.integers(2, 800, rng.integers(3, 6)).tolist())[::-1],
                                rng.integers([2, 1], [100, 10]).tolist(), [int(rng.integers(5, 50)), 100, 3]]
    for tied in (False, True)])


@serialized
def keras_masked(Y, Y_hat):
    """(loss, dL/dY_hat): Keras's squared error summed over the given (not NaN) entries, over their count."""
    keras, tf = keras_and_tf()
    given, Y_hat = ~np.isnan(Y), tf.Variable(Y_hat)
    with tf.GradientTape() as tape:
        total = keras.losses.MeanSquaredError(reduction="sum", dtype="float64")(
            np.nan_to_num(Y)[..., None], Y_hat[..., None], given * 1.0)
        loss = total / given.sum()
    return loss.numpy(), tape.gradient(loss, Y_hat).numpy()


def check_masked(student, Y, Y_hat):
    """masked_mse(Y, Y_hat) -> a number, masked_mse_gradient -> like Y; ValueError if Y is all NaN."""
    n, size = int(np.sum(~np.isnan(Y))), Y.size
    zeros = Y_hat - np.nan_to_num(Y)  # the missing ratings taken as 0
    for name, right, by_0 in zip(["masked_mse", "masked_mse_gradient"], keras_masked(Y, Y_hat) if n else [0, 0],
                                 [[np.mean(zeros ** 2)], [2 * zeros / size, 2 * zeros / max(n, 1)]]):
        what = f"{name}(Y {Y.shape}, Y_hat) with {n} of {size} entries given"
        if not n:
            try:
                student.call(name, Y, Y_hat)
            except Failed as failure:
                if "raised ValueError" in str(failure):
                    continue
            raise Failed(f"{what} should raise a ValueError")
        got = as_array(student.call(name, Y, Y_hat), np.shape(right), what)
        like = [(a, "counts missing ratings as 0s: they are unknown") for a in by_0 * (n < size)]
        assert_close(got, right, what, "Keras's masked squared error", 1e-10 * (1 + max_abs(right)), like=like,
                     hints=[(n / size, f"is divided by all {size} entries, given or not")] * (n < size))


def ratings(rng, m, n, density):
    """Ratings (m, n) from 1 to 5, a share `density` given, NaN elsewhere; Y_hat (m, n)."""
    Y = rng.integers(1, 6, size=(m, n)).astype(float)
    Y[rng.uniform(size=(m, n)) > density] = np.nan
    return Y, rng.uniform(0.5, 5.5, size=(m, n))


def masked_cases(rng):
    """Random ratings, with a user and an item without ratings; one, all, no rating."""
    Y, Y_hat = ratings(rng, rng.integers(2, 50), rng.integers(2, 40), rng.uniform(0.05, 0.5))
    Y[0, 0], gaps = 4.0, Y.copy()
    gaps[1], gaps[:, -1] = np.nan, np.nan
    return [(Y, Y_hat), (gaps, Y_hat), ratings(rng, 4, 3, 1.1), (np.full((2, 3), np.nan), rng.uniform(size=(2, 3))),
            (np.where(np.arange(12).reshape(3, 4) == 6, 5.0, np.nan), rng.uniform(size=(3, 4)))]


TASKS.task("masked", 3, check_masked, [ratings(np.random.default_rng(94), 5, 6, 0.4)], masked_cases)


def ranking(s, item, k):
    """The k items but `item` of highest s, lower index first on ties."""
    return sorted((j for j in range(len(s)) if j != item), key=lambda j: (-s[j], j))[:k]


def check_top_k(student, E, item, k):
    """top_k_similar(E, item, k) -> k indices; near-ties (copies) in any order, exact ties (0) not."""
    what = f"top_k_similar(E {E.shape}, item={item}, k={k})"
    got = as_array(student.call("top_k_similar", E, item, k, hint="A zero row has similarity 0."), (k,), what)
    if not np.isin(got, np.arange(len(E))).all():
        raise Failed(f"{what} should return {k} indices from 0 to {len(E) - 1}")
    got, norms = got.astype(int).tolist(), np.linalg.norm(E, axis=1)
    s = E @ E[item] / np.maximum(norms * norms[item], 1e-300)  # 0 for a zero row
    right, exact = ranking(s, item, k), (norms == 0) | (norms[item] == 0)
    tie = item not in got and len(set(got)) == k and max_abs(s[got] - s[right]) <= 1e-12
    if tie and [j for j in got if exact[j]] == [j for j in right if exact[j]]:
        return
    text = "differs from the ranking by cosine similarity"
    if tie:
        text = "has the right similarities, but on a tie the lower index comes first"
    elif got == ranking(E @ E[item], item, k):
        text = "is the ranking by the dot product: the cosine divides by both norms"
    elif item in got:
        text = f"holds item {item} itself: leave it out"
    raise Failed(f"the list of {what} {text}")


def topk_cases(rng):
    """Lengths that differ a lot; copies, a doubled copy and zero rows (exact ties)."""
    n, c = int(rng.integers(12, 80)), int(rng.integers(2, 12))
    E = rng.normal(size=(n, c)) * rng.uniform(0.1, 10.0, size=(n, 1))
    cases, rows = [(E, int(rng.integers(n)), int(rng.integers(1, 8))), (E, 0, n - 1)], rng.choice(n, 7, False)
    E = E.copy()
    E[rows[3:6]], E[rows[6]] = E[rows[:3]] * np.array([[1.0], [2.0], [1.0]]), 0.0
    cases += [(E, int(item), int(rng.integers(3, min(n - 1, 12)))) for item in rows[:4]]
    E = np.where(np.isin(np.arange(n), rng.choice(n, 4, False))[:, None], 0.0, E)
    return cases + [(-np.abs(E), int(rows[0]), n - 1), (E, int(rows[6]), 5)]


E8 = np.array([[1.0, 0.0, 2.0], [2.0, 1.0, 0.0], [0.5, -1.0, 1.0], [-1.0, -2.0, 0.0],
               [3.0, 1.0, 1.0], [4.0, 2.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]])  # 5 = 2 x 1; 7 is 0
TASKS.task("topk", 4, check_top_k, [(E8, 4, 3), (E8, 0, 7), (normal(95, (30, 5)), 11, 5)], topk_cases)


def check_experiment(student, rng, hidden=False):
    """train_denoiser on digits in a secret pixel order, scored on held-out digits."""
    seed, m, student_seed = rng.integers([1, 1200, 0], [10 ** 6, 1500, 10 ** 6]).tolist() if hidden else (0, 1400, 0)
    pixels, (X_train, _, X_test, _) = rng.permutation(64), digits(seed, m, 1797 - m)
    X_train, X_test = X_train[:, pixels], X_test[:, pixels]
    noisy = np.clip(X_test + normal(seed + 1, X_test.shape, NOISE_STD), 0, 1)
    what = f"train_denoiser(X_train {X_train.shape}, {NOISE_STD}, seed={student_seed})"
    W1, b1, W2, b2 = as_sequence(student.call("train_denoiser", X_train, NOISE_STD, student_seed), 4, what, "4 arrays")
    h = min(np.shape(W1)[-1] if np.ndim(W1) == 2 else 1, MAX_UNITS)
    W1, b1, W2, b2 = (as_array(p, shape, f"{name} of {what}") for p, shape, name in
                      zip([W1, b1, W2, b2], [(64, h), (h,), (h, 64), (64,)], "W1 b1 W2 b2".split()))
    with np.errstate(all="ignore"):  # an overflow scores NaN, a fail
        X_hat = np.exp(-np.logaddexp(0, -(np.maximum(noisy @ W1 + b1, 0) @ W2 + b2)))
        psnr = 10 * np.log10(1 / np.mean((X_hat - X_test) ** 2))
    if not psnr >= TARGET:
        raise Failed(f"the PSNR of your denoised held-out digits is {psnr:.2f} dB, below the target {TARGET} dB: "
                     "train longer, with fresh noise each batch and the CLEAN batch as the target")


TASKS.visible("experiment_test", "Task 5: the visible tests pass.", disguised=True)(check_experiment)
TASKS.hidden("experiment_hidden")(functools.partial(check_experiment, hidden=True))
run = TASKS.run
report = TASKS.report
