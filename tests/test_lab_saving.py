"""Running a chapter in JupyterLab and saving it leaves the tracked pair as committed.

The save goes through the same contents manager Lab's server uses (jupyter_server's, wrapped by
jupytext's pairing) with the hook `make lab` configures; the notebook model is what the frontend
sends after a run: outputs (a plotly figure with its JavaScript), execution counts, the kernel's
language_info, widget state and run-time cell metadata."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import nbformat
import pytest
from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
from jupytext.async_contentsmanager import build_async_jupytext_contents_manager_class

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
CHAPTER = "04_training"


#: As `make lab` configures it (an import string, as on its command line).
HOOK = "proactive.lab_saving.pre_save_hook"


def _manager(root: Path, hook: str | None = HOOK):
    cls = build_async_jupytext_contents_manager_class(AsyncLargeFileManager)
    return cls(root_dir=str(root), **({"pre_save_hook": hook} if hook else {}))


def _as_after_a_run(model: dict) -> dict:
    content = model["content"]
    content["metadata"]["language_info"] = {"name": "python", "version": "3.12.9"}
    content["metadata"]["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    for n, cell in enumerate(c for c in content["cells"] if c["cell_type"] == "code"):
        cell["execution_count"] = n + 1
        cell["metadata"]["execution"] = {"iopub.status.busy": "2026-12-04T10:00:00"}
        cell["metadata"]["scrolled"] = True
        cell["metadata"]["jupyter"] = {"outputs_hidden": False}
        cell["outputs"] = [{"output_type": "display_data", "metadata": {},
                            "data": {"text/html": "<script>/* plotly.js */" + "x" * 100_000 + "</script>"}}]
    return model


def _open_run_save(manager, name: str, extra_cell: dict | None = None) -> None:
    """What Lab does: load the notebook, run it (outputs arrive), save it."""

    async def steps():
        model = await manager.get(name, content=True, type="notebook")
        model = _as_after_a_run(model)
        if extra_cell:
            model["content"]["cells"].append(extra_cell)
        await manager.save(model, name)

    asyncio.run(steps())


@pytest.fixture()
def checkout(tmp_path, monkeypatch):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    for suffix in (".py", ".ipynb"):
        shutil.copy(NOTEBOOKS / f"{CHAPTER}{suffix}", folder / f"{CHAPTER}{suffix}")
    return folder


def test_a_run_chapter_saves_as_committed(checkout):
    before = {p.name: p.read_bytes() for p in checkout.iterdir()}
    _open_run_save(_manager(checkout), f"{CHAPTER}.ipynb")
    after = {p.name: p.read_bytes() for p in checkout.iterdir() if p.is_file()}
    assert after == before


def test_an_edit_is_kept_and_its_outputs_are_not(checkout):
    mine = {"cell_type": "code", "id": "reader0", "metadata": {}, "execution_count": 9, "outputs": [],
            "source": "print('mine')"}
    _open_run_save(_manager(checkout), f"{CHAPTER}.ipynb", extra_cell=mine)
    nb = nbformat.read(checkout / f"{CHAPTER}.ipynb", as_version=4)
    assert nb.cells[-1].source == "print('mine')"
    assert "print('mine')" in (checkout / f"{CHAPTER}.py").read_text(encoding="utf-8")
    assert all(not c.outputs and c.execution_count is None for c in nb.cells if c.cell_type == "code")
    assert set(nb.metadata) == {"jupytext", "kernelspec"}


def test_other_notebooks_keep_their_outputs(checkout, tmp_path):
    """Only the checkout's chapters are cleaned: a reader's own notebook, even one named like a chapter
    in another folder, is saved with its outputs."""
    mine = tmp_path / "elsewhere"
    mine.mkdir()
    shutil.copy(NOTEBOOKS / f"{CHAPTER}.ipynb", mine / f"{CHAPTER}.ipynb")
    shutil.copy(NOTEBOOKS / f"{CHAPTER}.ipynb", checkout / "my_copy.ipynb")
    for root, name in ((mine, f"{CHAPTER}.ipynb"), (checkout, "my_copy.ipynb")):
        _open_run_save(_manager(root), name)
        nb = nbformat.read(root / name, as_version=4)
        assert any(c.outputs for c in nb.cells if c.cell_type == "code"), root / name


def test_without_the_hook_a_run_would_dirty_the_chapter(checkout):
    """The check above can fail: Lab's plain save writes the run into the tracked file."""
    before = (checkout / f"{CHAPTER}.ipynb").read_bytes()
    _open_run_save(_manager(checkout, hook=None), f"{CHAPTER}.ipynb")
    assert (checkout / f"{CHAPTER}.ipynb").read_bytes() != before
