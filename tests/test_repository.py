"""The public repository's address is set once, in _config.yml: the install cells of the lessons,
of the assignments' sources and of the student notebooks, and README.md's install command, follow it;
the author is set once too, and the licences name the same."""
import json

import yaml

from grader.course import REPO
from tools import repository


def test_every_install_command_names_the_configured_repository():
    kinds = {path.relative_to(REPO).parts[0] for path in repository.installers()}
    assert kinds == {"chapters", "solutions", "README.md"}
    assert len(repository.installers()) >= 2 * 9 + 9 + 1      # lessons, student notebooks, sources, README
    bad = repository.stale()
    assert not bad, (f"these install from another address than _config.yml's {repository.url()}: {bad}; "
                     "run `.venv/bin/python -m tools.repository` to rewrite them")


def test_a_fork_changes_the_address_once(tmp_path):
    """write() rewrites the lessons, the sources and the README of a copy, keeping each file's
    format; the student notebooks are left to the release (nbgrader checksums their cells)."""
    for name in ["_config.yml", "README.md", "chapters/01_neuron/neuron.ipynb",
                 "chapters/01_neuron/assignment_01.ipynb", "solutions/01_neuron/assignment_01.ipynb"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes((REPO / name).read_bytes())
    fork = "https://github.com/someone/fork"
    assert repository.write(fork, root=tmp_path) == [
        "chapters/01_neuron/neuron.ipynb", "solutions/01_neuron/assignment_01.ipynb", "README.md"]
    assert repository.stale(fork, root=tmp_path) == {"chapters/01_neuron/assignment_01.ipynb": repository.url()}
    lesson = json.loads((tmp_path / "chapters/01_neuron/neuron.ipynb").read_text())
    assert f'REPO_URL = "{fork}"\n' in "".join(lesson["cells"][1]["source"])
    assert f"nn-from-scratch[course,grading] @ git+{fork}" in (tmp_path / "README.md").read_text()
    repository.write(repository.url(), root=tmp_path)
    for name in ["README.md", "chapters/01_neuron/neuron.ipynb", "solutions/01_neuron/assignment_01.ipynb"]:
        assert (tmp_path / name).read_bytes() == (REPO / name).read_bytes(), f"{name} changed format"


def test_the_author_is_set_once():
    author = yaml.safe_load((REPO / "_config.yml").read_text())["author"]
    assert author, "_config.yml's author is empty: the footer and the licences need it"
    for licence in ["LICENSE", "LICENSE-CONTENT.md"]:
        assert f"Copyright (c) 2026 {author}" in (REPO / licence).read_text(), f"{licence} names another author"
    assert f'name = "{author}"' in (REPO / "pyproject.toml").read_text()
