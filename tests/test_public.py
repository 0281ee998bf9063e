"""The two homes (tools/public.py): the public repository that `make public` writes holds what
learners and students need and nothing of the solutions or the hidden tests; the package declares
everything its modules import; a student can see every test's verdict at once."""
import ast
import contextlib
import importlib.metadata
import io
import json
import re
import shutil
import sys
import tomllib

import numpy as np
import pytest

from grader import checks
from grader.checks import a01_neuron
from grader.course import REPO, assignments
from tests.outside import source_of
from tools import public


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    dest = tmp_path_factory.mktemp("public") / "course-public"
    return dest, public.export(dest)


def test_the_export_holds_what_learners_and_students_need(exported):
    dest, files = exported
    tops = {name.split("/")[0] for name in files}
    assert tops == {"_config.yml", "_toc.yml", "intro.md", "_ext", "_static", "chapters", "scratchnn",
                    "course_tools", "grader", "pyproject.toml", "requirements.txt", "course.mk", "Makefile",
                    "binder", ".gitignore", ".github", "LICENSE", "LICENSE-CONTENT.md", "tools", "README.md"}
    for assignment in sorted(p.name for p in (REPO / "solutions").iterdir()):
        student = dest / "chapters" / assignment / source_of(assignment).name
        assert student.read_bytes() == (REPO / student.relative_to(dest)).read_bytes()
    assert (dest / "grader/checks/a09_autoencoders.py").is_file(), "the assignments' test cells need the checks"
    assert (dest / ".github/workflows/book.yml").is_file(), "the website is published from the public repository"


def test_the_export_has_no_instructor_material(exported):
    dest, files = exported
    assert not [f for f in files if f.split("/")[0] in ("solutions", "tests", ".ci", "nbgrader_config.py")]
    # of tools/, only the PDF printer that the public `make pdf` runs
    assert {f for f in files if f.startswith("tools/")} == {
        f"tools/book_pdf{end}" for end in (".py", "_wait.js", "_arrange.js", "_prepare.js", "_check.js")}
    assert public.leaks(dest) == []
    readme = (dest / "README.md").read_text()
    assert "instructor-only" not in readme
    for private in ("GRADING_SECRET", "make autograde", "make test", "make public", "## Instructors"):
        assert private not in readme, f"the public README still says {private!r}"
    for kept in ("## Learners", "## Students", "nbgrader validate", "tests.report(globals())", "## Licence"):
        assert kept in readme, f"the public README lost {kept!r}"


def test_a_leak_is_found(exported, tmp_path):
    """The check can fail: a solution notebook, a solution block in a .py file, a hidden test in
    a notebook are each reported."""
    dest, _ = exported
    leaky = tmp_path / "leaky"
    shutil.copytree(dest, leaky)
    shutil.copy(source_of("01_neuron"), leaky / "chapters" / "copied.ipynb")
    blocks = dict(public.secret_blocks())
    solution = next(lines for where, lines in blocks.items()
                    if where.startswith("solutions/07") and "solution" in where)
    hidden = next(lines for where, lines in blocks.items() if where.startswith("solutions/03") and "hidden" in where)
    (leaky / "scratchnn" / "extra.py").write_text("# helper\n" + "\n    ".join(solution) + "\n")
    nb = json.loads((leaky / "chapters/01_neuron/neuron.ipynb").read_text())
    nb["cells"][-1]["source"] = "\n".join(hidden)
    (leaky / "chapters/01_neuron/neuron.ipynb").write_text(json.dumps(nb))
    found = "\n".join(public.leaks(leaky))
    assert "chapters/copied.ipynb: nbgrader marker '### BEGIN SOLUTION'" in found
    assert "scratchnn/extra.py: the solutions/07" in found
    assert "chapters/01_neuron/neuron.ipynb: the solutions/03" in found


def test_an_export_that_would_leak_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(public, "COPIED", [*public.COPIED, "solutions/01_neuron"])
    with pytest.raises(public.ExportError, match="would publish solution or hidden-test text"):
        public.export(tmp_path / "out")
    assert not any((tmp_path / "out").iterdir())


def test_the_destination_is_checked(tmp_path):
    with pytest.raises(public.ExportError, match="inside it"):
        public.export(REPO / "_build" / "public")
    unrelated = tmp_path / "work"
    unrelated.mkdir()
    (unrelated / "thesis.tex").write_text("mine")
    with pytest.raises(public.ExportError, match="neither empty nor a clone"):
        public.export(unrelated)
    assert (unrelated / "thesis.tex").read_text() == "mine"


