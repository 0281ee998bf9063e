"""Grading on a Dask cluster (issue 27), through the instructor's real command.

A `distributed.LocalCluster` on loopback (two worker processes, one thread each) stands for two
grading machines; `python -m grader --root <course> autograde 01_neuron --scheduler <its address>`
grades on it. A class (the solution, the untouched release, typical mistakes, hostile and refused
submissions) gets exactly the scores and verdicts of the local pool. Workers killed while they grade
lose nothing and record nothing twice: a task is run again elsewhere, a bounded number of times,
then reported "not graded" with the reason, and running the command again grades what is left.
"""
import json
import os
import pickle
import re
import shutil
import threading
import time

import dask
import nbformat
import numpy as np
import psutil
import pytest
from distributed import Client, LocalCluster
from nbgrader.api import Gradebook

from grader.autograde import Job
from grader.cluster import make_task, manifest
from grader.course import release
from grader.verdicts import answers_digest, hidden_rng, is_test_cell
from tests.test_grading import MISTAKES, SECRET, SOLUTION, UNTOUCHED, grade, submission
from tests.test_hostile import FILE_ATTACKS, HOSTILE, INVALID, untouched_with

ASSIGNMENT, NOTEBOOK = "01_neuron", "assignment_01.ipynb"
HOSTILE_HERE = ("exits_the_kernel",)                      # an attack in the kernel
REFUSED_HERE = ("notebook_links_to_the_solution",)                        # and one on the files
# one typical mistake, one that does not train past the time budget (those take the longest)
A_MISTAKE = [next(((name, m) for name, m in MISTAKES[ASSIGNMENT].items() if "budget" not in name),
                  next(iter(MISTAKES[ASSIGNMENT].items())))]
ALLOWED_FAILURES = 1            # the scheduler runs a task again once after its worker died, no more
SLEEP = 3                       # seconds the killed students' first cell sleeps: long enough to be killed in
KILLED_ONCE, KILLED_TWICE = "a_killed_once", "b_killed_twice"


@pytest.fixture(scope="module")
def cluster():
    """Two worker processes with one thread each, on loopback; always closed."""
    with dask.config.set({"distributed.scheduler.allowed-failures": ALLOWED_FAILURES,
                          "distributed.scheduler.worker-saturation": 1.0}):   # one task at a time per worker
        local = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                             dashboard_address=None, silence_logs=40)
    try:
        yield local
    finally:
        local.close(timeout=30)


@pytest.fixture(scope="module")
def courses(course):
    """Three copies of one course with the same class, released once, none graded yet:
    {"local": ..., "cluster": ..., "killed": ...}."""
    for other in [p for p in (course / "solutions").iterdir() if p.name != ASSIGNMENT]:
        shutil.rmtree(other)
    release(course)
    released, source = course / "release" / ASSIGNMENT / NOTEBOOK, course / "solutions" / ASSIGNMENT / NOTEBOOK
    notebooks = {SOLUTION: submission(released, source, {}), UNTOUCHED: submission(released, source, None),
                 **{name: submission(released, source, m["code"]) for name, m in A_MISTAKE},
                 **{name: untouched_with(released, HOSTILE[name]) for name in HOSTILE_HERE}}
    for student, nb in notebooks.items():
        (course / "submitted" / student / ASSIGNMENT).mkdir(parents=True)
        (course / "submitted" / student / ASSIGNMENT / NOTEBOOK).write_text(json.dumps(nb))
    for student in REFUSED_HERE:
        FILE_ATTACKS[student][0](course / "submitted" / student, course, notebooks[UNTOUCHED])
    (course / "submitted" / INVALID / ASSIGNMENT).mkdir(parents=True)
    (course / "submitted" / INVALID / ASSIGNMENT / NOTEBOOK).write_text('{"cells": [ this is not JSON')
    made = {name: course.parent / f"{course.name}-{name}" for name in ("local", "cluster", "killed")}
    for name, copy in made.items():
        shutil.copytree(course, copy, symlinks=True)
    # the class whose workers are killed: two solutions that sleep first, and nobody else
    sleeper = submission(released, source, {})
    first = next(c for c in sleeper["cells"] if c["metadata"].get("nbgrader", {}).get("solution"))
    first["source"] = f"import time\ntime.sleep({SLEEP})\n" + "".join(first["source"])
    for student in (KILLED_ONCE, KILLED_TWICE):
        (made["killed"] / "submitted" / student / ASSIGNMENT).mkdir(parents=True)
        (made["killed"] / "submitted" / student / ASSIGNMENT / NOTEBOOK).write_text(json.dumps(sleeper))
    for folder in (made["killed"] / "submitted").iterdir():
        if folder.name not in (KILLED_ONCE, KILLED_TWICE):
            shutil.rmtree(folder)
    return made


