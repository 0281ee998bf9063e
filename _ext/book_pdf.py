"""Moved to tools/book_pdf.py (`python -m tools.book_pdf`, which `make pdf` runs). This stub stays
only while tests/test_browser.py still runs this path; delete it once that test names the new one."""
import runpy
from pathlib import Path

runpy.run_path(str(Path(__file__).resolve().parents[1] / "tools" / "book_pdf.py"), run_name="__main__")
