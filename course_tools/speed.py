"""How fast does scratchnn train next to Keras? One way of measuring, used by every page that
times `fit` (the speed page, the fit-from-scratch page) and by tools/benchmarks/fit_speed.py:

    from course_tools.speed import measure
    runs = measure({"digits": dict(data="digits", widths=[64, 64, 10], batch=32)}, epochs=4)
    runs["cases"]["digits"]["keras"] / runs["cases"]["digits"]["scratchnn"]   # how many times faster

For each case, `scratchnn.models.Sequential.fit` and `keras.Model.fit` train the same net (ReLU
hidden layers, a softmax output, loss "sparse_categorical_crossentropy", metrics=["accuracy"],
verbose=0) on the same float32 data, in the same batches (shuffle=False), from the same starting
weights (scratchnn's, copied into Keras with set_weights), with the same optimizer (Keras's
defaults). A callback records every epoch's processor time (time.process_time()).

- **One thread each, in a fresh Python process**: NumPy's BLAS and TensorFlow are limited to one
  thread before they start, so both libraries do the same work on one core. A notebook's own
  kernel cannot do this once NumPy or TensorFlow has started, hence the process.
- **Processor time, not wall time**: with one thread, the processor time an epoch uses is its wall
  time on a quiet machine, and on a busy one it leaves out the time spent waiting for a core.
  (With three other processes on 2 cores, scratchnn's wall-clock epochs of the 784-256-128-10 net
  ranged over 154-358 ms while their processor time stayed within 99-117 ms.)
- **The best steady epoch**: the first epoch pays one-time costs (Keras traces its tf.function,
  scratchnn's optimizer makes its slots), and on a shared machine other work only ever slows an
  epoch down (its caches shared, its core's clock lowered), so the fastest later epoch of
  `repeats` fits (alternating between the libraries) is the closest to what each library can do.
- **The share of the machine's peak**: the best GFLOP/s of a float32 1024x1024 @ 1024x1024
  product (one thread, processor time, before and after the fits), and the FLOPs of one epoch counted as: for each
  Dense layer of fan-in d and u units over m rows, 2*m*d*u forward, 2*m*d*u for the kernel
  gradient and 2*m*d*u for the input gradient, except for the first layer, which needs no input
  gradient: 6*m*d*u per layer, 4*m*d*u for the first; elementwise work (activations, loss,
  optimizer) is not counted.

Data: "digits" (scikit-learn's 1,797 8x8 images, 64 features), "mnist_like" (`rows` generated rows
of 784 features in [0, 1], like MNIST's pixels, labelled by a fixed random linear rule) or
"classification" (scikit-learn's make_classification, `rows` rows, widths[0] features).
"""
import json
import os
import subprocess
import sys
import time

import numpy as np

SEED = 0
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def measure(cases, epochs=4, repeats=2, timeout=900):
    """Time every case in a fresh Python process, one thread each; return a dict with the machine
    ("peak" GFLOP/s, "blas", "versions") and "cases": {name: the case's settings plus "scratchnn"
    and "keras" (best steady epoch, processor seconds), "steps" (per epoch), "flops" (per epoch), "params",
    the last epoch's loss of each ("scratchnn_loss", "keras_loss") and "weight_gap" (the largest
    absolute difference of their final weights)}.

    cases: {name: dict(data=..., widths=[inputs, hidden..., classes], batch=..., optimizer="adam"
    or "sgd", rows=... for generated data)}; epochs per fit (the first is not timed)."""
    if epochs < 2:
        raise ValueError(f"epochs must be at least 2 (the first is not timed), not {epochs}")
    job = json.dumps({"cases": cases, "epochs": epochs, "repeats": repeats})
    done = subprocess.run([sys.executable, "-m", "course_tools.speed", job], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **ONE_THREAD})
    if done.returncode != 0:
        raise RuntimeError(f"the timing process failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def epoch_flops(widths, rows):
    """Matmul FLOPs of one epoch: 6*m*d*u per Dense layer, 4*m*d*u for the first (no input gradient)."""
    return sum((4 if index == 0 else 6) * rows * d * u
               for index, (d, u) in enumerate(zip(widths[:-1], widths[1:])))


def parameters(widths):
    """The number of weights of a Dense net of these widths (kernels and biases)."""
    return sum(d * u + u for d, u in zip(widths[:-1], widths[1:]))


def matmul_peak(n=1024, repeats=30):
    """Best GFLOP/s of a float32 (n, n) @ (n, n) product."""
    rng = np.random.default_rng(SEED)
    a, b = rng.random((n, n), dtype=np.float32), rng.random((n, n), dtype=np.float32)
    out = np.empty((n, n), dtype=np.float32)
    best = float("inf")
    for _ in range(repeats + 1):   # the first one warms up
        start = time.process_time()
        np.matmul(a, b, out=out)
        best = min(best, time.process_time() - start)
    return 2 * n ** 3 / best / 1e9


def blas_name():
    """NumPy's BLAS library, e.g. "openblas 0.3.31 Haswell" (threadpoolctl tells, where installed)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "BLAS unknown"
    numpy_blas = [lib for lib in threadpool_info() if lib["user_api"] == "blas" and "numpy" in lib["filepath"]]
    return ", ".join(f"{lib['internal_api']} {lib['version']} {lib.get('architecture', '')}".strip()
                     for lib in numpy_blas) or "BLAS unknown"


def dataset(data, widths, rows=None):
    """(x float32, y int64 labels) for a case: see the module's docstring."""
    if data == "digits":
        from sklearn.datasets import load_digits
        digits = load_digits()
        return (digits.data / 16.0).astype(np.float32), digits.target.astype(np.int64)
    if data == "mnist_like":
        rng = np.random.default_rng(SEED)
        x = rng.random((rows, widths[0]), dtype=np.float32)
        rule = rng.normal(size=(widths[0], widths[-1])).astype(np.float32)
        return x, np.argmax((x - 0.5) @ rule, axis=1).astype(np.int64)
    if data == "classification":
        from sklearn.datasets import make_classification
        x, y = make_classification(n_samples=rows, n_features=widths[0], n_informative=10,
                                   n_classes=widths[-1], random_state=SEED)
        return x.astype(np.float32), y.astype(np.int64)
    raise ValueError(f"unknown data {data!r}: 'digits', 'mnist_like' or 'classification'")


def _epoch_timer(base):
    """A callback (of `base`, scratchnn's or Keras's Callback class) recording each epoch's processor seconds."""
    class EpochTimer(base):
        def __init__(self):
            super().__init__()
            self.seconds = []

        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.process_time()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.process_time() - self.start)
    return EpochTimer()


