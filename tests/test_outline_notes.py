"""The outline's notes: one line per detail the user gave, written by the writer, judged as any outline line."""

from __future__ import annotations

from proactive.judges import EmbeddingJudge
from proactive.masking import mask
from proactive.outline_notes import NOTE_OPENING, note_from, note_prompt, with_notes
from proactive.outlines import CUT_MARK, first_block, is_cut, without_mark
from proactive.simulator import NO_PREFERENCE
from tests.test_evaluation import _referral


class _Tok:
    def apply_chat_template(self, messages, tokenize=False, add_generation_prompt=True):
        return "|".join(m["content"] for m in messages)


def test_a_note_is_the_first_line_written_after_the_bullet_or_nothing():
    assert note_from(" Budget: 8,000 euros\n- More") == "- Budget: 8,000 euros"
    assert note_from("- Budget: 8,000 euros") == "- Budget: 8,000 euros"
    assert note_from("") == note_from("\nBudget") == note_from(" -  ") == ""


def test_the_note_prompt_holds_the_users_sentence_alone_and_opens_the_bullet():
    prompt = note_prompt(_Tok(), "The budget is 8,000 euros.")
    assert prompt.endswith("The budget is 8,000 euros." + NOTE_OPENING)


def test_notes_follow_the_plan_once_each_and_a_cut_plan_stays_cut():
    assert with_notes("- Goals\n- Budget: 8,000 euros", ["- Budget: 8,000 euros", "- Venue: the hall", "",
                                                          "- Venue: the hall"]) == (
        "- Goals\n- Budget: 8,000 euros\n- Venue: the hall")
    cut = with_notes(f"- Goals\n{CUT_MARK}", ["- Venue: the hall"])
    assert is_cut(cut) and without_mark(cut) == "- Goals\n- Venue: the hall"
    assert with_notes("", ["- Venue: the hall"]) == "- Venue: the hall"


def test_the_stop_rule_drops_empty_bullets_and_ends_a_loop_of_them_and_a_long_list():
    assert first_block("-\n-\n-\n-") == ("", True)
    assert first_block("- \n- Goals\n- Budget\n-\n-") == ("- Goals\n- Budget", True)
    many = "\n".join(f"- {hour}:30 to {hour + 1}:30" for hour in range(12))
    outline, ended = first_block(many, max_lines=8)
    assert ended and len(outline.splitlines()) == 8


def test_every_detail_the_user_gave_gets_a_note_written_by_the_note_writer(tasks, monkeypatch):
    """The plan is written once per task, then one note per answer that gave a detail (a decline gets
    none), each prompt holding that answer alone; the oracle's notes are for the facts it was handed."""
    from proactive.policy import LocalPolicy
    from proactive.systems import OracleWriter

    calls = []

    def generate(prompts, max_new_tokens, temperature, seed, stop=None, ended=None, what=None):
        calls.append(list(prompts))
        if ended is not None:
            ended += [True] * len(prompts)
            return ["Goals\n- Plan"] * len(prompts)
        return [f" Note {i}: written" for i in range(len(prompts))]

    policy = LocalPolicy(None, _Tok(), note_samples=0)  # the greedy notes (choosing among samples: below)
    monkeypatch.setattr(policy, "_generate", generate)
    partial = mask(tasks[0], "top_k", k=2)
    history = [("Budget?", "The budget is 8,000 euros."), ("Venue?", NO_PREFERENCE), ("Date?", "It is on 3 May.")]
    [outline] = policy.write_outlines([partial], [history])
    assert outline == "- Goals\n- Plan\n- Note 0: written\n- Note 1: written"
    assert len(calls[1]) == 2 and calls[1][0].endswith("The budget is 8,000 euros." + NOTE_OPENING)
    calls.clear()
    oracle = OracleWriter(policy)
    oracle.write_outlines([partial], [()])
    assert len(calls[1]) == len(partial.hidden_facts)
    assert all(p.endswith(f.statement + NOTE_OPENING) for p, f in zip(calls[1], partial.hidden_facts))


def test_an_outline_that_pastes_the_answers_as_notes_covers_nothing_one_that_writes_them_in_does(embedder):
    """The trivial writer that lists the user's answers gains nothing from notes: the judge's paste rule
    reads each pasted sentence as the user's, not the outline's."""
    judge = EmbeddingJudge(embedder)
    partial = _referral()
    long = [f for f in partial.hidden_facts if len(f.statement.split()) >= 8]
    assert long
    pasted = with_notes("- Referral letter", [f"- {f.statement}" for f in long])
    assert not any(judge.covered(pasted, long))
    written = with_notes("- Referral letter", ["- History: 62-year-old woman, daily headaches for 5 weeks"])
    assert any(judge.covered(written, partial.hidden_facts))


def test_the_stop_rule_ends_a_line_that_repeats_a_run_of_characters_without_commas():
    looped = "- Data: 2022-01-01 2:22-2022-01-01-2022-01-01-2022-01-01-2022-01-01-2022-0"
    outline, ended = first_block(looped + "\n- Next")
    assert ended and outline == "- Data: 2022-01-01 2:22-2022-01-01"  # the run kept once, the loop gone
    # Words repeated for emphasis, short runs and numbers that merely recur are not loops.
    for line in ("- A very very very good plan", "- 10:00-10:30, 10:30-11:00 and 11:00-11:30",
                 "- Budget: $1,000,000 for 2025-2026"):
        assert first_block(line + "\n- Next") == (line + "\n- Next", False)


