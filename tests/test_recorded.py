"""Recorded results: what a chapter shows where it cannot compute, with where it came from."""

from __future__ import annotations

import json

import numpy as np
import pytest

from proactive.calibration import QulacCheck
from proactive.errors import ProactiveError
from proactive.recorded import provenance_line, record, recorded


def test_a_recorded_result_round_trips_with_its_provenance(tmp_path):
    check = QulacCheck(np.array([1, 0, 0, 1]), np.array([True, False, True, True]), np.array([0.9, 0.1, 0.4, 0.7]),
                       np.array([0.5, 0.2, 0.6, 0.4]), ("a?", "b?", "c?", "d?"))
    record("qulac_check", check.to_dict(questions=False), "benchmarks/record_for_book.py qulac", folder=tmp_path)
    saved = recorded("qulac_check", folder=tmp_path)
    assert saved["command"] == "benchmarks/record_for_book.py qulac" and "versions" in saved
    again = QulacCheck.from_dict(saved["payload"])
    assert again.summary() == check.summary()
    line = provenance_line(saved)
    assert line.startswith("Recorded on ") and "not computed in this run" in line
    assert recorded("absent", folder=tmp_path) is None
    assert not list(tmp_path.glob("*.tmp*"))


def test_a_damaged_recorded_file_is_one_clear_error(tmp_path):
    (tmp_path / "broken.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ProactiveError, match="broken.json: not a recorded result"):
        recorded("broken", folder=tmp_path)
    (tmp_path / "bare.json").write_text(json.dumps({"payload": {}}), encoding="utf-8")
    with pytest.raises(ProactiveError, match="no payload or command"):
        recorded("bare", folder=tmp_path)
    with pytest.raises(ProactiveError, match="different lengths"):
        QulacCheck.from_dict({"labels": [1], "revealed": [1, 0], "rewards": [0.1], "cosines": [0.2]})


def test_the_committed_qulac_record_is_the_full_held_out_check():
    saved = recorded("qulac_check")
    assert saved is not None, "proactive/data/recorded/qulac_check.json is missing: benchmarks/record_for_book.py qulac"
    check = QulacCheck.from_dict(saved["payload"])
    assert check.summary() == saved["payload"]["summary"]
    assert check.summary()["pairs"] > 2000 and check.summary()["reward_auc"] > check.summary()["cosine_auc"]


def test_the_committed_demo_record_renders_every_training_stage_and_the_outline_verdict():
    from proactive.html_views import recorded_demo_html, stage_line

    saved = recorded("demo")
    assert saved is not None, "proactive/data/recorded/demo.json is missing: benchmarks/record_for_book.py demo"
    html = recorded_demo_html(saved, table=True)
    report = saved["payload"]["report"]
    assert report["headline"]["verdict"].split(":")[0] in html
    stages = [m for m in saved["payload"]["train_metrics"] if "kept" in m]
    assert html.count("<li>") >= len(stages)
    if report.get("outline_verdict"):
        assert "Outlines:" in html
    # A stage the view does not know by name (a future method's metrics line) is shown, not a KeyError.
    assert stage_line({"method": "grpo", "kept": 3, "seconds": 12.4}) == "<li>grpo: 12 s</li>"
    assert "writer RFT" in stage_line({"method": "writer", "kept": 2, "details": 5, "samples": 6, "seconds": 1})
