"""The class report of one assignment: what an instructor needs before the next lecture.

    python -m grader report 07_regularization        (make report ASSIGNMENT=07_regularization)

prints a short summary and writes reports/<assignment>.html (plots embedded, no script, opens
offline): the score distribution; per task, the share of graded students passing its visible and
its hidden checks; the most frequent diagnosed mistakes, that is the messages the checks gave
(the hint each wrong answer triggered), counted by student, with numbers and arrays blanked out
so that the same mistake on other inputs counts once ("categorical_crossentropy(Y, P) is m=#
times too large: take the mean over the batch, not the sum"); the students not graded and why;
the slowest notebooks. Everything comes from the gradebook, the autograded notebooks and the last
autograde run's outcomes (.grading/<assignment>/outcomes.json).
"""
import base64
import html
import io
import json
import re
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from .course import CannotRun, plural
from .export import read_outcomes, submitted_students, task_of

ARRAY = re.compile(r"\[[^\[\]]*\]|array\([^()]*\)")
NUMBER = re.compile(r"(?<![A-Za-z_])[-+]?\d+(\.\d+)?(e[-+]?\d+)?")
MISTAKES_SHOWN, SLOWEST_SHOWN, MESSAGE_CHARS = 10, 5, 240


@dataclass
class ClassData:
    """What the report shows, as plain data."""
    assignment: str
    max_score: float
    scores: dict = field(default_factory=dict)            # student -> score (graded students)
    passing: dict = field(default_factory=dict)           # task -> {"visible": n, "hidden": n} students passing
    mistakes: dict = field(default_factory=dict)          # (task, message) -> set of students
    not_graded: dict = field(default_factory=dict)        # student -> reason
    seconds: dict = field(default_factory=dict)           # student -> seconds of the last run


def pattern(message):
    """The message with arrays and numbers blanked out, so that one mistake on other inputs reads the same."""
    text = ARRAY.sub("[…]", " ".join(str(message).split()))
    text = NUMBER.sub("#", text)
    return text if len(text) <= MESSAGE_CHARS else text[:MESSAGE_CHARS - 1] + "…"


def cell_messages(notebook_path):
    """{grade id: message} of the failed graded cells of an autograded notebook."""
    nb = json.loads(Path(notebook_path).read_text(encoding="utf-8"))
    found = {}
    for cell in nb.get("cells", []):
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if grade_id and errors:
            found[grade_id] = errors[0].get("evalue") or errors[0].get("ename", "error")
    return found


def collect(root, assignment):
    """The ClassData of `assignment` in the course folder root."""
    root = Path(root)
    if not (root / "gradebook.db").is_file():
        raise CannotRun(f"No gradebook in {root}: autograde {assignment} first "
                         f"(make autograde ASSIGNMENT={assignment}).")
    outcomes = read_outcomes(root, assignment)
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        try:
            found = gradebook.find_assignment(assignment)
        except MissingEntry:
            raise CannotRun(f"No assignment {assignment} in the gradebook: release and autograde it first.") from None
        data = ClassData(assignment, found.max_score)
        for cell in (cell for notebook in found.notebooks for cell in notebook.grade_cells):
            data.passing.setdefault(task_of(cell.name), {"visible": 0, "hidden": 0})
        for graded in gradebook.assignment_submissions(assignment):
            student = graded.student.id
            if not outcomes.get(student, {}).get("graded", True):
                continue
            data.scores[student] = graded.score
            _add_student(data, root, graded)
    for student in sorted(submitted_students(root, assignment) - set(data.scores)):
        last = outcomes.get(student)
        data.not_graded[student] = ("; ".join(last.get("problems", [])) if last else
                                    f"not autograded yet (make autograde ASSIGNMENT={assignment})")
    data.seconds = {student: last.get("seconds", 0.0) for student, last in outcomes.items()}
    return data


def _add_student(data, root, graded):
    """Count one graded submission's passing cells and its diagnosed mistakes into data."""
    student = graded.student.id
    for notebook in graded.notebooks:
        for grade in notebook.grades:
            kind = "hidden" if grade.name.endswith("_hidden") else "visible"
            if grade.max_score and grade.score >= grade.max_score:
                data.passing.setdefault(task_of(grade.name), {"visible": 0, "hidden": 0})[kind] += 1
        path = root / "autograded" / student / data.assignment / f"{notebook.name}.ipynb"
        if path.is_file():
            for grade_id, message in cell_messages(path).items():
                data.mistakes.setdefault((task_of(grade_id), pattern(message)), set()).add(student)


def frequent_mistakes(data):
    """[(task, message, students)] most frequent first (by students, then task and message)."""
    ranked = sorted(data.mistakes.items(), key=lambda item: (-len(item[1]), item[0]))
    return [(task, message, sorted(students)) for (task, message), students in ranked]


def percent(count, total):
    return f"{100 * count / total:.0f} %" if total else "-"


