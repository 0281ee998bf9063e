"""The overfitting experiment of chapter 7: a small slice of scikit-learn's digits and an MLP that
memorises it, with each remedy (L2, dropout, batch normalization) switched on by an argument.

    from course_tools.regularization import digits_slice, crossentropy, digits_mlp
    (x_train, y_train), (x_val, y_val) = digits_slice()
    model = digits_mlp(l2=3e-4)        # compiled: Adam, sparse cross-entropy, accuracy and crossentropy

Taught in chapter 7 (overfitting_l2_dropout.ipynb, batch_normalization.ipynb).
"""
import numpy as np
from sklearn.datasets import load_digits

import scratchnn
from scratchnn import layers, optimizers, regularizers
from scratchnn.models import Sequential


def digits_slice(n_train=100, n_val=800, seed=0):
    """((x_train, y_train), (x_val, y_val)): n_train and n_val different images of load_digits, picked
    by a seeded permutation; x (m, 64) float32 pixels scaled to [0, 1], y (m,) integer labels 0-9."""
    x, y = load_digits(return_X_y=True)
    if n_train + n_val > len(x):
        raise ValueError(f"digits has {len(x)} images; n_train + n_val = {n_train + n_val} is too many.")
    order = np.random.default_rng(seed).permutation(len(x))
    x = (x / 16.0).astype(np.float32)
    train, val = order[:n_train], order[n_train:n_train + n_val]
    return (x[train], y[train]), (x[val], y[val])


def crossentropy(y_true, y_pred):
    """The cross-entropy of each example, -log p[label] (p clipped to [1e-7, 1] as Keras clips), shape (m,).

    A metric for `compile`: unlike the logged loss it holds no weight penalty, so the curves of
    models with and without L2 can be compared. Taught in chapter 7 (overfitting_l2_dropout.ipynb).
    """
    labels = np.asarray(y_true).astype(int).reshape(-1)
    return -np.log(np.clip(y_pred[np.arange(len(labels)), labels], 1e-7, 1.0))


def digits_mlp(l2=None, dropout=0.0, batch_norm=False, hidden=(128, 128), learning_rate=3e-3, seed=1):
    """A built, compiled 64 -> hidden -> 10 softmax MLP (ReLU), seeded. Options per hidden layer:
    L2(l2) on every kernel, BatchNormalization between Dense and ReLU, Dropout(dropout) after ReLU.
    Metrics: accuracy and `crossentropy`. Taught in chapter 7 (overfitting_l2_dropout.ipynb)."""
    scratchnn.utils.set_random_seed(seed)
    penalty = regularizers.L2(l2) if l2 else None
    stack = []
    for units in hidden:
        if batch_norm:
            stack += [layers.Dense(units, kernel_regularizer=penalty), layers.BatchNormalization(),
                      layers.Activation("relu")]
        else:
            stack.append(layers.Dense(units, activation="relu", kernel_regularizer=penalty))
        if dropout:
            stack.append(layers.Dropout(dropout, seed=seed))
    stack.append(layers.Dense(10, activation="softmax", kernel_regularizer=penalty))
    model = Sequential(stack)
    model.build((None, 64))                                  # float32 weights, drawn now from the seed
    model.compile(optimizers.Adam(learning_rate), "sparse_categorical_crossentropy",
                  metrics=["accuracy", crossentropy])
    return model
