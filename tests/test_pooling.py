"""A recipe's effect pooled over training runs (``stats.pooled_difference``), with the run spread in
its interval: what benchmarks/learning_pool.py and benchmarks/headline.py --pool report."""

import numpy as np
import pytest

from proactive.stats import pooled_difference


def test_pooled_gain_is_the_mean_over_runs_and_its_interval_carries_the_run_spread():
    rng = np.random.default_rng(1)
    base = rng.uniform(0, 0.2, 30)
    gains = (0.10, 0.00, 0.05)
    matrix = np.array([base + g + rng.normal(0, 0.01, 30) - base for g in gains])
    m = pooled_difference(matrix, ["s0", "s1", "s2"])
    assert m["runs_mean"] == pytest.approx(np.mean(gains), abs=0.01)
    assert [r["run"] for r in m["per_run"]] == ["s0", "s1", "s2"]
    assert m["runs_positive"] == 2 and m["runs_above_zero"] == 2
    # Each run's own interval is narrow (tasks agree), but the recipe's must span the runs' spread.
    assert m["per_run"][0]["ci_high"] - m["per_run"][0]["ci_low"] < 0.02
    assert m["ci_low"] < 0.02 and m["ci_high"] > 0.08


def test_one_run_has_no_spread_and_its_interval_is_over_tasks():
    m = pooled_difference(np.array([[0.2, -0.1, 0.1, 0.0]]), ["only"])
    assert m["runs_sd"] == 0.0 and m["runs_mean"] == pytest.approx(0.05)
    assert m["ci_low"] < 0 < m["ci_high"]


def test_the_headline_pools_each_system_over_seeds_and_refuses_runs_on_different_tasks():
    from proactive.evaluation import INQUIRIES, pooled_headline

    # Two seeds on the same 4 tasks: the trained policy beats the template by 0.2 in one and 0.0 in the other.
    run0 = {"trained": [0.4, 0.4, 0.4, 0.4], "template": [0.2, 0.2, 0.2, 0.2], INQUIRIES: [0.8, 0.8, 0.8, 0.8]}
    run1 = {"trained": [0.2, 0.2, 0.2, 0.2], "template": [0.2, 0.2, 0.2, 0.2], INQUIRIES: [0.8, 0.8, 0.8, 0.8]}
    report = pooled_headline([run0, run1], ["s0", "s1"])
    assert report["runs"] == ["s0", "s1"]
    assert report["trained - template"]["runs_mean"] == pytest.approx(0.1)
    assert report["trained - template"]["runs_positive"] == 1
    assert "trained - untrained" not in report  # neither run measured it
    assert report["means"] == {"trained": 0.3, "template": 0.2, INQUIRIES: 0.8}
    # The trained policy's per-task share averaged over seeds (0.3) against the inquiries' 0.8.
    assert report["trained share of inquiries"]["share"] == pytest.approx(0.375)
    with pytest.raises(ValueError, match="different numbers of tasks"):
        pooled_headline([run0, {"trained": [0.1], "template": [0.1]}], ["s0", "s1"])
