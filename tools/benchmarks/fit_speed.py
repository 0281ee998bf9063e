"""How fast does scratchnn train next to Keras? Prints the best steady epoch time of each, on one core.

    .venv/bin/python benchmarks/fit_speed.py [--epochs 8] [--repeats 2] [--case digits|mnist_like|mnist_like_sgd|all]

--epochs: epochs per fit (the first is not timed); --repeats: fits per library and case, run
alternately, each from the same starting weights. About two minutes by default on 2 cores.

It measures:
- this machine's float32 matmul peak: the best GFLOP/s of NumPy float32 1024x1024 @ 1024x1024
  products (2 n^3 flops each);
- for each case, `scratchnn.models.Sequential.fit` and `keras.Model.fit` on the same net, the same
  float32 data, the same batches (shuffle=False), the same starting weights (scratchnn's, copied
  into Keras with set_weights), Adam with its defaults (SGD in the last case), loss
  "sparse_categorical_crossentropy" and metrics=["accuracy"], verbose=0. A callback records every
  epoch's time with time.perf_counter(). Cases: digits (sklearn's 1797 8x8 images, 64-64-10,
  batch 32), mnist_like (20,000 generated rows of 784 features in [0, 1] labelled by a fixed
  linear rule, 784-256-128-10, batch 128), and mnist_like_sgd (the same with plain SGD: what is
  left is mostly matrix products, whereas Adam adds a dozen elementwise passes over every weight
  per step, two of them a square root and a division, which no NumPy code can fuse).

Printed per case: the best steady epoch of each library, their ratio, and scratchnn's achieved
GFLOP/s as a share of the matmul peak, with FLOPs of one epoch counted as: for each Dense layer of
fan-in d and u units over m rows, 2*m*d*u forward, 2*m*d*u for the kernel gradient and 2*m*d*u for
the input gradient, except for the first layer, which needs no input gradient: 6*m*d*u per layer,
4*m*d*u for the first; elementwise work (activations, loss, Adam) is ignored. Then, as a sanity
check that both trained the same thing, the last epoch's loss of each and the largest absolute
difference between their final weights. Both compute in float32, so they round differently, and
Adam scales every gradient, however small, to a step of about learning_rate: rounding-level
gradient differences (e.g. a ReLU input on either side of 0) become weight differences of ~1e-3
within a few steps. Gaps of 1e-3..1e-2 on digits and ~0.1-0.3 on the bigger mnist_like net are
normal; the losses should agree to about 1e-2 (with SGD the mnist_like gap stays ~1e-3).

Why one thread each: both libraries then do the same work on the same core, the figures do not
depend on how busy the other cores are, and the matmul peak is a one-core peak too.
Why the best steady epoch: the first epoch pays one-time costs (Keras traces its tf.function,
scratchnn's optimizer makes its slots), and on a noisy machine other work only ever slows an
epoch down, so the fastest later epoch is the closest to what each library can do.
"""
import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"   # before NumPy loads its BLAS

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from course_tools.keras_setup import keras, tf  # noqa: E402
from scratchnn import callbacks, layers, models, utils  # noqa: E402

tf.config.threading.set_intra_op_parallelism_threads(1)   # before any TensorFlow op
tf.config.threading.set_inter_op_parallelism_threads(1)
try:
    from threadpoolctl import threadpool_limits
    BLAS_LIMIT = threadpool_limits(limits=1)   # kept alive: the limit holds for the whole run
except ImportError:
    BLAS_LIMIT = None

SEED = 0
CASES = {   # name: (layer widths, batch size, optimizer)
    "digits": ([64, 64, 10], 32, "adam"),
    "mnist_like": ([784, 256, 128, 10], 128, "adam"),
    # the same net with plain SGD: one elementwise pass per weight per step instead of Adam's
    # dozen, so what is left is mostly the matrix products (the share of the peak they allow)
    "mnist_like_sgd": ([784, 256, 128, 10], 128, "sgd"),
}


