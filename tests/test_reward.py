import json
import logging

import pytest

from proactive.cli import main
from proactive.columns import partial_from_columns
from proactive.config import RewardConfig
from proactive.errors import ProactiveError
from proactive.masking import mask
from proactive.questions import is_multi_question, is_question, restates_request
from proactive.reward_hacking import CASES, REASKS, TRICKS, run_suite
from proactive.simulator import SimulatedUser


@pytest.fixture(scope="module", params=["default weights", "training weights"])
def suite_results(request, matcher, task_by_id):
    from proactive.config import load_profile
    from proactive.reward import ElicitationReward

    config = None if request.param == "default weights" else load_profile("cpu").reward_config()
    return run_suite(ElicitationReward(matcher, config), task_by_id)


@pytest.mark.slow
@pytest.mark.parametrize("trick", TRICKS)
def test_reward_hacking_suite(suite_results, trick):
    """Every phrasing of every trick scores below the plain targeted question on the same task."""
    targeted = {r.task_id: r.breakdown for r in suite_results if r.kind == "targeted"}
    assert all(b.reward > 0 and b.revealed for b in targeted.values()), "a targeted question must earn something"
    cases = [r for r in suite_results if r.kind == trick]
    assert len(cases) >= 3 and len({r.task_id for r in cases}) >= 2 or trick in {
        "kitchen_sink", "multi_part", "restated", "injection", "non_question", "over_long", "cue_stuffed"}
    broken = [(r.task_id, r.question, r.breakdown.reward, targeted[r.task_id].reward) for r in cases if not r.holds]
    assert not broken, f"{trick} beat the targeted question: {broken}"


@pytest.mark.slow
def test_run_suite_reports_every_case(suite_results):
    assert len(suite_results) == sum(len(q) for c in CASES.values() for q in c.values()) + sum(
        len(again) for _, _, again in REASKS.values())
    assert {r.kind for r in suite_results} == {"targeted", *TRICKS}
    assert suite_results[0].to_dict()["reward"] == suite_results[0].breakdown.reward
    # Lists of things, questions about something else and re-asks draw out nothing at all; two questions
    # in one draw out one fact at most, marked several.
    for r in suite_results:
        if r.kind in {"off_topic_cue", "comma_list", "keyword_string", "paraphrased_reask", "kitchen_sink"}:
            assert r.breakdown.revealed == (), (r.kind, r.question, r.breakdown)
        if r.kind in {"multi_part", "or_chain", "full_width", "look_alike"}:
            assert len(r.breakdown.revealed) <= 1 and (not r.breakdown.revealed or r.breakdown.kind == "several"), r


@pytest.mark.slow
def test_repeated_question_earns_nothing_new(task_by_id, reward, matcher):
    partial = mask(task_by_id["event-planning-wedding-reception"], "top_k", k=3)
    first = SimulatedUser(partial, matcher).answer("What is your total budget for the reception?")
    again = reward.score(partial, "How much money can you spend on the reception?", [first])
    same = reward.score(partial, "What is your total budget for the reception?", [first])
    plain = reward.score(partial, "What is your total budget for the reception?")
    for b in (again, same):
        assert b.elicitation == 0 and b.revealed == () and "repeated" in b.penalties
        assert b.reward < plain.reward


@pytest.mark.slow
def test_follow_up_on_a_new_fact_earns_credit(task_by_id, reward, matcher):
    partial = mask(task_by_id["event-planning-wedding-reception"], "top_k", k=3)
    first = SimulatedUser(partial, matcher).answer("What is your total budget for the reception?")
    follow = reward.score(partial, "How many guests are you expecting?", [first])
    assert follow.revealed == ("guests",) and follow.reward > 0 and not follow.penalties


