"""Import Keras quietly, on the TensorFlow backend, for the comparison cells of a lesson.

    from course_tools.keras_setup import keras, tf
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")   # no C++ start-up chatter
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import tensorflow as tf  # noqa: E402
import keras  # noqa: E402

tf.get_logger().setLevel("ERROR")

__all__ = ["keras", "tf"]
