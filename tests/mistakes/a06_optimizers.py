"""Typical mistakes in assignment 06_optimizers, graded by tests/test_grading.py.

Submission name -> the code written into solution cells (by grade id), the expected score of
every task, and text expected in the error that a test cell shows.
"""

# Task 1, right but for `{store}` (the array the averages go into) and `{correct}` (the bias correction).
EWA = (
    "def ewa(x, beta, bias_correction):\n"
    "    v, out = np.zeros(x.shape[1:]), {store}\n"
    "    for t in range(1, len(x) + 1):\n"
    "        v = beta * v + (1 - beta) * x[t - 1]\n"
    "        out[t - 1] = {correct}\n"
    "    return out\n")
EWA_RIGHT = {"store": "np.zeros(x.shape)", "correct": "v / (1 - beta ** t) if bias_correction else v"}

# Task 2, right but for `{step}`.
RMSPROP = (
    "def rmsprop_step(w, g, s, learning_rate, rho, epsilon):\n"
    "    s_new = rho * s + (1 - rho) * g ** 2\n"
    "    return {step}, s_new\n")

# Task 3, right but for `{alpha}` (the step size) and `{denominator}`.
ADAM = (
    "def adam_step(w, g, m, v, t, learning_rate, beta_1, beta_2, epsilon):\n"
    "    m_new = beta_1 * m + (1 - beta_1) * g\n"
    "    v_new = beta_2 * v + (1 - beta_2) * g ** 2\n"
    "    m_hat, v_hat = m_new / (1 - beta_1 ** t), v_new / (1 - beta_2 ** t)\n"
    "    alpha = {alpha}\n"
    "    return w - alpha * {numerator} / ({denominator}), m_new, v_new\n")

# Task 4, right but for the eigenvalues `{low}` and `{high}`.
RATES = (
    "def learning_rates(H):\n"
    "    eigenvalues = np.linalg.eigvalsh(H)\n"
    "    low, high = {low}, {high}\n"
    "    return {largest}, 2 / (low + high)\n")

MISTAKES = {
    "ewa_not_corrected__rmsprop_epsilon_outside__adam_not_corrected__default_adam": {
        "code": {
            "ewa_code": EWA.format(**{**EWA_RIGHT, "correct": "v"}),
            "rmsprop_code": RMSPROP.format(step="w - learning_rate * g / (np.sqrt(s_new) + epsilon)"),
            "adam_code": ADAM.format(alpha="learning_rate", numerator="m_new", denominator="np.sqrt(v_new) + epsilon"),
            "choice_code": "def optimizer_choice():\n    return 'adam', 0.001\n",
        },
        "scores": {"ewa": 0, "rmsprop": 0, "adam": 0, "rates": 2, "choice": 0},
        "messages": {
            "ewa_test": "is not bias-corrected: its first values are too small",
            "rmsprop_test": "has epsilon outside the square root",
            "adam_test": "has no bias correction",
            "choice_test": "below the target 0.9",
        },
    },
    "adam_paper_form__rates_one_over_lambda__rmsprop_without_epsilon": {
        "code": {
            "rmsprop_code": RMSPROP.format(step="w - learning_rate * g / np.sqrt(s_new)"),
            "adam_code": ADAM.format(alpha="learning_rate", numerator="m_hat", denominator="np.sqrt(v_hat) + epsilon"),
            "rates_code": RATES.format(low="eigenvalues[0]", high="eigenvalues[-1]", largest="1 / high"),
        },
        "scores": {"ewa": 2, "rmsprop": 0, "adam": 0, "rates": 0, "choice": 2},
        "messages": {
            "rmsprop_test": "differs from keras.optimizers.RMSprop",
            "rmsprop_hidden": "raised FloatingPointError",
            "adam_test": "as in the paper's Algorithm 1",
            "rates_test": "are where the steepest direction starts to oscillate",
        },
    },
    "ewa_for_vectors_only__adam_epsilon_inside_root__rates_from_the_diagonal": {
        "code": {
            "ewa_code": EWA.format(**{**EWA_RIGHT, "store": "np.zeros(len(x))"}),
            "adam_code": ADAM.format(alpha="learning_rate", numerator="m_hat", denominator="np.sqrt(v_hat + epsilon)"),
            "rates_code": RATES.format(low="np.min(np.diag(H))", high="np.max(np.diag(H))", largest="2 / high"),
        },
        "scores": {"ewa": 1, "rmsprop": 3, "adam": 0, "rates": 0, "choice": 2},
        "messages": {
            "ewa_hidden": "raised ValueError",
            "adam_test": "has epsilon inside the square root, as in the lecture notes",
            "rates_test": "use the diagonal of H",
        },
    },
    "rmsprop_uphill__adam_corrects_only_m": {
        "code": {
            "rmsprop_code": RMSPROP.format(step="w + learning_rate * g / np.sqrt(s_new + epsilon)"),
            "adam_code": ADAM.format(alpha="learning_rate", numerator="m_hat", denominator="np.sqrt(v_new) + epsilon"),
        },
        "scores": {"ewa": 2, "rmsprop": 0, "adam": 0, "rates": 2, "choice": 2},
        "messages": {
            "rmsprop_test": "goes uphill: check the sign",
            "adam_test": "corrects only m: v needs it too",
        },
    },
    "rmsprop_rho_swapped__rates_from_the_flattest_direction": {
        "code": {
            "rmsprop_code": ("def rmsprop_step(w, g, s, learning_rate, rho, epsilon):\n"
                             "    s_new = (1 - rho) * s + rho * g ** 2\n"
                             "    return w - learning_rate * g / np.sqrt(s_new + epsilon), s_new\n"),
            "rates_code": RATES.format(low="eigenvalues[0]", high="eigenvalues[-1]", largest="2 / low"),
        },
        "scores": {"ewa": 2, "rmsprop": 0, "adam": 3, "rates": 0, "choice": 2},
        "messages": {
            "rmsprop_test": "has rho and 1 - rho swapped",
            "rates_test": "come from the flattest direction",
        },
    },
}
