from tests.outside import LESSONS

# Student assignment notebooks are run by nbgrader in tests/test_grading.py and, filled in, by
# `nbgrader validate` in tests/test_outside_assignments.py, not by nbval: as released they raise
# NotImplementedError by design. One lesson of each chapter runs outside this checkout, in a fresh
# environment with the course installed from the public repository (tests/test_outside_lessons.py).
collect_ignore_glob = ["chapters/*/assignment_*.ipynb", "solutions/*", "release/*",
                       "submitted/*", "autograded/*", "feedback/*", "_build/*", ".venv/*"]
collect_ignore = [f"chapters/{lesson}" for lesson in LESSONS]
