"""Optimizers on two-dimensional test functions: the paths they take, and pictures of them.

Used by chapter 6 (gradient_descent.ipynb and momentum_rmsprop_adam.ipynb)::

    f, grad = quadratic([1.0, 10.0])                        # f(w) = (w1^2 + 10 w2^2) / 2
    points = path(optimizers.SGD(0.1), grad, [-4.0, 1.5], steps=50)          # (51, 2)
    same = keras_path(keras.optimizers.SGD(0.1), grad, [-4.0, 1.5], steps=50)
    draw_paths(ax, f, {"SGD": points}, xlim=(-5, 5), ylim=(-2, 2))

Both paths feed the optimizer the same NumPy gradient at the point it has reached, so they differ
only where the two optimizers' update rules differ.
"""
import numpy as np


def quadratic(curvatures, center=(0.0, 0.0)):
    """(f, grad) of f(w) = 1/2 sum_i curvatures[i] (w_i - center_i)^2, an axis-aligned bowl.

    w: (p,) -> f(w): a number, grad(w): (p,); f also takes a grid (p, ...). The Hessian is
    diag(curvatures): its eigenvalues are the curvatures, and plain gradient descent converges
    exactly when learning_rate < 2 / max(curvatures).
    Taught in chapter 6 (gradient_descent.ipynb).
    """
    h, c = np.asarray(curvatures, dtype=np.float64), np.asarray(center, dtype=np.float64)
    if h.ndim != 1 or h.shape != c.shape or not np.all(h > 0):
        raise ValueError(f"quadratic: curvatures must be positive numbers, one per entry of center; "
                         f"got curvatures {curvatures!r} and center {center!r}")

    def f(w):
        w = np.asarray(w, dtype=np.float64)
        column = (-1,) + (1,) * (w.ndim - 1)           # a point (p,) or a grid (p, ...)
        return 0.5 * np.sum(h.reshape(column) * (w - c.reshape(column)) ** 2, axis=0)

    return f, (lambda w: h * (np.asarray(w, dtype=np.float64) - c))


def rosenbrock(w):
    """Rosenbrock's function (1 - x)^2 + 100 (y - x^2)^2 of w = (x, y), shape (2,) or (2, ...) for a
    grid: a curved, narrow valley with its minimum 0 at (1, 1). Taught in chapter 6
    (momentum_rmsprop_adam.ipynb)."""
    x, y = w[0], w[1]
    return (1 - x) ** 2 + 100 * (y - x ** 2) ** 2


def rosenbrock_gradient(w):
    """The gradient (2,) of `rosenbrock` at w = (x, y)."""
    x, y = float(w[0]), float(w[1])
    return np.array([-2 * (1 - x) - 400 * x * (y - x ** 2), 200 * (y - x ** 2)])


def path(optimizer, gradient, start, steps):
    """The points (steps + 1, p) that a scratchnn optimizer visits from `start` (p,), float64, when
    each step gets gradient(w) at the current point w. Taught in chapter 6 (gradient_descent.ipynb)."""
    w = np.array(start, dtype=np.float64)
    points = [w.copy()]
    for _ in range(steps):
        optimizer.apply([gradient(w)], [w])
        points.append(w.copy())
    return np.array(points)


def keras_path(optimizer, gradient, start, steps):
    """The same as `path`, for a Keras optimizer: the point is a float64 tf.Variable. Taught in
    chapter 6 (gradient_descent.ipynb)."""
    import tensorflow as tf
    w = tf.Variable(np.array(start, dtype=np.float64))
    points = [w.numpy()]
    for _ in range(steps):
        optimizer.apply([tf.constant(gradient(w.numpy()))], [w])
        points.append(w.numpy())
    return np.array(points)


def draw_paths(ax, f, paths, xlim, ylim, levels=20, log_levels=False, title=None):
    """Contours of f over the box xlim x ylim, each path of {label: points (n, 2)} on top, and the
    minimum marked where the caller marks it. f takes a (2, ...) grid. Returns ax."""
    x, y = np.meshgrid(np.linspace(*xlim, 300), np.linspace(*ylim, 300))
    z = f(np.array([x, y]))
    if log_levels:
        levels = np.logspace(np.log10(max(z.min(), 1e-3)), np.log10(z.max()), levels)
    ax.contour(x, y, z, levels=levels, colors="0.75", linewidths=0.7)
    for label, points in paths.items():
        inside = np.all(np.isfinite(points), axis=1)
        ax.plot(points[inside, 0], points[inside, 1], ".-", ms=3, lw=1, label=label)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_xlabel("$w_1$")
    ax.set_ylabel("$w_2$")
    if title:
        ax.set_title(title)
    return ax
