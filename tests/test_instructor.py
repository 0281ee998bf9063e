"""The instructor's seat (issue 25), through the real commands on a small class of assignment 1:
the complete export (grades.csv and Canvas's CSV), reasons that say what to do, renamed notebooks,
feedback that says who got none, and commands that print only what the instructor needs.

The class: alice (the solution), bob (a typical mistake), carol (a file that is not JSON), dave
(the solution, renamed by the browser to 'assignment_01 (1).ipynb'), erin (only a .py file), gina
(two renamed copies), frank (no folder for assignment 1; an untouched assignment 2, never graded).
"""
import csv
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from grader import names
from grader.report import pattern
from grader.course import REPO
from tests.mistakes.a01_neuron import MISTAKES
from tests.test_grading import SECRET, points, submission

A1, NB1, A2, NB2 = "01_neuron", "assignment_01.ipynb", "02_mlp", "assignment_02.ipynb"
STUDENTS = ["alice", "bob", "carol", "dave", "erin", "frank", "gina"]
TASKS1, FULL1, FULL2 = list(points(A1)), f"{sum(points(A1).values()):g}", f"{sum(points(A2).values()):g}"
BOB = next(iter(MISTAKES.values()))             # bob's submission: the first typical mistake
BOB_SAYS = {grade_id[:-len("_test")]: text for grade_id, text in BOB["messages"].items() if grade_id.endswith("_test")}


def command(course, *args):
    """(exit status, stdout, stderr) of `python -m grader --root course *args`."""
    env = {**os.environ, "GRADING_SECRET": SECRET, "OPENBLAS_NUM_THREADS": "1"}
    run = subprocess.run([sys.executable, "-m", "grader", "--root", str(course), *args], capture_output=True,
                         text=True, timeout=600, env=env)
    return run.returncode, run.stdout, run.stderr


def put(course, student, assignment, name, content):
    folder = course / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(content if isinstance(content, str) else json.dumps(content))


def make_class(course):
    """The submissions of the class described above (the course released)."""
    released, source = course / "release" / A1 / NB1, course / "solutions" / A1 / NB1
    solved = submission(released, source, {})
    put(course, "alice", A1, NB1, solved)
    put(course, "bob", A1, NB1, submission(released, source, BOB["code"]))
    put(course, "carol", A1, NB1, "{ this is not json")
    put(course, "dave", A1, "assignment_01 (1).ipynb", solved)
    put(course, "erin", A1, "assignment_01.py", "print('my answers')\n")
    put(course, "gina", A1, "assignment_01 (1).ipynb", solved)
    put(course, "gina", A1, "assignment_01 (2).ipynb", solved)
    put(course, "frank", A2, NB2, (course / "release" / A2 / NB2).read_text())


@pytest.fixture(scope="module")
def cycle(tmp_path_factory):
    """Release, autograde (twice: the second run skips who was graded), feedback for both
    assignments, export: {step: (status, stdout, stderr)} and the course folder."""
    course = tmp_path_factory.mktemp("class")
    shutil.copy(REPO / "nbgrader_config.py", course)
    for assignment in (A1, A2):
        shutil.copytree(REPO / "solutions" / assignment, course / "solutions" / assignment)
    steps = {"release": command(course, "release")}
    make_class(course)
    steps["autograde"] = command(course, "autograde", A1, "--jobs", "2")
    steps["again"] = command(course, "autograde", A1, "--jobs", "2")
    steps["feedback"] = command(course, "feedback", A1)
    steps["feedback-nothing-graded"] = command(course, "feedback", A2)
    steps["grades"] = command(course, "export")
    steps["regrade-one"] = command(course, "autograde", A1, "--student", "dave")
    steps["make-autograde"] = make(course, "autograde", f"ASSIGNMENT={A1}", "ARGS=--student carol,erin")
    steps["release-one"] = command(course, "release", A2)
    steps["report"] = command(course, "report", A1)
    return steps, course


def make(course, target, *variables):
    """(exit status, stdout, stderr) of the instructor's `make <target> COURSE=course ...` (the
    venv taken as it is: -o keeps make from rebuilding it)."""
    env = {**os.environ, "GRADING_SECRET": SECRET, "OPENBLAS_NUM_THREADS": "1"}
    run = subprocess.run(["make", "--no-print-directory", "-o", ".venv/.installed", "-C", str(REPO), target,
                          f"COURSE={course}", *variables], capture_output=True, text=True, timeout=600, env=env)
    return run.returncode, run.stdout, run.stderr


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as file:
        return list(csv.reader(file))


