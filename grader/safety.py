"""Text that came from a submission or a kernel, made safe before it enters a notebook, a verdict,
the feedback or the instructor's terminal: valid UTF-8 (lone surrogates, which JSON can carry but
UTF-8 cannot, become U+FFFD) and bounded in length. And a folder removed without recursion (a
sandbox may leave thousands of nested folders behind)."""
import os
import re
import stat

_SURROGATES = re.compile("[\ud800-\udfff]")
MAX_TEXT = 1_000_000          # characters of one string kept in a notebook (outputs are capped before)


def safe_text(text, limit=MAX_TEXT):
    """`text` (any object: str() of it is taken, whatever it raises) as valid UTF-8 of at most
    `limit` characters."""
    if not isinstance(text, str):
        try:
            text = str(text)
        except BaseException:         # a hostile __str__: say what it was, not what it says
            text = f"<a {type(text).__name__} that cannot be shown>"
    if type(text) is not str:         # a str subclass could override the methods used below
        text = str.__str__(text)
    if len(text) > limit:
        text = text[:limit] + f"... [{len(text) - limit:,} more characters cut]"
    return _SURROGATES.sub("\ufffd", text)


def safe_tree(value, limit=MAX_TEXT, depth=0):
    """A copy of a notebook node (dicts, lists, strings, numbers) whose every string, key or
    value, is safe_text. Deeper than nbformat ever nests is cut."""
    if depth > 50:
        return None
    if isinstance(value, str):
        return safe_text(value, limit)
    if isinstance(value, dict):
        return type(value)((safe_text(k, 1000), safe_tree(v, limit, depth + 1)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [safe_tree(v, limit, depth + 1) for v in value]
    return value


def remove_tree(path):
    """Delete the folder `path` and everything below it, without recursion and without following
    links; never raises (returns the first error's text, or None)."""
    first = None
    stack = [(path, False)]
    while stack:
        folder, emptied = stack.pop()
        try:
            if emptied:
                os.rmdir(folder)
                continue
            stack.append((folder, True))
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False) and \
                            not stat.S_ISLNK(entry.stat(follow_symlinks=False).st_mode):
                        stack.append((entry.path, False))
                    else:
                        os.unlink(entry.path)
        except FileNotFoundError:
            pass
        except OSError as error:
            first = first or f"{type(error).__name__}: {safe_text(error, 300)}"
    return first
