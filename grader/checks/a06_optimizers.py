"""Assignment 6's checks: EWA, RMSprop and Adam against Keras, a quadratic's rates, a choice."""
import functools

import numpy as np

from .core import Failed, Tasks, as_arrays, as_items, as_number, assert_close, expect, flat, max_abs, rotation
from .references import keras_and_tf, normal, serialized

TASKS = Tasks()
OUTPUTS = {"rmsprop": "(w, s)", "adam": "(w, m, v)"}
OPTIMIZERS = {"sgd": "SGD", "rmsprop": "RMSprop", "adam": "Adam"}


@serialized
def keras_steps(kind, hyper, w, slots, t, gradients):
    """[w, *slots] after each Keras step (one per gradient) from w, slots, step t."""
    keras, tf = keras_and_tf()
    optimizer = getattr(keras.optimizers, OPTIMIZERS[kind])(*hyper[:-1], epsilon=hyper[-1])
    variable = tf.Variable(w)
    optimizer.build([variable])
    iterations, _, *own = optimizer.variables
    iterations.assign(t - 1)
    for slot, value in zip(own, slots):
        slot.assign(value)
    states = []
    for g in gradients:
        optimizer.apply([tf.constant(g)], [variable])
        states.append([v.numpy() for v in (variable, *own)])
    return states


def check_ewa(student, x, beta, correct):
    """Task 1: ewa(x, ...) (T, ...), Adam's first slot after each x[k]."""
    plain = np.array(keras_steps("adam", (1.0, beta, 0.5), 0 * x[0], [], 1, x))[:, 1]
    right = (plain.T / (1 - beta ** np.arange(1.0, len(x) + 1))).T if correct else plain
    expect(student, "ewa", (x, beta, correct), right, "Adam's first slot", 1e-10 * (1 + max_abs(right)),
           like=[(plain, "is not bias-corrected: its first values are too small")] * correct)


def ewa_cases(rng):
    xs = [rng.normal(size=(rng.integers(2, 40), 3)), np.array([3.0]), rng.normal(scale=1e6, size=(5, 2, 2))]
    return [(x, [0.8, 0.95, 0.99][rng.integers(3)], c) for x in xs for c in (True, False)]


def check_step(student, kind, w, g, slots, t, hyper):
    """Tasks 2, 3: one step from this state; returns Keras's (w, *slots)."""
    call = f"{kind}_step(..., {hyper}) at t = {t}"
    right = keras_steps(kind, hyper, w, slots, t, [g])[0]
    got = student.call(f"{kind}_step", w, g, *slots, *[t][:kind == "adam"], *hyper)
    got = flat(*as_arrays(got, [w.shape] * len(right), call))
    rate, beta, *_, eps = hyper
    if kind == "rmsprop":
        s = right[1]
        swapped = (1 - beta) * slots[0] + beta * g ** 2
        like = [(flat(w - rate * g / np.sqrt(swapped + eps), swapped), "has rho and 1 - rho swapped: rho weighs "
                 "the old mean"),
                (flat(2 * w - right[0], s), "goes uphill: check the sign"),
                (flat(w - rate * g / (np.sqrt(s) + eps), s), "has epsilon outside the square root")]
    else:
        m, v = right[1:]
        m_hat = m / (1 - beta ** t)
        v_hat = v / (1 - hyper[2] ** t)
        like = [(flat(w - rate * top / bottom, m, v), text) for top, bottom, text in [
            (m, np.sqrt(v) + eps, "has no bias correction: early steps are too small"),
            (m_hat, np.sqrt(v) + eps, "corrects only m: v needs it too"),
            (m_hat, np.sqrt(v_hat) + eps, "adds epsilon as in the paper's Algorithm 1"),
            (m_hat, np.sqrt(v_hat + eps), "has epsilon inside the square root, as in the lecture notes")]]
    assert_close(got, flat(*right), f"{OUTPUTS[kind]} of {call}",
                 f"keras.optimizers.{OPTIMIZERS[kind]}", 1e-10 * (1 + max_abs(flat(*right))), like=like)
    return right


def quadratic(rng, p, condition=10.0):
    """A rotated diagonal (p, p), eigenvalues 1 to `condition`."""
    Q = rotation(rng, p)
    return (Q * np.geomspace(1.0, condition, p)) @ Q.T


