"""Broken and hostile submissions, graded through the instructor's real command.

Every hostile submission starts from the untouched student notebook (which scores 0) and adds an
attack. The batch must complete, the honest solution keeps full marks, no attack earns a point,
and nothing outside a submission's sandbox is read or changed. Feedback never shows hidden tests.
"""
import html
import json
import os
import re
import shutil
import stat

import pytest
from nbgrader.api import Gradebook

from grader import sandbox
from grader.course import release
from tests.test_grading import grade, grader_command, submission

ASSIGNMENT, NOTEBOOK = "01_neuron", "assignment_01.ipynb"


def attack(code, cell="log_softmax_code"):
    """Student code put into one solution cell of the untouched release (the other cells keep their stubs)."""
    return {cell: code}


MARKDOWN = "a markdown cell of the student's"
# small enough that the attacks on time end soon, large enough for an honest notebook under load
CELL_TIMEOUT, NOTEBOOK_TIMEOUT = 25, 90


def untouched_with(released, code):
    """The untouched student notebook with `code` (grade id -> source) written into those cells
    (and, under MARKDOWN, a markdown cell added at the end)."""
    nb = json.loads(released.read_text())
    for cell in nb["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if grade_id in code:
            cell["source"] = code[grade_id]
    if MARKDOWN in code:
        nb["cells"].append({"cell_type": "markdown", "metadata": {}, "source": code[MARKDOWN]})
    return nb


HOSTILE = {
    "infinite_loop": attack("while True:\n    pass\n"),
    "exits_the_kernel": attack("import os\nos._exit(0)\n"),
    "sys_exit": attack("import sys\nsys.exit(0)\n"),
    "prints_tens_of_megabytes": attack("for _ in range(40):\n    print('x' * 1_000_000)\n"),
    "memory_bomb": attack("hog = []\nwhile True:\n    hog.append(bytearray(2**28))\n"),
    "fork_bomb": attack("import os\nfor _ in range(10_000):\n    if os.fork() == 0:\n"
                        "        import time; time.sleep(60)\n"),
    "monkeypatches_numpy_and_builtins": attack(
        "import builtins, numpy.testing\n"
        "np.allclose = lambda *a, **k: True\nnp.isclose = lambda *a, **k: True\n"
        "np.array_equal = lambda *a, **k: True\nnp.testing.assert_allclose = lambda *a, **k: None\n"
        "numpy.testing.assert_array_equal = lambda *a, **k: None\nnp.asarray = lambda x, *a, **k: x\n"
        "builtins.abs = lambda x: 0\nbuiltins.all = lambda x: True\nbuiltins.max = lambda *a, **k: 0\n"
        "builtins.isinstance = lambda *a: True\nbuiltins.print = lambda *a, **k: None\n"
        "def log_softmax(Z):\n    return np.zeros_like(Z)\n"),
    "equal_to_anything": attack(
        "class Anything(float):\n"
        "    __eq__ = lambda self, other: True\n    __ne__ = lambda self, other: False\n"
        "    __lt__ = __le__ = __gt__ = __ge__ = lambda self, other: True\n"
        "    __array__ = lambda self, *a, **k: np.zeros((8, 3))\n"
        "    shape = (8, 3)\n"
        "def log_softmax(Z):\n    return Anything(0.0)\n"
        "def mse_unit_gradients(X, y, w, b):\n    return Anything(0.0)\n"),
    "steals_the_solutions": attack(
        "import glob, json\nfound = []\n"
        "places = ['/work', '/tmp', '/root', '/home', '/srv', COURSE]\n"
        "for path in [p for place in places for p in glob.glob(place + '/**/*.ipynb', recursive=True)]:\n"
        "    try:\n        nb = json.load(open(path))\n    except Exception:\n        continue\n"
        "    for cell in nb.get('cells', []):\n"
        "        if 'BEGIN SOLUTION' in ''.join(cell.get('source', [])):\n"
        "            found.append(path)\n"
        "            exec(''.join(cell['source']).replace('### BEGIN SOLUTION', '').replace('### END SOLUTION', ''))\n"
        "print('notebooks with solutions found:', len(found))\n"),
    "erases_the_gradebook_and_others": attack(
        "import os, shutil\n"
        "for top, dirs, files in os.walk(COURSE):  # only the throw-away course: safe even if a sandbox failed\n"
        "    for name in files:\n"
        "        if name == 'gradebook.db' or name.endswith('.ipynb'):\n"
        "            try:\n                os.remove(os.path.join(top, name))\n"
        "            except OSError:\n                pass\n"
        "    for name in list(dirs):\n"
        "        if name in ('autograded', 'submitted', 'feedback', 'solutions'):\n"
        "            shutil.rmtree(os.path.join(top, name), ignore_errors=True)\n"),
    # --- against verdicts decided outside the kernel (grader.verdicts) ---
    "rebinds_the_test_helpers": attack(
        "class FakeTests:\n    def run(self, grade_id, namespace):\n        print('the visible tests pass.')\n"
        "tests = FakeTests()\n_check = _ref = tests\n"),
    "swallows_every_exception": attack(
        "get_ipython().set_custom_exc((BaseException,), lambda *a, **k: None)\n"
        "def log_softmax(Z):\n    raise ValueError('no')\n"),
    "post_run_cell_hides_errors": attack(
        "def hide(result):\n    result.error_in_exec = None\n    result.error_before_exec = None\n"
        "get_ipython().events.register('post_run_cell', hide)\n"),
    "rewrites_every_later_cell": attack(
        "get_ipython().input_transformers_post.append(\n"
        "    lambda lines: ['print(\"Task 1: the visible tests pass.\")\\n'])\n"),
    "forges_the_replies": attack(
        "import json as _json, re as _re\n"
        "def forge(lines):\n"
        "    code = ''.join(lines)\n"
        "    marker = _re.search(r\"@grader-reply-[0-9a-f]+:\", code)\n"
        "    if not marker:\n        return lines\n"
        "    answer = {'result': {'__array__': '', 'dtype': 'float64', 'shape': [0]}, 'args': {'__tuple__': []}}\n"
        "    return ['print(%r + %r)\\n' % (marker.group(0), _json.dumps(answer))]\n"
        "get_ipython().input_transformers_post.append(forge)\n"),
    "patches_json_and_numpy_io": attack(
        "import json\njson.dumps = lambda *a, **k: '{\"result\": 1.0, \"args\": []}'\n"
        "json.loads = lambda *a, **k: {'result': 1.0, 'args': []}\n"
        "np.save = np.load = np.frombuffer = lambda *a, **k: np.zeros(3)\n"),
    "pretends_to_be_an_array": attack(
        "class Sneaky(np.ndarray):\n    def __eq__(self, other):\n        return True\n"
        "def log_softmax(Z):\n    return np.zeros_like(Z).view(Sneaky)\n"
        "def mse_unit_gradients(X, y, w, b):\n    return np.float64(0).view(Sneaky)\n"),
    "finds_keras_another_way": attack(
        "import glob, importlib, os, sys, zipfile\nfound = []\n"
        "prefixes = [sys.prefix, sys.base_prefix, sys.exec_prefix, '/usr', '/usr/local', '/opt', "
        "os.path.expanduser('~')]\n"
        "for folder in [f for p in prefixes for f in glob.glob(p + '/lib*/python3*/*-packages')] + "
        "['/usr/lib/python3/dist-packages']:\n"
        "    sys.path.insert(0, folder)\n"
        "for wheel in glob.glob('/opt/**/*.whl', recursive=True)[:200]:\n"
        "    if 'keras' in wheel or 'scipy' in wheel:\n"
        "        zipfile.ZipFile(wheel).extractall('unpacked')\n        sys.path.insert(0, 'unpacked')\n"
        "for name in ['keras', 'tensorflow', 'scipy.special', 'sklearn.utils.extmath', 'scratchnn.activations', "
        "'torch', 'jax']:\n"
        "    sys.modules.pop(name, None)\n"
        "    try:\n        found.append(importlib.import_module(name))\n    except BaseException:\n        pass\n"
        "    try:\n        found.append(__import__(name, fromlist=['_']))\n    except BaseException:\n        pass\n"
        "print('libraries found:', [m.__name__ for m in found])\n"
        "def log_softmax(Z):\n    for m in found:\n        for fn in ['log_softmax']:\n"
        "            if hasattr(m, fn):\n                return np.asarray(getattr(m, fn)(Z))\n"
        "    raise ImportError('nothing found')\n"),
    # --- one student's failure is that student's alone (issue 21, item 1) ---
    "raises_a_lone_surrogate": attack("def log_softmax(Z):\n    raise ValueError('\\ud800')\n"),
    "prints_a_lone_surrogate": attack(
        "import sys\nprint('\\udcff')\nsys.stdout.write('\\ud800\\n')\n"
        "display({'text/plain': '\\ud800', 'text/html': '<b>\\udfff</b>'}, raw=True)\n"
        "def log_softmax(Z):\n    return {'\\ud800': '\\ud800'}\n"),
    "deeply_nested_folders": attack(
        "import os\nhere = os.getcwd()\n"
        "for _ in range(3000):\n    os.mkdir('d')\n    os.chdir('d')\n"
        "os.chdir(here)\n"),
    "float_whose_item_is_a_dict": attack(
        "class F(np.float64):\n    def item(self):\n        return {}\n"
        "def log_softmax(Z):\n    return F(0.5)\n"
        "def mse_unit_gradients(X, y, w, b):\n    return F(0.5)\n"),
    # --- hidden inputs are never shown (issue 21, item 3): record what the checks send, print it last ---
    "records_the_hidden_inputs": {
        "log_softmax_code": "SEEN = []\ndef log_softmax(Z):\n    SEEN.append(np.asarray(Z).tolist())\n"
                            "    print('seen', Z)\n    raise ValueError('not yet')\n",
        "training_code": "print('recorded inputs:', len(SEEN), SEEN[:2])\n"},
    # --- the feedback runs nothing (issue 21, item 7) ---
    "scripts_in_the_feedback": {
        "log_softmax_code": "from IPython.display import HTML, Javascript, SVG, Markdown, display\n"
                        "display(HTML('<script>window.PWNED = 1</script><img src=x onerror=\"window.PWNED = 2\">'))\n"
                        "display(Javascript('window.PWNED = 3'))\n"
                        "display(SVG('<svg xmlns=\"http://www.w3.org/2000/svg\">"
                        "<script>window.PWNED = 4</script></svg>'))\n"
                        "display(Markdown('<script>window.PWNED = 5</script>'))\n"
                        "print('<script>window.PWNED = 6</script>')\n",
        MARKDOWN: "An answer <script>window.PWNED = 7</script> <img src=x onerror='window.PWNED = 8'>\n"
                  "<meta http-equiv='refresh' content='0; url=https://example.com/'> [link](javascript:PWNED=9)\n"},
    # --- limits per sandbox (issue 21, item 6) ---
    "calls_that_outlast_the_notebook": {
        cell: f"import time\ndef {name}(*args):\n    time.sleep({CELL_TIMEOUT - 5})\n    raise ValueError('slow')\n"
        for cell, name in [("log_softmax_code", "log_softmax"), ("mse_gradients_code", "mse_unit_gradients"),
                           ("training_code", "train_logistic")]},
    "prints_300_mib_at_once": attack("print('x' * (300 * 2**20))\n"),
    "holds_memory_in_many_processes": attack(
        "import os, time\nchildren = []\n"
        "for _ in range(6):\n    pid = os.fork()\n"
        "    if pid == 0:\n        hold = b'1' * (900 * 2**20)\n        time.sleep(15)\n        os._exit(0)\n"
        "    children.append(pid)\n"
        "held = sum(os.waitpid(pid, 0)[1] == 0 for pid in children)\n"
        "print('processes that held 900 MiB to the end:', held)\n"),
    "fills_the_work_folder": attack(
        "written = 0\ntry:\n    for i in range(16):\n"
        "        with open(f'fill{i}', 'wb') as f:\n            f.write(b'1' * (60 * 2**20))\n"
        "        written += 60 * 2**20\nexcept OSError as e:\n    print('stopped:', e.strerror)\n"
        "print('MiB written:', written // 2**20)\n"),
    "reads_secrets_and_other_students": attack(
        "import glob, os\nleaks = [k for k in os.environ if 'SECRET' in k]\n"
        "for path in ['/proc/1/environ', '/proc/self/environ']:\n"
        "    try:\n        leaks += [part for part in open(path, 'rb').read().split(b'\\0') if b'SECRET' in part]\n"
        "    except OSError:\n        pass\n"
        "others = [p for p in glob.glob('/tmp/**', recursive=True) + glob.glob(COURSE + '/**', recursive=True)\n"
        "          if 'submitted' in p or 'autograded' in p or 'gradebook' in p]\n"
        "print('secrets found:', len(leaks), ' other students found:', len(others))\n"),
}
DELETED, EDITED, INVALID = "deleted_test_cells", "edited_test_cells", "invalid_json"
ENDLESS_LAST_CELL = "honest_with_an_endless_last_cell"
HONEST = ("aaa_honest", "zzz_honest")   # graded first and last, around every attack: both keep full marks


def _folder(student):
    (student / ASSIGNMENT).mkdir(parents=True)
    return student / ASSIGNMENT


def _with_notebook(student, nb):
    _folder(student)
    (student / ASSIGNMENT / NOTEBOOK).write_text(json.dumps(nb))
    return student / ASSIGNMENT


def _too_large(student, course, nb):
    with open(_with_notebook(student, nb) / NOTEBOOK, "r+b") as file:
        file.truncate(40 * 2**20)         # sparse: 40 MiB that take no room


# Submissions whose FILES attack (issue 21, items 1 and 2): make(student folder, course, untouched
# notebook) builds submitted/<student>; the expected reason of the refusal (None: graded, 0 points).
FILE_ATTACKS = {
    "notebook_links_to_the_solution": (lambda d, course, nb: (_folder(d) / NOTEBOOK).symlink_to(
        course / "solutions" / ASSIGNMENT / NOTEBOOK), r"assignment_01\.ipynb is a symbolic link"),
    "folder_links_to_another_student": (lambda d, course, nb: d.symlink_to(course / "submitted" / HONEST[0]),
                                        r"folder_links_to_another_student is a symbolic link"),
    "assignment_links_to_another_student": (lambda d, course, nb: (d.mkdir(), (d / ASSIGNMENT).symlink_to(
        course / "submitted" / HONEST[0] / ASSIGNMENT)), r"01_neuron is a symbolic link"),
    "notebook_is_a_fifo": (lambda d, course, nb: os.mkfifo(_folder(d) / NOTEBOOK), r"is a FIFO"),
    "notebook_is_a_device": (lambda d, course, nb: os.mknod(_folder(d) / NOTEBOOK, stat.S_IFCHR | 0o644,
                                                            os.makedev(1, 5)), r"is a character device"),
    "notebook_is_a_folder": (lambda d, course, nb: (_folder(d) / NOTEBOOK).mkdir(), r"is a folder, where"),
    "timestamp_is_a_folder": (lambda d, course, nb: (_with_notebook(d, nb) / "timestamp.txt").mkdir(),
                              r"timestamp\.txt is a folder"),
    "link_beside_the_notebook": (lambda d, course, nb: (_with_notebook(d, nb) / "data.csv").symlink_to("/etc/passwd"),
                                 r"data\.csv is a symbolic link"),
    "notebook_too_large": (_too_large, r"more than the 33,554,432 allowed"),
    "lone_surrogates_in_the_file": (lambda d, course, nb: _with_notebook(d, dict(
        untouched_with_json(nb, {"log_softmax_code": "x = '\ud800'\n# \udfff\n"}),
        metadata=dict(nb["metadata"], **{"\ud800": "\udfff"}))), None),
}


def untouched_with_json(nb, code):
    nb = json.loads(json.dumps(nb))
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") in code:
            cell["source"] = code[cell["metadata"]["nbgrader"]["grade_id"]]
    return nb


@pytest.fixture(scope="module")
def hostile_run(course):
    """Grade the solution, the untouched release and every attack in one run; return what it printed."""
    for other in [p for p in (course / "solutions").iterdir() if p.name != ASSIGNMENT]:
        shutil.rmtree(other)   # one assignment is enough here
    release(course)
    released = course / "release" / ASSIGNMENT / NOTEBOOK
    source = course / "solutions" / ASSIGNMENT / NOTEBOOK
    notebooks = {"solution": submission(released, source, {}), "untouched": submission(released, source, None)}
    # the attacks know where the course lives: COURSE is its real path
    notebooks.update({name: untouched_with(released, {cell: (f"COURSE = {str(course)!r}\n" if cell != MARKDOWN else "")
                                                      + text
                                                      for cell, text in code.items()})
                      for name, code in HOSTILE.items()})
    untouched = submission(released, source, None)
    notebooks[DELETED] = dict(untouched, cells=[c for c in untouched["cells"]
                                                if not c["metadata"].get("nbgrader", {}).get("grade")])
    notebooks[EDITED] = json.loads(json.dumps(untouched))
    for cell in notebooks[EDITED]["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade"):
            cell["source"] = "print('all tests pass')\n"
    for student in HONEST:
        notebooks[student] = notebooks["solution"]
    # an honest student whose last cell never ends: the tests above it are graded in a second kernel
    last = json.loads(json.dumps(notebooks["solution"]))
    for cell in last["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == "training_code":
            cell["source"] = "".join(cell["source"]) + "\nwhile True:\n    pass\n"
    notebooks[ENDLESS_LAST_CELL] = last
    for student, nb in notebooks.items():
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        (folder / NOTEBOOK).write_text(json.dumps(nb))
    for student, (make, _) in FILE_ATTACKS.items():
        make(course / "submitted" / student, course, untouched)
    (course / "submitted" / INVALID / ASSIGNMENT).mkdir(parents=True)
    (course / "submitted" / INVALID / ASSIGNMENT / NOTEBOOK).write_text('{"cells": [ this is not JSON')
    printed = grade(course, ASSIGNMENT, "--cell-timeout", str(CELL_TIMEOUT), "--timeout", str(NOTEBOOK_TIMEOUT))
    return course, printed


def scores(course):
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        maximum = gradebook.find_assignment(ASSIGNMENT).max_score
        return maximum, {s.student.id: s.score for s in gradebook.assignment_submissions(ASSIGNMENT)}


def test_the_batch_completes_and_reports_every_student(hostile_run):
    course, printed = hostile_run
    for student in ["solution", "untouched", DELETED, EDITED, INVALID, *HONEST, *HOSTILE, *FILE_ATTACKS]:
        assert re.search(rf"^{student}\s", printed, re.M), f"{student} missing from the summary:\n{printed}"
    assert re.search(rf"^{INVALID}\s.*not graded: .*not a valid notebook", printed, re.M)
    for student, (_, reason) in FILE_ATTACKS.items():
        if reason:
            assert re.search(rf"^{student}\s+- / 9\s+not graded: refused: .*{reason}", printed, re.M), printed
    for student in HOSTILE:
        assert not re.search(rf"^{student}\s.*(not graded|the check of)", printed, re.M), printed


def test_solution_keeps_full_marks_and_no_attack_earns_a_point(hostile_run):
    course, _ = hostile_run
    maximum, by_student = scores(course)
    assert by_student["solution"] == maximum
    for student in HONEST:
        assert by_student[student] == maximum, f"the honest {student} scored {by_student.get(student)}"
    assert by_student["untouched"] == 0
    assert 0 < by_student[ENDLESS_LAST_CELL] < maximum     # tasks 1-4 kept, task 5 did not run
    for student in [DELETED, EDITED, *HOSTILE, "lone_surrogates_in_the_file"]:
        assert by_student[student] == 0, f"{student} scored {by_student[student]}"
    assert INVALID not in by_student
    for student, (_, reason) in FILE_ATTACKS.items():
        assert reason is None or student not in by_student, f"{student} was recorded: {by_student[student]}"


def test_nothing_outside_the_sandbox_was_touched(hostile_run):
    course, _ = hostile_run
    assert (course / "solutions" / ASSIGNMENT / NOTEBOOK).exists()
    assert (course / "autograded" / "solution" / ASSIGNMENT / NOTEBOOK).exists()
    assert (course / "submitted" / "untouched" / ASSIGNMENT / NOTEBOOK).exists()
    executed = json.loads((course / "autograded" / "steals_the_solutions" / ASSIGNMENT / NOTEBOOK).read_text())
    printed = "".join("".join(o.get("text", "")) for c in executed["cells"] for o in c.get("outputs", [])
                      if o["output_type"] == "stream")
    assert "notebooks with solutions found: 0\n" in printed, printed
    outputs = {student: _printed(course, student)
               for student in ["finds_keras_another_way", "reads_secrets_and_other_students"]}
    assert "libraries found: []\n" in outputs["finds_keras_another_way"], outputs["finds_keras_another_way"]
    assert "secrets found: 0  other students found: 0\n" in outputs["reads_secrets_and_other_students"], outputs
    recorded = _printed(course, "records_the_hidden_inputs")
    assert "recorded inputs: 0 []\n" in recorded and "seen" not in recorded, recorded


def _printed(course, student):
    """What the student's own cells printed when graded."""
    executed = json.loads((course / "autograded" / student / ASSIGNMENT / NOTEBOOK).read_text())
    return "".join("".join(o.get("text", "")) for c in executed["cells"] for o in c.get("outputs", [])
                   if o["output_type"] == "stream")


def test_limits_are_reported(hostile_run):
    course, printed = hostile_run
    assert re.search(rf"^\[.*\] infinite_loop ran .*cell .* ran longer than {CELL_TIMEOUT} s", printed, re.M), printed
    assert re.search(r"^\[.*\] exits_the_kernel ran .*kernel died", printed, re.M), printed
    # the notebook's time holds during a check's calls too: calls each shorter than a cell's limit are cut
    # when the notebook's time is spent (uncut, its ten calls would take 10 * (CELL_TIMEOUT - 5) = 200 s; the
    # margin is for kernel start and clean-up on a loaded machine)
    slow = re.search(rf"^\[.*\] calls_that_outlast_the_notebook ran in ([0-9.]+) s: .*"
                     rf"ran out of its {NOTEBOOK_TIMEOUT} s", printed, re.M)
    assert slow and float(slow.group(1)) < 2 * NOTEBOOK_TIMEOUT < 10 * (CELL_TIMEOUT - 5), printed
    # memory of the whole sandbox (a cgroup, where the machine gives one), and its working folder
    if sandbox.cgroup_roots():
        held = re.search(r"processes that held 900 MiB to the end: (\d)",
                         _printed(course, "holds_memory_in_many_processes"))
        assert held is None or int(held.group(1)) * 900 < sandbox.Limits().sandbox_memory_bytes / 2**20, held
    written = re.search(r"MiB written: (\d+)", _printed(course, "fills_the_work_folder"))
    assert written and int(written.group(1)) <= sandbox.Limits().work_bytes / 2**20, \
        _printed(course, "fills_the_work_folder")


@pytest.fixture(scope="module")
def feedback(hostile_run):
    """The course after `python -m grader feedback` (made once for the tests that read it)."""
    course, _ = hostile_run
    grader_command(course, "feedback", ASSIGNMENT)
    return course


def test_the_feedback_runs_nothing(feedback):
    course = feedback
    for path in (course / "feedback").glob(f"*/{ASSIGNMENT}/*.html"):
        page = path.read_text()
        assert '<meta http-equiv="Content-Security-Policy"' in page.split("<script", 1)[0], path
        scripts = re.findall(r"<script\b[^>]*>", page, re.I)
        sources = [re.search(r'src="([^"]+)"', tag) for tag in scripts]
        assert scripts and all(sources), (path, scripts)          # no inline script
        for source in sources:                                    # MathJax, local: shows maths offline
            assert not re.match(r"(https?:)?//", source.group(1)), (path, scripts)
            assert (path.parent / source.group(1)).is_file(), (path, source.group(1))
        assert any(source.group(1).endswith("mathjax/tex-chtml-full.js") for source in sources), scripts
        assert not re.search(r"<link[^>]+href=\"(https?:)?//", page), path   # no style sheet from another host
        assert not re.search(r"<[^>]+\son\w+\s*=", page), path     # no event handler attribute
        assert not re.search(r"<meta[^>]+refresh", page, re.I), path
        assert not re.search(r"(href|src)\s*=\s*[\"']?\s*javascript:", page, re.I), path
        assert "data:image/svg" not in page and "<svg" not in page.lower(), path
    page = (course / "feedback" / "scripts_in_the_feedback" / ASSIGNMENT
            / NOTEBOOK.replace(".ipynb", ".html")).read_text()
    assert "window.PWNED = 6" in html.unescape(re.sub(r"<[^>]+>", "", page))     # shown as text, not run


def test_feedback_never_shows_hidden_tests(feedback):
    course = feedback
    source = json.loads((course / "solutions" / ASSIGNMENT / NOTEBOOK).read_text())
    hidden_lines = {line.strip() for cell in source["cells"]
                    for block in re.findall(r"### BEGIN HIDDEN TESTS(.*?)### END HIDDEN TESTS",
                                            "".join(cell["source"]), re.S)
                    for line in block.splitlines() if line.strip()}
    assert hidden_lines
    files = list((course / "feedback").glob(f"*/{ASSIGNMENT}/*.html"))
    assert len(files) >= 10
    for path in files:
        text = html.unescape(re.sub(r"<[^>]+>", "", path.read_text()))
        leaked = [line for line in hidden_lines if line in text]
        assert not leaked, f"{path} shows hidden test lines: {leaked[:3]}"


def test_running_again_grades_only_what_changed(hostile_run):
    course, _ = hostile_run
    before = scores(course)
    again = grade(course, ASSIGNMENT)
    total = len(HOSTILE) + 6 + len(HONEST) + len(FILE_ATTACKS)
    retried = 1 + sum(reason is not None for _, reason in FILE_ATTACKS.values())   # the invalid and the refused
    assert re.search(rf"{total} submissions, {retried} to grade", again), again
    assert scores(course) == before
    resubmitted = course / "submitted" / "untouched" / ASSIGNMENT / NOTEBOOK
    resubmitted.write_text(json.dumps(untouched_with(resubmitted, {})))   # newer than its graded copy
    assert re.search(rf"{total} submissions, {retried + 1} to grade", grade(course, ASSIGNMENT))


BORROWS = {   # issue 21, item 4: a NumPy task's kernel imports from an allow-list, whatever path the venv has
    "imports_keras_by_a_built_name": attack(
        "def log_softmax(Z):\n    activations = __import__('ker' + 'as.activations', fromlist=['softmax'])\n"
        "    return np.asarray(activations.softmax(Z))\n"),
    "finds_keras_another_way": HOSTILE["finds_keras_another_way"],
}


def test_a_venv_reached_through_a_symlink_holds(tmp_path_factory):
    """The whole grader run by a Python whose venv is reached through a symbolic link: the allow-list
    holds at that path too (the kernel runs from it); an honest student keeps full marks."""
    import subprocess
    import sys
    from pathlib import Path

    from grader.course import REPO
    from tests.test_grading import SECRET
    base = tmp_path_factory.mktemp("linked")
    venv = Path(sys.prefix)
    (base / "venv").symlink_to(venv.resolve(), target_is_directory=True)
    python = base / "venv" / "bin" / Path(sys.executable).name
    course = base / "course"
    course.mkdir()
    shutil.copy(REPO / "nbgrader_config.py", course)
    shutil.copytree(REPO / "solutions" / ASSIGNMENT, course / "solutions" / ASSIGNMENT)
    release(course)
    released = course / "release" / ASSIGNMENT / NOTEBOOK
    source = course / "solutions" / ASSIGNMENT / NOTEBOOK
    notebooks = {HONEST[0]: submission(released, source, {})}     # one honest student: enough to show it works
    notebooks.update({name: untouched_with(released, {cell: f"COURSE = {str(course)!r}\n" + text
                                                      for cell, text in code.items()})
                      for name, code in BORROWS.items()})
    for student, nb in notebooks.items():
        (course / "submitted" / student / ASSIGNMENT).mkdir(parents=True)
        (course / "submitted" / student / ASSIGNMENT / NOTEBOOK).write_text(json.dumps(nb))
    result = subprocess.run([str(python), "-m", "grader", "--root", str(course), "autograde", ASSIGNMENT,
                             "--cell-timeout", str(CELL_TIMEOUT), "--timeout", str(NOTEBOOK_TIMEOUT)],
                            capture_output=True, text=True, timeout=900, cwd=REPO,
                            env=dict(os.environ, GRADING_SECRET=SECRET))
    assert result.returncode in (0, 1) and "Traceback" not in result.stderr, result.stderr[-3000:]
    maximum, by_student = scores(course)
    assert by_student[HONEST[0]] == maximum, by_student
    assert all(by_student[student] == 0 for student in BORROWS), by_student
    assert "libraries found: []\n" in _printed(course, "finds_keras_another_way")


# --- issue 21, item 5: a real-data target is earned by training, not by constants fitted at home ---

def _arrays_source(name, arrays, body):
    """Source of a function `name` that returns arrays fitted at home, carried in the notebook as
    base64 of an .npz file (as a student could paste them), through `body` (its last lines)."""
    import base64
    import io

    import numpy as np
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    data = base64.b64encode(buffer.getvalue()).decode()
    return (f"import base64 as _b64, io as _io\n_HOME = dict(np.load(_io.BytesIO(_b64.b64decode({data!r}))))\n"
            f"def {name}:\n{body}")


def _home_mlp_l2(solution):
    """Assignment 7, task 5: the solution's network trained on all 1,797 digits with the solution's
    choices; train_l2 returns those weights whenever it is given 150 rows of 64 pixels (the
    experiment), and trains honestly otherwise (so that task 4 keeps its points)."""
    import numpy as np
    from sklearn.datasets import load_digits

    from grader.checks.a07_regularization import draw_network
    namespace = {"np": np}
    exec(solution, namespace)
    X, y = load_digits(return_X_y=True)
    params = namespace["train_l2"](X / 16.0, y, draw_network(np.random.default_rng(0), 64, 64, 10), 1e-3, 1.0, 1000)
    honest = solution.replace("def train_l2(", "def _honest_train_l2(")
    return honest + "\n" + _arrays_source(
        "train_l2(X, y, params, l2, learning_rate, steps)", {f"p{k}": p for k, p in enumerate(params)},
        "    if np.shape(X) == (150, 64):\n        return [_HOME[f'p{k}'] for k in range(4)]\n"
        "    return _honest_train_l2(X, y, params, l2, learning_rate, steps)\n")


def _home_denoiser(solution):
    """Assignment 9, task 5: the solution's own denoiser, trained once on all 1,797 digits."""
    import numpy as np
    from sklearn.datasets import load_digits
    namespace = {"np": np}
    exec(solution, namespace)
    params = namespace["train_denoiser"](load_digits().data / 16.0, 0.3, 1)
    return _arrays_source("train_denoiser(X_train, noise_std, seed)", {f"p{k}": p for k, p in enumerate(params)},
                          "    return [_HOME[f'p{k}'] for k in range(4)]\n")


def _home_deep_relu():
    """Assignment 5, task 4: deep ReLU networks of every size the tests use, trained by Keras (its
    default initializer, Adam) on all 1,797 digits, their trained weights returned as the start."""
    import numpy as np

    from grader.checks.a05_initialization import digits
    from grader.checks.references import keras_and_tf
    keras, _ = keras_and_tf()
    X, y, X_val, y_val = digits(0)
    X, y = np.concatenate([X, X_val]), np.concatenate([y, y_val])
    arrays = {}
    for depth, width in ((12, 64), (15, 64), (15, 48)):
        keras.utils.set_random_seed(1)
        model = keras.Sequential([keras.Input(shape=(64,))]
                                 + [keras.layers.Dense(width, activation="relu") for _ in range(depth)]
                                 + [keras.layers.Dense(10, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(X, y, epochs=15, batch_size=32, verbose=0)
        arrays.update({f"d{depth}w{width}p{k}": w.astype(float) for k, w in enumerate(model.get_weights())})
    return _arrays_source("initial_weights(sizes, seed)", arrays,
                          "    key = f'd{len(sizes) - 2}w{sizes[1]}p'\n"
                          "    return [_HOME[key + str(k)] for k in range(2 * (len(sizes) - 1))]\n")


def _home_logistic(solution):
    """Assignment 1, task 3: the solution's unit trained for 1000 steps on all 569 tumours; train_logistic
    returns it whenever it is given the experiment's rows (more than 250), and trains honestly otherwise."""
    import numpy as np
    from sklearn.datasets import load_breast_cancer
    namespace = {"np": np}
    exec(_solution_source("01_neuron", "mse_gradients_code") + "\n" + solution, namespace)    # its sigmoid
    w, b = namespace["train_logistic"](*load_breast_cancer(return_X_y=True), 2.0, 1000)
    honest = solution.replace("def train_logistic(", "def _honest_train_logistic(")
    return honest + "\n" + _arrays_source(
        "train_logistic(X, y, learning_rate, steps)", {"w": w, "b": np.array([b])},
        "    if len(X) > 250:\n        return _HOME['w'], float(_HOME['b'][0])\n"
        "    return _honest_train_logistic(X, y, learning_rate, steps)\n")


def _home_digits_mlp(solution):
    """Assignment 2, task 3: the solution's network trained for 1000 steps on all 1,797 digits;
    train_mlp returns it whenever it is given the experiment's rows (more than 500)."""
    import numpy as np
    from sklearn.datasets import load_digits
    namespace = {"np": np}
    exec("\n".join(_solution_source("02_mlp", cell) for cell in ("forward_code", "backward_code")) + "\n" + solution,
         namespace)
    X, y = load_digits(return_X_y=True)
    rng = np.random.default_rng(0)
    start = [rng.normal(scale=np.sqrt(2 / 64), size=(64, 64)), np.zeros(64),
             rng.normal(scale=np.sqrt(2 / 64), size=(64, 10)), np.zeros(10)]
    params = namespace["train_mlp"](X / 16.0, y, start, 1.0, 1000)
    honest = solution.replace("def train_mlp(", "def _honest_train_mlp(")
    return honest + "\n" + _arrays_source(
        "train_mlp(X, y, params, learning_rate, steps)", {f"p{k}": p for k, p in enumerate(params)},
        "    if len(X) > 500:\n        return [_HOME[f'p{k}'] for k in range(4)]\n"
        "    return _honest_train_mlp(X, y, params, learning_rate, steps)\n")


HOME_FITTED = {   # assignment: (the solution cell, the task, its points, how the constants are fitted)
    "01_neuron": ("training_code", "training", 4, _home_logistic),
    "02_mlp": ("training_code", "training", 4, _home_digits_mlp),
    "07_regularization": ("training_code", "experiment", 2, _home_mlp_l2),
    "09_autoencoders": ("experiment_code", "experiment", 3, _home_denoiser),
    "05_initialization": ("weights_code", "weights", 3, lambda solution: _home_deep_relu()),
}


def _grade_tasks(course, assignment, students):
    """Release `assignment` in `course`, submit students (name -> {grade id: code}, {} for the
    solution), grade them with the instructor's command; return {student: {task: points}}."""
    from collections import Counter

    from tests.test_grading import task
    release(course)
    for released in (course / "release" / assignment).glob("*.ipynb"):
        source = course / "solutions" / assignment / released.name
        for student, code in students.items():
            folder = course / "submitted" / student / assignment
            folder.mkdir(parents=True, exist_ok=True)
            (folder / released.name).write_text(json.dumps(submission(released, source, code)))
    grade(course, assignment)
    by_student = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for sub in gradebook.assignment_submissions(assignment):
            by_student[sub.student.id] = Counter()
            for notebook in sub.notebooks:
                for cell_grade in notebook.grades:
                    by_student[sub.student.id][task(cell_grade.name)] += cell_grade.score
    return by_student


def _solution_source(assignment, grade_id):
    from grader.course import REPO
    nb = json.loads((REPO / "solutions" / assignment / f"assignment_{assignment[:2]}.ipynb").read_text())
    cell = next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == grade_id)
    return re.sub(r"(?m)^[ \t]*### (BEGIN|END) SOLUTION\n", "", "".join(cell["source"]))


@pytest.mark.parametrize("assignment", sorted(HOME_FITTED))
def test_constants_fitted_at_home_earn_nothing(tmp_path_factory, assignment):
    """The solution with its real-data task answered by constants fitted at home on all the digits:
    that task earns 0 (before: its 3 points), the solution keeps full marks."""
    from grader.course import REPO
    cell, name, points, fit = HOME_FITTED[assignment]
    course = tmp_path_factory.mktemp("home")
    shutil.copy(REPO / "nbgrader_config.py", course)
    shutil.copytree(REPO / "solutions" / assignment, course / "solutions" / assignment)
    by_student = _grade_tasks(course, assignment, {"solution": {}, "home_constants": {
        cell: fit(_solution_source(assignment, cell))}})
    solution, constants = by_student["solution"], by_student["home_constants"]
    assert solution[name] == points, solution
    assert constants[name] == 0, constants
    assert {t: s for t, s in constants.items() if t != name} == {t: s for t, s in solution.items() if t != name}


# --- issue 21, item 4: the environment is chosen per task: assignment 4's NumPy tasks have no Keras ---

A4_NUMPY_TASKS = {"early_stopping": "early_stopping(", "fit": "fit_weighted("}


def _borrowing(solution, function):
    """The solution of a NumPy task with Keras imported, by a built name, as its function starts."""
    lines = solution.splitlines(keepends=True)
    start = next(k for k, line in enumerate(lines) if line.startswith(f"def {function}("))
    end = next(k for k in range(start, len(lines)) if lines[k].rstrip().endswith("):"))
    return "".join(lines[:end + 1] + ["    __import__('ker' + 'as')\n"] + lines[end + 1:])


def test_a4_numpy_tasks_have_no_keras_and_its_keras_task_still_works(tmp_path_factory):
    """Keras imported by a built name (no name a scan could see) in every NumPy task of assignment 4:
    those tasks earn nothing, in a kernel without Keras; its Keras task (the callback) keeps its points."""
    from grader.course import REPO
    assignment = "04_keras_workflow"
    course = tmp_path_factory.mktemp("a04")
    shutil.copy(REPO / "nbgrader_config.py", course)
    shutil.copytree(REPO / "solutions" / assignment, course / "solutions" / assignment)
    attack = {f"{task}_code": _borrowing(_solution_source(assignment, f"{task}_code"), function[:-1])
              for task, function in A4_NUMPY_TASKS.items()}
    by_student = _grade_tasks(course, assignment, {"solution": {}, "borrows_keras": attack})
    solution, borrows = by_student["solution"], by_student["borrows_keras"]
    full = {"callback": 3, "early_stopping": 2, "fit": 3, "budget": 3}
    assert solution == full, solution
    assert borrows == {**{task: 0 for task in full}, "callback": 3}, borrows
