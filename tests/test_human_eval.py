"""Human A/B evaluation: blind order, every judgment saved at once, resumable, win rates."""

from __future__ import annotations

import json

import pytest

from proactive.errors import ProactiveError
from proactive.human_eval import (
    HumanEvalSession,
    PairItem,
    demo_items_path,
    human_win_rates,
    judge_items,
    load_items,
    load_judgments,
    save_items,
)


def items(n=6):
    return [PairItem(f"t{i}/outline", f"t{i}", "outline", f"request {i}", "trained", "untrained",
                     f"trained text {i}", f"untrained text {i}") for i in range(n)]


def test_each_choice_is_saved_immediately_and_maps_to_the_hidden_system(tmp_path):
    path = tmp_path / "judgments.jsonl"
    session = HumanEvalSession(items(), path, rater="r1", seed=3)
    item = session.current
    (first_system, first_text), (second_system, _) = session.shown(item)
    assert {first_system, second_system} == {"trained", "untrained"}
    assert first_text == (item.text_a if first_system == "trained" else item.text_b)
    record = session.record("1")
    assert record["winner"] == first_system
    saved = load_judgments(path)
    assert len(saved) == 1 and saved[0]["item_id"] == item.item_id and saved[0]["rater"] == "r1"
    session.record("tie")
    assert [j["winner"] for j in load_judgments(path)][1] == "tie"
    assert not list(tmp_path.glob("*.tmp*"))  # written via a temporary file and a rename


def test_order_is_randomized_but_stable(tmp_path):
    session = HumanEvalSession(items(40), tmp_path / "j.jsonl", seed=0)
    firsts = [session.shown(i)[0][0] for i in session.queue]
    assert 5 < firsts.count("trained") < 35  # both sides shown first
    again = HumanEvalSession(items(40), tmp_path / "j.jsonl", seed=0)
    assert [i.item_id for i in again.queue] == [i.item_id for i in session.queue]
    assert [again.shown(i)[0][0] for i in again.queue] == firsts


def test_resume_skips_what_this_rater_judged(tmp_path):
    path = tmp_path / "j.jsonl"
    first = HumanEvalSession(items(), path, rater="r1")
    judged = [first.current.item_id]
    first.record("2")
    resumed = HumanEvalSession(items(), path, rater="r1")
    assert len(resumed.queue) == 5 and judged[0] not in [i.item_id for i in resumed.queue]
    assert len(HumanEvalSession(items(), path, rater="r2").queue) == 6  # another rater sees everything


def test_skip_and_bad_choices(tmp_path):
    session = HumanEvalSession(items(2), tmp_path / "j.jsonl")
    current = session.current
    session.skip()
    assert session.current is not current and session.queue[-1] is current
    with pytest.raises(ProactiveError, match="choice must be one of"):
        session.record("maybe")
    session.record("1")
    session.record("2")
    with pytest.raises(ProactiveError, match="every item is judged"):
        session.record("1")
    with pytest.raises(ProactiveError, match="nothing to judge"):
        HumanEvalSession([], tmp_path / "x.jsonl")


def test_win_rates_with_intervals():
    records = ([{"item_id": "t/outline", "kind": "outline", "system_a": "A", "system_b": "B", "winner": "A"}] * 6
               + [{"item_id": "t/outline", "kind": "outline", "system_a": "A", "system_b": "B", "winner": "tie"}] * 2
               + [{"item_id": "t/outline", "kind": "outline", "system_a": "A", "system_b": "B", "winner": "B"}] * 2)
    [row] = human_win_rates(records)
    assert row["judgments"] == 10 and row["win_rate_a"] == pytest.approx(0.7)
    assert row["ci_low"] < 0.7 < row["ci_high"]


def test_items_file_round_trip_and_errors(tmp_path):
    path = tmp_path / "items.jsonl"
    save_items(path, items(3))
    assert load_items(path) == items(3)
    path.write_text(path.read_text() + "{broken\n")
    with pytest.raises(ProactiveError, match=r"items.jsonl:4: not valid JSON"):
        load_items(path)
    bad = tmp_path / "judgments.jsonl"
    bad.write_text('{"item_id": "t/q", "kind": "questions", "system_a": "a", "system_b": "b", "winner": "a"}\nnot json\n')
    with pytest.raises(ProactiveError, match=r"judgments.jsonl:2"):
        load_judgments(bad)


