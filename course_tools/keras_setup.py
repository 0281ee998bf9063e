"""Import Keras quietly, on the TensorFlow backend, for the comparison cells of a lesson.

    from course_tools.keras_setup import keras, tf

TF_CPP_MIN_LOG_LEVEL silences TensorFlow's own C++ logging, but not everything importing it
prints: absl's "All log messages before absl::InitializeLog() is called are written to STDERR"
and the oneDNN/cuda notices are written by C++ straight to file descriptor 2 (which a notebook
kernel shows as the cell's output). So stderr's descriptor points at /dev/null while TensorFlow
is imported, and is put back afterwards: errors raised later are shown as usual.
"""
import contextlib
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")   # no C++ start-up chatter
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


@contextlib.contextmanager
def _quiet_fd2():
    try:
        sys.stderr.flush()
    except (AttributeError, ValueError):
        pass
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


with _quiet_fd2():
    import tensorflow as tf  # noqa: E402
    import keras  # noqa: E402

tf.get_logger().setLevel("ERROR")

__all__ = ["keras", "tf"]
