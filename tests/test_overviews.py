"""Every chapter's overview page has the same layout, so a reader finds the same things in the same
place: an introduction, then "What you will learn", "Sections" (a table with a row per page and
the assignment), "Before you start" and "The assignment"."""
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
OVERVIEWS = sorted(REPO.glob("chapters/*/index.md"))
LAYOUT = ["What you will learn", "Sections", "Before you start", "The assignment"]


def headings(text):
    return re.findall(r"^## (.+?)\s*$", text, flags=re.MULTILINE)


@pytest.mark.parametrize("overview", OVERVIEWS, ids=lambda p: p.parent.name)
def test_overview_has_the_common_layout(overview):
    text = overview.read_text(encoding="utf-8")
    assert headings(text) == LAYOUT, f"{overview.parent.name}/index.md has the sections {headings(text)}"
    table = text.split("## Sections", 1)[1].split("## Before you start", 1)[0]
    assert table.strip().startswith("```{list-table}"), f"{overview.parent.name}: Sections is not a table"
    pages = sorted(p.stem for p in overview.parent.glob("*.ipynb")) + sorted(
        p.stem for p in overview.parent.glob("*.md") if p.stem != "index")
    listed = re.findall(r"\{doc\}`([^`]+)`", table)
    assert sorted(listed) == sorted(pages), f"{overview.parent.name}: the table lists {listed}, the chapter has {pages}"


def test_the_layout_check_can_fail():
    assert headings("# T\n\n## In this chapter\n\n## Assignment\n") != LAYOUT
