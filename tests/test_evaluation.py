"""Evaluation: episodes with outlines, metrics with intervals, judges in both orders, baselines, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from proactive.cli import main
from proactive.dialogues import run_dialogues
from proactive.errors import ProactiveError
from proactive.evaluation import (
    SystemResult,
    evaluate_system,
    pairwise,
    system_metrics,
)
from proactive.judges import (
    FIRST,
    OUTLINE,
    QUESTIONS,
    SECOND,
    TIE,
    EmbeddingJudge,
    LLMJudge,
    agreement_rate,
    judge_pair,
    parse_preference,
)
from proactive.systems import NoClarification, OracleWriter, TemplateQuestions
from tests.test_simulator import KeywordMatcher, toy_partial


class ScriptedSystem:
    """A fake interviewer for unit tests: asks its scripted questions in order, then stops."""

    sees_all_facts = False

    def __init__(self, questions, name="scripted"):
        self.questions = list(questions)
        self.name = name
        self.outline_inputs = []

    def ask_many(self, partials, histories=None, temperature=0.0, seed=0):
        histories = histories or [()] * len(partials)
        return [self.questions[len(h)] if len(h) < len(self.questions) else "" for h in histories]

    def write_outlines(self, partials, histories):
        self.outline_inputs.append([list(h) for h in histories])
        return ["- " + " ".join(a for _, a in h) if h else "- nothing known" for h in histories]


class KeywordJudge:
    """Covers a fact when its first word is in the text; prefers the text covering more hidden facts."""

    name = "keyword"

    def covered(self, outline, facts):
        return [f.statement.split()[0].lower() in outline.lower() for f in facts]

    def prefer(self, kind, partial, first, second):
        a, b = (sum(self.covered(t, partial.hidden_facts)) for t in (first, second))
        return TIE if a == b else FIRST if a > b else SECOND


class FirstAlwaysJudge:
    """A judge with pure position bias: always prefers whatever it sees first."""

    name = "position-biased"

    def prefer(self, kind, partial, first, second):
        return FIRST


def test_episode_stops_early_and_records_turns_and_outline():
    partial = toy_partial()
    system = ScriptedSystem(["What is the budget?"])  # one question, then stops
    [dialogue] = run_dialogues(system, [partial], KeywordMatcher(), turns=3, progress=False, outlines=True)
    assert len(dialogue.turns) == 1 and dialogue.revealed_ids == ["budget"]
    assert "Budget is $5,000." in dialogue.outline  # the writer saw the dialogue
    assert system.outline_inputs == [[[("What is the budget?", "Budget is $5,000.")]]]


def test_metrics_and_intervals():
    partial = toy_partial()
    system = ScriptedSystem(["What is the budget?", "What about the weather?", "Guests?"])
    result = evaluate_system(system, [partial, partial], KeywordMatcher(), KeywordJudge(), turns=3, progress=False)
    m = system_metrics(result)
    # budget (1.0) + guests (0.8) of 2.3 hidden importance
    assert m["elicited_share"]["mean"] == pytest.approx(1.8 / 2.3, abs=1e-4)
    assert m["redundant_share"]["mean"] == pytest.approx(1 / 3, abs=1e-4)
    assert m["questions_asked"]["mean"] == 3
    assert m["coverage_hidden"]["mean"] == pytest.approx(1.8 / 2.3, abs=1e-4)  # the outline repeats the answers
    assert m["outlines_cut"] == {"count": 0, "of": 2}
    for key, value in m.items():
        if key != "outlines_cut":
            assert value["ci_low"] <= value["mean"] <= value["ci_high"]
    by_turn = result.elicited_by_turn()
    assert by_turn.shape == (2, 4) and by_turn[0, 0] == 0 and by_turn[0, 1] == pytest.approx(1 / 2.3)
    assert np.all(np.diff(by_turn, axis=1) >= 0)


class CuttingSystem(ScriptedSystem):
    """Its writer runs out of tokens on every other task (outlines.CUT_MARK ends the outline)."""

    def write_outlines(self, partials, histories):
        from proactive.outlines import whole_lines

        outlines = super().write_outlines(partials, histories)
        return [whole_lines(o + "\n- and then", ended=i % 2 == 0) for i, o in enumerate(outlines)]


def test_cut_outlines_are_left_out_of_coverage_and_counted():
    from dataclasses import replace

    from proactive.results_table import results_table, table_markdown, table_text

    partials = [replace(toy_partial(), task_id=f"toy-{i}") for i in range(4)]
    result = evaluate_system(CuttingSystem(["What is the budget?"]), partials, KeywordMatcher(), KeywordJudge(),
                             turns=1, progress=False)
    assert [d.outline.endswith("[cut: the writer ran out of tokens]") for d in result.dialogues] == [
        False, True, False, True]
    m = system_metrics(result)
    assert m["outlines_cut"] == {"count": 2, "of": 4}
    assert m["coverage_hidden"]["n"] == 2  # the finished outlines only
    # The judge reads the outline without the mark: "cut" is no fact of the task.
    assert result.covered_hidden[1] == result.covered_hidden[0]
    table = results_table([result], KeywordJudge())
    assert "left out of coverage: scripted 2 of 4" in table_text(table, width=200)
    assert "scripted 2 of 4" in table_markdown(table)
    again = SystemResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert system_metrics(again)["outlines_cut"] == {"count": 2, "of": 4}


def test_result_round_trips_through_json():
    result = evaluate_system(ScriptedSystem(["What is the budget?"]), [toy_partial()], KeywordMatcher(),
                             KeywordJudge(), progress=False)
    again = SystemResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert again.dialogues[0].turns == result.dialogues[0].turns and again.covered_hidden == result.covered_hidden
    with pytest.raises(ProactiveError, match="not an evaluation file"):
        SystemResult.from_dict({"system": "x"})


def test_baselines():
    partial = toy_partial()
    writer = ScriptedSystem([])
    none = run_dialogues(NoClarification(writer), [partial], KeywordMatcher(), progress=False, outlines=True)[0]
    assert none.turns == [] and none.outline == "- nothing known"
    template = run_dialogues(TemplateQuestions(writer), [partial], KeywordMatcher(), turns=2, progress=False, outlines=True)[0]
    assert [t.question for t in template.turns] == ["Who is this for?", "What is your budget?"]
    oracle = OracleWriter(writer)
    result = evaluate_system(oracle, [partial], KeywordMatcher(), KeywordJudge(), progress=False)
    assert result.dialogues[0].turns == [] and result.elicited() == [1.0]  # handed every fact


def test_pairwise_judges_both_orders_so_position_bias_becomes_a_tie():
    partial = toy_partial()
    verdict = judge_pair(FirstAlwaysJudge(), OUTLINE, partial, "short", "a much longer outline")
    assert verdict.winner == "tie" and verdict.a_first == FIRST and verdict.b_first == FIRST
    fair = judge_pair(KeywordJudge(), OUTLINE, partial, "Budget: $5,000", "a much longer outline")
    assert fair.winner == "a" and fair.a_first == FIRST and fair.b_first == SECOND


def test_pairwise_win_rate():
    partials = [toy_partial()]
    strong = evaluate_system(ScriptedSystem(["What is the budget?", "Guests?"], "strong"), partials, KeywordMatcher(),
                             KeywordJudge(), progress=False)
    weak = evaluate_system(ScriptedSystem(["Weather?"], "weak"), partials, KeywordMatcher(), KeywordJudge(),
                           progress=False)
    outcome = pairwise(strong, weak, KeywordJudge(), OUTLINE)
    assert outcome["wins"] == 1 and outcome["win_rate"]["mean"] == 1.0
    assert pairwise(weak, strong, KeywordJudge(), QUESTIONS)["win_rate"]["mean"] == 0.0
    assert pairwise(strong, weak, FirstAlwaysJudge(), OUTLINE)["win_rate"]["mean"] == 0.5
    with pytest.raises(ProactiveError, match="unknown comparison"):
        pairwise(strong, weak, KeywordJudge(), "vibes")


class ScriptedChat:
    def __init__(self, replies):
        self.replies = list(replies)
        self.prompts = []

    def chat(self, messages, **kwargs):
        self.prompts.append(messages[-1]["content"])
        return self.replies.pop(0)


def test_llm_judge_prompt_and_parsing():
    chat = ScriptedChat(["1", "Outline 1 is better", "yes", "no, it does not", "yes"])
    judge = LLMJudge(chat, name="scripted")
    partial = toy_partial()
    verdict = judge_pair(judge, OUTLINE, partial, "A text", "B text")
    assert verdict.winner == "tie"  # said "1" in both orders: position, not quality
    assert "Outline 1:\nA text" in chat.prompts[0] and "Outline 1:\nB text" in chat.prompts[1]
    assert "Budget is $5,000." in chat.prompts[0]  # the judge sees what the user actually needed
    assert judge.covered("outline", partial.hidden_facts) == [True, False, True]
    assert parse_preference("2") == SECOND and parse_preference("Tie.") == TIE and parse_preference("hmm") == TIE


def test_an_llm_judge_counts_unreadable_replies_instead_of_warning_each(caplog):
    chat = ScriptedChat(["I think the weather", "2", "tie", "neither really"])
    judge = LLMJudge(chat, name="scripted")
    with caplog.at_level("WARNING"):
        judge_pair(judge, OUTLINE, toy_partial(), "A text", "B text")
        judge_pair(judge, OUTLINE, toy_partial(), "A text", "B text")
    assert judge.unreadable == 2 and not caplog.records


def test_agreement_rate():
    from proactive.judges import PairVerdict

    a = [PairVerdict("a", FIRST, SECOND), PairVerdict("tie", FIRST, FIRST)]
    b = [PairVerdict("a", FIRST, SECOND), PairVerdict("b", SECOND, FIRST)]
    assert agreement_rate(a, b) == 0.5
    with pytest.raises(ValueError):
        agreement_rate(a, b[:1])


def test_embedding_judge_coverage(embedder):
    judge = EmbeddingJudge(embedder)
    partial = toy_partial()
    covered = judge.covered("- Budget: $5,000 in total\n- Date: June 14", partial.hidden_facts)
    assert covered[0] and covered[1] and not covered[2]
    assert judge.prefer(OUTLINE, partial, "- Budget is $5,000.\n- Guests number 80.", "- Have fun") == FIRST


@pytest.mark.slow
def test_cli_evaluate_and_compare(tmp_path, capsys):
    base, template = tmp_path / "base.json", tmp_path / "template.json"
    assert main(["evaluate", "--policy", "template", "--profile", "cpu-smoke", "--turns", "2", "--out", str(template)]) == 0
    assert main(["evaluate", "--policy", "base", "--profile", "cpu-smoke", "--turns", "2", "--out", str(base)]) == 0
    record = json.loads(base.read_text())
    assert record["system"] == "untrained" and len(record["tasks"]) == 3 and record["split"] == "test"
    assert all(t["outline"] and len(t["turns"]) <= 2 for t in record["tasks"])
    capsys.readouterr()
    assert main(["compare", str(base), str(template), "--out", str(tmp_path / "table.json")]) == 0
    printed = capsys.readouterr().out
    assert "untrained" in printed and "template questions" in printed and "their figures, not ours" in printed
    assert max(len(line) for line in printed.splitlines() if "their figures" not in line) <= 100  # fits a terminal
    assert main(["compare", str(base), str(template), "--markdown"]) == 0
    assert "| untrained |" in capsys.readouterr().out
    table = json.loads((tmp_path / "table.json").read_text())
    assert table["reference"] == "untrained" and "outline_win_rate_of_reference" in table["rows"][1]


def test_cli_evaluate_errors(tmp_path, capsys):
    assert main(["evaluate", "--policy", "nope", "--profile", "cpu-smoke"]) == 2
    assert "unknown policy 'nope'" in capsys.readouterr().err
    assert main(["evaluate", "--policy", "base", "--profile", "cpu-smoke", "--split", "train"]) == 2
    assert "not 'train'" in capsys.readouterr().err
    assert main(["evaluate", "--policy", str(tmp_path), "--profile", "cpu-smoke"]) == 2
    assert "no trained adapter there" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["compare", str(bad)]) == 2
    assert "not valid JSON" in capsys.readouterr().err
    assert main(["compare", str(tmp_path / "missing.json")]) == 2
    assert "no such evaluation file" in capsys.readouterr().err
    assert not list(tmp_path.glob("*.tmp*"))


def test_outline_prompt_and_cleaning():
    from proactive.outlines import WRITE_NOW, clean_outline, oracle_request, outline_messages

    partial = toy_partial()
    messages = outline_messages(partial, [("What is the budget?", "Budget is $5,000.")])
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert messages[-1]["content"] == f"{WRITE_NOW}\n\nThe details I gave you:\n- Budget is $5,000."
    assert "Budget is $5,000." in messages[3]["content"]
    # Only answers that gave a detail are listed again: not declines, nor pointers back to the request.
    from proactive.simulator import NO_PREFERENCE, ONE_AT_A_TIME

    said = [("Budget?", "Budget is $5,000."), ("Theme?", NO_PREFERENCE), ("All?", ONE_AT_A_TIME),
            ("Venue?", "I already mentioned that: Venue is a barn."), ("Budget again?", "Budget is $5,000.")]
    assert outline_messages(partial, said)[-1]["content"].endswith("I gave you:\n- Budget is $5,000.")
    assert outline_messages(partial, [("Theme?", NO_PREFERENCE)])[-1]["content"] == WRITE_NOW
    assert [m["role"] for m in outline_messages(partial)] == ["system", "user"]  # no two user turns in a row
    assert all(f.statement in oracle_request(partial).request for f in partial.hidden_facts)
    looped = "**Plan**\n- Budget\n**References**\n**References**\n\n\n**References**\n- Date"
    assert clean_outline(looped) == "**Plan**\n- Budget\n**References**\n\n- Date"
    # A numbered list loops too: "7. Headache history" says what "6. Headache history" said.
    assert clean_outline("- 1. History\n- 2. Exam\n- 3. History") == "- 1. History\n- 2. Exam"


@pytest.mark.parametrize("change, message", [
    (lambda d: d["tasks"][0]["turns"][0].update(revealed="h0"), "tasks[0].turns[0].revealed: must be a list of fact ids"),
    (lambda d: d["tasks"][0]["turns"][0].update(revealed=[0]), "tasks[0].turns[0].revealed[0]: must be fact ids"),
    (lambda d: d["tasks"][0].update(covered_hidden="yes"), "tasks[0].covered_hidden: must be a list of true/false"),
    (lambda d: d["tasks"][0].update(covered_hidden=[1, 0]), "tasks[0].covered_hidden[0]: must be true/false"),
    (lambda d: d["tasks"][0].update(covered_hidden=[True]), "tasks[0].covered_hidden: 1 flags for 3 facts"),
    (lambda d: d["tasks"][0].update(outline=["- a"]), "tasks[0].outline: must be text"),
    (lambda d: d["tasks"][0]["turns"][0].update(question=None), "tasks[0].turns[0].question: must be text"),
    (lambda d: d.update(turns="3"), "turns: must be a whole number"),
    (lambda d: d.update(sees_all_facts="no"), "sees_all_facts: must be true/false"),
    (lambda d: d.update(tasks={}), "tasks: must be a list of task objects"),
])
def test_wrong_typed_evaluation_fields_are_named(change, message):
    result = evaluate_system(ScriptedSystem(["What is the budget?"]), [toy_partial()], KeywordMatcher(),
                             KeywordJudge(), progress=False)
    data = json.loads(json.dumps(result.to_dict()))
    assert len(data["tasks"][0]["covered_hidden"]) == 3  # the toy task hides three facts
    change(data)
    with pytest.raises(ProactiveError) as caught:
        SystemResult.from_dict(data)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_compare_refuses_files_on_different_tasks(tmp_path, capsys):
    import dataclasses

    first = toy_partial()
    other = dataclasses.replace(first, task_id="another-task")
    paths = []
    for name, partials in (("a", [first]), ("b", [other])):
        result = evaluate_system(ScriptedSystem(["What is the budget?"]), partials, KeywordMatcher(), KeywordJudge(),
                                 progress=False)
        result.name = name
        paths.append(tmp_path / f"{name}.json")
        paths[-1].write_text(json.dumps(result.to_dict()))
    assert main(["compare", str(paths[0]), str(paths[1])]) == 2
    err = capsys.readouterr().err.strip()
    assert "hold different tasks (1 vs 1; e.g. another-task is in one only)" in err and "\n" not in err


def test_the_terminal_table_fits_its_width():
    from proactive.results_table import table_text

    cell = {"mean": 0.231, "ci_low": 0.15, "ci_high": 0.312}
    row = {"system": "template questions", "tasks": 24, "elicited_share": cell, "redundant_share": cell,
           "questions_asked": cell, "coverage_hidden": cell, "coverage_visible": cell,
           "outline_win_rate_of_reference": cell, "question_win_rate_of_reference": cell}
    table = {"reference": "trained", "judge": "embedding", "rows": [dict(row, system="trained"), row], "paper": ""}
    for width in (60, 100, 250):
        text = table_text(table, width)
        assert max(len(line) for line in text.splitlines()) <= width, width
        assert "template questions" in text and "0.231 [0.150, 0.312]" in text
    assert "\n  elicited" in table_text(table, 60)  # too narrow for columns: one block per system


class ForgetfulWriter(ScriptedSystem):
    """Asks its questions, then writes an outline that uses only the first answer it got."""

    def write_outlines(self, partials, histories):
        return ["- " + (h[0][1] if h else "nothing known") for h in histories]


def test_coverage_of_what_the_dialogue_drew_out_counts_only_the_facts_it_revealed():
    from proactive.evaluation import drawn_coverage

    partial = toy_partial()
    # Budget (1.0) and date (0.5) drawn out; the outline uses the budget only: 1.0 / 1.5 of what it drew out,
    # while of all hidden facts (1.0 + 0.5 + 0.8) it covers 1.0 / 2.3.
    result = evaluate_system(ForgetfulWriter(["What is the budget?", "What date?"]), [partial], KeywordMatcher(),
                             KeywordJudge(), turns=2, progress=False)
    m = system_metrics(result)
    assert m["coverage_drawn"]["mean"] == pytest.approx(1.0 / 1.5, abs=1e-4)
    assert m["coverage_hidden"]["mean"] == pytest.approx(1.0 / 2.3, abs=1e-4)
    # Nothing drawn out: nothing to use (left out of the mean, not a zero).
    silent = evaluate_system(ForgetfulWriter([]), [partial], KeywordMatcher(), KeywordJudge(), progress=False)
    assert drawn_coverage(silent.covered_hidden[0], silent.dialogues[0]) is None
    assert system_metrics(silent)["coverage_drawn"] is None
    # A system handed every fact is judged on all of them.
    assert drawn_coverage([True, False, False], silent.dialogues[0], sees_all_facts=True) == pytest.approx(1.0 / 2.3)


def _referral():
    from proactive.masking import PartialTask
    from proactive.tasks import Fact

    hidden = (Fact("patient", "The patient is a 62-year-old woman with new daily headaches for five weeks.", "specifics", 1.0),
              Fact("urgency", "She needs to be seen this week and a temporal artery biopsy arranged.", "timeline", 0.9))
    visible = (Fact("jaw", "She has jaw pain when chewing and scalp tenderness.", "specifics", 0.8),)
    request = "Please help me write a neurology referral. She has jaw pain when chewing and scalp tenderness. Outline it."
    return PartialTask("referral", "clinical referral letter", request, hidden, visible)


@pytest.mark.parametrize("line, pasted", [
    ("- The patient is a 62-year-old woman with new daily headaches for five weeks.", True),  # whole
    ("- History: The patient is a 62-year-old woman with new daily headaches for five weeks", True),  # under a label
    ("- 62-year-old woman with new daily headaches for five weeks", True),  # nearly whole
    ("- Background: as I noted, the patient is a 62-year-old woman with new daily headaches, which matters", True),
    ("- History: 62-year-old woman, new daily headaches (5 weeks)", False),  # written into the outline
    ("- Urgency: seen this week; arrange temporal artery biopsy", False),
    ("- Budget is $5,000.", False),  # under six words: cannot be said shorter, never a quotation
])
def test_a_pasted_user_sentence_is_a_quotation_and_a_detail_written_into_the_outline_is_not(line, pasted):
    from proactive.judges import quotes

    said = [f.statement for f in (*_referral().hidden_facts, *_referral().visible_facts)] + ["Budget is $5,000."]
    assert any(quotes(line, s) for s in said) is pasted


def test_the_paste_the_answers_outline_covers_nothing_and_does_not_win(embedder):
    """The trivial outline (the request's and the answers' sentences, pasted as bullets) would cover every
    fact word for word; coverage counts only what the outline says itself."""
    partial = _referral()
    pasted = "\n".join(f"- {f.statement}" for f in (*partial.visible_facts, *partial.hidden_facts))
    written = ("- Reason for referral: suspected giant cell arteritis\n- History: 62-year-old woman, new daily "
               "headaches for 5 weeks, jaw pain on chewing, scalp tender\n- Request: see this week, arrange "
               "temporal artery biopsy")
    judge = EmbeddingJudge(embedder)
    assert judge.covered(pasted, partial.hidden_facts) == [False, False]
    assert judge.covered(pasted, partial.visible_facts) == [False]
    assert judge.covered(written, partial.hidden_facts) == [True, True]
    assert judge.prefer(OUTLINE, partial, written, pasted) == FIRST
    assert judge.prefer(OUTLINE, partial, pasted, written) == SECOND
    # Padding the pasted answers with words of one's own does not make them the outline's own.
    padded = "\n".join(f"- Important for the letter: {f.statement[:-1]}, to be considered." for f in partial.hidden_facts)
    assert judge.covered(padded, partial.hidden_facts) == [False, False]


def test_the_llm_judge_reads_only_the_outlines_own_lines():
    from proactive.judges import LLMJudge

    class Backend:
        name = "recording"

        def __init__(self):
            self.prompts = []

        def chat(self, messages, max_new_tokens=8, temperature=0.0):
            self.prompts.append(messages[-1]["content"])
            return "yes"

    backend = Backend()
    partial = _referral()
    pasted = "\n".join(f"- {f.statement}" for f in partial.hidden_facts)
    assert LLMJudge(backend).covered(pasted, partial.hidden_facts) == [False, False] and not backend.prompts
    mixed = pasted + "\n- Request: see this week"
    assert LLMJudge(backend).covered(mixed, partial.hidden_facts) == [True, True]
    assert all("62-year-old" not in p.split("Detail:")[0] for p in backend.prompts)


def test_the_outline_verdict_names_coverage_use_and_wins_against_both_baselines():
    from proactive.results_table import outline_verdict

    def cell(mean):
        return {"mean": mean, "ci_low": mean, "ci_high": mean, "n": 24}

    table = {"reference": "trained", "rows": [
        {"system": "no clarification", "coverage_hidden": cell(0.073), "outline_win_rate_of_reference": cell(0.25)},
        {"system": "template questions", "coverage_hidden": cell(0.045), "coverage_drawn": cell(0.15),
         "outline_win_rate_of_reference": cell(0.583)},
        {"system": "trained", "coverage_hidden": cell(0.133), "coverage_drawn": cell(0.33)}]}
    assert outline_verdict(table) == (
        "Outlines: the trained system's covers 0.133 of the hidden facts (no clarification 0.073, template questions "
        "0.045) and uses 0.330 of what its dialogue drew out; its outline wins 0.25 against no clarification and 0.58 "
        "against template questions (a tie is half a win, judged in both orders).")
    assert outline_verdict({"reference": None, "rows": table["rows"]}) == ""
    assert "ran out of tokens" in outline_verdict({"reference": "trained", "rows": [{"system": "trained", "coverage_hidden": None}]})
