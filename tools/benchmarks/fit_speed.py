"""How fast does scratchnn train next to Keras? Prints the best steady epoch time of each, on one core.

    python -m tools.benchmarks.fit_speed [--epochs 8] [--repeats 2] [--case digits|mnist_like|mnist_like_sgd|all]

--epochs: epochs per fit (the first is not timed); --repeats: fits per library and case, run
alternately, each from the same starting weights. About two minutes by default on 2 cores.
How it measures (one thread each in a fresh process, the same batches and starting weights, the
best steady epoch, the share of the matmul peak) is course_tools/speed.py's docstring: the speed
page of chapter 4 runs the same code on fewer rows and epochs.

Cases: digits (sklearn's 1797 8x8 images, 64-64-10, batch 32, Adam), mnist_like (20,000 generated
rows of 784 features, 784-256-128-10, batch 128, Adam), and mnist_like_sgd (the same with plain
SGD: what is left is mostly matrix products, whereas Adam adds a dozen elementwise passes over
every weight per step, two of them a square root and a division, which no NumPy code can fuse).

Printed per case: the best steady epoch of each library, their ratio, and scratchnn's achieved
GFLOP/s as a share of the matmul peak. Then, as a sanity check that both trained the same thing,
the last epoch's loss of each and the largest absolute difference between their final weights.
Both compute in float32, so they round differently, and Adam scales every gradient, however small,
to a step of about learning_rate: rounding-level gradient differences (e.g. a ReLU input on either
side of 0) become weight differences of ~1e-3 within a few steps. Gaps of 1e-3..1e-2 on digits and
~0.1-0.3 on the bigger mnist_like net are normal; the losses should agree to about 1e-2 (with SGD
the mnist_like gap stays ~1e-3).
"""
import argparse

from course_tools.speed import measure

CASES = {
    "digits": dict(data="digits", widths=[64, 64, 10], batch=32),
    "mnist_like": dict(data="mnist_like", rows=20_000, widths=[784, 256, 128, 10], batch=128),
    "mnist_like_sgd": dict(data="mnist_like", rows=20_000, widths=[784, 256, 128, 10], batch=128, optimizer="sgd"),
}


def speed_sentence(ratio):
    if 0.95 <= ratio <= 1.05:
        return f"scratchnn and Keras are on par (keras/scratchnn {ratio:.2f})"
    if ratio > 1:
        return f"scratchnn is {ratio:.1f}x faster than Keras"
    return f"Keras is {1 / ratio:.1f}x faster than scratchnn"


def print_results(runs):
    versions = runs["versions"]
    print(f"1 BLAS thread ({runs['blas']}), 1 TensorFlow thread; numpy {versions['numpy']}, keras "
          f"{versions['keras']}, tensorflow {versions['tensorflow']}")
    print(f"float32 matmul peak (1024x1024 @ 1024x1024, best of the readings before and after the fits): "
          f"{runs['peak']:.1f} GFLOP/s")
    print(f"shuffle=False, same start weights; best steady epoch (epochs 2-{runs['epochs']}) of "
          f"{runs['repeats']} fit(s) per library\n")
    header = (f"{'case':<14} {'optimizer':<9} {'net':<15} {'rows':>6} {'batch':>5} {'GFLOP/ep':>8} {'scratchnn':>10} "
              f"{'keras':>9} {'keras/scratchnn':>15} {'scratchnn GFLOP/s':>17} {'of peak':>7}")
    print(header)
    print("-" * len(header))
    for name, r in runs["cases"].items():
        ratio = r["keras"] / r["scratchnn"]
        achieved = r["flops"] / r["scratchnn"] / 1e9
        print(f"{name:<14} {r['optimizer']:<9} {'-'.join(map(str, r['widths'])):<15} {r['rows']:>6} {r['batch']:>5} "
              f"{r['flops'] / 1e9:>8.3f} {1000 * r['scratchnn']:>8.1f}ms {1000 * r['keras']:>7.1f}ms "
              f"{ratio:>14.2f}x {achieved:>17.2f} {100 * achieved / runs['peak']:>6.1f}%")
    print()
    for name, r in runs["cases"].items():
        print(f"{name}: {speed_sentence(r['keras'] / r['scratchnn'])}; last-epoch loss scratchnn "
              f"{r['scratchnn_loss']:.5f}, keras {r['keras_loss']:.5f}; max |weight difference| {r['weight_gap']:.1e}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=8, help="epochs per fit; the first is not timed")
    parser.add_argument("--repeats", type=int, default=2, help="fits per library and case, alternating")
    parser.add_argument("--case", choices=[*CASES, "all"], default="all")
    args = parser.parse_args(argv)
    if args.epochs < 2:
        parser.error("--epochs must be at least 2: the first epoch is not timed.")
    names = list(CASES) if args.case == "all" else [args.case]
    print_results(measure({name: CASES[name] for name in names}, args.epochs, args.repeats))


if __name__ == "__main__":
    main()
