"""The simulated user against people's own questions (IN3's inquiries, bundled), beside the tricks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from proactive.data.in3 import bundled_in3_path, load_in3
from proactive.fidelity import ANSWER_KINDS, InquiryCheck, answer_kind, fidelity_rows, inquiry_check
from proactive.simulator import ALREADY_KNOWN, NO_MATCH, OFF_TOPIC, REVEALED, SEVERAL, Turn


def test_answer_kinds_say_whose_detail_came_out():
    assert answer_kind(Turn("q", "a", ("d0",), REVEALED), "d0") == "revealed its detail"
    assert answer_kind(Turn("q", "a", ("d1",), REVEALED), "d0") == "revealed another detail"
    assert answer_kind(Turn("q", "a", ("d0",), SEVERAL), "d0") == "several: answered its detail"
    assert answer_kind(Turn("q", "a", (), SEVERAL), "d0") == "several: refused"
    assert answer_kind(Turn("q", "a", (), NO_MATCH), "d0") == "no preference"
    assert answer_kind(Turn("q", "a", (), OFF_TOPIC), "d0") == "off topic"
    assert answer_kind(Turn("q", "a", (), ALREADY_KNOWN), "d0") == "already known"
    check = InquiryCheck(2, {"revealed its detail": 3, "several: refused": 1}, 0.5, 1.0, 3)
    assert check.inquiries == 4 and check.summary()["own_detail_alone"] == 0.75 and check.summary()["refused"] == 0.25
    assert InquiryCheck.from_dict(json.loads(json.dumps(check.to_dict()))) == check
    assert set(check.counts) <= set(ANSWER_KINDS)


@pytest.fixture(scope="module")
def check_part():
    """IN3's check part: tasks whose inquiries nothing was tuned on."""
    return [p for p in load_in3(bundled_in3_path()) if p.meta["split"] == "test"]


@pytest.mark.slow
def test_people_s_inquiries_draw_out_their_own_detail_on_the_check_part(check_part, matcher):
    """The done-when of the judge's fidelity, on the first 80 tasks of the part never tuned on: 0.9 of
    inquiries asked alone draw out their own detail, at most 3% are refused (several, off topic), and
    asked most important first for 3 turns they draw out at least 0.8 of what those turns can."""
    summary = inquiry_check(check_part[:80], matcher, progress=False).summary()
    assert summary["inquiries"] > 250
    assert summary["own_detail_alone"] >= 0.9, summary
    assert summary["refused"] <= 0.03, summary
    assert summary["share_of_ceiling"] >= 0.8, summary


@pytest.mark.slow
def test_one_table_shows_both_sides(check_part, matcher, suite_results_cpu):
    rows = fidelity_rows(inquiry_check(check_part[:5], matcher, progress=False), suite_results_cpu)
    sides = [side for side, _, _ in rows]
    assert "people's questions" in sides and "tricks" in sides
    held = next(value for side, measure, value in rows if side == "tricks" and "below" in measure)
    done, total = held.split(" of ")
    assert done == total


@pytest.fixture(scope="module")
def suite_results_cpu(matcher, task_by_id):
    from proactive.config import load_profile
    from proactive.reward import ElicitationReward
    from proactive.reward_hacking import run_suite

    return run_suite(ElicitationReward(matcher, load_profile("cpu").reward_config()), task_by_id)


@pytest.mark.slow
def test_fidelity_command(capsys):
    from proactive.cli import main

    assert main(["fidelity", "--limit", "3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["summary"]["tasks"] == 3 and sum(out["counts"].values()) == out["summary"]["inquiries"]


def test_fidelity_command_refuses_a_file_without_inquiries(capsys):
    from proactive.cli import main

    own = Path(__file__).resolve().parents[1] / "examples" / "my_tasks.jsonl"  # tasks of one's own, no inquiries
    assert main(["fidelity", "--tasks", str(own)]) != 0
    err = capsys.readouterr().err
    assert "no task with example inquiries" in err and err.count("\n") == 1
