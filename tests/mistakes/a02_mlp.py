"""Typical mistakes in assignment 02_mlp, graded by tests/test_grading.py.

Submission name -> the code written into solution cells (by grade id), the expected score of
every task, and text expected in the error that a test cell shows.
"""

# A right backward pass, with `{mask}` standing for relu'(Z) of the layer below and `{dZ}` for dZ of
# the output layer; the mistakes below change one of them.
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
    "    return grads\n")
RIGHT = {"dZ": "(P - Y) / P.shape[0]", "dW": "A_prev.T @ dZ", "mask": " * (cache[l - 2][1] > 0)"}

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

MISTAKES = {
    "kernels_transposed__caches_relu_of_Z__no_relu_mask": {
        "code": {
            "sizes_code": (
                "def parameter_shapes(sizes):\n"
                "    shapes = []\n"
                "    for inputs, units in zip(sizes[:-1], sizes[1:]):\n"
                "        shapes += [(units, inputs), (units,)]  # (to, from): the textbook's layout, not Keras's\n"
                "    return shapes\n\n\n"
                "def count_parameters(sizes):\n"
                "    return sum(int(np.prod(shape)) for shape in parameter_shapes(sizes))\n"),
            "forward_code": FORWARD.format(**{**STABLE, "cached": "np.maximum(Z, 0.0) if l < L else Z"}),
            "backward_code": BACKWARD.format(**{**RIGHT, "mask": ""}),
        },
        "scores": {"sizes": 0, "forward": 0, "backward": 0, "collapse": 2},
        "messages": {
            "sizes_test": "the shape of W1, should be (4, 5), but is (5, 4): a kernel is (inputs, units)",
            "forward_test": "cache[0][1] should be the pre-activation Z of layer 1, before the ReLU, but it is relu(Z)",
            "backward_test": "your gradients are those of a network without the ReLUs",
        },
    },
    "biases_not_counted__unstable_softmax__transposed_gradients__last_bias_only": {
        "code": {
            "sizes_code": (
                "def parameter_shapes(sizes):\n"
                "    shapes = []\n"
                "    for inputs, units in zip(sizes[:-1], sizes[1:]):\n"
                "        shapes += [(inputs, units), (units,)]\n"
                "    return shapes\n\n\n"
                "def count_parameters(sizes):\n"
                "    return sum(inputs * units for inputs, units in zip(sizes[:-1], sizes[1:]))\n"),
            "forward_code": FORWARD.format(**{**STABLE, "softmax": "np.exp(Z)"}),
            "backward_code": BACKWARD.format(**{**RIGHT, "dW": "dZ.T @ A_prev"}),
            "collapse_code": (
                "def collapse(params):\n"
                "    W = params[0]\n"
                "    for k in range(2, len(params), 2):\n"
                "        W = W @ params[k]\n"
                "    return W, params[-1].copy()\n"),
        },
        "scores": {"sizes": 0, "forward": 2, "backward": 0, "collapse": 0},
        "messages": {
            "sizes_test": "count_parameters([4, 5, 3]) is 35, but keras.Sequential(...).count_params() is 43: "
                          "you left out the biases",
            "forward_hidden": "overflow encountered in exp",
            "backward_test": "dW1, the gradient of W1, should have shape (4, 6), but has shape (6, 4): "
                             "is it transposed?",
            "collapse_test": "the b it returns is b2, the last bias: the earlier biases count too",
        },
    },
    "relu_on_the_output__gradients_without_1_over_m__keras_in_collapse": {
        "code": {
            "forward_code": FORWARD.format(**{**STABLE, "output": "np.maximum(Z, 0.0)"}),
            "backward_code": BACKWARD.format(**{**RIGHT, "dZ": "P - Y"}),
            "collapse_code": (
                "def collapse(params):\n"
                "    stack = keras.Sequential([keras.Input(shape=(params[0].shape[0],), dtype='float64')]\n"
                "                             + [keras.layers.Dense(params[k].shape[1], dtype='float64')\n"
                "                                for k in range(0, len(params), 2)])\n"
                "    stack.set_weights(params)\n"
                "    b = stack(np.zeros((1, params[0].shape[0]))).numpy()[0]\n"
                "    return stack(np.eye(params[0].shape[0])).numpy() - b, b\n"),
        },
        "scores": {"sizes": 2, "forward": 0, "backward": 0, "collapse": 0},
        "messages": {
            "forward_test": "the output layer has no ReLU, P = softmax(Z3)",
            "backward_test": "all your gradients are m=8 times too large: did you forget the 1/m of the mean",
            "collapse_test": "collapse uses keras: write it yourself, with NumPy only",
        },
    },
    "input_layer_counted__relu_slope_1_at_zero": {
        "code": {
            "sizes_code": (
                "def parameter_shapes(sizes):\n"
                "    shapes = []\n"
                "    for inputs, units in zip(sizes[:-1], sizes[1:]):\n"
                "        shapes += [(inputs, units), (units,)]\n"
                "    return shapes\n\n\n"
                "def count_parameters(sizes):  # one bias per unit of every layer, the input's included\n"
                "    return sum(inputs * units for inputs, units in zip(sizes[:-1], sizes[1:])) + sum(sizes)\n"),
            "backward_code": BACKWARD.format(**{**RIGHT, "mask": " * (cache[l - 2][1] >= 0)"}),
        },
        "scores": {"sizes": 0, "forward": 3, "backward": 2, "collapse": 2},
        "messages": {
            "sizes_test": "count_parameters([4, 5, 3]) is 47, but keras.Sequential(...).count_params() is 43: "
                          "the input layer has no parameters",
            "backward_hidden": "TensorFlow takes relu'(0) = 0, so the mask is (Z > 0), not (Z >= 0)",
        },
    },
}
