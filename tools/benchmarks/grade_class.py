"""How fast does a class grade? Prints seconds per submission and for the class, and compares
the class time with one bare `import tensorflow` measured in the same run.

    python -m tools.benchmarks.grade_class [--assignment 01_neuron] [--students 30] [--serial]
                                           [--local-cluster N | --scheduler tcp://HOST:8786]

It builds a throw-away course with N submissions of one assignment (solutions and untouched
notebooks, alternating) and times `python -m grader autograde` with one worker per core (and,
with --serial, with one worker), each from a fresh gradebook, sandboxed as in real use, with a
throw-away course secret. It also times the solution notebook run alone by nbclient with a plain
local kernel (which computes its visible tests' references with Keras, as on a student's machine).
The grading kernels of a NumPy assignment never import TensorFlow: the references are computed
once per run, in the grader's own process. Goal for 30 submissions of assignment 1: at most 6
bare TensorFlow imports.

With --local-cluster N (a Dask LocalCluster of N worker processes with one thread each, on
loopback) or --scheduler (a running Dask cluster), the same class is also graded with
`--scheduler` (grader.cluster), and it prints beside the local pool: the class time and the
difference per submission, the bytes a task sends and brings back, the instructor's process's
own work per submission (preparing a task; the gradebook writer's record, which is serial), a
bare Dask round trip per task, and a projection for 5,000 submissions on 20 workers.
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


SECRET = "a-throw-away-secret-for-the-benchmark"


def grade(course, assignment, jobs, *options):
    start = time.perf_counter()
    env = dict(os.environ, GRADING_SECRET=SECRET)
    subprocess.run([sys.executable, "-m", "grader", "--root", str(course), "autograde", assignment,
                    *(["--jobs", str(jobs)] if jobs else []), *options], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def instructor_side(course, assignment, students):
    """Per submission, measured on a graded course: (bytes of a pickled task, bytes of the executed
    notebooks it brings back, seconds to prepare a task here, seconds of the gradebook writer's record)."""
    import pickle

    from grader.autograde import Job, staging
    from grader.cluster import make_task, manifest
    from grader.gradebook import GradebookWriter
    wanted, sent, prepare = manifest(assignment), [], time.perf_counter()
    names = [f"student{i:03d}" for i in range(students)]
    for student in names:
        task, _, _ = make_task(Job(student, assignment, str(course), secret=SECRET), wanted)
        sent.append(len(pickle.dumps(task)))
    prepare = (time.perf_counter() - prepare) / students
    back = [sum(p.stat().st_size for p in (course / "autograded" / student / assignment).glob("*.ipynb"))
            for student in names]
    # the writer records again what a run staged: stage the autograded notebooks, time the records
    for student in names:
        shutil.copytree(course / "autograded" / student / assignment,
                        staging(course, assignment) / student / assignment, dirs_exist_ok=True)
    done, start = [], time.perf_counter()
    writer = GradebookWriter(course, assignment, staging(course, assignment).relative_to(course))
    try:
        for student in names:
            writer.record(student, done.append)
    finally:
        writer.close()
    record = (time.perf_counter() - start) / students
    return sum(sent) / students, sum(back) / students, prepare, record


def dask_round_trip(address, payload_bytes, tasks=200):
    """Seconds per task of a bare Dask task that carries `payload_bytes` there and back: one at a
    time (latency), and all at once (throughput)."""
    from distributed import Client
    payload = "x" * int(payload_bytes)
    with Client(address, set_as_default=False) as client:
        client.submit(len, payload).result()
        start = time.perf_counter()
        for i in range(tasks // 4):
            client.submit(str, payload, key=f"bench-one-{i}", pure=False).result()
        one = (time.perf_counter() - start) / (tasks // 4)
        start = time.perf_counter()
        client.gather(client.map(str, [payload] * tasks, key=[f"bench-all-{i}" for i in range(tasks)], pure=False))
        many = (time.perf_counter() - start) / tasks
    return one, many


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
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--local-cluster", type=int, metavar="N", default=0,
                       help="also grade on a Dask LocalCluster of N worker processes, one thread each")
    where.add_argument("--scheduler", metavar="tcp://HOST:8786", help="also grade on this running Dask cluster")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as workdir:
        source = next((REPO / "solutions" / args.assignment).glob("*.ipynb"))
        tf_seconds = tensorflow_import()
        alone = notebook_alone(solved(source), workdir)
        print(f"{args.assignment}, {args.students} submissions, {cores} cores")
        print(f"one bare `import tensorflow`:                  {tf_seconds:6.1f} s")
        print(f"the solution notebook alone (local kernel):    {alone:6.1f} s")
        local = None
        for jobs in ([1] if args.serial else []) + [cores]:
            seconds = grade(course_with_class(args.assignment, args.students, workdir), args.assignment, jobs)
            local = seconds
            print(f"grader autograde --jobs {jobs}: class {seconds:6.1f} s, {seconds / args.students:5.2f} s per "
                  f"submission, {seconds / tf_seconds:4.1f} x one TensorFlow import")
        if args.local_cluster or args.scheduler:
            on_cluster(args, workdir, local, cores)


def on_cluster(args, workdir, local, cores):
    """Grade the class on a Dask cluster too, and print what it costs beside the local pool."""
    cluster = None
    if args.local_cluster:
        from distributed import LocalCluster
        cluster = LocalCluster(n_workers=args.local_cluster, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=None, silence_logs=50)
    address = args.scheduler or cluster.scheduler_address
    try:
        from distributed import Client
        with Client(address, set_as_default=False) as client:
            threads = sum(client.nthreads().values())
        course = course_with_class(args.assignment, args.students, workdir)
        first = grade(course, args.assignment, None, "--scheduler", address)   # the workers import Keras once
        course = course_with_class(args.assignment, args.students, workdir)
        seconds = grade(course, args.assignment, None, "--scheduler", address)
        sent, back, prepare, record = instructor_side(course, args.assignment, args.students)
        one, many = dask_round_trip(address, sent)
    finally:
        if cluster is not None:
            cluster.close()
    n = args.students
    print(f"grader autograde --scheduler ({threads} worker threads): class {seconds:6.1f} s, {seconds / n:5.2f} s "
          f"per submission (first run, workers cold: {first:6.1f} s)")
    if local is not None:
        print(f"  beside the local pool ({cores} threads):  {(seconds - local) / n:+5.2f} s per submission")
    print(f"  per task: {sent / 1e3:6.1f} kB sent (pickled task), {back / 1e3:6.1f} kB back (executed notebook)")
    print(f"  instructor's process per submission: prepare {prepare * 1e3:5.1f} ms, gradebook writer "
          f"{record * 1e3:5.1f} ms (serial)")
    print(f"  bare Dask task with that payload: {one * 1e3:5.1f} ms one at a time, {many * 1e3:5.2f} ms each "
          f"when {200} are in flight")
    per_thread = seconds * threads / n          # thread-seconds of one submission on this cluster
    for workers, each in [(20, 1), (20, 8)]:
        total = workers * each
        compute = 5000 * per_thread / total
        serial = 5000 * max(record, prepare)
        print(f"  projection, 5,000 submissions on {workers} workers x {each} threads: "
              f"~{max(compute, serial) / 60:5.1f} min (grading {compute / 60:5.1f} min in parallel; the "
              f"instructor's serial work {serial / 60:4.1f} min; {5000 * (sent + back) / 1e9:4.2f} GB through "
              "the network)")


if __name__ == "__main__":
    main()
