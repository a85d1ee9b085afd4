"""The tutorial book builds offline from freshly executed notebooks (Jupyter Book 1)."""

import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_book_builds_offline_with_figures(tmp_path):
    book = tmp_path / "book"
    shutil.copytree(ROOT / "book", book, ignore=shutil.ignore_patterns("_build", "chapters"))
    sys.path.insert(0, str(ROOT / "book"))
    try:
        from build import build
    finally:
        sys.path.pop(0)
    index = build(book, run_dir=tmp_path / "run")
    assert index.is_file()
    chapter = (book / "_build" / "html" / "chapters" / "01_masking.html").read_text()
    assert "plotly-graph-div" in chapter, "figures did not make it into the book"
    toc = (book / "_toc.yml").read_text()
    for notebook in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        assert f"chapters/{notebook.stem}" in toc, f"{notebook.name} is not a chapter of the book"
    # Widgets need a kernel and their JavaScript: the offline book shows each one's static picture.
    page = (book / "_build" / "html" / "chapters" / "06_human_evaluation.html").read_text()
    assert "widget-picture" in page and "1 is better" in page and "Response 1" in page