def graded_cells(course):
    """{student: {grade id: (score, the verdict's error message or "")}} from the gradebook and the
    autograded notebooks."""
    found = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for sub in gradebook.assignment_submissions(ASSIGNMENT):
            path = course / "autograded" / sub.student.id / ASSIGNMENT / NOTEBOOK
            cells = {c["metadata"]["nbgrader"]["grade_id"]: c for c in json.loads(path.read_text())["cells"]
                     if c["metadata"].get("nbgrader", {}).get("grade")}
            found[sub.student.id] = {
                grade.name: (grade.score, " ".join(o.get("evalue", "") for o in cells[grade.name].get("outputs", [])
                                                   if o["output_type"] == "error"))
                for notebook in sub.notebooks for grade in notebook.grades}
    return found


def table(printed):
    """The final table: {student: status}."""
    rows = printed.split("\nstudent ", 1)[1].splitlines()[1:]
    return {m[1]: m[2] for m in (re.match(r"(\S+)\s+\S+ / \S+\s+(.*)", row) for row in rows) if m}


def progress(printed):
    """The students of the progress lines, in order ("[3/8, 1 failed] alice ran in 2.0 s")."""
    return re.findall(r"^\[\d+/\d+, \d+ failed\] (\S+) ", printed, re.M)


@pytest.fixture(scope="module")
def both(courses, cluster):
    """The same class graded by the local pool and on the cluster: (printed locally, on the cluster)."""
    return grade(courses["local"], ASSIGNMENT), grade(courses["cluster"], ASSIGNMENT, "--scheduler",
                                                        cluster.scheduler_address)


def test_the_cluster_gives_exactly_the_local_scores_and_verdicts(courses, both):
    local, remote = both
    assert "grading on the Dask cluster at tcp://127.0.0.1:" in remote and "2 workers" in remote, remote
    assert graded_cells(courses["cluster"]) == graded_cells(courses["local"])
    cells = graded_cells(courses["cluster"])
    total = {student: sum(score for score, _ in by_cell.values()) for student, by_cell in cells.items()}
    assert total[SOLUTION] == max(total.values()) > 0 and total[UNTOUCHED] == 0, total
    assert all(total[name] == 0 for name in HOSTILE_HERE), total
    # not graded, with the same reasons, and the same table
    assert table(remote) == table(local)
    assert re.search(rf"^{INVALID}\s.*not graded: .*not a valid notebook", remote, re.M), remote
    assert re.search(rf"^{REFUSED_HERE[0]}\s.*not graded: refused: .*symbolic link", remote, re.M), remote
    assert sorted(progress(remote)) == sorted(progress(local)) == sorted(table(local))   # each once


