"""The course's repository address: `repository.url` in _config.yml is the one place it is set.

The website's launch, repository and download buttons read it there. Each lesson's first cell
must hold it literally too (in Colab nothing of the course is installed yet when that cell runs
`pip install git+<address>`), so those cells are written from _config.yml by

    python -m course_tools.repository          # rewrite the lessons' install cells
    python -m course_tools.repository --check  # exit 1 if a lesson disagrees (tests/test_repository.py)
"""
import json
import re
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
_INSTALL = re.compile(r'"git\+(https://[^"]+)"')


def url():
    cfg = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))
    return cfg["repository"]["url"].rstrip("/")


def lessons():
    """Every chapter notebook whose code installs the course from its repository."""
    return [p for p in sorted((REPO / "chapters").glob("*/*.ipynb")) if "git+https://" in p.read_text(encoding="utf-8")]


def stale(address=None):
    """{notebook: the address it installs from} for each lesson that disagrees with _config.yml."""
    address = address or url()
    out = {}
    for path in lessons():
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            for found in _INSTALL.findall("".join(cell["source"])):
                if found != address:
                    out[path.relative_to(REPO).as_posix()] = found
    return out


def write(address=None):
    """Point every lesson's install cell at `address` (default: _config.yml's); keeps the notebook format."""
    address = address or url()
    changed = []
    for path in lessons():
        nb = json.loads(path.read_text(encoding="utf-8"))
        touched = False
        for cell in nb["cells"]:
            src = "".join(cell["source"])
            new = _INSTALL.sub(f'"git+{address}"', src)
            if new != src:
                cell["source"] = new.splitlines(keepends=True)
                touched = True
        if touched:
            path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
            changed.append(path.relative_to(REPO).as_posix())
    return changed


if __name__ == "__main__":
    if "--check" in sys.argv[1:]:
        bad = stale()
        for nb, found in bad.items():
            print(f"{nb} installs from {found}, _config.yml says {url()}")
        sys.exit(1 if bad else 0)
    for nb in write():
        print("updated", nb)
