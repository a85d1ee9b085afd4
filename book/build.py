"""Build the tutorial book offline: execute every notebook in cpu-smoke, then Jupyter Book 1.

    python book/build.py            # -> book/_build/html/index.html

The notebooks are executed into book/chapters/ (ignored by git) so the book shows real outputs
while the repository keeps output-free notebooks; Jupyter Book itself executes nothing.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import papermill

BOOK = Path(__file__).resolve().parent
NOTEBOOKS = BOOK.parent / "notebooks"


def build(book: Path = BOOK, run_dir: Path | None = None) -> Path:
    chapters = book / "chapters"
    shutil.rmtree(chapters, ignore_errors=True)
    chapters.mkdir(parents=True)
    # Relative to the notebooks' folder (papermill runs them there), so the pages print
    # "../runs/book/...", not the builder's own absolute path.
    run_dir = run_dir or Path("..") / "runs" / "book"
    for notebook in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        print(f"executing {notebook.name} (cpu-smoke)", flush=True)
        papermill.execute_notebook(
            str(notebook), str(chapters / notebook.name),
            parameters={"profile": "cpu-smoke", "run_dir": str(run_dir)},
            kernel_name="python3", cwd=str(NOTEBOOKS), progress_bar=False,
        )
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    subprocess.run([str(jupyter_book), "build", str(book), "--quiet"], check=True)
    index = book / "_build" / "html" / "index.html"
    print(f"book: open {index}")
    return index


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.parse_args()
    build()
