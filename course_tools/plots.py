"""Plots shared by the lesson pages: neuron diagrams, decision regions and probability surfaces.

Every function draws on a Matplotlib ``Axes`` (a new figure if none is given) and returns that
``Axes``, so a lesson can put several plots side by side. The plotters take a *function* instead of
a model: anything that maps an array of 2-D points ``(k, 2)`` to predictions will do, whether it
wraps a scratchnn layer, a Keras model or a three-line NumPy rule.

    from course_tools import plots
    plots.decision_regions(lambda P: P @ w + b > 0, X, y)
"""
import numpy as np
import matplotlib.pyplot as plt
from matplotlib.colors import LinearSegmentedColormap, to_rgb
from matplotlib.patches import Circle, FancyArrowPatch

#: Class colours (Okabe and Ito's palette, readable with every common colour-vision deficiency).
CLASS_COLORS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00"]
#: One marker per class, so classes differ in shape too, not only in colour.
CLASS_MARKERS = ["o", "s", "^", "D", "v", "P"]


def axes(ax=None, figsize=(4.5, 4)):
    """`ax` itself, or the axes of a new figure of `figsize` (inches)."""
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def grid(X, resolution=200, padding=0.5):
    """A regular grid over the bounding box of the 2-D points `X` (m, 2), widened by `padding`.

    Returns ``(xx, yy, points)``: ``xx`` and ``yy`` have shape (resolution, resolution) as made by
    ``np.meshgrid``, and ``points`` (resolution**2, 2) lists the same grid points as rows, ready to be
    passed to a predict function. Reshape its predictions with ``.reshape(xx.shape)``.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"grid needs 2-D points of shape (m, 2); got shape {X.shape}.")
    (x_min, y_min), (x_max, y_max) = X.min(axis=0) - padding, X.max(axis=0) + padding
    xx, yy = np.meshgrid(np.linspace(x_min, x_max, resolution), np.linspace(y_min, y_max, resolution))
    return xx, yy, np.column_stack([xx.ravel(), yy.ravel()])


def scatter_classes(X, y, ax=None, class_names=None, **kwargs):
    """Scatter the 2-D points `X` (m, 2), one colour and marker per integer class in `y` (m,).

    `class_names` labels the legend (default "class 0", "class 1", ...); extra keyword arguments go
    to ``ax.scatter``.
    """
    ax = axes(ax)
    X, y = np.asarray(X), np.asarray(y).ravel().astype(int)
    options = dict(s=28, edgecolors="white", linewidths=0.6, zorder=3)
    options.update(kwargs)
    for k in np.unique(y):
        name = class_names[k] if class_names is not None else f"class {k}"
        ax.scatter(X[y == k, 0], X[y == k, 1], c=CLASS_COLORS[k % len(CLASS_COLORS)],
                   marker=CLASS_MARKERS[k % len(CLASS_MARKERS)], label=name, **options)
    return ax


def _as_labels(predictions):
    """Class labels from what a predict function returned: labels, booleans, P(class 1) or class scores."""
    predictions = np.asarray(predictions)
    if predictions.ndim == 2 and predictions.shape[1] > 1:
        return np.argmax(predictions, axis=1)                     # (k, n) scores or probabilities
    predictions = predictions.ravel()
    if predictions.dtype == bool or np.issubdtype(predictions.dtype, np.integer):
        return predictions.astype(int)                            # labels
    if np.all((predictions == np.round(predictions)) & (predictions >= 0)):
        return predictions.astype(int)                            # labels stored as floats
    if np.all((predictions >= 0) & (predictions <= 1)):
        return (predictions > 0.5).astype(int)                    # P(class 1)
    raise ValueError("predict must return class labels, P(class 1) in [0, 1], or one score per class (k, n); "
                     "got one real number per point outside [0, 1]. For a raw score s, pass "
                     "`lambda P: score(P) > 0` instead.")


def decision_regions(predict, X, y, ax=None, resolution=200, padding=0.5, title=None, class_names=None,
                     legend=True, point_size=28):
    """Colour the plane by the class that `predict` chooses, and draw the data on top.

    `predict` maps points (k, 2) to one of: integer or boolean labels (k,); the probability of
    class 1, (k,) or (k, 1), thresholded at 0.5; or one score or probability per class (k, n), of
    which the largest wins. `X` (m, 2) and `y` (m,) are the data shown on top, with markers of
    area `point_size`.
    """
    ax = axes(ax)
    xx, yy, points = grid(X, resolution, padding)
    labels = _as_labels(predict(points)).reshape(xx.shape)
    n_classes = int(max(labels.max(), np.max(y))) + 1
    colours = [to_rgb(c) for c in CLASS_COLORS[:n_classes]]
    pale = np.array([[1 - 0.25 * (1 - channel) for channel in c] for c in colours])  # tints of the class colours
    ax.imshow(pale[labels], origin="lower", extent=(xx.min(), xx.max(), yy.min(), yy.max()),
              aspect="auto", interpolation="nearest")
    ax.contour(xx, yy, labels, levels=np.arange(n_classes) + 0.5, colors="k", linewidths=1)
    scatter_classes(X, y, ax, class_names=class_names, s=point_size)
    _finish(ax, title, legend)
    return ax


def probability_surface(predict_proba, X, y, ax=None, resolution=200, padding=0.5, title=None,
                        class_names=None, legend=True, colorbar=True, point_size=28):
    """Show the probabilities a classifier gives over the whole plane.

    Two classes: `predict_proba` maps points (k, 2) to P(class 1), shape (k,) or (k, 1); the plot
    shades that probability from the colour of class 0 to the colour of class 1, with the 0.5
    contour (the decision boundary) in black and the 0.1 and 0.9 contours dashed.

    More classes: `predict_proba` returns (k, n) probabilities. Each point gets its classes' colours
    mixed in proportion to their probabilities and fades to white where the model is unsure (the
    largest probability near 1/n); black lines mark where the most probable class changes.
    `X` (m, 2) and `y` (m,) are the data shown on top, with markers of area `point_size`.
    """
    ax = axes(ax)
    xx, yy, points = grid(X, resolution, padding)
    probs = np.asarray(predict_proba(points), dtype=np.float64)
    extent = (xx.min(), xx.max(), yy.min(), yy.max())
    if probs.ndim == 1 or probs.shape[1] == 1:
        p1 = probs.reshape(xx.shape)
        cmap = LinearSegmentedColormap.from_list("two_classes", [CLASS_COLORS[0], "#ffffff", CLASS_COLORS[1]])
        image = ax.imshow(p1, origin="lower", extent=extent, aspect="auto", cmap=cmap, vmin=0, vmax=1, alpha=0.75)
        ax.contour(xx, yy, p1, levels=[0.1, 0.9], colors="k", linewidths=0.8, linestyles="dashed")
        ax.contour(xx, yy, p1, levels=[0.5], colors="k", linewidths=1.5)
        if colorbar:
            ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="P(class 1)")
    else:
        n = probs.shape[1]
        colours = np.array([to_rgb(c) for c in CLASS_COLORS[:n]])           # (n, 3)
        mixed = probs @ colours                                               # (k, n) @ (n, 3) -> (k, 3)
        confidence = (probs.max(axis=1, keepdims=True) - 1 / n) / (1 - 1 / n)  # 0 when unsure, 1 when certain
        rgb = 1 - 0.6 * confidence * (1 - mixed)                               # towards white when unsure
        ax.imshow(rgb.reshape(xx.shape + (3,)), origin="lower", extent=extent, aspect="auto")
        labels = probs.argmax(axis=1).reshape(xx.shape)
        ax.contour(xx, yy, labels, levels=np.arange(n) + 0.5, colors="k", linewidths=1)
    scatter_classes(X, y, ax, class_names=class_names, s=point_size)
    _finish(ax, title, legend)
    return ax


def _finish(ax, title, legend):
    if title:
        ax.set_title(title)
    if legend:
        ax.legend(loc="best", fontsize="small", framealpha=0.85)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")


def draw_neuron(ax=None, n_inputs=3, n_outputs=1, activation="$f$", output="$a$", show_weights=True):
    """Draw inputs, weighted connections, summing unit(s) with a bias, an activation and the output(s).

    With ``n_outputs=1`` it is one artificial neuron: ``a = f(w . x + b)``. With more outputs every
    input connects to every unit (a Dense layer), and the activation box (e.g. "softmax") acts on
    all the sums z_1 .. z_n together, as softmax does. Labels are Matplotlib mathtext.
    """
    ax = axes(ax, figsize=(7, 0.9 * max(n_inputs, 1.5 * n_outputs) + 1.4))
    ax.set_aspect("equal")
    ax.axis("off")
    unit_gap = 1.0 if n_outputs == 1 else 1.5          # room for each unit's bias arrow
    height = max(n_inputs - 1, (n_outputs - 1) * unit_gap, 1.0)

    def column(count, x, gap):
        ys = height / 2 + gap * (np.arange(count)[::-1] - (count - 1) / 2)
        return [(x, y) for y in ys]

    inputs, units = column(n_inputs, 0.0, height / max(n_inputs - 1, 1)), column(n_outputs, 3.2, unit_gap)
    arrow = dict(arrowstyle="-|>", mutation_scale=12, color="0.25", linewidth=1.1, shrinkA=0, shrinkB=0)
    r_in, r_unit = 0.3, 0.42
    for i, (x, y) in enumerate(inputs, start=1):
        ax.add_patch(Circle((x, y), r_in, facecolor="#dbe9f6", edgecolor="0.2"))
        ax.text(x, y, f"$x_{{{i}}}$", ha="center", va="center", fontsize=12)
    for k, (ux, uy) in enumerate(units, start=1):
        for i, (x, y) in enumerate(inputs, start=1):
            start, end = np.array([x, y]), np.array([ux, uy])
            direction = (end - start) / np.linalg.norm(end - start)
            a, b = start + r_in * direction, end - r_unit * direction
            ax.add_patch(FancyArrowPatch(tuple(a), tuple(b), **arrow))
            if show_weights and n_outputs == 1:
                mid = a + 0.42 * (b - a)
                ax.text(mid[0], mid[1] + 0.13, f"$w_{{{i}}}$", ha="center", va="bottom", fontsize=11, color="#8a3b00")
        ax.add_patch(Circle((ux, uy), r_unit, facecolor="#fdf0d5", edgecolor="0.2"))
        ax.text(ux, uy, r"$\Sigma$", ha="center", va="center", fontsize=14)
        if n_outputs == 1:
            ax.add_patch(FancyArrowPatch((ux, uy + r_unit + 0.45), (ux, uy + r_unit), **arrow))
            ax.text(ux, uy + r_unit + 0.5, "$b$", ha="center", va="bottom", fontsize=11, color="#8a3b00")
        else:   # a short diagonal arrow, clear of the unit above
            edge = np.array([ux, uy]) + r_unit * np.array([np.sqrt(0.5), np.sqrt(0.5)])
            ax.add_patch(FancyArrowPatch(tuple(edge + 0.4), tuple(edge), **arrow))
            ax.text(edge[0] + 0.42, edge[1] + 0.42, f"$b_{{{k}}}$", ha="left", va="bottom", fontsize=11,
                    color="#8a3b00")
    if n_outputs == 1:
        (ux, uy), = units
        # The arrows are clipped to the activation box's outline (patchA), so they touch it
        # whatever the width of its label.
        box = ax.annotate(activation, xy=(ux + r_unit, uy), xytext=(ux + 2.0, uy), ha="center", va="center",
                          fontsize=13, bbox=dict(boxstyle="round,pad=0.4", facecolor="#e4f2e7", edgecolor="0.2"),
                          arrowprops=dict(arrow, arrowstyle="<|-"))
        ax.text(ux + 0.85, uy + 0.1, "$z$", ha="center", va="bottom", fontsize=12)
        ax.annotate("", xy=(ux + 3.5, uy), xytext=(ux + 2.0, uy),
                    arrowprops=dict(arrow, patchA=box.get_bbox_patch()))
        ax.text(ux + 3.65, uy, output, ha="left", va="center", fontsize=13)
        right = ux + 4.3
    else:
        box_x = 5.6
        top, bottom = units[0][1] + 0.5, units[-1][1] - 0.5
        ax.add_patch(plt.Rectangle((box_x - 0.55, bottom), 1.1, top - bottom, facecolor="#e4f2e7", edgecolor="0.2"))
        ax.text(box_x, (top + bottom) / 2, activation, ha="center", va="center", fontsize=12, rotation=90)
        for k, (ux, uy) in enumerate(units, start=1):
            ax.add_patch(FancyArrowPatch((ux + r_unit, uy), (box_x - 0.55, uy), **arrow))
            ax.text((ux + r_unit + box_x - 0.55) / 2, uy + 0.08, f"$z_{{{k}}}$", ha="center", va="bottom", fontsize=11)
            ax.add_patch(FancyArrowPatch((box_x + 0.55, uy), (box_x + 1.5, uy), **arrow))
            ax.text(box_x + 1.6, uy, f"{output[:-1]}_{{{k}}}$" if output.endswith("$") else f"{output}{k}",
                    ha="left", va="center", fontsize=12)
        right = box_x + 2.3
    ax.set_xlim(-0.6, right)
    ax.set_ylim(min(y for _, y in units + inputs) - 0.6, max(y for _, y in units + inputs) + 1.3)
    return ax
