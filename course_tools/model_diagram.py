"""Pictures for the Keras-workflow chapter, drawn with Matplotlib only (no Graphviz needed).

    from course_tools import model_diagram
    model_diagram.layer_stack(model)     # a Keras model or a scratchnn Sequential: layers, shapes, parameters
    model_diagram.workflow()             # build -> compile -> fit -> evaluate -> predict, top to bottom
    model_diagram.fit_loop()             # the loops inside fit, and where each callback hook runs

`keras.utils.plot_model` draws a similar picture of a Keras model, but it needs the `pydot` package
and Graphviz's `dot` program, which pip cannot install. `layer_stack` needs neither, so a page can
show it anywhere. Every function draws on a Matplotlib ``Axes`` (a new figure if none is given) and
returns it.
"""
import numpy as np
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from course_tools import plots

_FILLS = {"input": "#dbe9f6", "layer": "#fdf0d5", "output": "#e4f2e7", "step": "#f1f1f1"}
_ARROW = dict(arrowstyle="-|>", mutation_scale=14, color="0.25", linewidth=1.2, shrinkA=0, shrinkB=0)


def _axes(ax, figsize):
    """`ax` or a new figure's axes, without the frame a diagram does not need."""
    ax = plots.axes(ax, figsize)
    ax.axis("off")
    return ax


def _shape(shape):
    return "(" + ", ".join("None" if s is None else str(s) for s in shape) + (",)" if len(shape) == 1 else ")")


def _activation_name(layer):
    """The activation's name of a Keras or scratchnn layer ('relu'), or None if it has none."""
    activation = getattr(layer, "activation", None)
    if activation is None:
        return None
    if isinstance(activation, str):
        return activation
    return getattr(activation, "__name__", None) or str(activation)


def layer_rows(model):
    """One dict per row of the picture: the input, then every layer in order.

    Each row has `name`, `kind` (the class, plus the activation if any), `shape` (the output
    shape, batch dimension None), `params` (int: every weight, as Keras's summary counts them) and
    `trainable` (int: the trainable ones; batch norm's moving statistics are not), plus `formula`
    for a Dense layer, e.g. "11·64 + 64". Works for a built Keras model (Sequential or Functional,
    with a linear chain of layers) and for a built scratchnn Sequential.
    """
    rows = []
    is_keras = hasattr(model, "inputs") and not hasattr(model, "forward")
    if is_keras:
        shape = tuple(model.inputs[0].shape)
        name = getattr(model.inputs[0], "name", "") or ""
        rows.append(dict(name="input" if name.startswith("keras_tensor") or not name else name,
                         kind="Input", shape=_shape(shape), params=0, trainable=0, formula=""))
        layer_list = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    else:
        if not model.built:
            raise ValueError("Build the scratchnn model first, e.g. model.build((None, n_features)).")
        shape = model.input_shape
        rows.append(dict(name="input", kind="Input", shape=_shape(shape), params=0, trainable=0, formula=""))
        layer_list = model.layers
    for layer in layer_list:
        in_features = shape[-1]
        shape = tuple(layer.output.shape) if is_keras else tuple(layer.compute_output_shape(shape))
        activation = _activation_name(layer)
        kind = type(layer).__name__ + (f", {activation}" if activation and activation != "linear" else "")
        formula = ""
        if type(layer).__name__ == "Dense":
            formula = f"{in_features}·{shape[-1]} + {shape[-1]}"
        rows.append(dict(name=layer.name, kind=kind, shape=_shape(shape),
                         params=int(layer.count_params()), formula=formula,
                         trainable=sum(int(np.prod(w.shape)) for w in layer.trainable_weights)))
    return rows


def layer_stack(model, ax=None, title=None):
    """Draw the model as a column of boxes, input at the top, one box per layer.

    Each box shows the layer's name and type (and activation); to its right, the output shape and
    the parameter count, with the arithmetic for a Dense layer (inputs·units + units). The total
    is written under the stack.
    """
    rows = layer_rows(model)
    ax = _axes(ax, figsize=(6.8, 1.25 * len(rows) + 0.9))
    box_w, box_h, gap = 3.6, 0.62, 0.55
    ys = [-(box_h + gap) * i for i in range(len(rows))]
    for i, (row, y) in enumerate(zip(rows, ys)):
        fill = _FILLS["input"] if i == 0 else _FILLS["output"] if i == len(rows) - 1 else _FILLS["layer"]
        ax.add_patch(FancyBboxPatch((0, y - box_h / 2), box_w, box_h, boxstyle="round,pad=0.02,rounding_size=0.12",
                                    facecolor=fill, edgecolor="0.2", linewidth=1.1))
        ax.text(box_w / 2, y + 0.09, row["name"], ha="center", va="center", fontsize=11, fontweight="bold")
        ax.text(box_w / 2, y - 0.17, row["kind"], ha="center", va="center", fontsize=9.5, color="0.25")
        ax.text(box_w + 0.3, y + 0.1, f"output {row['shape']}", ha="left", va="center", fontsize=10,
                family="monospace")
        if i > 0:
            params = f"{row['params']:,} params" + (f" = {row['formula']}" if row["formula"] else "")
            if row["trainable"] < row["params"]:
                params += f", {row['trainable']:,} trainable"
            ax.text(box_w + 0.3, y - 0.17, params, ha="left", va="center", fontsize=10, color="#8a3b00")
        if i + 1 < len(rows):
            ax.add_patch(FancyArrowPatch((box_w / 2, y - box_h / 2), (box_w / 2, ys[i + 1] + box_h / 2), **_ARROW))
    total, trainable = sum(row["params"] for row in rows), sum(row["trainable"] for row in rows)
    ax.text(box_w / 2, ys[-1] - box_h / 2 - 0.35, _total_line(total, trainable),
            ha="center", va="top", fontsize=10.5)
    ax.set_xlim(-0.2, box_w + 4.4)
    ax.set_ylim(ys[-1] - box_h / 2 - 0.75, box_h / 2 + (0.55 if title else 0.15))
    if title:
        ax.text(box_w / 2, box_h / 2 + 0.2, title, ha="center", va="bottom", fontsize=12)
    return ax


