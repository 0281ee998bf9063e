"""The side-by-side check of every lesson: print the largest difference, and fail loudly if it is not tiny."""
import numpy as np


def max_abs_diff(ours, theirs):
    """Largest |ours - theirs| over all entries; the shapes must match."""
    ours = np.asarray(ours, dtype=np.float64)
    theirs = np.asarray(theirs, dtype=np.float64)
    if ours.shape != theirs.shape:
        raise ValueError(f"shapes differ: scratchnn gives {ours.shape}, Keras gives {theirs.shape}")
    return float(np.max(np.abs(ours - theirs))) if ours.size else 0.0


def check_same(name, ours, theirs, atol=1e-12):
    """Print `name: largest |scratchnn - keras| = ...` and raise AssertionError if it exceeds `atol`.

    A lesson page that calls this fails to build when the two libraries disagree.
    """
    diff = max_abs_diff(ours, theirs)
    print(f"{name:<40s} largest |scratchnn - keras| = {diff:.1e}")
    if not diff <= atol:
        raise AssertionError(f"{name}: scratchnn and Keras differ by {diff:.3e} (> {atol:.0e})")
    return diff
