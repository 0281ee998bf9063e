"""Assignment 6's checks: EWA, RMSprop and Adam against keras.optimizers; a quadratic's rates; an optimizer."""
import functools

import numpy as np

from .core import Failed, Tasks, as_arrays, as_items, as_number, assert_close, expect, flat, max_abs, rotation
from .references import keras_and_tf, normal, serialized

TASKS = Tasks(numpy_only=True)
LATE = 10 ** 6  # beta ** t is 0 there
OUTPUTS = {"rmsprop": "ws", "adam": "wmv"}
OPTIMIZERS = {"sgd": "SGD", "rmsprop": "RMSprop", "adam": "Adam"}


@serialized
def keras_steps(kind, hyper, w, slots, t, gradients):
    """[w, *slots] after a Keras step per gradient from w, slots ([s] or [m, v]) and step t."""
    keras, tf = keras_and_tf()
    optimizer = getattr(keras.optimizers, OPTIMIZERS[kind])(*hyper[:-1], epsilon=hyper[-1])
    variable = tf.Variable(w)
    optimizer.build([variable])
    own = optimizer._momentums[:kind == "adam"] + optimizer._velocities[:1]
    for slot, value in zip(own, slots):
        slot.assign(value)
    optimizer.iterations.assign(t - 1)
    states = []
    for g in gradients:
        optimizer.apply([tf.constant(g)], [variable])
        states.append([variable.numpy()] + [slot.numpy() for slot in own])
    return states


def check_ewa(student, x, beta, correct):
    """Task 1: ewa(x, beta, correct) (T, ...), Adam's first slot after each x[k]."""
    plain = np.array([m for _, m, _ in keras_steps("adam", (1.0, beta, 0.5), 0 * x[0], [], 1, x)])
    right = (plain.T / (1 - beta ** np.arange(1.0, len(x) + 1))).T if correct else plain
    expect(student, "ewa", (x, beta, correct), right, "Adam's first slot", 1e-10 * (1 + max_abs(right)),
           like=[(plain, "is not bias-corrected: its first values are too small")] * correct)


def ewa_cases(rng):
    xs = [rng.normal(size=(rng.integers(2, 40), 3)), np.array([3.0]), rng.normal(scale=1e6, size=20),
          rng.normal(size=(5, 2, 2))]
    return [(x, float(rng.choice([0.8, 0.95, 0.99])), c) for x in xs for c in (True, False)]


def mistakes(kind, hyper, w, g, slots, t, right):
    """flat(w, *slots) of typical mistakes, mostly Keras's with other settings."""
    def keras(hyper, slots=slots, t=t, kind=kind):
        return keras_steps(kind, hyper, w, slots, t, [g])[0]
    look = f": see where keras/src/optimizers/{kind}.py adds it"
    rate, beta, *_, epsilon = hyper
    if kind == "rmsprop":
        return [(flat(*keras((rate, 1 - beta, epsilon))), "has rho and 1 - rho swapped: rho is the OLD mean's share"),
                (flat(2 * w - right[0], *right[1:]), "goes uphill: check the sign"),
                (flat(keras((rate, 0.0, beta, epsilon), [0 * w, *slots], LATE, "adam")[0], *right[1:]),
                 "has epsilon outside the square root" + look)]
    late, bias = keras(hyper, t=LATE)[0], 1 - hyper[2] ** t
    return [(flat(mine, *right[1:]), text) for mine, text in [
        (late, "has no bias correction: early steps are too small"),
        (w - (w - late) / (1 - beta ** t), "corrects only m: v needs it too"),
        (keras((*hyper[:3], epsilon * np.sqrt(bias)))[0], "adds epsilon as in the paper's Algorithm 1" + look),
        (keras((*hyper[:3], 0.0), [slots[0], slots[1] + epsilon * bias / hyper[2]])[0],
         "has epsilon inside the square root, as in the lecture notes" + look)]]


def check_step(student, kind, w, g, slots, t, hyper):
    """Tasks 2, 3: (w, *slots) after a step from this state."""
    call = f"{kind}_step(..., {hyper}) at t = {t}"
    got = flat(*as_arrays(student.call(f"{kind}_step", w, g, *slots, *[t][:kind == "adam"], *hyper),
                          [w.shape] * (len(slots) + 1), call, list(OUTPUTS[kind])))
    right = keras_steps(kind, hyper, w, slots, t, [g])[0]
    tol = 1e-10 * (1 + max_abs(flat(*right)))
    like = () if max_abs(got - flat(*right)) <= tol else mistakes(kind, hyper, w, g, slots, t, right)
    assert_close(got, flat(*right), f"the new ({', '.join(OUTPUTS[kind])}) of {call}",
                 f"keras.optimizers.{OPTIMIZERS[kind]}", tol, like=like)
    return right


def quadratic(rng, p, condition=10.0):
    """A rotated diagonal (p, p), eigenvalues 1 to `condition`."""
    Q = rotation(rng, p)
    return (Q * np.geomspace(1.0, condition, p)) @ Q.T


