"""The checks of assignment 6: the exponentially weighted average, RMSprop and Adam steps, against
keras.optimizers (rates and betas exact in float32, so Keras's float64 numbers are the rule); a
quadratic's learning rates (eigenvalues); an optimizer that trains the digits net in a budget.
"""
import functools

import numpy as np

from .core import Failed, Tasks, as_array, as_sequence, assert_close, max_abs, rotation
from .references import keras_and_tf, serialized

TASKS = Tasks(numpy_only=True)
PRELUDE = "import numpy as np"
LATE = 10 ** 6                  # a step where beta ** t is 0: no bias correction is left
OUTPUTS = {"rmsprop": ["w", "s"], "adam": ["w", "m", "v"]}
HYPER = {"rmsprop": ["learning_rate", "rho", "epsilon"],
         "adam": ["learning_rate", "beta_1", "beta_2", "epsilon"]}
OPTIMIZERS = {"sgd": "SGD", "rmsprop": "RMSprop", "adam": "Adam"}


def tol(a):
    """The tolerance of float64 work on numbers as large as those of a."""
    return 1e-10 * (1 + max_abs(a))


@serialized
def keras_steps(kind, hyper, w, slots, t, gradient, steps=1):
    """[w, *slots] after each of `steps` steps of Keras's optimizer from w, slots ([s] or
    [m, v]) and step t; the gradient of step k is gradient(k)."""
    keras, tf = keras_and_tf()
    optimizer = getattr(keras.optimizers, OPTIMIZERS[kind])(**dict(zip(HYPER[kind], hyper)))
    variable = tf.Variable(w)
    optimizer.build([variable])
    own = optimizer._momentums[:kind == "adam"] + optimizer._velocities[:1]
    for slot, value in zip(own, slots):
        slot.assign(value)
    optimizer.iterations.assign(t - 1)
    states = []
    for k in range(steps):
        optimizer.apply([tf.constant(gradient(k))], [variable])
        states.append([variable.numpy()] + [slot.numpy() for slot in own])
    return states


def keras_w(kind, hyper, w, g, slots, t):
    """w after one step of Keras's optimizer."""
    return keras_steps(kind, hyper, w, slots, t, lambda k: g)[0][0]


# --- Task 1: the exponentially weighted average -----------------------------------

def check_ewa(student, x, beta, correct):
    """ewa(x, beta, correct) (T, ...): Adam's first slot after each x[k]."""
    states = keras_steps("adam", (1.0, beta, 0.5), 0 * x[0], [], 1, x.__getitem__, len(x))
    plain = np.array([m for _, m, _ in states])
    t = np.arange(1, len(x) + 1).reshape((-1,) + (1,) * (x.ndim - 1))
    right = plain / (1 - beta ** t) if correct else plain
    what = f"ewa(x, {beta}, bias_correction={correct})"
    got = as_array(student.call("ewa", x, beta, correct), x.shape, what)
    assert_close(got, right, what, "Adam's first slot", tol(right),
                 like=[(plain, "is not bias-corrected: its first values are too small")] * correct)


def ewa_cases(rng):
    beta = float(rng.choice([0.8, 0.95, 0.99]))
    return [(x, beta, correct) for x in [rng.normal(size=(rng.integers(2, 40), 3)), np.array([3.0]),
                                         rng.normal(scale=1e6, size=20), rng.normal(size=(5, 2, 2))]
            for correct in (True, False)]


X50 = 2.0 + np.random.default_rng(1).normal(size=50)
TASKS.task("ewa", 1, check_ewa, [(X50, beta, c) for beta in (0.9, 0.5) for c in (False, True)], ewa_cases)


# --- Tasks 2 and 3: RMSprop and Adam ----------------------------------------------

