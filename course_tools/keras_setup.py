"""Import Keras quietly, on the TensorFlow backend, for the comparison cells of a lesson.

    from course_tools.keras_setup import keras, tf

TF_CPP_MIN_LOG_LEVEL silences TensorFlow's own C++ logging, but not everything importing it
prints: absl's "All log messages before absl::InitializeLog() is called are written to STDERR"
and the oneDNN/cuda notices are written by C++ straight to file descriptor 2 (which a notebook
kernel shows as the cell's output, and `nbgrader validate` counts as a failing test). So stderr's
descriptor points at /dev/null while TensorFlow is imported and looks for devices, and is put
back afterwards: errors raised later are shown as usual.
"""
import contextlib
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")   # no C++ start-up chatter
os.environ["KERAS_BACKEND"] = "tensorflow"           # the course runs Keras on TensorFlow


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
    # TensorFlow looks for GPUs at its first operation; without one, the full `tensorflow` package
    # (the one pip and Colab install) logs "failed call to cuInit" as an error. Look now, quietly.
    tf.config.list_physical_devices()

tf.get_logger().setLevel("ERROR")

__all__ = ["keras", "tf"]
