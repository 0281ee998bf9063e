"""Feedback without the answers: a preprocessor for `nbgrader generate_feedback` that removes the
code of hidden tests and the tracebacks that would quote it, and keeps each test's verdict and
message (registered in nbgrader_config.py)."""
import re

from nbgrader.preprocessors import NbGraderPreprocessor

HIDDEN = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[ \t]*\n?", re.S | re.M)
NOTICE = "# Hidden tests ran here when your notebook was graded; their messages are below.\n"


class HideHiddenTests(NbGraderPreprocessor):
    """Replace hidden test code with a notice; reduce the errors of those cells to 'Name: message'."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and HIDDEN.search(cell.source):
            cell.source = HIDDEN.sub(NOTICE, cell.source)
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
        return cell, resources