def complete_rows(course):
    header, *rows = read_csv(course / "grades.csv")
    return {(row[0], row[1]): dict(zip(header, row)) for row in rows}, header


# --- 1. the complete export -------------------------------------------------------------------

def test_export_has_a_row_per_student_and_assignment_with_a_status(cycle):
    steps, course = cycle
    assert steps["grades"][0] == 0, steps["grades"]
    rows, header = complete_rows(course)
    assert set(rows) == {(student, a) for student in STUDENTS for a in (A1, A2)}
    assert header[:6] == ["student", "assignment", "status", "reason", "score", "max_score"]
    status = {key: row["status"] for key, row in rows.items()}
    assert [status[s, A1] for s in STUDENTS] == ["graded", "graded", "not graded", "graded", "not graded",
                                                 "missing", "not graded"]
    assert status["frank", A2] == "not graded" and status["alice", A2] == "missing"


def test_ungraded_never_looks_like_zero(cycle):
    rows, header = complete_rows(cycle[1])
    for (student, assignment), row in rows.items():
        tasks = [row[column] for column in header[6:] if column.startswith(assignment + "/")]
        if row["status"] == "graded":
            assert row["score"] != "" and all(value != "" for value in tasks) and row["reason"] == "", row
        else:
            assert row["score"] == "" and all(value == "" for value in tasks), row
            assert row["reason"], row            # every row that is not graded says why


def test_export_has_one_column_per_task_summing_to_the_score(cycle):
    rows, header = complete_rows(cycle[1])
    tasks = [column for column in header[6:] if column.startswith(A1 + "/")]
    assert tasks == [f"{A1}/{task}" for task in TASKS1]
    assert all(column.startswith((A1 + "/", A2 + "/")) for column in header[6:])
    for student in ("alice", "bob", "dave"):
        row = rows[student, A1]
        assert sum(float(row[column]) for column in tasks) == pytest.approx(float(row["score"])), row
    assert rows["alice", A1]["score"] == FULL1 and rows["dave", A1]["score"] == FULL1
    assert float(rows["bob", A1]["score"]) < float(FULL1) and rows["bob", A1]["max_score"] == FULL1


def test_export_says_why_a_student_is_not_graded(cycle):
    rows, _ = complete_rows(cycle[1])
    assert "not a valid notebook" in rows["carol", A1]["reason"]
    assert "only assignment_01.py" in rows["erin", A1]["reason"]
    assert rows["frank", A1]["reason"] == f"no folder submitted/frank/{A1}"
    assert f"not autograded yet: run make autograde ASSIGNMENT={A2}" in rows["frank", A2]["reason"]


def test_canvas_export_leaves_ungraded_cells_empty(cycle):
    header, points, *students = read_csv(cycle[1] / "grades-canvas.csv")
    assert header == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", A1, A2]
    assert points == ["Points Possible", "", "", "", "", FULL1, FULL2]
    scores = {row[3]: row[5:] for row in students}
    assert set(scores) == set(STUDENTS)
    assert scores["alice"] == [FULL1, ""] and scores["dave"] == [FULL1, ""]
    assert scores["carol"] == ["", ""] and scores["frank"] == ["", ""]
    assert all(row[0] for row in students)       # Canvas shows a name (the id where the gradebook has none)


def test_export_without_a_gradebook_says_what_to_do(tmp_path):
    shutil.copy(REPO / "nbgrader_config.py", tmp_path)
    status, out, err = command(tmp_path, "export")
    assert status != 0 and "No gradebook" in err and "make release" in err and "Traceback" not in err


# --- 2. reasons that say what to do, renamed notebooks, feedback ----------------------------------

def test_a_renamed_notebook_alone_in_its_folder_is_graded(cycle):
    steps, course = cycle
    out = steps["autograde"][1]
    assert "'assignment_01 (1).ipynb' graded as assignment_01.ipynb" in out, out
    assert (course / "autograded" / "dave" / A1 / NB1).is_file()


def test_a_renamed_notebook_is_not_graded_again_when_unchanged(cycle):
    again = cycle[0]["again"][1]
    assert f"{A1}: 6 submissions, 3 to grade" in again, again     # carol, erin and gina: failures are retried
    assert any(line.startswith("dave") and "graded before" in line for line in again.splitlines()), again