def summary_lines(data, written=None):
    """The short text summary printed in the terminal."""
    n, scores = len(data.scores), sorted(data.scores.values())
    lines = [f"{data.assignment}: {plural(n, 'student')} graded, {len(data.not_graded)} not graded"
             + (f"; score mean {statistics.mean(scores):.1f}, median {statistics.median(scores):g}, "
                f"min {scores[0]:g}, max {scores[-1]:g} (of {data.max_score:g})" if scores else "")]
    if n:
        lines.append("  passing visible / hidden: " + ", ".join(
            f"{task} {percent(p['visible'], n)} / {percent(p['hidden'], n)}" for task, p in data.passing.items()))
    for task, message, students in frequent_mistakes(data)[:3]:
        lines.append(f"  {percent(len(students), n)} ({len(students)} of {n}) {task}: {_short(message, 110)}")
    if data.not_graded:
        lines.append("  not graded: " + ", ".join(data.not_graded))
    slow = sorted(data.seconds.items(), key=lambda item: -item[1])[:3]
    if slow:
        lines.append("  slowest: " + ", ".join(f"{student} {seconds:.1f} s" for student, seconds in slow))
    if written:
        lines.append(f"  report: {written}")
    return lines


def _short(text, width):
    return text if len(text) <= width else text[:width - 1] + "…"


def _png(figure):
    """A matplotlib figure as a data: URL (the page loads nothing)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def plots(data):
    """(score histogram, per-task passing bars) as data: URLs; None where there is nothing to draw."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    if not data.scores:
        return None, None
    figure, axes = plt.subplots(figsize=(6, 3))
    top = int(data.max_score)
    axes.hist(list(data.scores.values()), bins=[x - 0.5 for x in range(top + 2)], color="#3465a4", edgecolor="white")
    axes.set(xlabel=f"score (of {data.max_score:g})", ylabel="students", title="Score distribution")
    axes.yaxis.get_major_locator().set_params(integer=True)
    histogram = _png(figure)
    plt.close(figure)
    tasks, n = list(data.passing), len(data.scores)
    figure, axes = plt.subplots(figsize=(6, 0.5 + 0.45 * len(tasks)))
    rows = range(len(tasks))
    axes.barh([r + 0.2 for r in rows], [100 * data.passing[t]["visible"] / n for t in tasks], 0.4,
              label="visible checks", color="#73d216")
    axes.barh([r - 0.2 for r in rows], [100 * data.passing[t]["hidden"] / n for t in tasks], 0.4,
              label="hidden checks", color="#204a87")
    axes.set_yticks(list(rows), tasks)
    axes.invert_yaxis()
    axes.set(xlim=(0, 100), xlabel="% of graded students passing")
    axes.set_title("Per task", pad=24)
    axes.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False, fontsize="small")
    bars = _png(figure)
    plt.close(figure)
    return histogram, bars


def page(data):
    """The report as one HTML page (no script; images inline)."""
    e = html.escape
    n = len(data.scores)
    histogram, bars = plots(data)
    parts = [f"<h1>Class report: {e(data.assignment)}</h1>",
             "<p>" + "<br>".join(e(line.strip()) for line in summary_lines(data)[:1]) + "</p>"]
    if histogram:
        parts.append(f'<img src="{histogram}" alt="Histogram of the scores of {n} graded students, '
                     f'from {min(data.scores.values()):g} to {max(data.scores.values()):g} of {data.max_score:g}">')
        parts.append(f'<img src="{bars}" alt="Per task, the share of graded students passing the visible and '
                     f'the hidden checks (also in the table below)">')
        parts.append(_table(["task", "visible checks passed", "hidden checks passed"],
                            [[task, f"{percent(p['visible'], n)} ({p['visible']})",
                              f"{percent(p['hidden'], n)} ({p['hidden']})"] for task, p in data.passing.items()]))
    mistakes = frequent_mistakes(data)[:MISTAKES_SHOWN]
    parts.append("<h2>Most frequent diagnosed mistakes</h2>")
    parts.append(_table(["students", "task", "what the checks said (numbers blanked)", "who"],
                        [[f"{percent(len(s), n)} ({len(s)} of {n})", task, message, ", ".join(s)]
                         for task, message, s in mistakes]) if mistakes else "<p>None: every check passed.</p>")
    parts.append("<h2>Not graded</h2>")
    parts.append(_table(["student", "why"], sorted(data.not_graded.items())) if data.not_graded else "<p>Nobody.</p>")
    slow = sorted(data.seconds.items(), key=lambda item: -item[1])[:SLOWEST_SHOWN]
    parts.append("<h2>Slowest notebooks (last run)</h2>")
    parts.append(_table(["student", "seconds"], [[s, f"{t:.1f}"] for s, t in slow]) if slow else "<p>No run.</p>")
    style = ("body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.4}"
             "table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #999;padding:.3rem .5rem;"
             "text-align:left;vertical-align:top;overflow-wrap:anywhere}img{max-width:100%;display:block}")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; "
            "style-src 'unsafe-inline'\">"
            f"<meta name=\"viewport\" content=\"width=device-width\"><title>Class report: {e(data.assignment)}</title>"
            f"<style>{style}</style></head><body>\n" + "\n".join(parts) + "\n</body></html>\n")


def _table(header, rows):
    head = "".join(f"<th scope=\"col\">{html.escape(str(cell))}</th>" for cell in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def report(root, assignment, out):
    """Write reports/<assignment>.html and print the summary; return 0."""
    root = Path(root)
    data = collect(root, assignment)
    path = root / "reports" / f"{assignment}.html"
    path.parent.mkdir(exist_ok=True)
    path.write_text(page(data), encoding="utf-8")
    print("\n".join(summary_lines(data, path.relative_to(root))), file=out)
    return 0
