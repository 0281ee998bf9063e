"""How fast does a class grade? Prints seconds per submission and for the class, and compares
the class time with one bare `import tensorflow` measured in the same run.

    python -m tools.benchmarks.grade_class [--assignment 01_neuron] [--students 30] [--serial]

It builds a throw-away course with N submissions of one assignment (solutions and untouched
notebooks, alternating) and times `python -m grader autograde` with one worker per core (and,
with --serial, with one worker), each from a fresh gradebook, sandboxed as in real use, with a
throw-away course secret. It also times the solution notebook run alone by nbclient with a plain
local kernel (which computes its visible tests' references with Keras, as on a student's machine).
The grading kernels of a NumPy assignment never import TensorFlow: the references are computed
once per run, in the grader's own process. Goal for 30 submissions of assignment 1: at most 6
bare TensorFlow imports.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from grader.course import nbgrader

REPO = Path(__file__).resolve().parents[2]


def solved(source_nb):
    """The source notebook with its solution markers removed (what a perfect student submits)."""
    nb = json.loads(source_nb.read_text())
    for cell in nb["cells"]:
        cell["source"] = re.sub(r"(?m)^[ \t]*### (BEGIN|END) SOLUTION\n", "", "".join(cell["source"]))
    return nb


def notebook_alone(nb, workdir):
    start = time.perf_counter()
    NotebookClient(nbformat.from_dict(nb), timeout=300, allow_errors=True,
                   resources={"metadata": {"path": str(workdir)}}).execute()
    return time.perf_counter() - start


def course_with_class(assignment, students, workdir):
    course = Path(workdir) / f"course-{time.monotonic_ns()}"
    course.mkdir()
    shutil.copy(REPO / "nbgrader_config.py", course)
    shutil.copytree(REPO / "solutions" / assignment, course / "solutions" / assignment)
    nbgrader("generate_assignment", assignment, "--force", "--log-level=ERROR", root=course)
    for path in sorted((course / "solutions" / assignment).glob("*.ipynb")):
        released = json.loads((course / "release" / assignment / path.name).read_text())
        for i in range(students):
            folder = course / "submitted" / f"student{i:03d}" / assignment
            folder.mkdir(parents=True)
            (folder / path.name).write_text(json.dumps(solved(path) if i % 2 == 0 else released))
    return course


def grade(course, assignment, jobs):
    start = time.perf_counter()
    env = dict(os.environ, GRADING_SECRET="a-throw-away-secret-for-the-benchmark")
    subprocess.run([sys.executable, "-m", "grader", "--root", str(course), "autograde", assignment,
                    "--jobs", str(jobs)], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def tensorflow_import():
    """Seconds of one `import tensorflow` in a fresh Python, the best of two."""
    def once():
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import tensorflow"], check=True, capture_output=True,
                       env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
        return time.perf_counter() - start
    return min(once(), once())


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assignment", default="01_neuron")
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--serial", action="store_true", help="also measure one worker at a time")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as workdir:
        source = next((REPO / "solutions" / args.assignment).glob("*.ipynb"))
        tf_seconds = tensorflow_import()
        alone = notebook_alone(solved(source), workdir)
        print(f"{args.assignment}, {args.students} submissions, {cores} cores")
        print(f"one bare `import tensorflow`:                  {tf_seconds:6.1f} s")
        print(f"the solution notebook alone (local kernel):    {alone:6.1f} s")
        for jobs in ([1] if args.serial else []) + [cores]:
            seconds = grade(course_with_class(args.assignment, args.students, workdir), args.assignment, jobs)
            print(f"grader autograde --jobs {jobs}: class {seconds:6.1f} s, {seconds / args.students:5.2f} s per "
                  f"submission, {seconds / tf_seconds:4.1f} x one TensorFlow import")


if __name__ == "__main__":
    main()
