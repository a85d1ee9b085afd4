"""Every notebook runs top to bottom in the cpu-smoke profile and leaves what it promises."""

from __future__ import annotations

import json
from pathlib import Path

import jupytext
import nbformat
import papermill
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
PAIRS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))


def test_there_are_notebooks():
    assert PAIRS, f"no notebooks found in {NOTEBOOKS}"


def _cells(nb) -> list[tuple[str, str, list[str]]]:
    return [(c.cell_type, c.source.strip(), sorted(c.metadata.get("tags", []))) for c in nb.cells]


@pytest.mark.parametrize("script", PAIRS, ids=lambda p: p.stem)
def test_pair_is_in_sync(script):
    """The .py (reviewed) and .ipynb (opened by users) hold the same cells."""
    ipynb = script.with_suffix(".ipynb")
    assert ipynb.is_file(), f"{ipynb.name} is missing; run `make sync`"
    from_py = jupytext.read(script)
    from_nb = nbformat.read(ipynb, as_version=4)
    assert _cells(from_py) == _cells(from_nb), f"{script.name} and {ipynb.name} differ; run `make sync`"
    assert from_nb.metadata.get("kernelspec", {}).get("name") == "python3"
    assert not any(c.get("outputs") for c in from_nb.cells if c.cell_type == "code"), "strip outputs before committing"


def run_notebook(name: str, tmp_path: Path, **parameters) -> Path:
    run_dir = tmp_path / "run"
    papermill.execute_notebook(
        str(NOTEBOOKS / f"{name}.ipynb"),
        str(tmp_path / f"{name}.out.ipynb"),
        parameters={"profile": "cpu-smoke", "run_dir": str(run_dir), **parameters},
        kernel_name="python3",
        cwd=str(NOTEBOOKS),
        progress_bar=False,
    )
    return run_dir


@pytest.mark.slow
def test_01_masking(tmp_path):
    run_dir = run_notebook("01_masking", tmp_path, seed=1)
    rows = [json.loads(line) for line in (run_dir / "masked_test.jsonl").read_text().splitlines()]
    assert len(rows) == 3  # cpu-smoke: n_tasks = 3
    assert all(0 < len(r["hidden_facts"]) < len(r["hidden_facts"]) + len(r["visible_facts"]) for r in rows)
    assert all(r["seed"] == 0 and r["strategy"] == "top_k" for r in rows)
    stats = json.loads((run_dir / "corpus_stats.json").read_text())
    assert stats["tasks"] >= 120 and stats["domains"] >= 12
    executed = nbformat.read(tmp_path / "01_masking.out.ipynb", as_version=4)
    outputs = [o for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert any("application/vnd.plotly.v1+json" in o.get("data", {}) for o in outputs), "no plotly figure shown"
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs), "no widget shown"