@pytest.mark.slow
def test_breakdown_adds_up_and_weights_by_importance(task_by_id, reward, matcher):
    partial = mask(task_by_id["event-planning-wedding-reception"], "top_k", k=3)
    for question in (q for qs in CASES["event-planning-wedding-reception"].values() for q in qs):
        b = reward.score(partial, question)
        weight = reward.config.elicitation_weight
        expected = max(-1.0, min(1.0, weight * b.elicitation + b.shaping - sum(b.penalties.values())))
        assert b.reward == pytest.approx(expected, abs=1e-5)
    question = CASES["event-planning-wedding-reception"]["targeted"][0]
    budget = reward.score(partial, question)
    confidence = SimulatedUser(partial, matcher).answer(question).confidence[0]
    weight = {f.id: f.importance for f in partial.hidden_facts}
    assert budget.elicitation == pytest.approx(weight["budget"] * confidence / sum(weight.values()), abs=1e-4)


@pytest.mark.slow
def test_elicitation_weight_scales_only_what_was_drawn_out(task_by_id, matcher):
    from proactive.reward import ElicitationReward

    partial = mask(task_by_id["event-planning-wedding-reception"], "top_k", k=3)
    plain = ElicitationReward(matcher, RewardConfig(elicitation_weight=1.0, shaping=0.5))
    heavy = ElicitationReward(matcher)  # the defaults: what every profile trains with
    assert (heavy.config.elicitation_weight, heavy.config.shaping) == (3.0, 0.25)
    for question in (q for qs in CASES["event-planning-wedding-reception"].values() for q in qs):
        a, b = plain.score(partial, question), heavy.score(partial, question)
        assert b.elicitation == a.elicitation and b.penalties == a.penalties  # the terms do not change
        assert b.shaping == pytest.approx(a.shaping / 2, abs=1e-5)
        expected = max(-1.0, min(1.0, 3.0 * b.elicitation + b.shaping - sum(b.penalties.values())))
        assert b.reward == pytest.approx(expected, abs=1e-5)
    targeted = CASES["event-planning-wedding-reception"]["targeted"][0]  # draws out the budget
    assert heavy.score(partial, targeted).elicitation > 0
    assert heavy.score(partial, targeted).reward > plain.score(partial, targeted).reward


@pytest.mark.slow
def test_off_topic_penalty_is_on_by_default_and_can_be_turned_off(task_by_id, matcher):
    from proactive.reward import ElicitationReward

    partial = mask(task_by_id["event-planning-wedding-reception"], "top_k", k=3)
    on = ElicitationReward(matcher)
    unrelated = "What's the best way to prepare for a job interview?"
    scored = on.score(partial, unrelated)
    assert scored.penalties == {"off_topic": 0.3} and scored.reward < 0
    assert any(note.startswith("off topic") for note in scored.notes)
    off = ElicitationReward(matcher, RewardConfig(off_topic_penalty=0.0))
    assert "off_topic" not in off.score(partial, unrelated).penalties
    # A kind of detail, or the task's own content, is on topic however few words it shares.
    for question in ("What is your budget?", "How many guests are you expecting?", "What is the venue like?"):
        assert "off_topic" not in on.score(partial, question).penalties, question


@pytest.mark.parametrize("garbage", [None, "", "   ", 17, ["a"], "?" * 100_000])
def test_garbage_scores_zero_with_a_warning(reward, task_by_id, garbage, caplog):
    partial = mask(task_by_id["event-planning-wedding-reception"])
    with caplog.at_level(logging.WARNING, logger="proactive.reward"):
        breakdown = reward.score(partial, garbage)
    assert breakdown.reward == 0.0 and breakdown.kind == "invalid"
    assert any("scoring it 0" in r.message for r in caplog.records)


@pytest.mark.slow
def test_trl_signature_accepts_text_chat_and_garbage(task_by_id, reward):
    partial = mask(task_by_id["event-planning-wedding-reception"], "top_k", k=3)
    hidden = [f.statement for f in partial.hidden_facts]
    completions = [
        "How many guests are you expecting?",
        [{"role": "assistant", "content": "How many guests are you expecting?"}],
        None,
        "What is your budget?",
    ]
    scores = reward(
        completions,
        request=[partial.request] * 4,
        hidden_facts=[hidden, hidden, hidden, "not a list"],  # the last row is malformed
    )
    assert len(scores) == 4 and all(isinstance(s, float) for s in scores)
    assert scores[0] == scores[1] > 0 and scores[2] == 0.0 and scores[3] == 0.0
    assert reward.__name__ == "elicitation_reward"


