"""The course folder and nbgrader: where things are, and regenerating the student notebooks.

A course root is a folder holding nbgrader_config.py and solutions/<id>/ (this repository, or a
temporary copy in the tests). `release` runs `nbgrader generate_assignment <id>` for every
assignment (which writes release/<id>/) and copies each released notebook into chapters/<id>/,
where it is committed:

    python -m grader release
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def plural(count, word):
    """'1 student', '3 students'."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def venv_env(environ=None):
    """The environment with this Python's bin folder first on PATH: nbgrader runs `alembic` by name
    when it creates a gradebook, in its own process as in ours."""
    environ = dict(os.environ if environ is None else environ)
    environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), environ.get("PATH", "")])
    return environ


def nbgrader(*args, root=REPO, quiet=False):
    """Run `nbgrader *args` in the course folder root, with this Python's bin first on PATH
    (nbgrader runs `alembic` by name when it creates a gradebook). quiet: what nbgrader prints is
    kept, and shown only if it fails (raised as NbgraderFailed with its last lines)."""
    run = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=root, env=venv_env(),
                         capture_output=quiet, text=True)
    if run.returncode:
        said = (run.stdout or "") + (run.stderr or "")
        raise NbgraderFailed(f"nbgrader {' '.join(args[:2])} failed (exit status {run.returncode})"
                             + (":\n" + "\n".join(said.strip().splitlines()[-20:]) if said.strip() else ""))


class CannotRun(Exception):
    """A command cannot run (no such assignment or student, no secret, no gradebook, no sandbox...):
    the message says why and what to do. `python -m grader` prints it and exits with status 2;
    a library function raises this rather than SystemExit, so a caller can catch it."""


class NbgraderFailed(CannotRun):
    """nbgrader ended with an error: the message has its last lines."""


def assignments(root=REPO):
    """The assignment ids: the folder names in solutions/."""
    return sorted(p.name for p in (Path(root) / "solutions").iterdir() if p.is_dir())


def release(root=REPO, only=None, out=sys.stdout):
    """Generate the assignments (all, or the ids in `only`) into root/release/ and copy their
    notebooks into root/chapters/; print one line saying what was released."""
    root = Path(root)
    known = assignments(root)
    unknown = sorted(set(only or ()) - set(known))
    if unknown:
        raise CannotRun(f"No assignment {', '.join(unknown)} in {root / 'solutions'}: the assignments are "
                         f"{', '.join(known)}.")
    chosen = [a for a in known if not only or a in only]
    copied = []
    for assignment in chosen:
        nbgrader("generate_assignment", assignment, "--force", "--log-level=ERROR", root=root, quiet=True)
        chapter = root / "chapters" / assignment
        chapter.mkdir(parents=True, exist_ok=True)
        for notebook in sorted((root / "release" / assignment).glob("*.ipynb")):
            shutil.copyfile(notebook, chapter / notebook.name)
            copied.append(notebook)
    print(f"released {plural(len(chosen), 'assignment')} ({plural(len(copied), 'notebook')}) into "
          f"release/ and chapters/: {', '.join(chosen)}", file=out)
