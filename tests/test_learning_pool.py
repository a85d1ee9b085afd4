"""benchmarks/learning_pool.py: a recipe's gain pooled over training runs, with run spread in its interval."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("learning_pool", ROOT / "benchmarks" / "learning_pool.py")
learning_pool = importlib.util.module_from_spec(spec)
spec.loader.exec_module(learning_pool)

KEY = "elicited_share_sampled_dialogues"


def write_run(path: Path, trained: dict[str, list[float]], untrained: list[float], ids=None) -> Path:
    ids = ids or [f"t{i}" for i in range(len(untrained))]
    per_task = {"task_ids": ids, "untrained": {KEY: untrained}}
    per_task.update({f"trained:{name}": {KEY: values} for name, values in trained.items()})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"per_task": per_task}))
    return path


def test_pooled_gain_is_the_mean_over_runs_and_its_interval_carries_the_run_spread(tmp_path):
    rng = np.random.default_rng(1)
    base = list(rng.uniform(0, 0.2, 30))
    gains = (0.10, 0.00, 0.05)
    files = [write_run(tmp_path / f"s{k}" / "learning.json", {f"s{k}": [b + g + rng.normal(0, 0.01) for b in base]}, base)
             for k, g in enumerate(gains)]
    m = learning_pool.pool([f.parent for f in files])["measures"][KEY]
    assert m["runs_mean"] == pytest.approx(np.mean(gains), abs=0.01)
    assert [r["run"] for r in m["per_run"]] == ["s0", "s1", "s2"]
    assert m["runs_positive"] == 2
    # Each run's own interval is narrow (tasks agree), but the recipe's must span the runs' spread.
    assert m["per_run"][0]["ci_high"] - m["per_run"][0]["ci_low"] < 0.02
    assert m["ci_low"] < 0.02 and m["ci_high"] > 0.08


def test_one_file_with_pooled_runs_counts_each_run(tmp_path):
    base = [0.1, 0.2, 0.0, 0.3]
    f = write_run(tmp_path / "learning.json", {"a": [b + 0.1 for b in base], "b": [b - 0.1 for b in base]}, base)
    m = learning_pool.pool([f])["measures"][KEY]
    assert len(m["per_run"]) == 2 and m["runs_mean"] == pytest.approx(0.0)


def test_runs_on_other_tasks_or_without_figures_are_refused_in_one_line(tmp_path):
    a = write_run(tmp_path / "a.json", {"a": [0.1, 0.2]}, [0.0, 0.0])
    b = write_run(tmp_path / "b.json", {"b": [0.1, 0.2]}, [0.0, 0.0], ids=["x", "y"])
    with pytest.raises(SystemExit, match="other held-out tasks"):
        learning_pool.pool([a, b])
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"reward_per_question": {}}))
    for bad in (old, tmp_path / "missing.json"):
        with pytest.raises(SystemExit, match="not a learning.json with per-task figures"):
            learning_pool.pool([bad])
