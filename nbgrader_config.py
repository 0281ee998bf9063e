"""nbgrader's configuration for the course (read by nbgrader from the directory it runs in).

Assignments live in solutions/<id>/ (the assignment id is the folder name, e.g. 01_neuron); the
course root is the folder of this file, so a copy of it in another folder makes a course there.
"""
import os

c = get_config()  # noqa: F821 (nbgrader defines get_config when it reads this file)

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.course_id = "nn-from-scratch"

# Seconds per cell: importing TensorFlow alone takes ~9 s on a small machine (default 30).
c.Execute.timeout = 120

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# `nbgrader export` writes grades.csv to the course root, not to wherever it is run from.
c.CsvExportPlugin.to = os.path.join(c.CourseDirectory.root, "grades.csv")

# Grading (python -m grader autograde): deleted test cells are put back before a submission runs.
c.OverwriteCells.add_missing_cells = True

# Feedback returned to students shows scores and test messages, never the hidden tests' code.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "grader.feedback.HideHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
