"""Data, noise, a quality measure and pictures for chapter 9's autoencoder pages, on scikit-learn's digits.

    from course_tools.autoencoders import digits_split, corrupt, psnr, show_digits, hourglass
    (x_train, y_train), (x_test, y_test) = digits_split()      # x (m, 64) in [0, 1], y (m,) labels
    noisy = corrupt(x_test, 0.3, np.random.default_rng(0))     # Gaussian noise, clipped to [0, 1]
    psnr(x_test, noisy)                                        # in dB: higher is closer to x_test
    show_digits({"noisy": noisy[:8], "clean": x_test[:8]})     # one row of 8 x 8 images per entry

Taught in chapter 9 (autoencoders.ipynb, tied_weights.ipynb).
"""
import numpy as np
import matplotlib.pyplot as plt
from matplotlib.patches import Polygon, Rectangle

from course_tools.regularization import digits_slice

SIDE = 8          # the digits are 8 x 8 pixels: rows of 64 numbers
N_DIGITS = 1797   # images in scikit-learn's load_digits


def digits_split(n_train=1400, seed=0, dtype="float32"):
    """((x_train, y_train), (x_test, y_test)): all 1,797 digits, split by `regularization.digits_slice`
    (pixels in [0, 1], a permutation seeded by `seed`) after `n_train` rows. x (m, 64) in `dtype`, y (m,) int."""
    if not 0 < n_train < N_DIGITS:
        raise ValueError(f"n_train must be between 1 and {N_DIGITS - 1} (the digits have {N_DIGITS} rows); "
                         f"got {n_train!r}.")
    (x_train, y_train), (x_test, y_test) = digits_slice(n_train, N_DIGITS - n_train, seed)
    return (x_train.astype(dtype), y_train), (x_test.astype(dtype), y_test)


def corrupt(x, stddev, rng):
    """x plus Gaussian noise of standard deviation `stddev` (one draw per pixel from the Generator
    `rng`), clipped back to the pixel range [0, 1]; same shape and dtype as x."""
    x = np.asarray(x)
    if stddev < 0:
        raise ValueError(f"stddev must be >= 0; got {stddev!r}.")
    noisy = x + stddev * rng.standard_normal(size=x.shape)
    return np.clip(noisy, 0.0, 1.0).astype(x.dtype if x.dtype.kind == "f" else np.float64)


def psnr(reference, images, peak=1.0):
    """Peak signal-to-noise ratio in dB, 10 log10(peak^2 / MSE), the MSE taken over every pixel of
    every image. Higher is closer to `reference`; each halving of the MSE adds about 3 dB."""
    reference, images = np.asarray(reference, dtype=np.float64), np.asarray(images, dtype=np.float64)
    if reference.shape != images.shape:
        raise ValueError(f"psnr needs two arrays of one shape; got {reference.shape} and {images.shape}.")
    mse = np.mean((reference - images) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(peak ** 2 / mse))


def show_digits(rows, titles=None, size=0.9, title=None, max_width=6.8):
    """One row of 8 x 8 grey images per entry of `rows` ({row label: array (n, 64)}, every row the
    same n), black for 0 and white for 1; `titles` ({row label: n strings}) are written above the
    images of that row. Each image is `size` inches wide and the figure at most `max_width` inches
    (the text column of the course's pages): rows too long for it wrap onto several lines, each line
    showing the next images of every row, so the images of one index stay one above the other.
    Returns the figure."""
    if not rows:
        raise ValueError("show_digits needs at least one row of images.")
    n = {len(np.asarray(images)) for images in rows.values()}
    if len(n) != 1:
        raise ValueError(f"every row must hold as many images; got row lengths {sorted(n)}.")
    n = n.pop()
    titles = titles or {}
    label_width = 1.2                                        # inches left of the images for the row labels
    per_line = max(1, min(n, int((max_width - label_width) // size)))
    lines = -(-n // per_line)                                # ceil: lines needed for n images
    per_line = -(-n // lines)                                # the same lines, filled evenly
    gap = 0.35                                               # a spacer between lines, in image heights
    heights = ([1.0] * len(rows) + [gap]) * lines
    fig, axes = plt.subplots(len(heights) - 1, per_line, squeeze=False,
                             gridspec_kw=dict(height_ratios=heights[:-1]),
                             figsize=(size * per_line + label_width,
                                      size * (lines * len(rows) + (lines - 1) * gap) * 1.15 + 0.3))
    for spacer in axes[len(rows)::len(rows) + 1]:
        for ax in spacer:
            ax.remove()
    for r, (label, images) in enumerate(rows.items()):
        images = np.asarray(images, dtype=np.float64).reshape(n, SIDE, SIDE)
        for line in range(lines):
            row_axes = axes[line * (len(rows) + 1) + r]
            for c, ax in enumerate(row_axes):
                index = line * per_line + c
                if index >= n:                               # the last line may be shorter
                    ax.remove()
                    continue
                ax.imshow(images[index], cmap="gray", vmin=0.0, vmax=1.0)
                ax.set_xticks([])
                ax.set_yticks([])
                if label in titles:
                    ax.set_title(titles[label][index], fontsize="x-small", pad=2)
            row_axes[0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize="small")
    if title:
        fig.suptitle(title, wrap=True)
    fig.tight_layout()
    return fig


def hourglass(sizes=(64, 128, 8, 128, 64), ax=None, code_index=None):
    """The picture of an autoencoder: one bar per layer, as tall as its number of units (`sizes`,
    input first), the encoder and decoder as funnels, the code (the narrowest layer unless
    `code_index` is given) highlighted. Returns the Axes."""
    sizes = [int(s) for s in sizes]
    if len(sizes) < 3:
        raise ValueError(f"an autoencoder needs an input, a code and an output: got sizes {sizes}.")
    code = int(np.argmin(sizes)) if code_index is None else code_index
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3))
    height = 2.6 / max(sizes)
    xs = np.arange(len(sizes)) * 1.6
    for i, (x, s) in enumerate(zip(xs, sizes)):
        color = "#E69F00" if i == code else ("#56B4E9" if i in (0, len(sizes) - 1) else "#d9d9d9")
        ax.add_patch(Rectangle((x - 0.18, -s * height / 2), 0.36, s * height, color=color, ec="0.3"))
        ax.text(x, -1.55, str(s), ha="center", va="top", fontsize="small")
        if i + 1 < len(sizes):
            a, b = sizes[i] * height / 2, sizes[i + 1] * height / 2
            ax.add_patch(Polygon([(x + 0.18, a), (xs[i + 1] - 0.18, b), (xs[i + 1] - 0.18, -b), (x + 0.18, -a)],
                                 closed=True, color="#0072B2" if i < code else "#009E73", alpha=0.25, lw=0))
    ax.text(xs[0], 1.5, "input x", ha="center")
    ax.text(xs[-1], 1.5, "output x\u0302", ha="center")
    ax.text(xs[code], 1.5, "code z", ha="center", color="#b36b00", weight="bold")
    ax.text((xs[0] + xs[code]) / 2, -1.95, "encoder", ha="center", color="#0072B2", va="top")
    ax.text((xs[code] + xs[-1]) / 2, -1.95, "decoder", ha="center", color="#009E73", va="top")
    ax.set_xlim(xs[0] - 0.8, xs[-1] + 0.8)
    ax.set_ylim(-2.4, 1.8)
    ax.axis("off")
    return ax
