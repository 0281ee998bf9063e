"""Which submitted file is which notebook of the assignment, and what to tell the student when none is.

Browsers rename a second download of a file: `assignment_07 (1).ipynb`. A submission whose
folder holds one notebook under another name, where the assignment has one notebook missing, is
graded as that notebook (and the outcome says so). Otherwise nothing is guessed: the reason says
what was found and what to rename, e.g. "no assignment_07.ipynb in submitted/ada/07_regularization:
found 'assignment_07 (1).ipynb', 'assignment_07 (2).ipynb'; rename the one to grade to
assignment_07.ipynb", or "no notebook in the folder, only assignment_07.py".
"""
from dataclasses import dataclass, field
from pathlib import Path

SHOWN = 5          # file names listed in a reason at the most


@dataclass
class Match:
    """How the uploaded notebooks map onto the assignment's: {uploaded name: expected name}, notes
    for the instructor (a rename accepted, a notebook ignored), and the reasons a notebook is missing."""
    graded: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    missing: list = field(default_factory=list)


def expected(root, assignment):
    """The notebook file names of an assignment: those of solutions/<assignment>/."""
    return sorted(path.name for path in (Path(root) / "solutions" / assignment).glob("*.ipynb"))


def listing(names):
    """'a', 'b' and 3 more: at most SHOWN names, quoted."""
    names = sorted(names)
    shown = ", ".join(repr(name) if " " in name or "'" in name else name for name in names[:SHOWN])
    return shown + (f" and {len(names) - SHOWN} more" if len(names) > SHOWN else "")


def match(wanted, uploaded, others=(), where="the folder"):
    """Match the `uploaded` notebook names to the `wanted` ones; `others` are the folder's other
    files (named in the reason when there is no notebook at all); `where` names the folder."""
    result = Match(graded={name: name for name in uploaded if name in wanted})
    absent = [name for name in wanted if name not in uploaded]
    strangers = sorted(name for name in uploaded if name not in wanted)
    if len(absent) == 1 and len(strangers) == 1:
        result.graded[strangers[0]] = absent[0]
        result.notes.append(f"{strangers[0]!r} graded as {absent[0]} (rename it to {absent[0]} next time)")
        return result
    for name in absent:
        result.missing.append(_why_missing(name, strangers, others, where))
    if not absent and strangers:
        result.notes.append(f"ignored {listing(strangers)}: not a notebook of this assignment")
    return result


def _why_missing(name, strangers, others, where):
    """What to tell the student whose folder lacks the notebook `name`."""
    if strangers:
        return (f"no {name} in {where}: found {listing(strangers)}; rename the one to grade to {name}")
    if others:
        return f"no notebook in {where}, only {listing(others)}: submit {name}"
    return f"{where} is empty: submit {name}"