def check_optimizer(kind, student, seed, hyper, epsilons, p, steps, zeros=False):
    """Tasks 2, 3 on draws from default_rng(seed): steps from zero and other slots, then `steps` on a quadratic."""
    rng = np.random.default_rng(seed)
    hyper = [tuple(map(float, hyper[:2 + (kind == "adam")] + (e,))) for e in epsilons]
    if zeros:    # zero gradients and slots: 0 / 0 without epsilon
        w = np.array([[0, 1], [-2, 0.5]])
        check_step(student, kind, w, np.array([[0, 3], [-1e-3, 1e3]]), [0 * w] * len(OUTPUTS[kind][1:]), 1, hyper[0])
    v = rng.uniform(0.1, 2, size=p)
    slots = [rng.normal(size=p), v] if kind == "adam" else [v]
    for start, t in [([0 * s for s in slots], 1), (slots, int(rng.integers(2, 50)))]:
        w, g = rng.normal(size=(2, p))
        check_step(student, kind, w, g, start, t, hyper[0])    # then tiny gradients, with the larger epsilon
        check_step(student, kind, w, 0.01 * g, [1e-4 * s for s in start], t, hyper[1])
    A, b = quadratic(rng, p), rng.normal(size=p)
    w, slots = rng.normal(size=p), [0 * s for s in slots]
    for t in range(1, steps + 1):
        w, *slots = check_step(student, kind, w, A @ w - b, slots, t, hyper[0])


def check_rates(student, H):
    """Task 4: learning_rates(H) -> (largest stable rate, best rate)."""
    call = f"learning_rates(H {H.shape})"
    got = flat(*as_arrays(student.call("learning_rates", H), [(), ()], call, ["largest", "best"]))
    low, high = np.linalg.eigvalsh(H)[[0, -1]]
    small, large = np.sort(np.diag(H))[[0, -1]]
    like = [([1 / high, 2 / (low + high)], "are where the steepest direction starts to oscillate"),
            ([2 / low, 2 / (low + high)], "come from the flattest direction: which one breaks first?"),
            ([2 / large, 2 / (small + large)], "use the diagonal of H: think in its eigenvectors")]
    assert_close(got, [2 / high, 2 / (low + high)], f"(largest, best) of {call}", "the rule, from H's eigenvalues",
                 1e-9 * 2 / high, like=like)


def rates_cases(rng):
    H = quadratic(rng, rng.integers(3, 9), rng.uniform(2, 1e4)) * rng.uniform(0.01, 100)
    diagonal = np.diag(rng.uniform(0.1, 10, rng.integers(3, 9)))
    return [((H + H.T) / 2,), (np.array([[rng.uniform(0.5, 5)]]),), (diagonal,)]


@serialized
def train_digits(name, learning_rate, seed=0):
    """Validation accuracy of the 64-32-10 net after 60 steps of 32 digits with `name`, from `seed`."""
    keras, _ = keras_and_tf()
    from sklearn import datasets, model_selection
    x, y = datasets.load_digits(return_X_y=True)
    X, X_val, y, y_val = model_selection.train_test_split(x / 16, y, test_size=0.3, random_state=0, stratify=y)
    keras.utils.set_random_seed(seed)
    net = keras.Sequential([keras.Input((64,)), keras.layers.Dense(32, "relu"), keras.layers.Dense(10, "softmax")])
    net.compile(getattr(keras.optimizers, OPTIMIZERS[name])(learning_rate), "sparse_categorical_crossentropy",
                metrics=["accuracy"])
    order = np.resize(np.random.default_rng(seed).permutation(len(X)), 60 * 32)
    net.fit(X[order], y[order], 32, verbose=0, shuffle=False)
    return net.evaluate(X_val, y_val, verbose=0)[1]


def check_choice(student, seeds, target):
    """Task 5: optimizer_choice() -> (name, rate) reaching `target` from each seed."""
    name, rate = as_items(student.call("optimizer_choice"), 2, "optimizer_choice()", "a pair")
    if name not in list(OPTIMIZERS):
        raise Failed(f"optimizer_choice()'s name should be in {list(OPTIMIZERS)}, not {name!r}")
    rate = as_number(rate, "optimizer_choice()'s rate")
    for seed in seeds:
        accuracy = train_digits(name, rate, seed)
        if not accuracy >= target:
            raise Failed(f"{name} at rate {rate:g} reaches {accuracy:.3f} in 60 steps (start {seed}), below the "
                         f"target {target}: sweep the rate with tests.train_digits")


TASKS.task("ewa", 1, check_ewa, [(2 + normal(1, 50), beta, c) for beta in (0.9, 0.5) for c in (False, True)], ewa_cases)
for number, kind in [(2, "rmsprop"), (3, "adam")]:    # visible: the settings the test cells state; hidden: drawn
    TASKS.task(kind, number, functools.partial(check_optimizer, kind),
               [(number + 1, (2.0 ** -6, 0.875, 1 - 2.0 ** -9), (1e-7, 0.01), 4, 50)],
               lambda rng: [(rng, (2.0 ** -rng.integers(3, 10), *(1 - 2.0 ** -rng.integers([2, 8], [5, 11]))),
                             (rng.choice([1e-7, 1e-4]), 0.1), int(rng.integers(1, 7)), 30, True)])
TASKS.task("rates", 4, check_rates, [(np.diag([1.0, 10.0]),), (np.array([[3.0, 2.0], [2.0, 3.0]]),)], rates_cases)
TASKS.task("choice", 5, check_choice, [([0], 0.90)], lambda rng: [(rng.integers(1, 10 ** 6, size=2).tolist(), 0.85)])

run = TASKS.run
report = TASKS.report