def test_a_clone_of_the_public_repository_is_updated_in_place(exported, tmp_path):
    dest, _ = exported
    clone = tmp_path / "clone"
    shutil.copytree(dest, clone)
    (clone / ".git").mkdir()
    (clone / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (clone / "old_page.md").write_text("removed since")
    public.export(clone)
    assert (clone / ".git" / "HEAD").read_text() == "ref: refs/heads/main\n"
    assert not (clone / "old_page.md").exists()


# --- the package declares what it imports -----------------------------------------------------

def imported_modules(code):
    """Top-level modules that `code` imports, except those guarded by `except ImportError`."""
    tree = ast.parse("\n".join(line for line in code.splitlines() if not line.lstrip().startswith(("%", "!"))))
    optional = {id(node) for guard in ast.walk(tree) if isinstance(guard, ast.Try)
                if any("ImportError" in ast.unparse(handler.type or ast.Name("")) for handler in guard.handlers)
                for statement in guard.body for node in ast.walk(statement)}
    names = set()
    for node in ast.walk(tree):
        if id(node) in optional:
            continue
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def notebook_code(path):
    return "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code")


def declared(*extras):
    """The distributions pyproject.toml declares, with the given extras, as normalized names."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"] + [r for extra in extras for r in project["optional-dependencies"][extra]]
    return {re.split(r"[\s\[<>=!~;]", r, maxsplit=1)[0].lower().replace("_", "-") for r in requirements}


def undeclared(files, code_of, allowed):
    providers = importlib.metadata.packages_distributions()
    ours = {"scratchnn", "course_tools", "grader"}
    missing = {}
    for path in files:
        for module in imported_modules(code_of(path)) - ours - set(sys.stdlib_module_names):
            dists = {d.lower().replace("_", "-") for d in providers.get(module, [module])}
            if not dists & allowed:
                missing.setdefault(module, []).append(path.relative_to(REPO).as_posix())
    return missing


def test_what_lessons_and_assignments_import_is_declared():
    """[course] must give every module a lesson, an assignment or a module they use imports, so
    that `pip install nn-from-scratch[course]` (Colab's install cell) is enough."""
    allowed = declared("course")
    notebooks = sorted(REPO.glob("chapters/*/*.ipynb")) + sorted(REPO.glob("solutions/*/*.ipynb"))
    modules = sorted(REPO.glob("course_tools/*.py")) + sorted(REPO.glob("grader/checks/*.py"))
    missing = undeclared(notebooks, notebook_code, allowed)
    missing.update(undeclared(modules, lambda p: p.read_text(), allowed))
    assert not missing, f"imported but not declared in pyproject.toml's [course]: {missing}"


def test_what_the_grader_imports_is_declared():
    allowed = declared("course", "grading")
    missing = undeclared(sorted(REPO.glob("grader/*.py")), lambda p: p.read_text(), allowed)
    assert not missing, f"imported but not declared in pyproject.toml's [grading]: {missing}"


def test_scratchnn_declares_numpy_only():
    assert declared() == {"numpy"}
    missing = undeclared(sorted(REPO.glob("scratchnn/*.py")), lambda p: p.read_text(), {"numpy"})
    assert not missing, f"scratchnn imports more than NumPy: {missing}"


def test_the_check_of_declarations_can_fail():
    allowed = declared("course")
    assert imported_modules("try:\n    import myst_nb\nexcept ImportError:\n    pass\nimport yaml") == {"yaml"}
    assert "yaml" not in allowed and "pyyaml" not in allowed


# --- every verdict at once ---------------------------------------------------------------------

def solution_namespace(assignment):
    """The functions of a solved notebook, defined here (the answer cells run in order)."""
    namespace = {"np": np}
    for cell in json.loads(source_of(assignment).read_text())["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("solution"):
            exec("".join(cell["source"]), namespace)
    return namespace


def report(namespace, **kwargs):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        a01_neuron.report(namespace, **kwargs)
    return out.getvalue()


def test_every_assignment_has_the_report_its_last_cell_calls():
    for assignment in assignments():
        last = json.loads(source_of(assignment).read_text())["cells"][-1]
        assert "".join(last["source"]).endswith("tests.report(globals())"), f"{assignment} lost its report cell"
        assert callable(checks.for_assignment(assignment).report)


def test_report_lists_every_verdict_without_stopping():
    solved = solution_namespace("01_neuron")
    assert "3 of the 3 visible tests pass." in report(solved)
    assert "6 of the 6 tests pass (the hidden ones on fresh random inputs)." in report(solved, hidden=True)
    half = dict(solved)
    del half["mse_unit_gradients"]
    half["train_logistic"] = lambda X, y, learning_rate, steps: (X[0] * 0.0, 0.0)
    text = report(half)
    assert "1 of the 3 visible tests pass." in text
    assert "mse_gradients_test  FAILS: mse_unit_gradients is not defined" in text
    assert re.search(r"training_test +FAILS: ", text) and re.search(r"log_softmax_test +Task 1", text)


def test_binder_pins_python_and_the_course_environment(exported):
    dest, _ = exported
    assert (dest / "binder/runtime.txt").read_text().strip() == "python-3.11"
    assert "-r ../requirements.txt" in (dest / "binder/requirements.txt").read_text().splitlines()
    assert "pip install --no-deps ." in (dest / "binder/postBuild").read_text()
    assert (dest / "binder/postBuild").stat().st_mode & 0o111, "repo2docker runs postBuild only if executable"
