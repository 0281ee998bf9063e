"""The checks of assignment 6 (chapters/06_optimizers/assignment_06.ipynb): the exponentially
weighted average and its bias correction, one RMSprop step and one Adam step (each also followed
over many steps), the largest stable learning rate of a quadratic, and an optimizer and learning
rate that train a digits network to a target within a budget, compared with keras.optimizers and
with the eigenvalues of the Hessian.

In the notebook, `tests.run("ewa_test", globals())` runs a check on the student's machine; at
grading time, the grader runs the same checks in its own process (grader.verdicts), and the
hidden ones draw their inputs from `rng`, which is different for every student.

Keras keeps the learning rate in a float32 variable and computes Adam's beta powers from float32
betas, so every learning rate and beta given to the student is exact in float32 (such as 2**-6,
0.875 or 1 - 2**-9): then Keras's float64 numbers are the exact rule, to the last bits.
"""
import numpy as np

from .core import Failed, Tasks, as_array, as_sequence, max_abs
from .references import keras_and_tf, serialized

TASKS = Tasks(numpy_only=True)
PRELUDE = "import numpy as np"          # what the setup cell gives the student's code at grading time

BETAS = [0.5, 0.75, 0.875, 0.9375]                                   # exact in float32
BETA_2S = [1 - 2.0 ** -8, 1 - 2.0 ** -9, 1 - 2.0 ** -10]
RATES = [2.0 ** -k for k in range(3, 10)]


# --- references: Keras's optimizers ------------------------------------------------------------

def _keras_optimizer(kind, hyper):
    keras, _ = keras_and_tf()
    if kind == "rmsprop":
        learning_rate, rho, epsilon = hyper
        return keras.optimizers.RMSprop(learning_rate=learning_rate, rho=rho, epsilon=epsilon)
    learning_rate, beta_1, beta_2, epsilon = hyper
    return keras.optimizers.Adam(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon)


@serialized
def keras_step(kind, w, g, slots, t, hyper):
    """One step of keras.optimizers.RMSprop (slots = [s]) or Adam (slots = [m, v], step number t) on a
    float64 variable holding w, from the given slots: (w, *slots) afterwards, as NumPy arrays."""
    _, tf = keras_and_tf()
    optimizer, variable = _keras_optimizer(kind, hyper), tf.Variable(w)
    optimizer.build([variable])
    own = [optimizer._velocities[0]] if kind == "rmsprop" else [optimizer._momentums[0], optimizer._velocities[0]]
    for slot, value in zip(own, slots):
        slot.assign(value)
    optimizer.iterations.assign(t - 1)
    optimizer.apply([tf.constant(g)], [variable])
    return [variable.numpy()] + [slot.numpy() for slot in own]


@serialized
def keras_path(kind, w, A, b, steps, hyper):
    """The points (steps + 1, p) Keras's optimizer visits on f(w) = 1/2 w^T A w - b^T w from w."""
    _, tf = keras_and_tf()
    optimizer, variable = _keras_optimizer(kind, hyper), tf.Variable(w)
    points = [w]
    for _ in range(steps):
        optimizer.apply([tf.constant(A @ variable.numpy() - b)], [variable])
        points.append(variable.numpy())
    return np.array(points)


@serialized
def keras_ewa(x, beta):
    """Adam's first-moment slot after each of the T "gradients" x[0], ..., x[T-1]: the EWA v_1..v_T."""
    _, tf = keras_and_tf()
    optimizer, variable = _keras_optimizer("adam", (2.0 ** -10, beta, 0.5, 1e-7)), tf.Variable(np.zeros(x.shape[1:]))
    out = []
    for value in x:
        optimizer.apply([tf.constant(value)], [variable])
        out.append(optimizer._momentums[0].numpy())
    return np.array(out)


# --- the checks' own NumPy versions of typical mistakes, to name them ----------------------------