def test_bundled_demo_items_come_from_a_real_run():
    demo = load_items(demo_items_path())
    assert demo and {i.kind for i in demo} == {"questions", "outline"}
    assert all(i.partial and i.text_a and i.text_b for i in demo)


def test_widget_clicks_save(tmp_path):
    pytest.importorskip("ipywidgets")
    from proactive.widgets import human_eval_widget

    path = tmp_path / "j.jsonl"
    session = HumanEvalSession(items(2), path)
    box = human_eval_widget(session)
    buttons = box.children[2].children
    buttons[0].click()  # "1 is better"
    assert len(load_judgments(path)) == 1
    box.children[2].children[-1].value = "t"  # the key box: tie
    assert [j["choice"] for j in load_judgments(path)] == ["1", "tie"]
    assert "All 2 comparisons judged" in box.children[0].value
    assert all(b.disabled for b in buttons[:4])  # the four buttons; the key box stays


def test_automatic_judge_fills_a_session_through_record(tmp_path, embedder):
    from proactive.judges import EmbeddingJudge

    demo = load_items(demo_items_path())
    path = tmp_path / "auto.jsonl"
    assert judge_items(HumanEvalSession(demo, path, rater="auto"), EmbeddingJudge(embedder)) == len(demo)
    assert len(load_judgments(path)) == len(demo)
    assert json.loads(path.read_text().splitlines()[0])["rater"] == "auto"


def test_a_judgment_cut_by_a_crash_is_dropped_and_the_rest_kept(tmp_path, caplog):
    path = tmp_path / "j.jsonl"
    session = HumanEvalSession(items(), path, rater="r1")
    session.record("1")
    session.record("2")
    path.write_text(path.read_text() + '{"item_id": "t9/outline", "cho')  # the crash, mid-line
    resumed = HumanEvalSession(items(), path, rater="r1")
    assert len(resumed.queue) == 4 and "the last judgment was cut short" in caplog.text
    resumed.record("tie")  # new judgments are accepted again
    assert [j["choice"] for j in load_judgments(path)] == ["1", "2", "tie"]


def test_a_bad_line_in_the_middle_is_still_an_error(tmp_path):
    path = tmp_path / "j.jsonl"
    path.write_text('{"item_id": "t/q", "kind": "questions", "system_a": "a", "system_b": "b", "winner": "a"}\nnot json\n{"item_id": "t/q", "kind": "questions", "system_a": "a", "system_b": "b", "winner": "a"}\n')
    with pytest.raises(ProactiveError, match=r"j.jsonl:2: not a JSON judgment"):
        load_judgments(path)
    path.write_bytes(b'{"item_id": "caf\xe9"}\n')
    with pytest.raises(ProactiveError, match="not UTF-8 text"):
        load_judgments(path)


def test_a_runs_pairs_are_questions_and_outlines_against_untrained_and_outlines_against_no_clarification(tasks):
    """Each item is named by its task, kind and opponent, so the two outline comparisons of one task are
    different items a session keeps apart; a system that asked nothing has no questions to compare."""
    from proactive.evaluation import SystemResult
    from proactive.human_eval import human_eval_pairs
    from proactive.masking import mask
    from proactive.simulator import Dialogue, Turn

    partials = [mask(t, "top_k", k=2) for t in tasks[:2]]

    def result(name, asks):
        dialogues = [Dialogue(p, [Turn("Who is this for?", "Teenagers.")] if asks else [], outline=f"- {name} {i}")
                     for i, p in enumerate(partials)]
        return SystemResult(name, dialogues, [[]] * 2, [[]] * 2)

    by_name = {r.name: r for r in (result("trained", True), result("untrained", True), result("no clarification", False))}
    items = human_eval_pairs(by_name)
    kinds = sorted((i.kind, i.system_b) for i in items)
    assert kinds == sorted([("questions", "untrained"), ("outline", "untrained"), ("outline", "no clarification")] * 2)
    assert len({i.item_id for i in items}) == len(items) == 6
    assert {i.text_b for i in items if i.system_b == "no clarification"} == {"- no clarification 0", "- no clarification 1"}
    del by_name["no clarification"]
    assert len(human_eval_pairs(by_name)) == 4
