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


def nbgrader(*args, root=REPO, quiet=False):
    """Run `nbgrader *args` in the course folder root, with this Python's bin first on PATH
    (nbgrader runs `alembic` by name when it creates a gradebook). quiet: what nbgrader prints is
    kept, and shown only if it fails (raised as NbgraderFailed with its last lines)."""
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    run = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=root, env=env,
                         capture_output=quiet, text=True)
    if run.returncode:
        said = (run.stdout or "") + (run.stderr or "")
        raise NbgraderFailed(f"nbgrader {' '.join(args[:2])} failed (exit status {run.returncode})"
                             + (":\n" + "\n".join(said.strip().splitlines()[-20:]) if said.strip() else ""))


class NbgraderFailed(Exception):
    """nbgrader ended with an error: the message has its last lines."""


def assignments(root=REPO):
    """The assignment ids: the folder names in solutions/."""
    return sorted(p.name for p in (Path(root) / "solutions").iterdir() if p.is_dir())


def release(root=REPO):
    """Generate every assignment into root/release/ and copy its notebooks into root/chapters/."""
    root = Path(root)
    for assignment in assignments(root):
        nbgrader("generate_assignment", assignment, "--force", root=root)
        chapter = root / "chapters" / assignment
        chapter.mkdir(parents=True, exist_ok=True)
        for notebook in sorted((root / "release" / assignment).glob("*.ipynb")):
            shutil.copyfile(notebook, chapter / notebook.name)
            print(f"{notebook.relative_to(root)} -> {(chapter / notebook.name).relative_to(root)}")