def rmsprop_variants(w, g, s, learning_rate, rho, epsilon):
    """{mistake: (w, s)} for the typical mistakes of an RMSprop step."""
    s_new, swapped = rho * s + (1 - rho) * g ** 2, (1 - rho) * s + rho * g ** 2
    return {
        "epsilon outside the root": (w - learning_rate * g / (np.sqrt(s_new) + epsilon), s_new),
        "no root": (w - learning_rate * g / (s_new + epsilon), s_new),
        "rho swapped": (w - learning_rate * g / np.sqrt(swapped + epsilon), swapped),
        "old average": (w - learning_rate * g / np.sqrt(s + epsilon), s_new),
        "plus": (w + learning_rate * g / np.sqrt(s_new + epsilon), s_new),
    }


RMSPROP_HINTS = {
    "epsilon outside the root": "epsilon is outside the square root; look where Keras's RMSprop adds it "
                                "(keras/src/optimizers/rmsprop.py)",
    "no root": "the step divides by the average of squared gradients itself: its size then depends on the "
               "gradient's scale; what makes it scale-free?",
    "rho swapped": "rho and 1 - rho are swapped: rho is the share the OLD average keeps",
    "old average": "the step divides by last step's average: update s with this step's gradient first",
    "plus": "the step goes uphill: check its sign",
}


def adam_variants(w, g, m, v, t, learning_rate, beta_1, beta_2, epsilon):
    """{mistake: (w, m, v)} for the typical mistakes of an Adam step."""
    m_new, v_new = beta_1 * m + (1 - beta_1) * g, beta_2 * v + (1 - beta_2) * g ** 2
    m_hat, v_hat = m_new / (1 - beta_1 ** t), v_new / (1 - beta_2 ** t)
    m_early, v_early = (m_new / (1 - beta_1 ** (t - 1)), v_new / (1 - beta_2 ** (t - 1))) if t > 1 else (m_hat, v_hat)
    return {
        "paper": (w - learning_rate * m_hat / (np.sqrt(v_hat) + epsilon), m_new, v_new),
        "inside": (w - learning_rate * m_hat / np.sqrt(v_hat + epsilon), m_new, v_new),
        "no correction": (w - learning_rate * m_new / (np.sqrt(v_new) + epsilon), m_new, v_new),
        "t - 1": (w - learning_rate * m_early / (np.sqrt(v_early) + epsilon), m_new, v_new),
        "only m corrected": (w - learning_rate * m_hat / (np.sqrt(v_new) + epsilon), m_new, v_new),
    }


ADAM_HINTS = {
    "paper": "epsilon is added to the corrected second moment, as in the paper's Algorithm 1; Keras adds it "
             "elsewhere and moves both corrections into the step size: read keras/src/optimizers/adam.py",
    "inside": "epsilon is inside the square root, as in the lecture notes; Keras adds it elsewhere: read "
              "keras/src/optimizers/adam.py",
    "no correction": "there is no bias correction: the first steps are too small",
    "t - 1": "the bias correction is one step late: which t does the first step use?",
    "only m corrected": "only m is bias-corrected: v needs its correction too",
}


def close(a, b, tol=1e-10):
    """|a - b| <= tol (1 + |b|) everywhere: equal up to rounding."""
    return not np.any(np.abs(a - b) > tol * (1 + np.abs(b)))


def worst(what, value, right, against):
    """Failed naming the entry where value and right differ most."""
    i = tuple(int(k) for k in np.unravel_index(np.argmax(np.abs(value - right)), np.shape(value)))
    at = f" (at index {i if len(i) > 1 else i[0]}: yours is {value[i]:.12g}, Keras's {right[i]:.12g})" if i else ""
    return Failed(f"{what} differs from {against} by up to {max_abs(value - right):.3g}{at}")


# --- Task 1: the exponentially weighted average -----------------------------------------------------

