"""Typical mistakes in assignment 09_autoencoders, graded by tests/test_grading.py.

Submission name -> the code written into solution cells (by grade id), the expected score of
every task, and text expected in the error that a test cell shows.
"""

# Task 1, right but for `{mean}` (the number dL/dX_hat divides by) and `{dW}` (from dZ1, dZ2, X, H).
TIED = ("def tied_backward(X, W, b, c):\n"
        "    Z1 = X @ W + b\n"
        "    H = np.maximum(Z1, 0.0)\n"
        "    X_hat = 1 / (1 + np.exp(-(H @ W.T + c)))\n"
        "    dZ2 = 2 * (X_hat - X) / {mean} * X_hat * (1 - X_hat)\n"
        "    dZ1 = (dZ2 @ W) * (Z1 > 0)\n"
        "    return {dW}, dZ1.sum(axis=0), dZ2.sum(axis=0)\n")
RIGHT_TIED = {"mean": "X.size", "dW": "X.T @ dZ1 + dZ2.T @ H"}

# Task 2, returning `{count}` from the kernels' and the biases' counts.
COUNT = ("def autoencoder_params(sizes, tied):\n"
         "    kernels = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))\n"
         "    encoder_biases, decoder_biases = sum(sizes[1:]), sum(sizes[:-1])\n"
         "    return {count}\n")
RIGHT_COUNT = "(1 if tied else 2) * kernels + encoder_biases + decoder_biases"

# Task 3: both functions with `{check}` (the test for no given entry), `{target}` (Y with the
# missing entries filled in), `{loss}` and `{gradient}` from given, n and target.
MASKED = ("def masked_mse(Y, Y_hat):\n"
          "    given = ~np.isnan(Y)\n"
          "    n = given.sum()\n"
          "{check}"
          "    target = {target}\n"
          "    return {loss}\n\n\n"
          "def masked_mse_gradient(Y, Y_hat):\n"
          "    given = ~np.isnan(Y)\n"
          "    n = given.sum()\n"
          "{check}"
          "    target = {target}\n"
          "    return {gradient}\n")
CHECK = "    if n == 0:\n        raise ValueError('no entry of Y is given')\n"
RIGHT_MASKED = {"check": CHECK, "target": "np.where(given, Y, 0.0)",
                "loss": "float(np.sum(np.where(given, (Y_hat - target) ** 2, 0.0)) / n)",
                "gradient": "np.where(given, 2 * (Y_hat - target), 0.0) / n"}

# Task 4, right but for `{similarity}` (from E and the norms) and `{order}` (a ranking of s).
TOPK = ("def top_k_similar(E, item, k):\n"
        "    norms = np.linalg.norm(E, axis=1)\n"
        "    safe = np.where(norms > 0, norms, 1.0)\n"
        "    s = {similarity}\n"
        "    s[item] = -np.inf\n"
        "    return {order}[:k]\n")
RIGHT_TOPK = {"similarity": "(E / safe[:, None]) @ (E[item] / safe[item])", "order": "np.argsort(-s, kind='stable')"}

# Task 5, the solution's training loop with `{noisy}` (the input of a batch) and `{target}`.
DENOISER = (
    "def train_denoiser(X_train, noise_std, seed):\n"
    "    rng = np.random.default_rng(seed)\n"
    "    m, d = X_train.shape\n"
    "    h, learning_rate, step = 64, 0.005, 0\n"
    "    params = [rng.normal(scale=np.sqrt(2 / d), size=(d, h)), np.zeros(h),\n"
    "              rng.normal(scale=np.sqrt(1 / h), size=(h, d)), np.zeros(d)]\n"
    "    moments = [np.zeros_like(p) for p in params]\n"
    "    squares = [np.zeros_like(p) for p in params]\n"
    "    for epoch in range(100):\n"
    "        order = rng.permutation(m)\n"
    "        for start in range(0, m, 64):\n"
    "            clean = X_train[order[start:start + 64]]\n"
    "            noisy = {noisy}\n"
    "            target = {target}\n"
    "            W1, b1, W2, b2 = params\n"
    "            Z1 = noisy @ W1 + b1\n"
    "            H = np.maximum(Z1, 0.0)\n"
    "            X_hat = np.exp(-np.logaddexp(0.0, -(H @ W2 + b2)))\n"
    "            dZ2 = 2 * (X_hat - target) / target.size * X_hat * (1 - X_hat)\n"
    "            dZ1 = (dZ2 @ W2.T) * (Z1 > 0)\n"
    "            grads = [noisy.T @ dZ1, dZ1.sum(axis=0), H.T @ dZ2, dZ2.sum(axis=0)]\n"
    "            step += 1\n"
    "            for p, g, v, s in zip(params, grads, moments, squares):\n"
    "                v += 0.1 * (g - v)\n"
    "                s += 0.001 * (g * g - s)\n"
    "                p -= learning_rate * (v / (1 - 0.9 ** step)) / (np.sqrt(s / (1 - 0.999 ** step)) + 1e-7)\n"
    "    return params\n")