def test_question_shape_helpers():
    assert is_question("What is your budget?") and is_question("are you looking for maps")
    assert not is_question("Here is your outline.")
    assert is_multi_question("What is the budget? When is it?")
    assert is_multi_question("What is the budget and when is the wedding?")
    assert is_multi_question("Could you share the budget, the date, the guest count and the venue?")
    assert not is_multi_question("What is the budget for the reception?")
    request = "I need help planning a wedding reception. About a third of the guests are vegetarian."
    assert restates_request("Do you need help planning a wedding reception?", request)
    assert not restates_request("When is the wedding?", request)


def test_config_and_columns_are_validated():
    with pytest.raises(ProactiveError, match="RewardConfig.shaping must be a finite, non-negative number"):
        RewardConfig(shaping=-1)
    with pytest.raises(ProactiveError, match="'request' must be a non-empty string"):
        partial_from_columns({"hidden_facts": ["x"]})
    with pytest.raises(ProactiveError, match="'hidden_facts' must be a non-empty list"):
        partial_from_columns({"request": "r", "hidden_facts": []})
    with pytest.raises(ProactiveError, match="'importances' must be finite positive"):
        partial_from_columns({"request": "r", "hidden_facts": ["a"], "importances": [0]})
    with pytest.raises(ProactiveError, match="each 'history' item"):
        partial_from_columns({"request": "r", "hidden_facts": ["a"], "history": [{"question": "q"}]})
    partial, history = partial_from_columns({
        "request": "r", "hidden_facts": ["We expect 120 guests.", "Budget is $5,000."], "known_facts": ["Venue is a barn."],
        "history": [{"question": "How many guests?", "answer": "We expect 120 guests."}],
    })
    assert [f.id for f in partial.hidden_facts] == ["h0", "h1"] and partial.visible_facts[0].statement == "Venue is a barn."
    assert history[0].revealed == ("h0",)
    assert {f.category for f in partial.hidden_facts} == {"context"}  # no kinds given: reached by content only
    with pytest.raises(ProactiveError, match="'categories' must give one of"):
        partial_from_columns({"request": "r", "hidden_facts": ["a", "b"], "categories": ["budget"]})
    with pytest.raises(ProactiveError, match="'known_categories' must give one of"):
        partial_from_columns({"request": "r", "hidden_facts": ["a"], "known_facts": ["k"], "known_categories": ["mood"]})


def test_training_columns_carry_fact_kinds_so_kind_questions_pay(reward):
    """The TRL reward rebuilds each task from plain columns; with the facts' kinds a plain
    "What is the timeline?" reaches the hidden timeline, as it does for the simulated user."""
    columns = {"request": ["I need to write a referral letter to cardiology for one of my patients."],
               "hidden_facts": [["His resting ECG shows T-wave inversion in leads V4 to V6.",
                                 "I want him seen within two weeks on the rapid-access pathway."]]}
    without = reward(["What is the timeline?"], **columns)[0]
    with_kinds = reward(["What is the timeline?"], **columns, categories=[["specifics", "timeline"]])[0]
    assert with_kinds > without + 0.2


# -- `proactive reward`: its input/output contract -------------------------------------------
REQUEST = "I need help planning a wedding reception. Please outline the plan."
HIDDEN = ["We expect 120 guests.", "Our total budget for the reception is $15,000."]


@pytest.mark.slow
def test_reward_command_contract(tmp_path, capsys):
    lines = [
        {"request": REQUEST, "hidden_facts": HIDDEN, "question": "How many guests will attend?", "extra": 1},
        {"request": REQUEST, "hidden_facts": HIDDEN, "question": "How many people are coming?",
         "history": [{"question": "How many guests?", "answer": "We expect 120 guests."}]},
        {"request": REQUEST, "hidden_facts": HIDDEN, "question": "What is your favourite colour?",
         "known_facts": ["The reception is outdoors."]},
    ]
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    assert main(["reward", "--input", str(src), "--out", str(out)]) == 0
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(rows) == 3
    for row, line in zip(rows, lines):
        assert {k: row[k] for k in line} == line  # the input is kept as it was
        assert set(row) >= {"answer", "revealed", "reward", "breakdown"}
        assert row["reward"] == row["breakdown"]["reward"]
    assert rows[0]["revealed"] == [0] and rows[0]["answer"] == HIDDEN[0] and rows[0]["reward"] > 0
    assert rows[1]["revealed"] == [] and "repeated" in rows[1]["breakdown"]["penalties"]
    assert rows[2]["revealed"] == [] and rows[2]["reward"] < rows[0]["reward"]


