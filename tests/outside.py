"""A student's machine, simulated: the course as it reaches people outside this repository.

`student_machine(folder)` exports the public repository (tools/public.py, what `make public`
writes) into `folder/public`, makes it a git repository (as it is on GitHub), and installs the
course from it the way README's Students section says,
`pip install "nn-from-scratch[course,grading] @ git+<public repository>"`, into a fresh
environment that cannot see this checkout: no editable install, no path to the checkout, a working
directory outside it, no course variable such as TF_CPP_MIN_LOG_LEVEL set.

There is no network here, so the fresh environment finds the course's *dependencies* already
installed: it sees the site-packages of .venv through links to each of its entries, except the
editable install of this checkout. pip is told to use no index and no configuration, so the
install succeeds only if every dependency that pyproject.toml declares is there under the name it
declares (as in Colab, where TensorFlow and Keras are preinstalled), and the course's own
packages come from the wheel that pip builds from the export.
"""
import json
import os
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from grader.course import REPO
from tools import public, repository

EDITABLE = ("__editable__", "nn_from_scratch", "scratchnn", "course_tools", "grader", "_virtualenv")


@dataclass
class Machine:
    public: Path      # the exported public repository (a git repository)
    python: Path      # the fresh environment's Python
    home: Path

    @property
    def url(self):
        """The public repository's address on this machine, as pip takes it."""
        return f"file://{self.public}"

    def env(self, **extra):
        """A student's environment: nothing of the course's Makefile, no index, no pip config."""
        return {"HOME": str(self.home), "PATH": f"{self.python.parent}:/usr/bin:/bin", "LANG": "C.UTF-8",
                "PIP_CONFIG_FILE": os.devnull, "PIP_NO_INDEX": "1", "PIP_NO_BUILD_ISOLATION": "0",
                "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS", "1"), **extra}

    def run(self, *args, cwd=None, timeout=600, **extra):
        """Run the fresh Python with `args` (in `cwd`, default the student's home); the finished process."""
        return subprocess.run([str(self.python), *args], cwd=cwd or self.home, env=self.env(**extra), text=True,
                              capture_output=True, timeout=timeout)


def fresh_environment(folder):
    """A new virtual environment in `folder` that sees .venv's packages but not this checkout; its Python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    deps = folder.parent / f"{folder.name}-dependencies"
    deps.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if not entry.name.startswith(EDITABLE):
            (deps / entry.name).symlink_to(entry)
    python = folder / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    # addsitedir, unlike a plain path line, also reads the dependencies' own .pth files
    Path(purelib, "course-dependencies.pth").write_text(f"import site; site.addsitedir({str(deps)!r})\n")
    return python


def export_public(folder):
    """The public repository, exported into folder and committed (pip installs from git)."""
    public.export(folder)
    git = ["git", "-c", "user.name=course", "-c", "user.email=course@example.org"]
    for command in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "export"]):
        subprocess.run([*git, *command], cwd=folder, check=True)
    return folder


def student_machine(folder, install=True):
    """The public repository in folder/public, and a fresh environment with the course installed
    from it by README's command (install=False: nothing of the course installed, as Colab)."""
    folder = Path(folder)
    home = folder / "home"
    home.mkdir()
    machine = Machine(export_public(folder / "public"), fresh_environment(folder / "env"), home)
    if install:
        done = machine.run("-m", "pip", "install", "--quiet", students_requirement(machine))
        assert done.returncode == 0, f"README's install command failed:\n{done.stdout}\n{done.stderr}"
    return machine


def students_requirement(machine):
    """README's install command for students, with the public repository's address of this machine."""
    readme = (machine.public / "README.md").read_text()
    command = f'pip install "nn-from-scratch[course,grading] @ git+{repository.url()}"'
    assert command in readme, f"README's Students section no longer says {command}"
    return f"nn-from-scratch[course,grading] @ git+{machine.url}"


def execute(machine, notebook, timeout=600):
    """Run `notebook` top to bottom with the fresh environment's kernel, in its own folder (a
    cell that raises fails it); the finished process, whose stdout is the seconds it took."""
    program = ("import sys, time, nbformat, nbclient\n"
               "nb = nbformat.read(sys.argv[1], as_version=4)\n"
               "start = time.perf_counter()\n"
               "nbclient.NotebookClient(nb, timeout=300, kernel_name='python3',\n"
               "                        resources={'metadata': {'path': sys.argv[2]}}).execute()\n"
               "print(round(time.perf_counter() - start, 1))\n")
    return machine.run("-c", program, str(notebook), str(notebook.parent), cwd=notebook.parent, timeout=timeout)


def solved(released, source):
    """The student notebook `released` with every answer cell taken from the source notebook
    `source` (matched by nbgrader's grade id): what a student who solved it submits."""
    answers = {cell["metadata"]["nbgrader"]["grade_id"]: cell["source"]
               for cell in json.loads(Path(source).read_text())["cells"]
               if cell["metadata"].get("nbgrader", {}).get("solution")}
    nb = json.loads(Path(released).read_text())
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("solution"):
            cell["source"] = answers[cell["metadata"]["nbgrader"]["grade_id"]]
    return nb


def source_of(assignment):
    """The instructor's source notebook of an assignment id, e.g. 01_neuron."""
    (path,) = (REPO / "solutions" / assignment).glob("assignment_*.ipynb")
    return path




# One lesson of each chapter runs on the student's machine (tests/test_outside_lessons.py) instead
# of in this checkout's environment (conftest.py leaves them out of nbval's run): the same check,
# that the page runs top to bottom, made where a learner meets it.
LESSONS = ["01_neuron/neuron.ipynb", "02_mlp/mlp.ipynb", "03_activations/regression.ipynb",
           "04_keras_workflow/keras_workflow.ipynb", "05_initialization/variance_scaling.ipynb",
           "06_optimizers/gradient_descent.ipynb", "07_regularization/batch_normalization.ipynb",
           "08_tuning/error_analysis.ipynb", "09_autoencoders/tied_weights.ipynb"]
