"""How fast does a class grade? Prints seconds per submission and for the class, serial and parallel.

    .venv/bin/python benchmarks/grade_class.py [--assignment 01_neuron] [--students 30]

It builds a throw-away course with N submissions of one assignment (solutions and untouched
notebooks, alternating), then measures:
- the notebook alone: the solution executed by nbclient with a plain local kernel, no grading;
- `python -m grader autograde` with 1 worker (serial) and with one worker per core (parallel),
  each from a fresh gradebook, sandboxed as in real use.
Overhead = (parallel class time x workers / N) / notebook alone: 1.0 would mean grading costs
nothing beyond running the notebooks.
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

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from grader.course import nbgrader  # noqa: E402


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
    subprocess.run([sys.executable, "-m", "grader", "--root", str(course), "autograde", assignment,
                    "--jobs", str(jobs)], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assignment", default="01_neuron")
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--skip-serial", action="store_true", help="measure the parallel run only")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as workdir:
        source = next((REPO / "solutions" / args.assignment).glob("*.ipynb"))
        alone = min(notebook_alone(solved(source), workdir) for _ in range(2))
        print(f"{args.assignment}, {args.students} submissions, {cores} cores")
        print(f"notebook alone (local kernel, no grading):   {alone:6.1f} s")
        runs = [] if args.skip_serial else [1]
        for jobs in runs + [cores]:
            seconds = grade(course_with_class(args.assignment, args.students, workdir), args.assignment, jobs)
            per = seconds / args.students
            print(f"grader autograde --jobs {jobs}: class {seconds:6.1f} s, {per:5.2f} s per submission, "
                  f"overhead {per * jobs / alone:4.2f} x the notebook's own time")


if __name__ == "__main__":
    main()