def matmul_peak(n=1024, repeats=30):
    """Best GFLOP/s of a float32 (n, n) @ (n, n) product."""
    rng = np.random.default_rng(SEED)
    a, b = rng.random((n, n), dtype=np.float32), rng.random((n, n), dtype=np.float32)
    out = np.empty((n, n), dtype=np.float32)
    best = float("inf")
    for _ in range(repeats + 1):   # the first one warms up
        start = time.perf_counter()
        np.matmul(a, b, out=out)
        best = min(best, time.perf_counter() - start)
    return 2 * n ** 3 / best / 1e9


def blas_name():
    """NumPy's BLAS library, e.g. "openblas 0.3.31 Haswell" (needs threadpoolctl)."""
    if BLAS_LIMIT is None:
        return "BLAS unknown: threadpoolctl not installed"
    from threadpoolctl import threadpool_info
    numpy_blas = [lib for lib in threadpool_info() if lib["user_api"] == "blas" and "numpy" in lib["filepath"]]
    return ", ".join(f"{lib['internal_api']} {lib['version']} {lib.get('architecture', '')}".strip()
                     for lib in numpy_blas) or "BLAS unknown"


def digits_data():
    digits = load_digits()
    return (digits.data / 16.0).astype(np.float32), digits.target.astype(np.int64)


def mnist_like_data(rows=20_000, features=784, classes=10):
    """Inputs in [0, 1] like MNIST's pixels; labels = argmax of a fixed random linear rule (learnable)."""
    rng = np.random.default_rng(SEED)
    x = rng.random((rows, features), dtype=np.float32)
    rule = rng.normal(size=(features, classes)).astype(np.float32)
    return x, np.argmax((x - 0.5) @ rule, axis=1).astype(np.int64)


def epoch_flops(widths, rows):
    """Matmul FLOPs of one epoch: 6*m*d*u per Dense layer, 4*m*d*u for the first (no input gradient)."""
    return sum((4 if index == 0 else 6) * rows * d * u
               for index, (d, u) in enumerate(zip(widths[:-1], widths[1:])))


def epoch_timer(base):
    """A callback (of `base`, scratchnn's or Keras's Callback class) recording each epoch's seconds."""
    class EpochTimer(base):
        def __init__(self):
            super().__init__()
            self.seconds = []

        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self.start)
    return EpochTimer()


