"""The committed student notebooks, chapters/<id>/assignment_*.ipynb, are exactly what
`nbgrader generate_assignment <id>` makes from solutions/<id>/: nobody edits two copies.
When this fails, run `make release` and commit the result."""
import json

import pytest

from grader.course import REPO, assignments, release


@pytest.fixture(scope="module")
def released(course):
    """The course copy after `python -m grader release` has run in it."""
    release(course)
    return course


def notebooks(paths):
    """{file name: notebook JSON} for the given notebook paths."""
    return {path.name: json.loads(path.read_text()) for path in paths}


@pytest.mark.parametrize("assignment", assignments())
def test_committed_student_notebooks_equal_a_fresh_release(released, assignment):
    fresh = notebooks((released / "release" / assignment).glob("*.ipynb"))
    committed = notebooks((REPO / "chapters" / assignment).glob("assignment_*.ipynb"))
    assert fresh, f"nbgrader released no notebook from solutions/{assignment}/"
    assert sorted(committed) == sorted(fresh), (
        f"chapters/{assignment}/ holds {sorted(committed)}, the release {sorted(fresh)}: run `make release`")
    for name, notebook in fresh.items():
        assert committed[name] == notebook, (
            f"chapters/{assignment}/{name} is not what nbgrader generates from "
            f"solutions/{assignment}/{name}: run `make release`")
