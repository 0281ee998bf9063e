"""The student-facing repository, exported from this one (the instructor's, which stays private):

    make public DEST=../course-public          # or: python -m tools.public ../course-public

What goes in, and why:
- the website's sources (_config.yml, _toc.yml, intro.md, _ext/, _static/) and chapters/: the
  lessons and the *student* notebooks, which nbgrader generated without solutions and with the
  hidden tests' code removed;
- the packages a lesson or an assignment imports: scratchnn, course_tools, and grader with its
  checks (a student's test cells run them; at grading time the instructor's copy decides);
- what installs and builds them: pyproject.toml, requirements.txt, course.mk and the public
  Makefile (tools/public/Makefile: book, pdf, lab), binder/ for Binder, .gitignore;
- the publishing workflow (tools/public/.github/: the site is published from the public
  repository) and the PDF printer it runs through `make pdf` (tools/book_pdf.py and its .js
  files, alone of tools/), the licences;
- README.md, made from this repository's README without its instructor-only sections.

What never goes in: solutions/ (the sources, with solutions and hidden tests), tests/ (the
typical-mistake corpora are near-solutions), nbgrader_config.py, .ci/, the rest of tools/, the instructor's
workflow, anything generated (gradebook, submissions, feedback, _build/). The export is checked
before it is left in DEST: no nbgrader solution or hidden-test marker and no line of a solution or
hidden-test block may appear in any file (`leaks`).

DEST is created, or, if it is a clone of the public repository (a `.git` folder and the course's
pyproject.toml), everything but `.git` is replaced, so `git status` there shows what changed.
"""
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tools import repository

REPO = Path(__file__).resolve().parents[1]
TEMPLATES = Path(__file__).resolve().parent / "public"
COPIED = ["_config.yml", "_toc.yml", "intro.md", "_ext", "_static", "chapters", "scratchnn", "course_tools",
          "grader", "pyproject.toml", "requirements.txt", "course.mk", "binder", ".gitignore", "LICENSE",
          "LICENSE-CONTENT.md", "tools/book_pdf.py", "tools/book_pdf_*.js"]
INSTRUCTOR_ONLY = re.compile(r"<!-- instructor-only -->.*?<!-- /instructor-only -->", re.S)
MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION", "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
_BLOCK = re.compile(r"### BEGIN (SOLUTION|HIDDEN TESTS)\n(.*?)### END \1", re.S)


class ExportError(Exception):
    """The export was refused: the message says why."""


def export(dest, root=REPO):
    """Write the public repository into `dest`; return the list of files written (relative)."""
    root, dest = Path(root).resolve(), Path(dest).resolve()
    _check_destination(dest, root)
    bad = repository.stale(root=root)
    if bad:
        raise ExportError(f"these notebooks install the course from another address than _config.yml's "
                          f"{repository.url(root)}: {sorted(bad)}; run `python -m tools.repository` first")
    dest.mkdir(parents=True, exist_ok=True)
    _empty(dest)
    written = []
    for name in _tracked(root, COPIED):
        _copy(root / name, dest / name)
        written.append(name)
    for template in sorted(p for p in TEMPLATES.rglob("*") if p.is_file()):
        name = template.relative_to(TEMPLATES).as_posix()
        _copy(template, dest / name)
        written.append(name)
    (dest / "README.md").write_text(public_readme(root), encoding="utf-8")
    written.append("README.md")
    found = leaks(dest, root)
    if found:
        _empty(dest)
        raise ExportError(f"the export would publish solution or hidden-test text, so {dest} was emptied:\n"
                          + "\n".join(found[:20]))
    return sorted(written)


def public_readme(root=REPO):
    """README.md without its instructor-only sections (between the two markers)."""
    text = (Path(root) / "README.md").read_text(encoding="utf-8")
    return re.sub(r"\n{3,}", "\n\n", INSTRUCTOR_ONLY.sub("", text))


def secret_blocks(root=REPO):
    """(where, lines) for every solution and hidden-test block of solutions/: its lines that could
    not be there by chance (stripped; blank lines, comments and lines under 12 characters left out).
    A solution block of one such line (`return np.geomspace(low, high, n)`) says too little to be
    told from course material that teaches the same thing, so solution blocks count from two lines;
    a hidden test counts from one."""
    out = []
    for path in sorted(Path(root).glob("solutions/*/*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            for kind, block in _BLOCK.findall("".join(cell["source"])):
                lines = [line.strip() for line in block.splitlines()]
                lines = [line for line in lines if len(line) >= 12 and not line.startswith("#")]
                if len(lines) >= (2 if kind == "SOLUTION" else 1):
                    out.append((f"{path.relative_to(root).as_posix()} ({kind.lower()})", lines))
    return out


def leaks(dest, root=REPO):
    """What of the solutions or the hidden tests the tree `dest` gives away, one line of text each:
    a file of solutions/ or tests/, an nbgrader solution or hidden-test marker in a notebook, or
    every line of a solution or hidden-test block found in one file, in order."""
    blocks, found = secret_blocks(root), []
    for path in sorted(p for p in Path(dest).rglob("*") if p.is_file() and ".git" not in p.parts):
        where = path.relative_to(dest).as_posix()
        if where.split("/")[0] in ("solutions", "tests"):
            found.append(f"{where}: a file of the instructor's {where.split('/')[0]}/")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        if path.suffix == ".ipynb":      # the code as it reads, not JSON-escaped
            text = "\n".join("".join(cell["source"]) for cell in json.loads(text)["cells"])
            found += [f"{where}: nbgrader marker {marker!r}" for marker in MARKERS if marker in text]
        lines = [line.strip() for line in text.splitlines()]
        found += [f"{where}: the {kind} block starting {block[0]!r}" for kind, block in blocks
                  if _in_order(block, lines)]
    return found


def _in_order(block, lines):
    """Whether every line of `block` is among `lines`, in the same order."""
    rest = iter(lines)
    return all(any(line == other for other in rest) for line in block)


def _check_destination(dest, root):
    if dest == root or root in dest.parents or dest in root.parents:
        raise ExportError(f"{dest} is this repository or inside it: give a folder outside it, e.g. ../course-public")
    if not dest.exists() or not any(dest.iterdir()):
        return
    project = dest / "pyproject.toml"
    if not ((dest / ".git").is_dir() and project.is_file() and 'name = "nn-from-scratch"' in project.read_text()):
        raise ExportError(f"{dest} is neither empty nor a clone of the course's public repository (a .git folder "
                          "and the course's pyproject.toml): nothing was written there")


def _empty(dest):
    """Delete everything in dest but its .git folder."""
    for old in dest.iterdir():
        if old.name == ".git":
            continue
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old)
        else:
            old.unlink()


def _tracked(root, paths):
    """The files under `paths` that git tracks in root (so nothing generated or ignored)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--", *paths], cwd=root, capture_output=True, check=True)
    return [name for name in listed.stdout.decode().split("\0") if name and (root / name).is_file()]


def _copy(src, dst):
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dst)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m tools.public DEST   (the folder of the public repository)")
    try:
        files = export(sys.argv[1])
    except ExportError as error:
        sys.exit(f"make public: {error}")
    print(f"wrote {len(files)} files of the public repository into {Path(sys.argv[1]).resolve()} "
          f"(students install it from {repository.url()}): no solutions, no hidden tests")