def test_reward_command_rejects_bad_lines_and_writes_nothing(tmp_path, capsys):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text(json.dumps({"request": REQUEST, "hidden_facts": HIDDEN, "question": "Budget?"}) + "\n"
                   + json.dumps({"request": REQUEST, "hidden_facts": "oops", "question": "Budget?"}) + "\n")
    assert main(["reward", "--input", str(src), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "in.jsonl:2: 'hidden_facts' must be a list of strings" in err and not out.exists()
    src.write_text('{"request": "r", "hidden_facts": ["a"]}\n')
    assert main(["reward", "--input", str(src)]) == 2
    assert "in.jsonl:1: field 'question': must be a string" in capsys.readouterr().err


def test_history_reveals_travel_as_ids_or_indices_and_are_checked():
    row = {"request": "r", "hidden_facts": ["We expect 120 guests.", "Budget is $5,000."], "fact_ids": ["guests", "budget"],
           "history": [{"question": "How many?", "answer": "about a hundred and twenty", "revealed": ["guests"]},
                       {"question": "Money?", "answer": "five grand", "revealed": [1]}]}
    partial, history = partial_from_columns(row)
    assert [f.id for f in partial.hidden_facts] == ["guests", "budget"]
    assert [t.revealed for t in history] == [("guests",), ("budget",)]
    with pytest.raises(ProactiveError, match="'revealed' names no hidden fact: 'venue'"):
        partial_from_columns({**row, "history": [{"question": "q", "answer": "a", "revealed": ["venue"]}]})
    with pytest.raises(ProactiveError, match="'fact_ids' must give a distinct"):
        partial_from_columns({**row, "fact_ids": ["a", "a"]})


def test_blank_hidden_facts_keep_every_other_fact_at_its_index():
    partial, _ = partial_from_columns({"request": "r", "hidden_facts": ["", "We expect 120 guests.", "  ", "Budget is $5,000."]})
    assert [f.statement for f in partial.hidden_facts] == ["We expect 120 guests.", "Budget is $5,000."]
    assert [partial.meta["fact_index"][f.id] for f in partial.hidden_facts] == [1, 3]


@pytest.mark.slow
@pytest.mark.parametrize(
    "answer",
    ["we can spend fifteen thousand dollars on the reception",  # paraphrased
     "Our total budget for the reception is $15,000",  # the fact without its final period
     "OUR TOTAL BUDGET FOR THE RECEPTION IS $15,000!"],
)
def test_a_reask_after_a_reworded_answer_earns_nothing(reward, answer):
    row = {"request": "I need help planning a wedding reception. Please outline the plan.",
           "hidden_facts": ["We expect 120 guests.", "Our total budget for the reception is $15,000."],
           "categories": ["specifics", "budget"],
           "history": [{"question": "What is your total budget for the reception?", "answer": answer}]}
    partial, history = partial_from_columns(row)
    again = reward.score(partial, "What is your total budget for the reception?", history)
    first = reward.score(partial, "What is your total budget for the reception?")
    assert first.revealed and again.elicitation == 0 and again.revealed == () and again.reward < first.reward


@pytest.mark.slow
def test_reward_command_indices_point_at_the_fact_despite_blank_entries(tmp_path):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    hidden = ["", "   ", "We expect 120 guests.", "", "Our total budget for the reception is $15,000."]
    lines = [{"request": REQUEST, "hidden_facts": hidden, "question": q}
             for q in ("How many guests will attend?", "What is your total budget for the reception?")]
    src.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    assert main(["reward", "--input", str(src), "--out", str(out)]) == 0
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["revealed"] for r in rows] == [[2], [4]]
    assert all(hidden[i] == r["answer"] for r in rows for i in r["revealed"])