def mistakes(kind, hyper, w, g, slots, t, right):
    """(w, text) of typical mistakes: Keras with other settings, or its step scaled."""
    found = [(2 * w - right, "goes uphill: check the step's sign")]
    look = f"; look where Keras adds it (keras/src/optimizers/{kind}.py)"
    if kind == "rmsprop":
        rate, rho, epsilon = hyper
        adam = (rate, 0.0, rho, epsilon)
        return found + [
            (keras_w("adam", adam, w, g, [0 * w, *slots], LATE),
             "has epsilon outside the square root" + look),
            (keras_w(kind, (rate, 1 - rho, epsilon), w, g, slots, t),
             "has rho and 1 - rho swapped: rho is the share the OLD average keeps")]
    rate, beta_1, beta_2, epsilon = hyper
    late = keras_w(kind, hyper, w, g, slots, LATE)
    # with v + epsilon (1 - beta_2**t) / beta_2 for v and no epsilon, epsilon is in the root
    inside = [slots[0], slots[1] + epsilon * (1 - beta_2 ** t) / beta_2]
    paper = hyper[:3] + (epsilon * np.sqrt(1 - beta_2 ** t),)
    return found + [
        (late, "has no bias correction: the first steps are too small"),
        (w - (w - late) / (1 - beta_1 ** t), "corrects only m: v needs its correction too"),
        (keras_w(kind, paper, w, g, slots, t), "adds epsilon as in the paper's Algorithm 1" + look),
        (keras_w(kind, hyper[:3] + (0.0,), w, g, inside, t),
         "has epsilon inside the square root, as in the lecture notes" + look)]


def check_step(student, kind, w, g, slots, t, hyper):
    """The student's (w, *slots) after one step from this state: Keras's."""
    what = f"{kind}_step(..., {', '.join(f'{h:g}' for h in hyper)}) at t = {t}"
    args = (w, g, *slots, *[t][:kind == "adam"], *hyper)
    got = as_sequence(student.call(f"{kind}_step", *args), len(slots) + 1, what, "a tuple")
    right = keras_steps(kind, hyper, w, slots, t, lambda k: g)[0]
    for mine, theirs, output in zip(got, right, OUTPUTS[kind]):
        mine = as_array(mine, w.shape, f"the new {output} of {what}")
        wrong = output == "w" and max_abs(mine - theirs) > tol(theirs)
        like = mistakes(kind, hyper, w, g, slots, t, theirs) if wrong else ()
        assert_close(mine, theirs, f"the new {output} of {what}", f"keras.optimizers.{OPTIMIZERS[kind]}",
                     tol(theirs), like=like)
    return right


def quadratic(rng, p, condition=10.0):
    """A (p, p) symmetric positive definite A, eigenvalues 1 to `condition`."""
    Q = rotation(rng, p)
    return (Q * np.geomspace(1.0, condition, p)) @ Q.T


def check_optimizer(student, kind, rng, hyper, p, steps):
    """Steps from zero slots (t = 1) and others, also with tiny gradients and a large
    epsilon (where epsilon goes shows); then `steps` steps on a quadratic."""
    s = rng.normal(size=p)
    slots = [abs(s)] if kind == "rmsprop" else [s, rng.uniform(0.1, 2, size=p)]
    for start, t in [([0 * s for s in slots], 1), (slots, int(rng.integers(2, 50)))]:
        w, g = rng.normal(size=(2, p))
        check_step(student, kind, w, g, start, t, hyper[0])
        check_step(student, kind, w, 0.01 * g, [1e-4 * s for s in start], t, hyper[1])
    A, b, w = quadratic(rng, p), rng.normal(size=p), rng.normal(size=p)
    slots = [0 * w for _ in slots]
    for t in range(1, steps + 1):
        w, *slots = check_step(student, kind, w, A @ w - b, slots, t, hyper[0])


def visible(student, kind):
    hyper = (2.0 ** -6, 0.875) + (1 - 2.0 ** -9,) * (kind == "adam")
    rng = np.random.default_rng(4 if kind == "adam" else 3)
    check_optimizer(student, kind, rng, [hyper + (1e-7,), hyper + (0.01,)], 4, 50)


def hidden(student, rng, kind):
    """Rates and betas exact in float32; first a (2, 2) step with a zero gradient."""
    hyper = (2.0 ** -rng.integers(3, 10), rng.choice([0.5, 0.75, 0.875, 0.9375]))
    hyper = tuple(map(float, hyper + (1 - 2.0 ** -rng.integers(8, 11),) * (kind == "adam")))
    hyper = [hyper + (float(rng.choice([1e-7, 1e-4])),), hyper + (0.1,)]
    w, g = np.array([[0, 1], [-2, 0.5]]), np.array([[0, 3], [-1e-3, 1e3]])
    check_step(student, kind, w, g, [0 * w] * (len(OUTPUTS[kind]) - 1), 1, hyper[0])
    check_optimizer(student, kind, rng, hyper, int(rng.integers(1, 7)), 30)


