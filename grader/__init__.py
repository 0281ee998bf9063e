"""The course's grading tools: release assignments, autograde a class in parallel inside a
sandbox, return feedback without the hidden tests, export grades. nbgrader is the engine.

    python -m grader release [01_neuron ...]
    python -m grader autograde 01_neuron [--force | --student ada,bob] [--jobs N] [--unsafe-no-sandbox]
    python -m grader feedback 01_neuron
    python -m grader export
    python -m grader report 01_neuron

Exit status: 0 done; 1 done, but some student not graded or without feedback (listed, with the
reason); 2 could not run (the reason on stderr).
"""
