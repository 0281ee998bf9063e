"""The instructor's tools that are neither the course, the library nor the grader: the
repository's address (repository.py), the export of the public repository (public.py), the book
as one PDF (book_pdf.py, with the JavaScript it runs in the page beside it) and the benchmarks
that print timings (benchmarks/). Run from the repository's root: `python -m tools.repository`,
`python -m tools.public DEST`, `python -m tools.book_pdf`."""