for number, kind in [(2, "rmsprop"), (3, "adam")]:
    TASKS.visible(f"{kind}_test", f"Task {number}: the visible tests pass.")(functools.partial(visible, kind=kind))
    TASKS.hidden(f"{kind}_hidden")(functools.partial(hidden, kind=kind))


# --- Task 4: the largest stable learning rate of a quadratic ----------------------

def check_rates(student, H):
    """learning_rates(H) -> (largest stable rate, best rate)."""
    what = f"learning_rates(H) for H of shape {H.shape}"
    got = as_sequence(student.call("learning_rates", H), 2, what, "a pair")
    largest, best = (as_array(v, (), f"the {k} rate of {what}") for v, k in zip(got, ["largest", "best"]))
    low, high = np.linalg.eigvalsh(H)[[0, -1]]
    assert_close(largest, 2 / high, f"the largest stable rate of {what}", "the rate where descent diverges",
                 1e-9 * (2 / high), like=[
                     (1 / high, "is where the steepest direction starts to oscillate, not to diverge"),
                     (2 / low, "comes from the flattest direction: which one breaks first?"),
                     (2 / np.max(np.diag(H)), "uses the diagonal of H: think in its eigenvectors")])
    assert_close(best, 2 / (low + high), f"the best rate of {what}", "the rate where the slowest direction "
                 "contracts fastest (balance the extreme directions)", 1e-9 * (2 / (low + high)))


def rates_cases(rng):
    p = int(rng.integers(3, 9))
    return [((H + H.T) / 2,) for H in [quadratic(rng, p, rng.uniform(2, 1e4)) * rng.uniform(0.01, 100),
                                       np.array([[rng.uniform(0.5, 5)]]), np.diag(rng.uniform(0.1, 10, size=p))]]


TASKS.task("rates", 4, check_rates, [(np.diag([1.0, 10.0]),), (np.array([[3.0, 2.0], [2.0, 3.0]]),)], rates_cases)


# --- Task 5: an optimizer and a learning rate for a budget of 60 steps ------------

@serialized
def train_digits(name, learning_rate, seed=0):
    """Validation accuracy of the 64 -> 32 ReLU -> 10 softmax net after 60 steps of Keras's
    optimizer `name` on batches of 32 digits (the lesson's split), from `seed`."""
    keras, _ = keras_and_tf()
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    x, y = load_digits(return_X_y=True)
    X, X_val, y, y_val = train_test_split(x / 16, y, test_size=0.3, random_state=0, stratify=y)
    keras.utils.set_random_seed(seed)
    net = keras.Sequential([keras.Input(shape=(64,)), keras.layers.Dense(32, activation="relu"),
                            keras.layers.Dense(10, activation="softmax")])
    optimizer = getattr(keras.optimizers, OPTIMIZERS[name])(learning_rate)
    net.compile(optimizer, "sparse_categorical_crossentropy", metrics=["accuracy"])
    order = np.resize(np.random.default_rng(seed).permutation(len(X)), 60 * 32)
    net.fit(X[order], y[order], 32, verbose=0, shuffle=False)
    return net.evaluate(X_val, y_val, verbose=0)[1]


def check_choice(student, seeds, target):
    """optimizer_choice() -> (name, rate) that trains the net to `target` from each seed."""
    name, rate = as_sequence(student.call("optimizer_choice"), 2, "optimizer_choice()", "a pair")
    rate = float(as_array(rate, (), "the learning rate that optimizer_choice() returns"))
    if name not in OPTIMIZERS or not 0 < rate <= 100:
        raise Failed(f"optimizer_choice() should return a name in {list(OPTIMIZERS)} and a rate in (0, 100]")
    for seed in seeds:
        accuracy = train_digits(name, rate, seed)
        if not accuracy >= target:
            raise Failed(f"with {name} and learning_rate={rate:g}, the digits net reaches {accuracy:.3f} "
                         f"after 60 steps (start {seed}), below the target {target}: sweep the rate, "
                         "by factors of about 3, with tests.train_digits")


TASKS.task("choice", 5, check_choice, [([0], 0.90)],
           lambda rng: [(rng.integers(1, 10 ** 6, size=2).tolist(), 0.85)])


run = TASKS.run
report = TASKS.report
