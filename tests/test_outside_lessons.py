"""The course from a learner's seat, outside this repository (see tests/outside.py): installed from
the public repository by README's command into a fresh environment, one lesson of every chapter
runs top to bottom there; and a Colab session, where nothing of the course is installed, gets it
from the lesson's own first cell."""
import json

import pytest

from tests.outside import LESSONS, execute, student_machine
from tools import repository


@pytest.fixture(scope="module")
def machine(tmp_path_factory):
    return student_machine(tmp_path_factory.mktemp("learner"))


def test_the_installed_course_is_complete_and_not_this_checkout(machine):
    probe = ("import sys, importlib.metadata as md\n"
             "import scratchnn, course_tools, course_tools.keras_setup, grader.checks.a01_neuron\n"
             "print(scratchnn.__file__, grader.checks.a01_neuron.__file__, sep='\\n')\n"
             "print(md.version('nn-from-scratch'))\n")
    done = machine.run("-c", probe)
    assert done.returncode == 0, done.stderr
    *files, version = done.stdout.split()
    assert all(f.startswith(str(machine.python.parents[1])) for f in files), f"not the installed course: {files}"
    assert version == "0.1.0"


def test_scratchnn_needs_numpy_only(machine):
    done = machine.run("-c", "import sys, scratchnn, scratchnn.models, scratchnn.optimizers; "
                             "print(sorted({m.split('.')[0] for m in sys.modules} & "
                             "{'tensorflow', 'keras', 'matplotlib', 'sklearn', 'scipy'}))")
    assert done.returncode == 0 and done.stdout.strip() == "[]", done.stdout + done.stderr


@pytest.mark.parametrize("lesson", LESSONS)
def test_a_lesson_of_every_chapter_runs_outside_the_repository(machine, lesson):
    done = execute(machine, machine.public / "chapters" / lesson)
    assert done.returncode == 0, f"{lesson} failed on a student's machine:\n{done.stderr[-3000:]}"


def test_colab_a_lesson_installs_the_course_itself(tmp_path):
    """Colab has TensorFlow and Keras but not the course: the lesson's first cell, as written
    (only the public repository's address is this machine's), installs it, and the page's imports
    then work in the same process."""
    machine = student_machine(tmp_path, install=False)
    assert machine.run("-c", "import scratchnn").returncode != 0, "the fresh environment already has the course"
    lesson = json.loads((machine.public / "chapters" / LESSONS[0]).read_text())
    first = next("".join(c["source"]) for c in lesson["cells"] if c["cell_type"] == "code")
    install = first[:first.index("importlib.invalidate_caches()")] + "importlib.invalidate_caches()\n"
    install = install.replace(repository.url(), machine.url)
    assert machine.url in install, "the lesson's first cell does not install from the configured address"
    done = machine.run("-c", install + "from course_tools.keras_setup import keras\n"
                                       "import scratchnn, grader.checks\nprint(keras.__version__)")
    assert done.returncode == 0, f"the install cell failed:\n{done.stdout}\n{done.stderr[-2000:]}"


def test_the_public_repository_builds_with_its_own_makefile(machine):
    """`make book` and `make lab` are what its README promises; make -n shows they resolve."""
    import subprocess
    for target in ("book", "lab", "help"):
        done = subprocess.run(["make", "-n", target], cwd=machine.public, capture_output=True, text=True)
        assert done.returncode == 0, f"make -n {target} in the public repository: {done.stderr}"
    assert "jupyter-book build" in subprocess.run(["make", "-n", "book"], cwd=machine.public,
                                                  capture_output=True, text=True).stdout
