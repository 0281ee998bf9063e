"""The instructor's tools that are neither the course, the library nor the grader: the
repository's address (repository.py) and the export of the public repository (public.py).
Run from the repository's root: `python -m tools.repository`, `python -m tools.public DEST`."""