def _total_line(total, trainable):
    """'total: 34 trainable parameters', or 'total: 42 parameters, 34 trainable' when some are not."""
    if trainable == total:
        return f"total: {total:,} trainable parameters"
    return f"total: {total:,} parameters, {trainable:,} trainable"


def workflow(ax=None):
    """The five calls of the Keras workflow, top to bottom: what each one takes (left) and returns (right)."""
    steps = [("build", "Sequential([...])\nor keras.Model(in, out)", "a model with\nrandom weights"),
             ("compile", "optimizer, loss, metrics", "ready to train"),
             ("fit", "x, y, epochs, batch_size,\nvalidation, callbacks", "a History\n(one value per epoch)"),
             ("evaluate", "x_test, y_test", "[loss, metrics]\n(final weights)"),
             ("predict", "x_new", "outputs, e.g.\nprobabilities (m, n)")]
    step, width, height = 0.78, 1.5, 0.5          # one row per call, its box in the middle column
    ax = _axes(ax, figsize=(6.8, step * len(steps) + 0.5))
    left = 2.5                  # the boxes' left edge: "takes" ends 0.2 before it, "returns" starts 0.2 after
    ax.text(left - 0.2, 0.55, "takes", ha="right", va="center", fontsize=10, style="italic", color="0.25")
    ax.text(left + width + 0.2, 0.55, "returns", ha="left", va="center", fontsize=10, style="italic",
            color="#8a3b00")
    for i, (name, takes, returns) in enumerate(steps):
        y = -i * step
        ax.add_patch(FancyBboxPatch((left, y - height / 2), width, height,
                                    boxstyle="round,pad=0.02,rounding_size=0.1",
                                    facecolor=_FILLS["layer"] if name == "fit" else _FILLS["step"],
                                    edgecolor="0.2", linewidth=1.1))
        ax.text(left + width / 2, y, name, ha="center", va="center", fontsize=12, family="monospace",
                fontweight="bold")
        ax.text(left - 0.2, y, takes, ha="right", va="center", fontsize=10, color="0.25")
        ax.text(left + width + 0.2, y, returns, ha="left", va="center", fontsize=10, color="#8a3b00")
        if i + 1 < len(steps):
            ax.add_patch(FancyArrowPatch((left + width / 2, y - height / 2),
                                         (left + width / 2, y - step + height / 2), **_ARROW))
    ax.set_xlim(0, 6.8)
    ax.set_ylim(-(len(steps) - 1) * step - height / 2 - 0.1, 0.75)
    return ax


def fit_loop(ax=None, validation=True):
    """The nested loops of `fit`, top to bottom, with the callback hook called at each point.

    Hooks are in monospace; the work `fit` does between them is in italics. With validation=True the
    evaluation at the end of each epoch is shown with Keras's on_test_* hooks.
    """
    lines = [(0, "hook", "on_train_begin(logs)"),
             (0, "loop", "for epoch in range(epochs):"),
             (1, "hook", "on_epoch_begin(epoch, logs)"),
             (1, "work", "reset the running means (loss, metrics)"),
             (1, "loop", "for batch in range(ceil(m_train / batch_size)):"),
             (2, "hook", "on_train_batch_begin(batch, logs)"),
             (2, "work", "forward, loss, backward, optimizer step; update running means"),
             (2, "hook", "on_train_batch_end(batch, logs)   # logs: running means so far"),
             ]
    if validation:
        lines += [(1, "work", "evaluate on the validation data (final weights of the epoch)"),
                  (1, "hook", "on_test_begin / on_test_batch_* / on_test_end   (Keras only)")]
    lines += [(1, "hook", "on_epoch_end(epoch, logs)   # logs: loss, metrics, val_*"),
              (0, "hook", "on_train_end(logs)")]
    ax = _axes(ax, figsize=(8.2, 0.36 * len(lines) + 0.4))
    step, indent = 0.36, 0.45
    for i, (level, kind, text) in enumerate(lines):
        y = -i * step
        style = dict(family="monospace", fontsize=10)
        if kind == "work":
            style = dict(fontsize=10, style="italic", color="0.35")
        elif kind == "loop":
            style = dict(family="monospace", fontsize=10, fontweight="bold")
        elif "Keras only" in text:
            style = dict(family="monospace", fontsize=10, color="0.45")
        else:
            style["color"] = "#0b5394"
        ax.text(level * indent, y, text, ha="left", va="center", **style)
    # a vertical bar along the body of each loop: the lines after it that are indented deeper
    for start, (level, kind, _) in enumerate(lines):
        if kind != "loop":
            continue
        end = start
        while end + 1 < len(lines) and lines[end + 1][0] > level:
            end += 1
        x = level * indent + 0.12
        ax.plot([x, x], [-(start + 0.6) * step, -(end + 0.3) * step], color="0.6", linewidth=1.2)
    ax.set_xlim(-0.1, 8.0)
    ax.set_ylim(-(len(lines) - 0.4) * step, 0.5 * step)
    return ax