def check_ewa(student, x, beta, bias_correction):
    """v_1..v_T from v_0 = 0 (Adam's first slot in Keras), divided by 1 - beta**t if bias_correction."""
    what = f"ewa(x, {beta}, bias_correction={bias_correction})"
    value = as_array(student.call("ewa", x, beta, bias_correction), x.shape, f"the array {what} returns")
    t = np.arange(1, len(x) + 1).reshape((-1,) + (1,) * (x.ndim - 1))
    plain = keras_ewa(x, beta)
    right = plain / (1 - beta ** t) if bias_correction else plain
    if close(value, right, 1e-12):
        return
    if bias_correction and close(value, plain, 1e-12):
        raise Failed(f"{what} is not bias-corrected: its first values are too small (look at how far v_1 is from x[0])")
    if not bias_correction and close(value, right / (1 - beta ** t), 1e-12):
        raise Failed(f"{what} is bias-corrected, but bias_correction is False")
    if bias_correction and len(x) > 1 and close(value[1:], (plain / (1 - beta ** (t + 1)))[1:], 1e-12):
        raise Failed(f"{what}: the correction is off by one step: which t belongs to the first value?")
    if close(value[1:], (plain[1:] + beta ** t[1:] * x[0]) / (1 - beta ** t[1:] if bias_correction else 1), 1e-12) \
            and not close(value[0], right[0], 1e-12):
        raise Failed(f"{what} starts the average at x[0]; Keras's slot starts at 0 (what is v_0?)")
    if close(value, np.array([(1 - beta) * xk for xk in x]) + 0 * right, 1e-12):
        raise Failed(f"{what} does not carry the average from step to step: each value forgets the previous one")
    raise worst(what, value, right, "the averages that keras.optimizers.Adam keeps in its first-moment slot")


@TASKS.visible("ewa_test", "Task 1: the visible tests pass.")
def ewa_test(student):
    x = 2.0 + np.random.default_rng(1).normal(size=50)              # 50 noisy values around 2
    for beta in [0.9, 0.5]:
        for bias_correction in [False, True]:
            check_ewa(student, x, beta, bias_correction)


@TASKS.hidden("ewa_hidden")
def ewa_hidden(student, rng):
    beta = float(rng.choice([0.8, 0.95, 0.99]))
    for x in [rng.normal(size=(int(rng.integers(2, 40)), 3)),          # arrays: the average is entry by entry
              rng.normal(scale=1e6, size=20), np.array([3.0]), rng.normal(size=(5, 2, 2))]:
        for bias_correction in [True, False]:
            check_ewa(student, x, beta, bias_correction)


# --- Tasks 2 and 3: RMSprop and Adam, one step and many ------------------------------------------------

NAMES = {"rmsprop": ("rmsprop_step", "w, g, s", ["w", "s"], "keras.optimizers.RMSprop"),
         "adam": ("adam_step", "w, g, m, v, t", ["w", "m", "v"], "keras.optimizers.Adam")}


def check_step(student, kind, w, g, slots, t, hyper):
    """One step from the given state, against Keras's optimizer started in that state."""
    name, arguments, outputs, against = NAMES[kind]
    args = (w, g, *slots, t, *hyper) if kind == "adam" else (w, g, *slots, *hyper)
    what = f"{name}({arguments}, {', '.join(f'{h:g}' for h in hyper)})" + (f" at t = {t}" if kind == "adam" else "")
    result = as_sequence(student.call(name, *args), len(outputs), what, f"a tuple ({', '.join(outputs)})")
    result = [as_array(r, w.shape, f"the new {o} that {what} returns") for r, o in zip(result, outputs)]
    right = keras_step(kind, w, g, slots, t, hyper)
    if all(close(r, k) for r, k in zip(result, right)):
        return
    variants = rmsprop_variants(w, g, *slots, *hyper) if kind == "rmsprop" else adam_variants(w, g, *slots, t, *hyper)
    hints = RMSPROP_HINTS if kind == "rmsprop" else ADAM_HINTS
    for mistake, answer in variants.items():
        if all(close(r, a) for r, a in zip(result, answer)) and not all(close(a, k) for a, k in zip(answer, right)):
            raise Failed(f"{what}: {hints[mistake]}")
    for r, k, o in zip(result, right, outputs):
        if not close(r, k):
            raise worst(f"the new {o} that {what} returns", r, k, against)