def test_the_secret_never_travels_to_a_worker(courses):
    """A task carries the prepared notebook and one seed per graded cell, never the secret; the
    seeds draw exactly the inputs that the secret draws in a local run."""
    job = Job(SOLUTION, ASSIGNMENT, str(courses["cluster"]), secret=SECRET)
    task, _, _ = make_task(job, manifest(ASSIGNMENT))
    sent = pickle.dumps(task)
    assert SECRET.encode() not in sent and SECRET.encode().hex().encode() not in sent
    (_, text, seeds), = task.notebooks
    nb = nbformat.reads(text, as_version=4)
    graded = {c.metadata["nbgrader"]["grade_id"] for c in nb.cells if is_test_cell(c)}
    assert set(seeds) == graded and any(grade_id.endswith("_hidden") for grade_id in graded)
    digest = answers_digest(nb)
    for grade_id, seed in seeds.items():
        assert (np.random.default_rng(seed).random(4) == hidden_rng(SECRET, ASSIGNMENT, SOLUTION, grade_id,
                                                                    digest).random(4)).all()


def _kill_tree(pid):
    """Kill a worker process and everything it started (its kernels' sandboxes): a machine lost."""
    try:
        process = psutil.Process(pid)
        process.suspend()           # it starts no more kernels while its family is listed
        family = [*process.children(recursive=True), process]
    except psutil.NoSuchProcess:
        return
    for member in family:
        try:
            member.kill()
        except psutil.NoSuchProcess:
            pass


def _killer(address, deaths, stop, killed):
    """Kill the worker running each student of `deaths` (student -> times), as often as asked."""
    with Client(address, set_as_default=False) as client:
        while not stop.is_set() and any(deaths.values()):
            for worker, keys in client.processing().items():
                for key in keys:
                    student = next((s for s in deaths if f"-{s}-" in str(key)), None)
                    if student and deaths[student] > 0:
                        pids = client.run(os.getpid, workers=[worker])
                        deaths[student] -= 1
                        killed.append((student, worker))
                        _kill_tree(pids[worker])
                        time.sleep(1)   # let the scheduler notice before looking again
            stop.wait(0.2)


def test_killed_workers_lose_nothing_and_record_nothing_twice(courses, cluster, both):
    course, stop, killed = courses["killed"], threading.Event(), []
    deaths = {KILLED_ONCE: 1, KILLED_TWICE: ALLOWED_FAILURES + 1}
    killer = threading.Thread(target=_killer, args=(cluster.scheduler_address, deaths, stop, killed), daemon=True)
    killer.start()
    try:
        # one task on the cluster at a time: a worker's death counts against every task assigned to
        # it, so the killer must not find a second student queued behind the one it kills
        printed = grade(course, ASSIGNMENT, "--scheduler", cluster.scheduler_address, "--jobs", "1")
    finally:
        stop.set()
        killer.join(60)
    assert sorted(s for s, _ in killed) == sorted([KILLED_ONCE] + [KILLED_TWICE] * (ALLOWED_FAILURES + 1)), killed
    students = [KILLED_ONCE, KILLED_TWICE]
    assert sorted(progress(printed)) == sorted(students), printed        # each student once
    for student, worker in killed:
        assert re.search(rf"^worker {re.escape(worker)} lost; run again on another worker: .*{student}",
                         printed, re.M), printed
    rows = table(printed)
    assert rows[KILLED_ONCE] == "graded", printed
    assert re.match(rf"not graded: the worker grading it died {ALLOWED_FAILURES + 1} times", rows[KILLED_TWICE]), rows
    cells = graded_cells(course)
    full = sum(s for s, _ in graded_cells(courses["local"])[SOLUTION].values())
    assert sum(s for s, _ in cells[KILLED_ONCE].values()) == full > 0 and KILLED_TWICE not in cells
    # the same command again grades only the one left, and records it once
    again = grade(course, ASSIGNMENT, "--scheduler", cluster.scheduler_address)
    assert "2 submissions, 1 to grade" in again and progress(again) == [KILLED_TWICE], again
    assert table(again)[KILLED_TWICE] == "graded" and table(again)[KILLED_ONCE] == "graded before", again
    cells = graded_cells(course)
    assert sum(s for s, _ in cells[KILLED_TWICE].values()) == full
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        assert sorted(s.student.id for s in gradebook.assignment_submissions(ASSIGNMENT)) == sorted(students)
