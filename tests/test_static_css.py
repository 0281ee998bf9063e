"""The site's own style sheets parse as written: a comment that does not close swallows the rules
after it without any error (a lost "*/" once dropped the contrast fixes of Keras's summaries)."""
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHEETS = sorted((REPO / "_static").glob("*.css"))


def problems(css):
    """What would make a browser drop rules: a comment opened inside a comment, a comment left open,
    braces that do not balance outside comments."""
    found = [f"a comment opens inside another: {c[:60]!r}" for c in re.findall(r"/\*.*?\*/", css, re.S)
             if "/*" in c[2:]]
    rest = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    if "/*" in rest:
        found.append("a comment is never closed")
    depth = 0
    for char in rest:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            break
    if depth:
        found.append(f"braces do not balance ({depth:+d})")
    return found


@pytest.mark.parametrize("sheet", SHEETS, ids=lambda p: p.name)
def test_style_sheet_parses(sheet):
    assert not problems(sheet.read_text(encoding="utf-8")), problems(sheet.read_text(encoding="utf-8"))


def test_the_check_finds_a_comment_left_open():
    assert problems("/* open\na { color: red; }\n/* next */ b { }") == [
        "a comment opens inside another: '/* open\\na { color: red; }\\n/* next */'"]
    assert problems("a { b { }") == ["braces do not balance (+1)"]
