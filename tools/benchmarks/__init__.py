"""Scripts that print timings: fit_speed.py (scratchnn vs Keras), grade_class.py (grading a class)."""
