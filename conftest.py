# Student assignment notebooks are run by nbgrader in tests/test_grading.py, not by nbval:
# as released they raise NotImplementedError by design.
collect_ignore_glob = ["chapters/*/assignment_*.ipynb", "solutions/*", "release/*",
                       "submitted/*", "autograded/*", "feedback/*", "_build/*", ".venv/*"]
