"""Build the tutorial book offline: execute every notebook in cpu-smoke, then Jupyter Book 1.

    python book/build.py            # -> book/_build/html/index.html

The notebooks are executed into book/chapters/ (ignored by git) so the book shows real outputs
while the repository keeps output-free notebooks; Jupyter Book itself executes nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import papermill

from proactive.plots import INLINE_ENV

BOOK = Path(__file__).resolve().parent
NOTEBOOKS = BOOK.parent / "notebooks"


# plotly.js as a notebook inlines it: one <script> whose body starts with the library's banner.
PLOTLY_JS = re.compile(r"<script[^>]*>\s*/\*\*\s*\*\s*plotly\.js v.*?</script>", re.DOTALL)


def share_plotly_js(book: Path, chapters: Path) -> int:
    """Write plotly.js once into the book's _static/ and point the chapters' figures at it.

    An executed notebook carries plotly.js (4.7 MB) inline so it works on its own; a book page
    would carry it too, in every chapter. The pages load the one copy instead (offline: it is a
    file of the book, not a CDN). Returns how many inline copies were replaced."""
    from plotly.offline import get_plotlyjs

    static = book / "_static"
    static.mkdir(exist_ok=True)
    (static / "plotly.min.js").write_text(get_plotlyjs(), encoding="utf-8")
    shared = '<script src="../_static/plotly.min.js"></script>'
    replaced = 0
    for path in sorted(chapters.glob("*.ipynb")):
        notebook = json.loads(path.read_text(encoding="utf-8"))
        before = replaced
        for cell in notebook["cells"]:
            for output in cell.get("outputs", []):
                html = output.get("data", {}).get("text/html")
                if html is None:
                    continue
                text = "".join(html) if isinstance(html, list) else html
                text, n = PLOTLY_JS.subn(shared, text)
                if n:
                    output["data"]["text/html"] = text
                    replaced += n
        if replaced > before:
            path.write_text(json.dumps(notebook, ensure_ascii=False, indent=1), encoding="utf-8")
    return replaced


#: Cells a reader of the static book does not need to read: the install cell (a notebook's first
#: code), the parameters and the values papermill injected. Their code is hidden, their output kept.
HIDDEN_INPUT = {"install", "parameters", "injected-parameters"}


def hide_setup_cells(path: Path) -> int:
    """Tag the executed chapter's setup cells ``remove-input`` (Jupyter Book then shows only what they
    printed); returns how many were tagged."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    tagged = 0
    for cell in notebook["cells"]:
        tags = cell.setdefault("metadata", {}).setdefault("tags", [])
        if HIDDEN_INPUT & set(tags) and "remove-input" not in tags:
            tags.append("remove-input")
            tagged += 1
    path.write_text(json.dumps(notebook, ensure_ascii=False, indent=1), encoding="utf-8")
    return tagged


def build(book: Path = BOOK, run_dir: Path | None = None, execute: Sequence[str] | None = None) -> Path:
    """Execute the chapters into ``book/chapters`` and build the book; returns its index page. ``execute``:
    only these chapters (by name, e.g. "01_masking") are executed, the others copied as they are, without
    outputs (the book test: each chapter's own run is already a test of its own)."""
    chapters = book / "chapters"
    shutil.rmtree(chapters, ignore_errors=True)
    chapters.mkdir(parents=True)
    # Relative to the notebooks' folder (papermill runs them there), so the pages print
    # "../runs/book/...", not the builder's own absolute path.
    run_dir = run_dir or Path("..") / "runs" / "book"
    before = os.environ.get(INLINE_ENV)
    os.environ[INLINE_ENV] = "1"  # the pages are static: figures carry their own HTML (kernels inherit it)
    try:
        _execute_all(chapters, run_dir, execute)
    finally:  # put back, so nothing run after the build (a test, a notebook) inlines plotly.js
        if before is None:
            os.environ.pop(INLINE_ENV, None)
        else:
            os.environ[INLINE_ENV] = before
    print(f"plotly.js: {share_plotly_js(book, chapters)} inline copies now load book/_static/plotly.min.js")
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    subprocess.run([str(jupyter_book), "build", str(book), "--quiet"], check=True)
    index = book / "_build" / "html" / "index.html"
    print(f"book: {write_redirects(index.parent)} old chapter addresses lead to the new ones; open {index}")
    return index


#: Chapters that were renamed: old page -> new page, so links to the old address keep working.
MOVED = {"chapters/04_grpo_training.html": "04_training.html"}


def write_redirects(html: Path) -> int:
    """A small page at each old chapter address that sends the reader to the chapter's new one."""
    for old, new in MOVED.items():
        page = html / old
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>Moved</title>'
                        f'<meta http-equiv="refresh" content="0; url={new}"><link rel="canonical" href="{new}">'
                        f'</head><body><p>This chapter is now <a href="{new}">{new}</a>.</p></body></html>',
                        encoding="utf-8")
    return len(MOVED)


def _execute_all(chapters: Path, run_dir: Path, execute: Sequence[str] | None = None) -> None:
    for notebook in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        if execute is not None and notebook.stem not in execute:
            shutil.copyfile(notebook, chapters / notebook.name)
            hide_setup_cells(chapters / notebook.name)
            print(f"copied {notebook.name} without executing it", flush=True)
            continue
        print(f"executing {notebook.name} (cpu-smoke)", flush=True)
        started = time.perf_counter()
        papermill.execute_notebook(
            str(notebook), str(chapters / notebook.name),
            parameters={"profile": "cpu-smoke", "run_dir": str(run_dir)},
            kernel_name="python3", cwd=str(NOTEBOOKS), progress_bar=False,
        )
        hide_setup_cells(chapters / notebook.name)
        # Each chapter's wall time, as the README's table reports it (kernel start included).
        print(f"executed {notebook.name} in {time.perf_counter() - started:.0f} s", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.parse_args()
    build()