def check_path(student, kind, w, A, b, steps, hyper):
    """`steps` steps on f(w) = 1/2 w^T A w - b^T w from w, the state carried from step to step by the
    grader, against the points Keras's optimizer visits."""
    name, _, outputs, against = NAMES[kind]
    right = keras_path(kind, w, A, b, steps, hyper)
    point, slots = w, [np.zeros_like(w) for _ in outputs[1:]]
    for t in range(1, steps + 1):
        args = (point, A @ point - b, *slots, t, *hyper) if kind == "adam" else (point, A @ point - b, *slots, *hyper)
        what = f"{name} at step {t} of {steps} on a quadratic"
        result = as_sequence(student.call(name, *args), len(outputs), what, f"a tuple ({', '.join(outputs)})")
        point, *slots = [as_array(r, w.shape, f"the new {o} that {what} returns") for r, o in zip(result, outputs)]
        if not close(point, right[t], 1e-9):
            raise worst(f"after {t} steps from zero {', '.join(outputs[1:])} on the quadratic, w", point, right[t],
                        f"the point {against} reaches")


def quadratic(rng, p, condition=10.0):
    """A (p, p) symmetric positive definite matrix with eigenvalues from 1 to `condition`, and b (p,)."""
    Q, _ = np.linalg.qr(rng.normal(size=(p, p)))
    return (Q * np.geomspace(1.0, condition, p)) @ Q.T, rng.normal(size=p)


def step_cases(rng, kind, p):
    """States for one-step checks: (w, g, slots, t)."""
    slots = [rng.normal(size=p)] if kind == "rmsprop" else [rng.normal(size=p), rng.uniform(0.1, 2.0, size=p)]
    if kind == "rmsprop":
        slots = [np.abs(slots[0])]                                  # s averages squares: it is >= 0
    return [(rng.normal(size=p), rng.normal(size=p), [np.zeros(p) for _ in slots], 1),
            (rng.normal(size=p), rng.normal(size=p), slots, int(rng.integers(2, 50)))]


def visible_cases(kind):
    rng = np.random.default_rng(3 if kind == "rmsprop" else 4)
    hyper = (2.0 ** -6, 0.875, 1e-7) if kind == "rmsprop" else (2.0 ** -6, 0.875, 1 - 2.0 ** -9, 1e-7)
    big_epsilon = hyper[:-1] + (0.01,)                                # where epsilon goes shows
    return rng, hyper, big_epsilon


def check_optimizer(student, kind, rng, hyper, big_epsilon, p, steps):
    for w, g, slots, t in step_cases(rng, kind, p):
        check_step(student, kind, w, g, slots, t, hyper)
        check_step(student, kind, w, 0.01 * g, [0.0001 * s for s in slots], t, big_epsilon)   # small gradients
    A, b = quadratic(rng, p)
    check_path(student, kind, rng.normal(size=p), A, b, steps, hyper)


@TASKS.visible("rmsprop_test", "Task 2: the visible tests pass.")
def rmsprop_test(student):
    rng, hyper, big_epsilon = visible_cases("rmsprop")
    check_optimizer(student, "rmsprop", rng, hyper, big_epsilon, p=4, steps=50)


def hidden_hyper(rng, kind):
    epsilon = float(rng.choice([1e-7, 1e-4]))
    if kind == "rmsprop":
        return (float(rng.choice(RATES)), float(rng.choice(BETAS)), epsilon), (float(rng.choice(RATES)), 0.75, 0.1)
    hyper = (float(rng.choice(RATES)), float(rng.choice(BETAS)), float(rng.choice(BETA_2S)), epsilon)
    return hyper, hyper[:-1] + (0.1,)