def _fit(library, widths, weights, optimizer, x, y, batch, epochs):
    """One fit from `weights` (None: scratchnn's seeded initial weights); returns (the model, its
    steady epochs' seconds, its last epoch's loss)."""
    from scratchnn import callbacks, layers, models, utils

    from course_tools.keras_setup import keras
    if library == "scratchnn":
        utils.set_random_seed(SEED)
        model = models.Sequential([layers.Dense(u, activation="relu") for u in widths[1:-1]]
                                  + [layers.Dense(widths[-1], activation="softmax")])
        model.build((None, widths[0]))
        timer = _epoch_timer(callbacks.Callback)
    else:
        keras.utils.set_random_seed(SEED)
        model = keras.Sequential([keras.Input((widths[0],))]
                                 + [keras.layers.Dense(u, activation="relu") for u in widths[1:-1]]
                                 + [keras.layers.Dense(widths[-1], activation="softmax")])
        optimizer = keras.optimizers.get(optimizer)
        timer = _epoch_timer(keras.callbacks.Callback)
    if weights is not None:
        model.set_weights(weights)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    if epochs == 0:
        return model, [], None
    history = model.fit(x, y, batch_size=batch, epochs=epochs, shuffle=False, verbose=0, callbacks=[timer])
    return model, timer.seconds[1:], float(history.history["loss"][-1])


def _run_case(case, epochs, repeats):
    """Both libraries, `repeats` fits each (alternating), from the same starting weights."""
    widths, batch, optimizer = case["widths"], case["batch"], case.get("optimizer", "adam")
    x, y = dataset(case["data"], widths, case.get("rows"))
    start = _fit("scratchnn", widths, None, optimizer, x, y, batch, 0)[0].get_weights()
    steady = {"scratchnn": [], "keras": []}
    for _ in range(repeats):
        ours, seconds, our_loss = _fit("scratchnn", widths, start, optimizer, x, y, batch, epochs)
        steady["scratchnn"] += seconds
        theirs, seconds, their_loss = _fit("keras", widths, start, optimizer, x, y, batch, epochs)
        steady["keras"] += seconds
    gap = max(float(np.max(np.abs(a - b))) for a, b in zip(ours.get_weights(), theirs.get_weights()))
    return {**case, "optimizer": optimizer, "rows": len(x), "steps": -(-len(x) // batch),
            "flops": epoch_flops(widths, len(x)), "params": parameters(widths),
            "scratchnn": min(steady["scratchnn"]), "keras": min(steady["keras"]),
            "scratchnn_loss": our_loss, "keras_loss": their_loss, "weight_gap": gap}


def _main(job):
    """In the fresh process that measure() starts, with one BLAS thread already set by its
    environment: limit TensorFlow too, time every case, print the results as JSON."""
    from course_tools.keras_setup import keras, tf
    tf.config.threading.set_intra_op_parallelism_threads(1)   # before any TensorFlow op
    tf.config.threading.set_inter_op_parallelism_threads(1)
    peak = matmul_peak()
    cases = {name: _run_case(case, job["epochs"], job["repeats"]) for name, case in job["cases"].items()}
    peak = max(peak, matmul_peak())   # measured again after the fits: the better of the two readings
    print(json.dumps({"peak": peak, "blas": blas_name(), "cases": cases, "epochs": job["epochs"],
                      "repeats": job["repeats"],
                      "versions": {"numpy": np.__version__, "keras": keras.__version__,
                                   "tensorflow": tf.__version__}}))


if __name__ == "__main__":
    _main(json.loads(sys.argv[1]))
