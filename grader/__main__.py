"""Command line: `python -m grader --help`."""
import argparse
import os
import sys
from pathlib import Path

# jsonschema (imported by nbformat) builds 38 parsers from rfc3987_syntax at import, ~1.5 s, for
# an optional "iri" format check that nothing here uses (nbformat and nbgrader validate without
# format checks): without it, a grading run starts its kernels that much sooner.
sys.modules.setdefault("rfc3987_syntax", None)

from . import __doc__ as __package_doc__  # noqa: E402
from . import course  # noqa: E402


def student_list(text):
    """--student alice,bob -> ["alice", "bob"] (spaces around the commas allowed)."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError("give one student or more, e.g. --student alice,bob")
    return names


def own_stderr():
    """Give sys.stderr a descriptor of its own. course_tools.keras_setup points descriptor 2 at
    /dev/null while TensorFlow is imported, to hide its C++ start-up lines; autograde does that
    import in a thread while kernels start, and the grader's own messages written meanwhile
    (a student that could not be recorded, say) must not be lost with them."""
    sys.stderr.flush()
    sys.stderr = os.fdopen(os.dup(2), "w", buffering=1, encoding=sys.stderr.encoding, errors="backslashreplace")


def main(argv=None):
    own_stderr()
    parser = argparse.ArgumentParser(prog="python -m grader", description=__package_doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=course.REPO,
                        help="the course folder (nbgrader_config.py, solutions/, submitted/); default: this repository")
    commands = parser.add_subparsers(dest="command", required=True)
    release = commands.add_parser("release", help="regenerate the student notebooks from solutions/")
    release.add_argument("assignments", nargs="*", help="only these assignments (default: all)")
    grade = commands.add_parser("autograde", help="grade every submission of an assignment")
    grade.add_argument("assignment")
    grade.add_argument("--force", action="store_true", help="grade again students already graded")
    grade.add_argument("--student", type=student_list, default=None, metavar="NAME[,NAME...]",
                       help="grade only these students (again, if they were graded)")
    grade.add_argument("--jobs", type=int, default=None, help="submissions run at once (default: the cores)")
    grade.add_argument("--cell-timeout", type=int, default=120, help="seconds one cell may run (default 120)")
    grade.add_argument("--timeout", type=int, default=300, help="seconds one notebook may run (default 300)")
    grade.add_argument("--scheduler", default=None, metavar="tcp://HOST:8786",
                       help="grade on the Dask cluster of this scheduler, one task per submission (see README)")
    grade.add_argument("--unsafe-no-sandbox", action="store_true",
                       help="run submissions WITHOUT isolation (only for code you trust)")
    feedback = commands.add_parser("feedback", help="write feedback/ for an assignment, hidden tests removed")
    feedback.add_argument("assignment")
    report = commands.add_parser("report", help="the class report of an assignment: reports/<id>.html and a summary")
    report.add_argument("assignment")
    commands.add_parser("export", help="write grades.csv (every student x assignment, with status and tasks) "
                                       "and grades-canvas.csv (Canvas's gradebook import)")
    args = parser.parse_args(argv)
    os.environ.update(PATH=course.venv_env()["PATH"])   # nbgrader, in this process too, runs alembic by name
    try:
        return run(args, args.root.resolve())
    except course.CannotRun as failure:     # says why: exit status 2, as for bad options
        print(failure, file=sys.stderr)
        return 2


def run(args, root):
    """Carry out the parsed command; its exit status (see README, instructors: 0 done, 1 done but
    some submission not graded or without feedback, 2 could not run)."""
    if args.command == "release":
        course.release(root, only=args.assignments)
    elif args.command == "autograde":
        from .autograde import autograde
        return autograde(args.assignment, root, force=args.force, jobs=args.jobs, unsafe=args.unsafe_no_sandbox,
                         cell_timeout=args.cell_timeout, total_timeout=args.timeout, only=args.student,
                         scheduler=args.scheduler)
    elif args.command == "feedback":
        from .feedback import generate
        return generate(root, args.assignment, sys.stdout)
    elif args.command == "report":
        from .report import report
        return report(root, args.assignment, sys.stdout)
    elif args.command == "export":
        from .export import export, summary
        rows, paths = export(root)
        print(summary(rows, paths, root))
    return 0


if __name__ == "__main__":
    sys.exit(main())