def check_hidden_optimizer(student, kind, rng):
    hyper, big_epsilon = hidden_hyper(rng, kind)
    w = np.array([[0.0, 1.0], [-2.0, 0.5]])                           # a (2, 2) weight: a zero gradient (epsilon
    g = np.array([[0.0, 3.0], [-1e-3, 1e3]])                          # keeps 0 / 0 away), a tiny and a large one
    check_step(student, kind, w, g, [np.zeros((2, 2)) for _ in NAMES[kind][2][1:]], 1, hyper)
    check_optimizer(student, kind, rng, hyper, big_epsilon, p=int(rng.integers(1, 7)), steps=30)


@TASKS.hidden("rmsprop_hidden")
def rmsprop_hidden(student, rng):
    check_hidden_optimizer(student, "rmsprop", rng)


@TASKS.visible("adam_test", "Task 3: the visible tests pass.")
def adam_test(student):
    rng, hyper, big_epsilon = visible_cases("adam")
    check_optimizer(student, "adam", rng, hyper, big_epsilon, p=4, steps=50)


@TASKS.hidden("adam_hidden")
def adam_hidden(student, rng):
    check_hidden_optimizer(student, "adam", rng)


# --- Task 4: the largest stable learning rate of a quadratic -----------------------------------------

def check_rates(student, H):
    """(2 / lambda_max, 2 / (lambda_min + lambda_max)) from the eigenvalues of the Hessian H."""
    what = f"learning_rates(H) for H of shape {H.shape}"
    got = as_sequence(student.call("learning_rates", H), 2, what, "a pair (largest stable rate, best rate)")
    largest, best = (as_array(v, (), f"the {k} rate that {what} returns") for v, k in zip(got, ["largest", "best"]))
    eigenvalues = np.linalg.eigvalsh(H)
    low, high = float(eigenvalues[0]), float(eigenvalues[-1])
    story = f"the eigenvalues of H go from {low:.6g} to {high:.6g}"
    if not abs(largest - 2 / high) <= 1e-9 * (2 / high):
        hints = [(1 / high, "is where the steepest direction starts to oscillate, not where it diverges"),
                 (2 / low, "comes from the flattest direction: which direction breaks first as the rate grows?"),
                 (2 / np.max(np.diag(H)), "uses the diagonal of H: that is only right when H is diagonal; "
                                          "think in H's eigenvectors"),
                 (2 / np.max(np.abs(H)), "uses the largest entry of H: think in H's eigenvectors")]
        for value, text in hints:
            if abs(largest - value) <= 1e-9 * abs(value) and abs(value - 2 / high) > 1e-9 * (2 / high):
                raise Failed(f"the largest stable rate {largest:.6g} that {what} returns {text} ({story})")
        raise Failed(f"the largest stable rate that {what} returns is {largest:.6g}, but {story}: at that rate "
                     f"{'gradient descent diverges' if largest > 2 / high else 'a larger rate is still stable'}")
    if not abs(best - 2 / (low + high)) <= 1e-9 * (2 / (low + high)):
        extra = (": it makes the steepest direction converge in one step, but the slowest then crawls"
                 if abs(best - 1 / high) <= 1e-9 / high else "")
        raise Failed(f"the best rate that {what} returns is {best:.6g}{extra}; {story}. The best rate makes the "
                     "slowest-contracting direction contract as fast as possible: balance the two extreme directions")


@TASKS.visible("rates_test", "Task 4: the visible tests pass.")
def rates_test(student):
    check_rates(student, np.diag([1.0, 10.0]))                        # the lesson's bowl
    check_rates(student, np.array([[3.0, 2.0], [2.0, 3.0]]))          # eigenvalues 1 and 5