def test_reasons_say_what_to_do(cycle):
    out = cycle[0]["autograde"][1]
    assert (f"no assignment_01.ipynb in submitted/gina/{A1}: found 'assignment_01 (1).ipynb', "
            "'assignment_01 (2).ipynb'; rename the one to grade to assignment_01.ipynb") in out, out
    assert f"no notebook in submitted/erin/{A1}, only assignment_01.py: submit assignment_01.ipynb" in out, out
    assert "open it in Jupyter, save it" in out, out


def test_feedback_names_who_got_none_and_why(cycle):
    steps, course = cycle
    status, out, err = steps["feedback"]
    assert status == 1 and "Traceback" not in err, err
    assert out.splitlines()[0] == f"{A1}: feedback for 3 students in feedback/<student>/{A1}/; none for 3:", out
    for student, why in [("carol", "not graded: assignment_01.ipynb is not a valid notebook"),
                         ("erin", "not graded: no notebook in"), ("gina", "not graded: no assignment_01.ipynb")]:
        assert any(line.strip().startswith(f"{student}: {why}") for line in out.splitlines()), out
    assert sorted(p.parent.parent.name for p in (course / "feedback").glob(f"*/{A1}/*.html")) == [
        "alice", "bob", "dave"]


def test_feedback_for_an_assignment_nobody_was_graded_on(cycle):
    status, out, err = cycle[0]["feedback-nothing-graded"]
    assert status == 1 and "Traceback" not in err and not err.strip(), err
    assert out.splitlines() == [f"{A2}: feedback for 0 students in feedback/<student>/{A2}/; none for 1:",
                                f"  frank: not autograded yet (make autograde ASSIGNMENT={A2})"], out


@pytest.mark.parametrize("uploaded, others, graded, says", [
    (["a.ipynb"], [], {"a.ipynb": "a.ipynb"}, []),
    (["a (1).ipynb"], [], {"a (1).ipynb": "a.ipynb"}, ["'a (1).ipynb' graded as a.ipynb"]),
    (["a.ipynb", "scratch.ipynb"], [], {"a.ipynb": "a.ipynb"}, ["ignored scratch.ipynb"]),
    (["a (1).ipynb", "a (2).ipynb"], [], {},
     ["found 'a (1).ipynb', 'a (2).ipynb'; rename the one to grade to a.ipynb"]),
    ([], ["a.py", "notes.txt"], {}, ["no notebook in F, only a.py, notes.txt: submit a.ipynb"]),
    ([], [], {}, ["F is empty: submit a.ipynb"]),
])
def test_match_of_submitted_names(uploaded, others, graded, says):
    found = names.match(["a.ipynb"], uploaded, others, "F")
    assert found.graded == graded
    said = found.missing + found.notes
    assert len(said) == len(says) and all(text in line for text, line in zip(says, said)), said


# --- 3. quiet, explicit commands ------------------------------------------------------------------

QUIET_STEPS = ["release", "autograde", "again", "feedback", "feedback-nothing-graded", "grades", "regrade-one",
               "release-one", "make-autograde", "report"]


@pytest.mark.parametrize("step", QUIET_STEPS)
def test_commands_print_nothing_from_the_libraries(cycle, step):
    """No SQLAlchemy warning, TensorFlow start-up line, nbgrader INFO line or traceback: stderr is
    empty, and stdout names no absolute path of the course."""
    steps, course = cycle
    status, out, err = steps[step]
    assert err == "", f"{step} wrote on stderr:\n{err[-3000:]}"
    for noise in ("INFO", "WARNING", "Warning", "Traceback", "tensorflow", str(course)):
        assert noise not in out, f"{step} printed {noise!r}:\n{out}"


def test_release_says_what_it_released_in_one_line(cycle):
    steps, _ = cycle
    assert steps["release"] == (0, f"released 2 assignments (2 notebooks) into release/ and chapters/: {A1}, {A2}\n",
                                "")
    assert steps["release-one"] == (0, f"released 1 assignment (1 notebook) into release/ and chapters/: {A2}\n", "")