def test_the_plan_is_written_from_the_request_alone_once_for_every_system(tasks, monkeypatch):
    """What the user said goes in as notes, so the plan's prompt holds the request alone; a second system's
    outline for the same task starts from the same greedy plan, not written again; a sampled plan is."""
    from proactive.policy import LocalPolicy

    plans = []

    def generate(prompts, max_new_tokens, temperature, seed, stop=None, ended=None, what=None):
        if ended is not None:  # the plan
            plans.append(list(prompts))
            ended += [True] * len(prompts)
            return [f"Goals\n- Plan {len(plans)}"] * len(prompts)
        return [" Budget: eight thousand euros"] * len(prompts)

    policy = LocalPolicy(None, _Tok())
    monkeypatch.setattr(policy, "_generate", generate)
    partial, other = mask(tasks[0], "top_k", k=2), mask(tasks[1], "top_k", k=2)
    asked = [("Budget?", "The budget is 8,000 euros for the whole day.")]
    [first] = policy.write_outlines([partial], [asked])
    assert len(plans) == 1 and "8,000" not in plans[0][0] and partial.request in plans[0][0]
    [again, fresh] = policy.write_outlines([partial, other], [(), ()])  # another system, no questions
    assert len(plans) == 2 and len(plans[1]) == 1  # only the new request's plan is written
    assert again == "- Goals\n- Plan 1" and first.startswith(again) and fresh == "- Goals\n- Plan 2"
    policy.write_outlines([partial], [()], temperature=0.7)
    assert len(plans) == 3  # a sampled plan is a sample


def test_each_note_is_the_one_of_greedy_and_sampled_that_writes_the_most_of_the_sentence_in(monkeypatch):
    """Beside its greedy note the writer samples ``note_samples`` more of each sentence (in one call) and
    keeps the one that writes the most of the sentence's words in without pasting it or changing a number;
    when none does, the greedy note. Sampled notes (writer RFT's) are not chosen among."""
    from proactive.config import Profile
    from proactive.outline_notes import NOTE_SAMPLES, keeps
    from proactive.policy import LocalPolicy

    budget = "The budget for the whole day is 8,000 euros in total."
    venue = "The party will be held in the village hall on Main Street."
    stuck = "We expect about forty guests from both sides of the family."
    guests = "Forty guests."
    written = {
        # a changed number, a thin note that keeps, the fuller one, the fuller one again (the first is kept)
        budget: [" Budget: 9,000 euros for the whole day", " Budget: 8,000 euros", " Budget: 8,000 euros, whole day",
                 " Budget: whole day, 8,000 euros"],
        # greedy misses most of it; one sample writes it in
        venue: [" Venue: hall", " Venue: village hall, Main Street", " Venue: hall", " Venue: hall"],
        # the greedy note keeps it and no sample does better: the greedy one
        guests: [" Guests", " Guests: about 40", " Guests: 40 people", " People"],
    }
    greedy = {budget: " " + budget, venue: " Venue: hall", stuck: " " + stuck, guests: " Guests: forty"}
    calls = []

    def generate(prompts, max_new_tokens, temperature, seed, stop=None, ended=None, what="questions"):
        details = [p.split("|")[-1].removesuffix(NOTE_OPENING) for p in prompts]
        calls.append((temperature, details, what))
        if temperature == 0:
            return [greedy.get(d, " " + d) for d in details]
        seen: dict[str, int] = {}
        out = []
        for d in details:  # the k-th time a sentence's prompt appears: its k-th sample
            k = seen[d] = seen.get(d, -1) + 1
            out.append(written.get(d, [" " + d] * 4)[k])
        return out

    policy = LocalPolicy(None, _Tok(), note_samples=4)
    monkeypatch.setattr(policy, "_generate", generate)
    notes = policy.write_notes([budget, venue, stuck, guests])
    assert notes == ["- Budget: 8,000 euros, whole day", "- Venue: village hall, Main Street", "- " + stuck,
                     "- Guests: forty"]
    assert keeps(notes[0], budget) and keeps(notes[1], venue) and not keeps(notes[2], stuck)
    assert [(t, w) for t, _, w in calls] == [(0, "notes"), (0.8, "notes")]  # greedy, then every sample at once
    assert calls[1][1] == [budget, venue, stuck, guests] * 4
    calls.clear()
    policy.write_notes([budget], temperature=0.8)
    assert len(calls) == 1
    # Another system's outline: a sentence already written gets the same note, and only a new one is written.
    calls.clear()
    assert policy.write_notes([venue, "Twelve tables.", budget]) == [notes[1], "- Twelve tables.", notes[0]]
    assert {tuple(d) for _, d, _ in calls} == {("Twelve tables.",), ("Twelve tables.",) * 4}
    calls.clear()
    policy.notes_with_adapter = True  # another writer's weights: its own notes
    policy.write_notes([venue])
    assert calls[0][:2] == (0, [venue])
    # No samples: the greedy note, one call.
    calls.clear()
    policy.note_samples = 0
    assert policy.write_notes([stuck + " "]) == ["- " + stuck] and len(calls) == 1
    assert Profile(name="x").note_samples == NOTE_SAMPLES
