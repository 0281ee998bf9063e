"""The public repository's address: `repository.url` in _config.yml is the one place it is set.

The website's repository, launch (Colab, Binder) and download buttons read it there. Every
notebook that installs the course when it is missing (each lesson, and each assignment's setup
cell) must hold it literally too: in Colab nothing of the course is installed yet when that cell
runs `pip install "nn-from-scratch[course] @ git+<address>"`; so does README.md's install command
for students. They are written from _config.yml, in the lessons, the assignments' sources
(solutions/) and README.md, and the student notebooks are then generated again from the sources
(nbgrader's checksums of read-only cells must match):

    python -m tools.repository          # rewrite the install cells, then `python -m grader release`
    python -m tools.repository --check  # exit 1 if a notebook disagrees (tests/test_repository.py)
"""
import json
import re
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
# The address as the install cells write it, on a line of its own so that the cell's lines stay
# short (tests/test_code_lines.py):
#     REPO_URL = "https://github.com/..."
#     COURSE = f"nn-from-scratch[course] @ git+{REPO_URL}"
# and as README.md writes it: `nn-from-scratch[course] @ git+<address>`.
_INSTALL = re.compile(r'(nn-from-scratch(?:\[[a-z,]+\])? @ git\+|^REPO_URL = ")(https://[^"\s`\\]+)', re.MULTILINE)


def url(root=None):
    cfg = yaml.safe_load(((root or REPO) / "_config.yml").read_text(encoding="utf-8"))
    return cfg["repository"]["url"].rstrip("/")


def installers(root=None):
    """Every file that names the address: the lessons, the student notebooks and the assignments'
    sources that install the course, and README.md (the students' install command)."""
    root = root or REPO
    found = sorted(root.glob("chapters/*/*.ipynb")) + sorted(root.glob("solutions/*/*.ipynb")) + [root / "README.md"]
    return [p for p in found if p.exists() and _INSTALL.search(_text(p))]


def _text(path):
    """A file's text; for a notebook, its cells' sources (not their JSON escapes)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix != ".ipynb":
        return text
    return "\n".join("".join(cell["source"]) for cell in json.loads(text)["cells"])


def stale(address=None, root=None):
    """{notebook: the address it installs from} for each notebook that disagrees with _config.yml."""
    root = root or REPO
    address = address or url(root)
    out = {}
    for path in installers(root):
        for _, found in _INSTALL.findall(_text(path)):
            if found != address:
                out[path.relative_to(root).as_posix()] = found
    return out


def write(address=None, root=None):
    """Point every install command of the lessons, the assignments' sources and README.md at
    `address` (default: _config.yml's), keeping each file's format; return the files changed. The
    student notebooks are nbgrader's to write: run `python -m grader release` afterwards."""
    root = root or REPO
    address = address or url(root)
    changed = []
    for path in installers(root):
        if path.name.startswith("assignment_") and path.parts[-3] == "chapters":
            continue                                  # generated from solutions/ by the release
        text = path.read_text(encoding="utf-8")
        new = _INSTALL.sub(lambda match: match[1] + address, text)
        if path.suffix == ".ipynb":                   # cell by cell, so the format stays nbformat's
            nb = json.loads(text)
            for cell in nb["cells"]:
                source = _INSTALL.sub(lambda match: match[1] + address, "".join(cell["source"]))
                cell["source"] = source.splitlines(keepends=True)
            new = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(path.relative_to(root).as_posix())
    return changed


if __name__ == "__main__":
    if "--check" in sys.argv[1:]:
        bad = stale()
        for nb, found in bad.items():
            print(f"{nb} installs from {found}, _config.yml says {url()}")
        sys.exit(1 if bad else 0)
    for nb in write():
        print("updated", nb)
    from grader import course
    course.release(REPO)