def test_autograde_ends_with_one_summary_line_and_its_exit_status(cycle):
    steps, _ = cycle
    status, out, _ = steps["autograde"]
    assert status == 1, out                       # done, but some students could not be graded
    assert out.splitlines()[-1].startswith(
        f"{A1}: 6 submissions, 3 graded (3 now), 3 not graded: carol, erin, gina; 6 run in "), out
    assert steps["again"][1].splitlines()[-1].startswith(
        f"{A1}: 6 submissions, 3 graded (0 now), 3 not graded: carol, erin, gina; 3 run in "), steps["again"][1]
    assert steps["grades"][1] == ("grades: 7 students x 2 assignments: 3 graded, 4 not graded, 7 missing "
                                  "-> grades.csv and grades-canvas.csv\n")


def test_make_does_not_call_an_ungradable_student_an_error(cycle):
    status, out, err = cycle[0]["make-autograde"]
    assert status == 0 and "Error 1" not in out + err and "make: ***" not in out + err, out + err
    assert out.splitlines()[-1].startswith(f"{A1}: 6 submissions, 3 graded (0 now), 3 not graded"), out


def test_commands_that_cannot_run_exit_with_2_and_say_why(cycle):
    _, course = cycle
    for args, says in [(["release", "99_nothing"], f"No assignment 99_nothing in {course / 'solutions'}"),
                       (["autograde", A1, "--student", "zed"], f"No submission of {A1} from zed: the students"),
                       (["autograde", "99_nothing"], "No assignment '99_nothing'")]:
        status, out, err = command(course, *args)
        assert status == 2 and says in err and "Traceback" not in err, (args, out, err)
    env = {k: v for k, v in os.environ.items() if k != "GRADING_SECRET"}
    run = subprocess.run([sys.executable, "-m", "grader", "--root", str(course), "autograde", A1],
                         capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 2 and "Set GRADING_SECRET" in run.stderr, run.stderr


# --- 4. controls ----------------------------------------------------------------------------------

def test_regrade_one_student(cycle):
    steps, course = cycle
    status, out, _ = steps["regrade-one"]
    assert out.splitlines()[0] == f"{A1}: 6 submissions, 1 to grade", out
    assert any(line.startswith("dave") and f"{FULL1} / {FULL1}  graded (" in line for line in out.splitlines()), out
    assert any(line.startswith("alice") and "graded before" in line for line in out.splitlines()), out


def test_regrade_a_list_of_students_through_make(cycle):
    out = cycle[0]["make-autograde"][1]
    assert out.splitlines()[0] == f"{A1}: 6 submissions, 2 to grade", out
    ran = [line.split("] ")[1].split()[0] for line in out.splitlines() if line.startswith("[")]
    assert sorted(ran) == ["carol", "erin"], out


# --- 5. the class report --------------------------------------------------------------------------

def test_report_summary_in_the_terminal(cycle):
    status, out, _ = cycle[0]["report"]
    lines = out.splitlines()
    assert status == 0, out
    full = float(FULL1)
    assert lines[0] == (f"{A1}: 3 students graded, 3 not graded; score mean {(2 * full + bob_score(cycle)) / 3:.1f}, "
                        f"median {full:g}, min {bob_score(cycle):g}, max {full:g} (of {full:g})"), out
    passing = ", ".join(f"{task} (67|100) % / (67|100) %" for task in TASKS1)
    assert re.fullmatch(f"  passing visible / hidden: {passing}", lines[1]), out
    mistakes = [line for line in lines if line.startswith("  33 % (1 of 3) ")]     # bob's, one per task
    assert any(line.startswith(f"  33 % (1 of 3) {task}: ") and pattern(text)[:30] in line
               for line in mistakes for task, text in BOB_SAYS.items()), out
    assert "  not graded: carol, erin, gina" in lines and lines[-1] == f"  report: reports/{A1}.html", out


def bob_score(cycle):
    rows, _ = complete_rows(cycle[1])
    return float(rows["bob", A1]["score"])


def test_report_page(cycle):
    page = (cycle[1] / "reports" / f"{A1}.html").read_text()
    assert page.count('<img src="data:image/png;base64,') == 2 and "<script" not in page
    assert "Content-Security-Policy" in page
    assert any(f"<td>{task}</td><td>" in page and pattern(text)[:30] in page for task, text in BOB_SAYS.items())
    assert "<td>carol</td><td>assignment_01.ipynb is not a valid notebook" in page
    assert page.count("<tr><td>") >= 3 + 1 + 3          # the tasks, a mistake, the students not graded


def test_a_mistake_on_other_inputs_counts_once():
    assert pattern("softmax(array(3, 3)) raised FloatingPointError. With logits as large as 1000, subtract") == \
        pattern("softmax(array(2, 2)) raised FloatingPointError. With logits as large as 11524.2, subtract")
    assert pattern("w = [ 1.8 -0.5] and b = -0.2, so z = -3.3") == "w = […] and b = #, so z = #"
    assert pattern("x" * 500).endswith("…") and len(pattern("x" * 500)) == 240


# --- 6. feedback a student can read ---------------------------------------------------------------

def test_feedback_names_tasks_wraps_messages_and_shows_no_empty_prompt_on_test_cells(cycle):
    page = (cycle[1] / "feedback" / "bob" / A1 / "assignment_01.html").read_text()
    assert ">Test cell</a>" not in page
    for task in TASKS1:
        assert f'<li><a href="#{task}_test">{task}: visible tests</a>' in page
        assert f'<li><a href="#{task}_hidden">{task}: hidden tests</a>' in page
    empty_prompt = 'In(&nbsp;|\u00a0| )\\[(&nbsp;|\u00a0| )\\]:</div><div class="panel panel-primary nbgrader_cell">'
    assert not re.search(empty_prompt, page)
    assert page.count('<div class="prompt input_prompt"></div><div class="panel panel-primary nbgrader_cell">') == \
        2 * len(TASKS1)
    head = page[:page.index("</head>")]
    assert "div.output_area pre {white-space: pre-wrap; overflow-wrap: anywhere}" in head


FEEDBACK_FACTS = """async () => {
  for (let t = 0; t < 200 && !(window.MathJax && MathJax.startup && MathJax.startup.promise); t++)
    await new Promise(r => setTimeout(r, 50));
  if (window.MathJax && MathJax.startup) await MathJax.startup.promise;
  const d = document.documentElement;
  return {
    width: d.scrollWidth, viewport: d.clientWidth,
    maths: document.querySelectorAll('mjx-container').length,
    rawTex: [...document.querySelectorAll('.text_cell_render')].map(e => e.textContent)
      .filter(t => /\\$[^$]+\\$|\\\\frac/.test(t)).length,
    cutMessages: [...document.querySelectorAll('div.output_area pre')]
      .filter(p => p.scrollWidth > p.clientWidth + 1).map(p => p.textContent.slice(0, 60)),
  };
}"""


@pytest.mark.parametrize("width", [1280, 375])
def test_feedback_page_reads_in_a_browser_offline(cycle, width):
    """bob's feedback page opened from disk, as a student opens it, in Chromium with scrollbars shown:
    MathJax (the local copy) typesets the maths, nothing is requested from the network, no script
    error or Content-Security-Policy violation, the page is no wider than the window, and every
    message wraps instead of hiding its end."""
    from playwright.sync_api import sync_playwright
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    page_path = cycle[1] / "feedback" / "bob" / A1 / "assignment_01.html"
    errors, outgoing = [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"],
                                     ignore_default_args=["--hide-scrollbars"])
        try:
            page = browser.new_page(viewport={"width": width, "height": 800})
            page.on("console", lambda m: m.type == "error" and errors.append(m.text))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: not r.url.startswith(("file:", "data:")) and outgoing.append(r.url))
            page.goto(page_path.as_uri(), wait_until="load")
            facts = page.evaluate(FEEDBACK_FACTS)
        finally:
            browser.close()
    assert not errors and not outgoing, (errors, outgoing)
    assert facts["maths"] > 10 and facts["rawTex"] == 0, facts
    assert facts["width"] <= facts["viewport"], f"the page is {facts['width']} px in a {facts['viewport']} px window"
    assert not facts["cutMessages"], facts["cutMessages"]


def test_messages_survive_tensorflow_silencing_descriptor_2():
    """python -m grader's own stderr keeps working while course_tools.keras_setup points descriptor
    2 at /dev/null (TensorFlow's import, in a thread, while kernels start)."""
    code = ("import os, sys\n"
            "from grader.__main__ import own_stderr\n"
            "own_stderr()\n"
            "null = os.open(os.devnull, os.O_WRONLY); saved = os.dup(2); os.dup2(null, 2)\n"
            "print('a student could not be recorded', file=sys.stderr)\n"
            "os.write(2, b'C++ chatter\\n'); os.dup2(saved, 2)\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert run.returncode == 0, run.stderr
    assert run.stderr == "a student could not be recorded\n"
