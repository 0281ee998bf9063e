"""Fixtures shared by the nbgrader tests."""
import shutil

import pytest

from grader.course import REPO


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A throw-away course: nbgrader_config.py and solutions/ copied into a temporary folder, so
    nbgrader's release/, submitted/, autograded/ and gradebook.db land there, not in the repo."""
    root = tmp_path_factory.mktemp("course")
    shutil.copy(REPO / "nbgrader_config.py", root)
    shutil.copytree(REPO / "solutions", root / "solutions")
    return root