def scratchnn_model(widths, optimizer="adam"):
    utils.set_random_seed(SEED)
    hidden = [layers.Dense(units, activation="relu") for units in widths[1:-1]]
    model = models.Sequential(hidden + [layers.Dense(widths[-1], activation="softmax")])
    model.build((None, widths[0]))
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def keras_model(widths, weights, optimizer="adam"):
    keras.utils.set_random_seed(SEED)
    hidden = [keras.layers.Dense(units, activation="relu") for units in widths[1:-1]]
    model = keras.Sequential([keras.Input((widths[0],))] + hidden +
                             [keras.layers.Dense(widths[-1], activation="softmax")])
    model.set_weights(weights)
    model.compile(optimizer=keras.optimizers.get(optimizer), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def timed_fit(model, timer, x, y, batch_size, epochs):
    """Fit; return the steady epochs' seconds (all but the first) and the last epoch's loss."""
    history = model.fit(x, y, batch_size=batch_size, epochs=epochs, shuffle=False, verbose=0,
                        callbacks=[timer])
    return timer.seconds[1:], float(history.history["loss"][-1])


def run_case(name, epochs, repeats):
    """Both libraries, `repeats` fresh fits each (alternating), from the same starting weights."""
    widths, batch_size, optimizer = CASES[name]
    x, y = digits_data() if name == "digits" else mnist_like_data()
    start_weights = scratchnn_model(widths).get_weights()
    steady = {"scratchnn": [], "keras": []}
    for _ in range(repeats):
        scratch = scratchnn_model(widths, optimizer)
        scratch.set_weights(start_weights)
        seconds, scratch_loss = timed_fit(scratch, epoch_timer(callbacks.Callback), x, y, batch_size, epochs)
        steady["scratchnn"] += seconds
        keras_net = keras_model(widths, start_weights, optimizer)
        seconds, keras_loss = timed_fit(keras_net, epoch_timer(keras.callbacks.Callback), x, y, batch_size, epochs)
        steady["keras"] += seconds
    weight_gap = max(float(np.max(np.abs(a - b))) for a, b in zip(scratch.get_weights(), keras_net.get_weights()))
    return {"name": name, "optimizer": optimizer, "widths": widths, "rows": len(x), "batch": batch_size,
            "flops": epoch_flops(widths, len(x)), "scratchnn": min(steady["scratchnn"]),
            "keras": min(steady["keras"]), "scratchnn_loss": scratch_loss, "keras_loss": keras_loss,
            "weight_gap": weight_gap}


def speed_sentence(ratio):
    if 0.95 <= ratio <= 1.05:
        return f"scratchnn and Keras are on par (keras/scratchnn {ratio:.2f})"
    if ratio > 1:
        return f"scratchnn is {ratio:.1f}x faster than Keras"
    return f"Keras is {1 / ratio:.1f}x faster than scratchnn"


def print_results(results, peak):
    header = (f"{'case':<14} {'optimizer':<9} {'net':<15} {'rows':>6} {'batch':>5} {'GFLOP/ep':>8} {'scratchnn':>10} "
              f"{'keras':>9} {'keras/scratchnn':>15} {'scratchnn GFLOP/s':>17} {'of peak':>7}")
    print(header)
    print("-" * len(header))
    for r in results:
        ratio = r["keras"] / r["scratchnn"]
        achieved = r["flops"] / r["scratchnn"] / 1e9
        print(f"{r['name']:<14} {r['optimizer']:<9} {'-'.join(map(str, r['widths'])):<15} {r['rows']:>6} {r['batch']:>5} "
              f"{r['flops'] / 1e9:>8.3f} {1000 * r['scratchnn']:>8.1f}ms {1000 * r['keras']:>7.1f}ms "
              f"{ratio:>14.2f}x {achieved:>17.2f} {100 * achieved / peak:>6.1f}%")
    print()
    for r in results:
        print(f"{r['name']}: {speed_sentence(r['keras'] / r['scratchnn'])}; last-epoch loss scratchnn "
              f"{r['scratchnn_loss']:.5f}, keras {r['keras_loss']:.5f}; max |weight difference| {r['weight_gap']:.1e}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=8, help="epochs per fit; the first is not timed")
    parser.add_argument("--repeats", type=int, default=2, help="fits per library and case, alternating")
    parser.add_argument("--case", choices=[*CASES, "all"], default="all")
    args = parser.parse_args()
    if args.epochs < 2:
        parser.error("--epochs must be at least 2: the first epoch is not timed.")
    peak = matmul_peak()
    print(f"1 BLAS thread ({blas_name()}), 1 TensorFlow thread; numpy {np.__version__}, keras "
          f"{keras.__version__}, tensorflow {tf.__version__}")
    print(f"float32 matmul peak (1024x1024 @ 1024x1024, best of 30): {peak:.1f} GFLOP/s")
    print("FLOPs per epoch: per Dense layer (fan-in d, u units, m rows) 6*m*d*u, the first layer 4*m*d*u "
          "(no input gradient); elementwise work ignored")
    print(f"shuffle=False, same start weights; best steady epoch (epochs 2-{args.epochs}) of "
          f"{args.repeats} fit(s) per library\n")
    names = list(CASES) if args.case == "all" else [args.case]
    results = [run_case(name, args.epochs, args.repeats) for name in names]
    peak = max(peak, matmul_peak())   # measured again after the fits: the better of the two readings
    print(f"float32 matmul peak, best of the readings before and after the fits: {peak:.1f} GFLOP/s\n")
    print_results(results, peak)


if __name__ == "__main__":
    main()
