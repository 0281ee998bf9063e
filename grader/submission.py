"""A submission is data: submitted/<student>/<assignment>/ read without following links.

Before anything of a submission runs, its folder is walked through directory file descriptors
opened with O_NOFOLLOW, every entry looked at with lstat, and the files the grader uses (the
notebooks, timestamp.txt) opened with O_NOFOLLOW | O_NONBLOCK and read up to a bound. Only
regular files and real folders are accepted; a symbolic link (anywhere: the student's folder,
the assignment's folder, a notebook, a file beside it), a FIFO, a socket, a device, a folder named
like a file the grader reads, too many entries or bytes: the submission is refused, and the
reason says what was found where. An upload unpacked by an LMS (`unzip` keeps links, and a
`zip -y` archive holds them) therefore cannot make the grader read the solutions, another
student's work, or block on a pipe.
"""
import os
import stat
from dataclasses import dataclass, field

from .safety import safe_text

MAX_NOTEBOOK_BYTES = 32 * 2**20       # one notebook (outputs included: they are cleared before it runs)
MAX_SMALL_BYTES = 4096                # timestamp.txt
MAX_ENTRIES = 500                     # files and folders in one submission, at any depth
MAX_TOTAL_BYTES = 256 * 2**20         # all of its files together
MAX_DEPTH = 8
READ = ["timestamp.txt"]              # files besides the notebooks that the grader copies


class Refused(Exception):
    """The submission is not only regular files and folders of bounded size: the message says why."""


@dataclass
class Submission:
    student: str
    notebooks: dict = field(default_factory=dict)   # file name -> bytes (or None when only listed)
    mtimes: dict = field(default_factory=dict)      # file name -> modification time
    extras: dict = field(default_factory=dict)      # file name -> bytes (timestamp.txt)


def kind(mode):
    """What a file of this st_mode is, in words."""
    for test, words in [(stat.S_ISLNK, "a symbolic link"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                        (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                        (stat.S_ISBLK, "a block device"), (stat.S_ISDIR, "a folder"), (stat.S_ISREG, "a file")]:
        if test(mode):
            return words
    return f"a special file (mode {mode:o})"


def _name(name):
    """A file name as the instructor may read it (non-UTF-8 bytes and control characters shown escaped)."""
    shown = safe_text(name, 200)
    return repr(shown) if shown != name or not name.isprintable() else shown


def _open_folder(name, dir_fd, where):
    try:
        return os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
    except OSError as error:
        mode = os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode
        if not stat.S_ISDIR(mode):
            raise Refused(f"{where} is {kind(mode)}, not a folder") from None
        raise Refused(f"{where} cannot be opened ({error.strerror})") from None


def _read_file(name, dir_fd, where, limit):
    """The bytes of the regular file `name` in dir_fd, at most `limit` of them; never follows a
    link nor blocks (a FIFO opened with O_NONBLOCK returns at once, and is refused by fstat)."""
    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dir_fd)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Refused(f"{where} is {kind(info.st_mode)}, not a file")
        if info.st_size > limit:
            raise Refused(f"{where} is {info.st_size:,} bytes, more than the {limit:,} allowed")
        chunks, size = [], 0
        while True:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise Refused(f"{where} grew beyond the {limit:,} bytes allowed while it was read")
        return b"".join(chunks)
    finally:
        os.close(fd)


def students(root, assignment):
    """(students with a folder for `assignment`, {student: why refused}), from root/submitted/,
    without following links: a student folder, or an assignment folder, that is a link or not a
    folder is refused."""
    submitted = os.path.join(str(root), "submitted")
    found, refused = [], {}
    if not os.path.isdir(submitted):
        return found, refused
    with os.scandir(submitted) as entries:
        for entry in entries:
            name = entry.name
            mode = entry.stat(follow_symlinks=False).st_mode
            if name.startswith("."):
                continue                                  # .ipynb_checkpoints and the like
            if safe_text(name) != name or not name.isprintable():
                if stat.S_ISDIR(mode) or stat.S_ISLNK(mode):
                    refused[_name(name)] = f"submitted/{_name(name)}: a student folder's name must be printable text"
                continue
            if stat.S_ISLNK(mode):
                target = _name(os.readlink(entry.path))
                refused[name] = f"submitted/{name} is a symbolic link (to {target}), not a folder"
                continue
            if not stat.S_ISDIR(mode):
                continue                                  # a stray file in submitted/
            try:
                inner = os.stat(os.path.join(entry.path, assignment), follow_symlinks=False).st_mode
            except FileNotFoundError:
                continue                                  # this student did not submit this assignment
            except OSError as error:
                refused[name] = f"submitted/{name}/{assignment} cannot be read ({error.strerror})"
                continue
            if stat.S_ISDIR(inner):
                found.append(name)
            else:
                refused[name] = f"submitted/{name}/{assignment} is {kind(inner)}, not a folder"
    return sorted(found), refused


def read(root, assignment, student, contents=True):
    """The Submission of `student`: its notebooks (bytes, or None when contents=False) and
    timestamp.txt; Refused if anything in the folder is not a regular file or a real folder, or is
    too large."""
    where = f"submitted/{student}/{assignment}"
    base = os.open(os.path.join(str(root), "submitted"), os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    opened = [base]
    try:
        opened.append(_open_folder(student, base, f"submitted/{student}"))
        top = _open_folder(assignment, opened[-1], where)
        opened.append(top)
        result, count, total = Submission(student), 0, 0
        pending = [(top, where, 0)]
        while pending:
            folder, path, depth = pending.pop()
            with os.scandir(folder) as entries:
                names = sorted(entry.name for entry in entries)
            for name in names:
                count += 1
                if count > MAX_ENTRIES:
                    raise Refused(f"{where} holds more than {MAX_ENTRIES} files and folders")
                shown = f"{path}/{_name(name)}"
                info = os.stat(name, dir_fd=folder, follow_symlinks=False)
                if stat.S_ISLNK(info.st_mode):
                    raise Refused(f"{shown} is a symbolic link (to {_name(os.readlink(name, dir_fd=folder))})")
                if stat.S_ISDIR(info.st_mode):
                    if folder == top and (name.endswith(".ipynb") or name in READ):
                        raise Refused(f"{shown} is a folder, where the grader expects a file")
                    if depth + 1 > MAX_DEPTH:
                        raise Refused(f"{shown} is nested more than {MAX_DEPTH} folders deep")
                    child = _open_folder(name, folder, shown)
                    opened.append(child)
                    pending.append((child, shown, depth + 1))
                    continue
                if not stat.S_ISREG(info.st_mode):
                    raise Refused(f"{shown} is {kind(info.st_mode)}, not a file")
                total += info.st_size
                if total > MAX_TOTAL_BYTES:
                    raise Refused(f"{where} holds more than {MAX_TOTAL_BYTES:,} bytes")
                if folder != top:
                    continue
                if name.endswith(".ipynb"):
                    if safe_text(name) != name or not name.isprintable():
                        raise Refused(f"{shown}: a notebook's name must be printable text")
                    result.mtimes[name] = info.st_mtime
                    result.notebooks[name] = _read_file(name, folder, shown, MAX_NOTEBOOK_BYTES) if contents else None
                elif name in READ and contents:
                    result.extras[name] = _read_file(name, folder, shown, MAX_SMALL_BYTES)
        return result
    except OSError as error:
        reason = safe_text(error.strerror or error, 200)
        raise Refused(f"{where} cannot be read ({type(error).__name__}: {reason})") from None
    finally:
        for fd in opened:
            os.close(fd)
