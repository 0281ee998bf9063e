"""Typical mistakes in assignment 02_mlp, graded by tests/test_grading.py.

Submission name -> the code written into solution cells (by grade id), the expected score of
every task, and text expected in the error that a test cell shows.
"""

# A right forward pass, with `{cached}` standing for what is cached as Z, `{output}` for the logits
# softmax is taken of, and `{softmax}` for the softmax.
FORWARD = (
    "def forward(X, params):\n"
    "    L, A, cache = len(params) // 2, X, []\n"
    "    for l in range(1, L + 1):\n"
    "        Z = A @ params[2 * (l - 1)] + params[2 * (l - 1) + 1]\n"
    "        cache.append((A, {cached}))\n"
    "        if l < L:\n"
    "            A = np.maximum(Z, 0.0)\n"
    "    Z = {output}\n"
    "    E = {softmax}\n"
    "    return E / E.sum(axis=1, keepdims=True), cache\n")
STABLE = {"cached": "Z", "output": "Z", "softmax": "np.exp(Z - Z.max(axis=1, keepdims=True))"}

# A right backward pass, with `{dZ}` standing for dZ of the output layer, `{dW}` for a kernel's
# gradient, `{mask}` for relu'(Z) of the layer below and `{grads}` for what is returned.
BACKWARD = (
    "def backward(P, Y, params, cache):\n"
    "    L = len(params) // 2\n"
    "    grads = [None] * (2 * L)\n"
    "    dZ = {dZ}\n"
    "    for l in range(L, 0, -1):\n"
    "        A_prev, _ = cache[l - 1]\n"
    "        grads[2 * (l - 1)] = {dW}\n"
    "        grads[2 * (l - 1) + 1] = dZ.sum(axis=0)\n"
    "        if l > 1:\n"
    "            dA = dZ @ params[2 * (l - 1)].T\n"
    "            dZ = dA{mask}\n"
    "    return {grads}\n")
RIGHT = {"dZ": "(P - Y) / P.shape[0]", "dW": "A_prev.T @ dZ", "mask": " * (cache[l - 2][1] > 0)", "grads": "grads"}

# A right Task 3, with `{steps}` for the range of steps, `{result}` for what train_mlp returns and
# `{choice}` for what architecture returns.
TRAINING = (
    "def train_mlp(X, y, params, learning_rate, steps):\n"
    "    Y = np.eye(params[-1].shape[0])[y]\n"
    "    trained = params\n"
    "    for _ in range({steps}):\n"
    "        P, cache = forward(X, trained)\n"
    "        grads = backward(P, Y, trained, cache)\n"
    "        trained = [V - learning_rate * dV for V, dV in zip(trained, grads)]\n"
    "    return {result}\n\n\n"
    "def architecture():\n"
    "    return {choice}\n")
TRAINED = {"steps": "steps", "result": "trained", "choice": "[64], 1.0, 150"}

MISTAKES = {
    "caches_relu_of_Z__no_relu_mask__returns_the_starting_weights": {
        "code": {
            "forward_code": FORWARD.format(**{**STABLE, "cached": "np.maximum(Z, 0.0) if l < L else Z"}),
            "backward_code": BACKWARD.format(**{**RIGHT, "mask": ""}),
            "training_code": TRAINING.format(**{**TRAINED, "result": "params"}),
        },
        "scores": {"forward": 0, "backward": 0, "training": 0},
        "messages": {
            "forward_test": "cache[0][1] holds layer 1's output after the ReLU",
            "backward_test": "your gradients are those of a network without its ReLUs",
            "training_test": "returned the weights it was given, untrained",
        },
    },
    "unstable_softmax__transposed_kernel_gradients": {
        "code": {
            "forward_code": FORWARD.format(**{**STABLE, "softmax": "np.exp(Z)"}),
            "backward_code": BACKWARD.format(**{**RIGHT, "dW": "dZ.T @ A_prev"}),
        },
        "scores": {"forward": 2, "backward": 0, "training": 0},
        "messages": {
            "forward_hidden": "overflow encountered in exp",
            "backward_test": "dW1 of backward(P, Y, params, cache) should have shape (4, 6), but has shape (6, 4)",
        },
    },
    "relu_on_the_output__gradients_without_1_over_m": {
        "code": {
            "forward_code": FORWARD.format(**{**STABLE, "output": "np.maximum(Z, 0.0)"}),
            "backward_code": BACKWARD.format(**{**RIGHT, "dZ": "P - Y"}),
        },
        "scores": {"forward": 0, "backward": 0, "training": 0},
        "messages": {
            "forward_test": "went through a ReLU before the softmax: look at the output layer",
            "backward_test": "your gradients are all m=8 times too large",
        },
    },
    "relu_slope_1_at_zero": {
        "code": {"backward_code": BACKWARD.format(**{**RIGHT, "mask": " * (cache[l - 2][1] >= 0)"})},
        "scores": {"forward": 3, "backward": 2, "training": 4},
        "messages": {"backward_hidden": "takes the ReLU's slope at 0 to be 0"},
    },
    "gradients_last_layer_first": {
        "code": {"backward_code": BACKWARD.format(**{**RIGHT, "grads": "[g for k in range(L - 1, -1, -1) "
                                                                       "for g in grads[2 * k:2 * k + 2]]"})},
        "scores": {"forward": 3, "backward": 0, "training": 0},
        "messages": {"backward_test": "your gradients come last layer first"},
    },
    "one_step_too_many": {
        "code": {"training_code": TRAINING.format(**{**TRAINED, "steps": "steps + 1"})},
        "scores": {"forward": 3, "backward": 3, "training": 0},
        "messages": {"training_test": "took 2 steps instead of 1"},
    },
    "updates_the_given_weights_in_place": {
        "code": {"training_code": TRAINING.format(**TRAINED).replace(
            "        trained = [V - learning_rate * dV for V, dV in zip(trained, grads)]\n",
            "        for V, dV in zip(trained, grads):\n            V -= learning_rate * dV\n")},
        "scores": {"forward": 3, "backward": 3, "training": 0},
        "messages": {"training_test": "train_mlp changed its argument 3"},
    },
    "learning_rate_too_small": {
        "code": {"training_code": TRAINING.format(**{**TRAINED, "choice": "[64], 0.02, 150"})},
        "scores": {"forward": 3, "backward": 3, "training": 0},
        "messages": {"training_test": "below the target 0.94"},
    },
    "network_over_the_size_limit": {
        "code": {"training_code": TRAINING.format(**{**TRAINED, "choice": "[256, 128], 1.0, 150"})},
        "scores": {"forward": 3, "backward": 3, "training": 0},
        "messages": {"training_test": "over the limit of 10000"},
    },
}
