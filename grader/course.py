"""Regenerate the student notebooks from solutions/.

For every assignment solutions/<id>/, run `nbgrader generate_assignment <id>` (which writes
release/<id>/) and copy each released notebook into chapters/<id>/, where it is committed.

    python scripts/release.py [COURSE_ROOT]

COURSE_ROOT (default: this repository) is a folder holding nbgrader_config.py and solutions/;
the tests pass a temporary copy.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def nbgrader(*args, root=REPO):
    """Run `nbgrader *args` in the course folder root, with this Python's bin first on PATH
    (nbgrader runs `alembic` by name when it creates a gradebook)."""
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=root, env=env, check=True)


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


if __name__ == "__main__":
    release(Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else REPO)