NOISY = "np.clip(clean + rng.normal(scale=noise_std, size=clean.shape), 0, 1)"

MISTAKES = {
    "encoder_use_only__decoder_kernels_counted__missing_as_zero": {
        "code": {
            "tied_code": TIED.format(**{**RIGHT_TIED, "dW": "X.T @ dZ1"}),
            "count_code": COUNT.format(count="2 * kernels + encoder_biases + decoder_biases"),
            "masked_code": MASKED.format(**{**RIGHT_MASKED, "target": "np.nan_to_num(Y)",
                                            "loss": "float(np.mean((Y_hat - target) ** 2))",
                                            "gradient": "2 * (Y_hat - target) / Y.size"}),
        },
        "scores": {"tied": 0, "count": 0, "masked": 0, "topk": 2, "experiment": 3},
        "messages": {
            "tied_test": "has only the encoder's share",
            "count_test": "is the untied count",
            "masked_test": "counts missing ratings as 0s",
        },
    },
    "mean_over_m_only__divided_by_all_entries__ties_reversed__noisy_targets": {
        "code": {
            "tied_code": TIED.format(**{**RIGHT_TIED, "mean": "X.shape[0]"}),
            "masked_code": MASKED.format(**{**RIGHT_MASKED,
                                            "loss": "float(np.sum(np.where(given, (Y_hat - target) ** 2, 0.0))"
                                                    " / Y.size)",
                                            "gradient": "np.where(given, 2 * (Y_hat - target), 0.0) / Y.size"}),
            "topk_code": TOPK.format(**{**RIGHT_TOPK, "order": "np.argsort(s)[::-1]"}),
            "experiment_code": DENOISER.format(noisy=NOISY, target="noisy"),
        },
        "scores": {"tied": 0, "count": 2, "masked": 0, "topk": 1, "experiment": 0},
        "messages": {
            "tied_test": "is d = 5 times too large: the mean is over the d features too",
            "masked_test": "is divided by all 30 entries, given or not",
            "topk_hidden": "orders a tie wrongly: the lower index comes first",
            "experiment_test": "below the target 16.0 dB",
        },
    },
    "decoder_use_only__biases_forgotten__no_value_error__dot_product__no_noise": {
        "code": {
            "tied_code": TIED.format(**{**RIGHT_TIED, "dW": "dZ2.T @ H"}),
            "count_code": COUNT.format(count="(1 if tied else 2) * kernels"),
            "masked_code": MASKED.format(**{**RIGHT_MASKED, "check": ""}),
            "topk_code": TOPK.format(**{**RIGHT_TOPK, "similarity": "E @ E[item]"}),
            "experiment_code": DENOISER.format(noisy="clean", target="clean"),
        },
        "scores": {"tied": 0, "count": 0, "masked": 1, "topk": 0, "experiment": 0},
        "messages": {
            "tied_test": "has only the decoder's share",
            "count_test": "counts no biases",
            "masked_hidden": "entries given should raise a ValueError",
            "topk_test": "is the ranking by dot product",
            "experiment_hidden": "below the target 16.0 dB",
        },
    },
}
