"""The course's grading tools: release assignments, autograde a class in parallel inside a
sandbox, return feedback without the hidden tests, export grades. nbgrader is the engine.

    python -m grader release
    python -m grader autograde 01_neuron [--force] [--jobs N] [--unsafe-no-sandbox]
    python -m grader feedback 01_neuron
    python -m grader export
"""