@TASKS.hidden("rates_hidden")
def rates_hidden(student, rng):
    p = int(rng.integers(3, 9))
    for H in [quadratic(rng, p, condition=float(rng.uniform(2, 1e4)))[0] * float(rng.uniform(0.01, 100)),
              np.array([[float(rng.uniform(0.5, 5))]]), np.diag(rng.uniform(0.1, 10, size=p))]:
        check_rates(student, (H + H.T) / 2)


# --- Task 5: an optimizer and a learning rate that train the digits net in a budget -----------------

STEPS, BATCH, TARGET, HIDDEN_TARGET = 60, 32, 0.90, 0.85
OPTIMIZERS = ("sgd", "rmsprop", "adam")


def digits():
    """scikit-learn's digits, pixels / 16: (X_train (1257, 64), y_train, X_val (540, 64), y_val), the
    split of the lesson (test_size=0.3, random_state=0, stratified)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    data = load_digits()
    return train_test_split((data.data / 16.0).astype(np.float32), data.target, test_size=0.3, random_state=0,
                            stratify=data.target)


@serialized
def train_digits(name, learning_rate, seed=0):
    """Validation accuracy of a Keras 64 -> 32 ReLU -> 10 softmax net (Glorot uniform weights seeded
    by `seed`) after STEPS steps of keras.optimizers.<name>(learning_rate) on mini-batches of BATCH
    training images in an order drawn from `seed`, with the sparse categorical cross-entropy."""
    keras, tf = keras_and_tf()
    if name not in OPTIMIZERS:
        raise ValueError(f"the optimizer must be one of {OPTIMIZERS}; got {name!r}")
    X, X_val, y, y_val = digits()
    keras.utils.set_random_seed(seed)
    net = keras.Sequential([keras.Input(shape=(64,)), keras.layers.Dense(32, activation="relu"),
                            keras.layers.Dense(10, activation="softmax")])
    optimizer = {"sgd": keras.optimizers.SGD, "rmsprop": keras.optimizers.RMSprop,
                 "adam": keras.optimizers.Adam}[name](learning_rate=learning_rate)
    loss = keras.losses.SparseCategoricalCrossentropy()
    order = np.random.default_rng(seed).permutation(len(X))
    for step in range(STEPS):
        batch = order[(step * BATCH) % len(X):][:BATCH]
        with tf.GradientTape() as tape:
            value = loss(y[batch], net(X[batch], training=True))
        optimizer.apply(tape.gradient(value, net.trainable_weights), net.trainable_weights)
    return float(np.mean(np.argmax(net(X_val).numpy(), axis=1) == y_val))


def check_choice(student, seeds, target):
    what = "optimizer_choice()"
    got = as_sequence(student.call("optimizer_choice"), 2, what, "a pair (name, learning_rate)")
    name, learning_rate = got
    if name not in OPTIMIZERS:
        raise Failed(f"the name that {what} returns must be one of {', '.join(map(repr, OPTIMIZERS))}, not {name!r}")
    learning_rate = float(as_array(learning_rate, (), f"the learning rate that {what} returns"))
    if not 0 < learning_rate <= 100:
        raise Failed(f"the learning rate that {what} returns must be in (0, 100], not {learning_rate:g}")
    for seed in seeds:
        accuracy = train_digits(name, learning_rate, seed)
        if not accuracy >= target:
            raise Failed(f"with {name} and learning_rate={learning_rate:g}, the digits net reaches a validation "
                         f"accuracy of {accuracy:.3f} after {STEPS} steps (start {seed}), below the target {target}: "
                         "sweep the learning rate, by factors of about 3, with tests.train_digits")


@TASKS.visible("choice_test", "Task 5: the visible tests pass.")
def choice_test(student):
    check_choice(student, [0], TARGET)


@TASKS.hidden("choice_hidden")
def choice_hidden(student, rng):
    check_choice(student, [int(s) for s in rng.integers(1, 10 ** 6, size=2)], HIDDEN_TARGET)


run = TASKS.run
report = TASKS.report