def check_optimizer(kind, student, seed, hyper, epsilons, p, steps, zeros=False):
    """Tasks 2, 3: single steps, then `steps` on a quadratic, drawn from default_rng(seed)."""
    rng = np.random.default_rng(seed)
    step = functools.partial(check_step, student, kind)
    hyper = [tuple(map(float, hyper[:2 + (kind == "adam")] + (e,))) for e in epsilons]
    v = rng.uniform(0.1, 2, size=p)
    slots = [rng.normal(size=p), v] if kind == "adam" else [v]
    if zeros:
        w = np.array([[0, 1], [-2, 0.5]])
        step(w, np.array([[0, 3], [-1e-3, 1e3]]), [0 * w] * len(slots), 1, hyper[0])
    for start, t in [([0 * s for s in slots], 1), (slots, int(rng.integers(2, 50)))]:
        w, g = rng.normal(size=(2, p))
        step(w, g, start, t, hyper[0])
        step(w, 0.01 * g, [1e-4 * s for s in start], t, hyper[1])
    A, b = quadratic(rng, p), rng.normal(size=p)
    w, slots = rng.normal(size=p), [0 * s for s in slots]
    for t in range(1, steps + 1):
        w, *slots = step(w, A @ w - b, slots, t, hyper[0])


def check_rates(student, H):
    """Task 4: H's largest stable and best learning rates."""
    call = f"learning_rates(H {H.shape})"
    got = flat(*as_arrays(student.call("learning_rates", H), [(), ()], call, ["largest", "best"]))
    low, high = np.linalg.eigvalsh(H)[[0, -1]]
    small, large = np.sort(np.diag(H))[[0, -1]]
    like = [([1 / high, 2 / (low + high)], "are where the steepest direction starts to oscillate"),
            ([2 / low, 2 / (low + high)], "come from the flattest direction: which breaks first?"),
            ([2 / large, 2 / (small + large)], "use the diagonal of H: think in its eigenvectors")]
    assert_close(got, [2 / high, 2 / (low + high)], f"(largest, best) of {call}", "the rule", 2e-9 / high, like=like)


def rates_cases(rng):
    H = quadratic(rng, rng.integers(3, 9), rng.uniform(2, 1e4)) * rng.uniform(0.01, 100)
    return [((H + H.T) / 2,), (rng.uniform(0.5, 5, (1, 1)),)]


@serialized
def train_digits(name, learning_rate, seed=0):
    """The 64-32-10 net's validation accuracy after 60 steps of 32 digits, from `seed`."""
    keras, _ = keras_and_tf()
    from sklearn import datasets, model_selection
    x, y = datasets.load_digits(return_X_y=True)
    X, X_val, y, y_val = model_selection.train_test_split(x / 16, y, test_size=0.3, random_state=0, stratify=y)
    keras.utils.set_random_seed(seed)
    net = keras.Sequential([keras.Input((64,)), keras.layers.Dense(32, "relu"), keras.layers.Dense(10, "softmax")])
    optimizer = getattr(keras.optimizers, OPTIMIZERS[name])(learning_rate)
    net.compile(optimizer, "sparse_categorical_crossentropy", metrics=["accuracy"])
    order = np.resize(np.random.default_rng(seed).permutation(len(X)), 60 * 32)
    net.fit(X[order], y[order], 32, verbose=0, shuffle=False)
    return net.evaluate(X_val, y_val, verbose=0)[1]


def check_choice(student, seeds, target):
    """Task 5: a (name, rate) reaching `target` from each seed."""
    name, rate = as_items(student.call("optimizer_choice"), 2, "optimizer_choice()", "a pair")
    if name not in list(OPTIMIZERS):
        raise Failed(f"optimizer_choice()'s name should be in {list(OPTIMIZERS)}, not {name!r}")
    rate = as_number(rate, "optimizer_choice()'s rate")
    for seed in seeds:
        accuracy = train_digits(name, rate, seed)
        if not accuracy >= target:
            raise Failed(f"{name} at rate {rate:g} reaches {accuracy:.3f} from seed {seed}, below the "
                         f"target {target}: sweep the rate with tests.train_digits")


TASKS.task("ewa", 1, check_ewa, [(2 + normal(1, 50), beta, c) for beta in (0.9, 0.5) for c in (False, True)], ewa_cases)
for number, kind in [(2, "rmsprop"), (3, "adam")]:
    TASKS.task(kind, number, functools.partial(check_optimizer, kind),
               [(number + 1, (2.0 ** -6, 0.875, 1 - 2.0 ** -9), (1e-7, 0.01), 4, 50)],
               lambda rng: [(rng, (2.0 ** -rng.integers(3, 10), *(1 - 2.0 ** -rng.integers([2, 8], [5, 11]))),
                             (1e-7, 0.1), rng.integers(1, 7), 30, True)])
TASKS.task("rates", 4, check_rates, [(np.diag([1.0, 10.0]),), (np.array([[3.0, 2.0], [2.0, 3.0]]),)], rates_cases)
TASKS.task("choice", 5, check_choice, [([0], 0.90)], lambda rng: [(rng.integers(1, 10 ** 6, 2).tolist(), 0.85)])

run = TASKS.run
report = TASKS.report
