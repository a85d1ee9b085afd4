"""The tutorial book builds offline from freshly executed notebooks (Jupyter Book 1)."""

import json
import re
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _builder():
    sys.path.insert(0, str(ROOT / "book"))
    try:
        import build
    finally:
        sys.path.pop(0)
    return build


def test_chapters_share_one_copy_of_plotly_js(tmp_path):
    chapters = tmp_path / "chapters"
    chapters.mkdir()
    inline = "<script>/**\n* plotly.js v4.1.1\n* Copyright\n*/\n(function(){window.Plotly={};})();</script>"
    figure = "<div id='f'></div><script>Plotly.newPlot('f', [])</script>"
    notebook = {"cells": [{"cell_type": "code", "outputs": [
        {"output_type": "display_data", "data": {"text/html": [inline, figure], "text/plain": "fig"}},
        {"output_type": "stream", "text": "plotly.js v4 in a log line stays"},
    ]}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (chapters / "01_x.ipynb").write_text(json.dumps(notebook))
    assert _builder().share_plotly_js(tmp_path, chapters) == 1
    html = json.loads((chapters / "01_x.ipynb").read_text())["cells"][0]["outputs"][0]["data"]["text/html"]
    assert html == '<script src="../_static/plotly.min.js"></script>' + figure
    shared = (tmp_path / "_static" / "plotly.min.js").read_text()
    assert "plotly.js v" in shared[:200] and len(shared) > 1_000_000


#: The chapters the book test executes: a figure (01), the live training curve (04), widgets (06). Each
#: chapter's own run is a test of its own (tests/test_notebooks.py); executing all six again here took
#: about 400 s of CI's time. `make book` executes every chapter.
BOOK_TEST_CHAPTERS = ("01_masking", "04_training", "06_human_evaluation")


@pytest.mark.slow
def test_book_builds_offline_with_figures(tmp_path):
    book = tmp_path / "book"
    shutil.copytree(ROOT / "book", book, ignore=shutil.ignore_patterns("_build", "chapters", "_static"))
    index = _builder().build(book, run_dir=tmp_path / "run", execute=BOOK_TEST_CHAPTERS)
    assert index.is_file()
    chapter = (book / "_build" / "html" / "chapters" / "01_masking.html").read_text()
    assert "plotly-graph-div" in chapter, "figures did not make it into the book"
    # plotly.js is one file of the book, not 4.7 MB inlined in every page.
    assert (book / "_build" / "html" / "_static" / "plotly.min.js").is_file()
    for page in (book / "_build" / "html" / "chapters").glob("*.html"):
        assert page.stat().st_size < 1_000_000, f"{page.name} still inlines plotly.js"
    assert '../_static/plotly.min.js' in chapter
    # The live curve ends as a figure the static page shows.
    assert "plotly-graph-div" in (book / "_build" / "html" / "chapters" / "04_training.html").read_text()
    # A chapter not executed here is still a page of the book, its code shown and its setup hidden.
    skipped = (book / "_build" / "html" / "chapters" / "05_evaluation.html").read_text()
    assert "elicited_by_kind" in skipped and "notebook_setup" not in skipped
    # Offline: no page loads a script, stylesheet or image from the network (plotly's notebook renderer
    # pulled MathJax from a CDN, myst-nb require.js and the widgets' manager, sphinx-thebe thebe).
    for page in (book / "_build" / "html").rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        loaded = re.findall(r"<(?:script|link|img)\b[^>]*\b(?:src|href)=[\"']?(https?://[^\"' >]+)", text)
        assert not loaded, f"{page.name} loads {loaded[:3]}"
        assert "THEBE_JS_URL" not in text, f"{page.name} still carries sphinx-thebe's script"
    toc = (book / "_toc.yml").read_text()
    for notebook in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        assert f"chapters/{notebook.stem}" in toc, f"{notebook.name} is not a chapter of the book"
    # Widgets need a kernel and their JavaScript: the offline book shows each one's static picture.
    page = (book / "_build" / "html" / "chapters" / "06_human_evaluation.html").read_text()
    assert "widget-picture" in page and "1 is better" in page and "Response 1" in page
    # A renamed chapter's old address leads to its new page, which exists.
    for old, new in _builder().MOVED.items():
        moved = (book / "_build" / "html" / old).read_text()
        assert f'url={new}"' in moved and ((book / "_build" / "html" / old).parent / new).is_file()


def test_the_books_pages_hide_the_setup_code_but_keep_what_it_printed(tmp_path):
    cells = [{"cell_type": "code", "metadata": {"tags": ["install"]}, "source": "pip", "outputs": []},
             {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": "profile = 'cpu'", "outputs": []},
             {"cell_type": "code", "metadata": {"tags": ["injected-parameters"]}, "source": "profile = 'x'", "outputs": []},
             {"cell_type": "code", "metadata": {}, "source": "train()", "outputs": []}]
    path = tmp_path / "01.ipynb"
    path.write_text(json.dumps({"cells": cells}))
    assert _builder().hide_setup_cells(path) == 3
    tags = [c["metadata"]["tags"] for c in json.loads(path.read_text())["cells"]]
    assert all("remove-input" in t for t in tags[:3]) and tags[3] == []
    assert _builder().hide_setup_cells(path) == 0  # tagging twice changes nothing
