"""What JupyterLab saves into a chapter: its cells, never its outputs.

The chapters are tracked in git as a pair (``NN_name.py``, reviewed, and ``NN_name.ipynb``, opened),
with no outputs. Lab autosaves every few minutes; left alone it would write megabytes of outputs
(plotly.js in each figure), the kernel's ``language_info`` and run-time cell metadata into the
tracked ``.ipynb``, so merely running a chapter would change it. ``make lab`` starts Lab with
:func:`pre_save_hook`, which saves a chapter as it is committed: a reader's edits to cells are kept,
outputs are not (File > Save Notebook As... to another name keeps a copy with them).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

#: The tracked chapters: ``01_masking.ipynb`` and its siblings, each with its jupytext pair
#: (``01_masking.py``) beside it; any other notebook is saved untouched.
CHAPTER = re.compile(r"^\d\d_[^/]+\.ipynb$")
#: Notebook metadata a chapter keeps: what jupytext pairs it by and which kernel runs it. The rest
#: (``language_info``: the reader's Python version; ``widgets``: widget state) describes one run.
KEPT_METADATA = ("jupytext", "kernelspec")
#: Cell metadata Lab writes while running or viewing a cell, not while editing it.
RUN_METADATA = ("execution", "ExecuteTime", "scrolled", "collapsed", "trusted")


def is_chapter(os_path: str | Path) -> bool:
    """Whether ``os_path`` is one of the tracked chapters: named ``NN_*.ipynb``, with its reviewed ``.py``
    pair beside it. Decided by the files themselves, not by where the package is installed, so the hook
    works from a wheel too; a reader's copy of a chapter elsewhere (no pair beside it) is not one."""
    path = Path(os_path)
    return bool(CHAPTER.match(path.name)) and path.with_suffix(".py").is_file()


def as_committed(content: dict[str, Any]) -> dict[str, Any]:
    """``content`` (a notebook's JSON, changed in place and returned) without what a run adds:
    outputs, execution counts, the kernel's ``language_info``, widget state, run-time cell metadata."""
    metadata = content.get("metadata", {})
    for key in [k for k in metadata if k not in KEPT_METADATA]:
        del metadata[key]
    for cell in content.get("cells", []):
        cell_metadata = cell.get("metadata", {})
        for key in RUN_METADATA:
            cell_metadata.pop(key, None)
        shown = cell_metadata.get("jupyter")
        if isinstance(shown, dict):
            shown.pop("outputs_hidden", None)
            if not shown:
                del cell_metadata["jupyter"]
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    return content


def pre_save_hook(model: dict[str, Any], path: str, contents_manager: Any = None, **_: Any) -> None:
    """Jupyter's ``ContentsManager.pre_save_hook``: a chapter is saved as committed (:func:`as_committed`),
    so opening and running one leaves ``git status`` clean unless a cell was edited. ``path`` is the
    server's API path, relative to its root folder."""
    if model.get("type") != "notebook" or not isinstance(model.get("content"), dict):
        return
    root = Path(getattr(contents_manager, "root_dir", ".") or ".")
    if is_chapter(root / path.strip("/")):
        as_committed(model["content"])
