"""Rejection-sampling fine-tuning: which dialogue a group keeps, what it trains on, the hint rules,
the headline comparison's ceiling and verdict, and one real RFT round on the bundled model."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from proactive.canned_questions import KIND_OPENINGS, PLAIN_QUESTIONS
from proactive.config import load_profile
from proactive.errors import ProactiveError
from proactive.evaluation import ceiling_shares, headline
from proactive.masking import PartialTask
from proactive.policy import SYSTEM_PROMPT
from proactive.rft_sampling import (
    DialogueGroup,
    choose,
    dialogue_score,
    hint_for,
    hint_prompt,
    hinted_groups,
    inquiry_groups,
    keep_best,
    leaks,
)
from proactive.rft_targets import sft_examples, training_dialogues, variants
from proactive.simulator import NO_MATCH, NO_PREFERENCE, REVEALED, Dialogue, Turn
from proactive.tasks import Fact

FACTS = (Fact("size", "The kitchen is 12 square metres.", "specifics", 1.0),
         Fact("money", "We can spend 8,000 euros.", "budget", 0.5),
         Fact("when", "It must be finished before the twins arrive in March.", "timeline", 0.5))
PARTIAL = PartialTask("kitchen", "home", "Help me plan a kitchen renovation.", FACTS)


def _dialogue(*turns: tuple[str, str | None]) -> Dialogue:
    out = []
    for question, fact_id in turns:
        if fact_id is None:
            out.append(Turn(question, NO_PREFERENCE))
        elif fact_id == "several":
            out.append(Turn(question, "one at a time", kind="several"))
        else:
            out.append(Turn(question, "...", (fact_id,), REVEALED))
    return Dialogue(PARTIAL, out)


def test_the_group_keeps_the_dialogue_that_drew_out_most_and_broke_fewest_rules():
    nothing = _dialogue(("What colour?", None), ("What style?", None))
    money = _dialogue(("What can you spend?", "money"), ("What style?", None))
    money_noisy = _dialogue(("What can you spend?", "money"), ("Size, budget, date?", "several"))
    size = _dialogue(("How big is the kitchen?", "size"))
    scores, kept = choose([nothing, money_noisy, money, size])
    assert kept == 3  # the important fact beats the less important one
    assert scores[1] < scores[2]  # same facts, a rule broken: lower
    assert choose([nothing, nothing])[1] is None  # nothing drawn out: nothing to learn from
    assert dialogue_score(_dialogue(("When?", "when"), ("When?", None))) < dialogue_score(_dialogue(("When?", "when")))


def test_the_buffer_holds_each_tasks_best_dialogue_across_rounds():
    buffer: dict = {}
    first = _dialogue(("What can you spend?", "money"))
    better = _dialogue(("How big is it?", "size"), ("What can you spend?", "money"))
    assert keep_best(buffer, [DialogueGroup(PARTIAL, [first], *choose([first]))]) == 1
    assert keep_best(buffer, [DialogueGroup(PARTIAL, [_dialogue(("Why?", None))], [0.0], None)]) == 0
    assert buffer["kitchen"] is first  # a later miss does not forget an earlier find
    assert keep_best(buffer, [DialogueGroup(PARTIAL, [better], *choose([better]))]) == 1
    assert buffer["kitchen"] is better


class _Tok:
    """Stands in for a chat template: the messages joined, the assistant turn opened."""

    def apply_chat_template(self, messages, tokenize=False, add_generation_prompt=True):
        return "|".join(f"{m['role']}:{m['content']}" for m in messages) + "|assistant:"


def test_sft_rows_are_the_questions_that_drew_out_a_fact_with_the_dialogue_so_far():
    dialogue = _dialogue(("What style do you like?", None), ("What can you spend?", "money"),
                         ("What is the size?", "size"))
    rows = sft_examples([dialogue], _Tok(), "Question: What")
    assert [r["depth"] for r in rows] == [1, 2]  # the miss is history, never a target
    assert rows[0]["completion"] == " can you spend?"  # the prompt already ends with the seed word
    assert rows[0]["prompt"].endswith("Question: What")
    assert "What style do you like?" in rows[0]["prompt"] and SYSTEM_PROMPT in rows[0]["prompt"]
    assert "The detail to ask about" not in rows[1]["prompt"]  # hints never reach training


def test_hints_name_the_fact_and_leaking_questions_are_caught():
    assert FACTS[0].statement in hint_prompt(FACTS[0]) and hint_prompt(FACTS[0]).startswith(SYSTEM_PROMPT)
    assert leaks("Is your budget 8,000 euros?", FACTS)
    assert leaks("Must it be finished before the twins arrive?", FACTS)
    assert not leaks("What is your budget?", FACTS)
    assert not leaks("How large is the kitchen?", FACTS)


def test_a_kind_the_user_recognises_opens_the_hinted_question_and_other_facts_are_hinted():
    rules, opening = hint_for(FACTS[1], "Question: What")
    assert rules == SYSTEM_PROMPT and opening == "Question: " + KIND_OPENINGS["budget"]
    assert hint_for(FACTS[1], "Question: What", kind_openings=False) == (hint_prompt(FACTS[1]), "Question: What")
    assert hint_for(FACTS[0], "Question: What") == (hint_prompt(FACTS[0]), "Question: What")  # specifics: no kind
    assert hint_for(FACTS[1], "")[1] == KIND_OPENINGS["budget"]
    # A prefix whose seed word the opening does not start with keeps the policy's own opening.
    assert hint_for(FACTS[1], "Question: How") == (hint_prompt(FACTS[1]), "Question: How")


class _EchoPolicy:
    """Writes each question from its opening, so the test sees which opening every target got."""

    question_prefix = "Question: What"

    def __init__(self):
        self.calls = []

    def ask_many(self, partials, histories, temperature=0.0, seed=0, system_prompts=None, prefixes=None):
        self.calls.append(list(prefixes))
        return [p.split(":", 1)[1].strip() + " for the kitchen?" if p != self.question_prefix else "What is it?"
                for p in prefixes]


class _ByWordMatcher:
    """Reveals a fact when the question names its category's opening word (budget, deadline)."""

    threshold, known_threshold, similarity = 0.5, 0.9, None

    def match(self, question, topic, statements):
        words = {"We can spend 8,000 euros.": "budget", "It must be finished before the twins arrive in March.": "deadline"}
        return np.array([1.0 if words.get(s, "~") in question else 0.0 for s in statements])

    def probabilities(self, items, topic, facts):
        return np.array([self.match(item, topic, facts) for item in items]).reshape(len(items), len(facts))


def test_hinted_dialogues_open_each_target_with_its_kind_and_keep_what_drew_it_out():
    policy = _EchoPolicy()
    (group,) = hinted_groups(policy, [PARTIAL], _ByWordMatcher(), samples=2, turns=3)
    # Most important first: the kitchen's size (no kind: the policy's opening), then budget, then timeline.
    assert [c[0] for c in policy.calls] == ["Question: What", "Question: What is your budget",
                                            "Question: What is the deadline"]
    assert [t.question for t in group.best.turns] == ["What is your budget for the kitchen?",
                                                      "What is the deadline for the kitchen?"]
    assert group.best.revealed_ids == ["money", "when"]


def test_plain_questions_are_tried_first_for_a_kind_and_kept_where_they_draw_out_the_fact():
    (group,) = hinted_groups(_EchoPolicy(), [PARTIAL], _ByWordMatcher(), samples=2, turns=3, plain_questions=True)
    assert [t.question for t in group.best.turns] == [PLAIN_QUESTIONS["budget"], PLAIN_QUESTIONS["timeline"]]
    assert all(q.startswith("What ") and q.endswith("?") for q in PLAIN_QUESTIONS.values())  # the policy's opening
    # Off (the default), the policy's own samples are the only candidates.
    (own,) = hinted_groups(_EchoPolicy(), [PARTIAL], _ByWordMatcher(), samples=2, turns=3)
    assert PLAIN_QUESTIONS["budget"] not in [t.question for t in own.best.turns]


def test_a_tasks_example_inquiries_seed_its_dialogue_and_only_those_that_draw_out_a_fact_are_kept():
    inquiries = {"size": "How big is the kitchen?",  # names no fact's opening word: draws out nothing
                 "money": "What budget do you have?", "when": "Is there a deadline?"}
    partial = PartialTask("kitchen", "home", PARTIAL.request, FACTS, meta={"inquiries": inquiries})
    (group,) = inquiry_groups([partial], _ByWordMatcher(), turns=3)
    assert [t.question for t in group.best.turns] == ["What budget do you have?", "Is there a deadline?"]
    assert group.best.revealed_ids == ["money", "when"]
    (short,) = inquiry_groups([partial], _ByWordMatcher(), turns=1)  # no more questions than turns
    assert short.best.revealed_ids == ["money"]
    # A task without inquiries (or with blank or non-text ones) gives nothing to ask and nothing kept.
    assert PARTIAL.inquiries() == {}
    odd = PartialTask("kitchen", "home", PARTIAL.request, FACTS, meta={"inquiries": {"size": " ", "money": 3}})
    assert odd.inquiries() == {}
    (empty,) = inquiry_groups([odd], _ByWordMatcher())
    assert empty.kept is None and empty.dialogues[0].turns == []


class _SizeToo(_ByWordMatcher):
    """Also reveals the kitchen's size, to a question about square units."""

    def match(self, question, topic, statements):
        found = super().match(question, topic, statements)
        return np.maximum(found, [1.0 if s.endswith("square metres.") and "square" in question else 0.0
                                  for s in statements])


def test_with_plain_questions_a_facts_inquiry_is_tried_after_its_kinds_plain_question():
    """IN3's details are mostly of no kind the user recognises: its annotators' inquiry asks for one;
    a fact of a known kind still gets the plain question first (rft_inquiries with rft_plain_questions)."""
    inquiries = {"size": "How large is the room, in square units?", "money": "Any budget limits?",
                 "when": "Is there a deadline?"}
    partial = PartialTask("kitchen", "home", PARTIAL.request, FACTS, meta={"inquiries": inquiries})
    (group,) = hinted_groups(_EchoPolicy(), [partial], _SizeToo(), samples=2, turns=3, plain_questions=True,
                             inquiries=True)
    assert [t.question for t in group.best.turns] == [inquiries["size"], PLAIN_QUESTIONS["budget"],
                                                      PLAIN_QUESTIONS["timeline"]]
    (without,) = hinted_groups(_EchoPolicy(), [partial], _SizeToo(), samples=2, turns=3, plain_questions=True)
    assert without.best.revealed_ids == ["money", "when"]  # the policy's own "What is it?" found no size


def test_with_inquiries_first_a_facts_inquiry_is_tried_before_its_kinds_plain_question():
    """What the policy learns for a detail is the first question that draws it out: inquiries first, the
    annotators' question that names the request ("Is there a deadline for the kitchen?") is kept, not the
    kind's plain one; a fact whose inquiry draws nothing still falls back to the plain question."""
    inquiries = {"size": "How large is the room, in square units?", "money": "Any limits at all?",
                 "when": "Is there a deadline for the kitchen?"}
    partial = PartialTask("kitchen", "home", PARTIAL.request, FACTS, meta={"inquiries": inquiries})
    (group,) = hinted_groups(_EchoPolicy(), [partial], _SizeToo(), samples=2, turns=3, plain_questions=True,
                             inquiries=True, inquiries_first=True)
    assert [t.question for t in group.best.turns] == [inquiries["size"], PLAIN_QUESTIONS["budget"],
                                                      inquiries["when"]]
    (after,) = hinted_groups(_EchoPolicy(), [partial], _SizeToo(), samples=2, turns=3, plain_questions=True,
                             inquiries=True)
    assert after.best.turns[2].question == PLAIN_QUESTIONS["timeline"]


def test_with_inquiries_alone_a_task_with_inquiries_gets_no_plain_question_and_the_others_still_do():
    """``inquiries_alone``: a task whose file gives inquiries is asked with them only (nothing generated,
    no kind's plain question even for a fact of a known kind); a task without them (the corpus's) is
    hinted with plain questions as before."""
    from proactive.methods.rft import RFTSettings, sample_round

    inquiries = {"size": "How large is the room, in square units?", "money": "Any limits at all?",
                 "when": "Is there a deadline for the kitchen?"}
    with_inquiries = PartialTask("kitchen", "home", PARTIAL.request, FACTS, meta={"inquiries": inquiries})
    without = PartialTask("kitchen-2", "home", PARTIAL.request, FACTS)
    settings = RFTSettings(rounds=1, hinted_rounds=1, samples=2, plain_questions=True, inquiries=True,
                           inquiries_alone=True)
    class _Recording(_EchoPolicy):
        def ask_many(self, partials, histories, **options):
            self.asked_for = getattr(self, "asked_for", set()) | {p.task_id for p in partials}
            return super().ask_many(partials, histories, **options)

    policy = _Recording()
    people, ours = sample_round(policy, [with_inquiries, without], _SizeToo(), settings, index=0, seed=0)
    asked = [t.question for t in people.best.turns]
    # "Any limits at all?" draws nothing from this user, and no plain budget question stands in for it.
    assert asked == [inquiries["size"], inquiries["when"]]
    assert not set(asked) & set(PLAIN_QUESTIONS.values())
    assert PLAIN_QUESTIONS["budget"] in [t.question for t in ours.best.turns]
    assert policy.asked_for == {"kitchen-2"}  # the policy sampled only for the task without inquiries
    # Without the setting the same task's budget fact falls back to the plain question.
    mixed = dataclasses.replace(settings, inquiries_alone=False)
    (both, _) = sample_round(_EchoPolicy(), [with_inquiries, without], _SizeToo(), mixed, index=0, seed=0)
    assert PLAIN_QUESTIONS["budget"] in [t.question for t in both.best.turns]


def test_an_open_prefix_makes_every_kept_question_a_row_whatever_its_opening():
    """With the prompt ending in the label alone ("Question:"), a kept "Is there ...?" or "How ...?" is a
    row; with the seed word "What" only questions that start with it can be (the others are dropped)."""
    dialogue = _dialogue(("Is there a budget?", "money"), ("What is the size?", "size"))
    assert [r["completion"] for r in sft_examples([dialogue], _Tok(), "Question:")] == [" Is there a budget?",
                                                                                        " What is the size?"]
    assert [r["completion"] for r in sft_examples([dialogue], _Tok(), "Question: What")] == [" is the size?"]
    assert sft_examples([dialogue], _Tok(), "Question:")[0]["prompt"].endswith("Question:")
    # make demo trains on IN3's inquiries, 78% of which open otherwise than "What": its prefix has no seed word.
    from proactive.config import load_profile
    from proactive.policy import prefix_seed

    demo = load_profile("cpu-unsloth")
    assert prefix_seed(demo.question_prefix) == "" and demo.train.rft.inquiries and demo.train.rft.inquiries_first


def test_the_policy_samples_only_for_targets_the_plain_question_and_the_inquiry_missed():
    """Generating is the hinted round's cost: a target a given question already drew out gets no samples."""
    policy = _EchoPolicy()
    inquiries = {"size": "How large is the room, in square units?"}
    partial = PartialTask("kitchen", "home", PARTIAL.request, FACTS, meta={"inquiries": inquiries})
    hinted_groups(policy, [partial], _SizeToo(), samples=2, turns=3, plain_questions=True, inquiries=True)
    assert policy.calls == []  # size by its inquiry, budget and deadline by their plain questions
    policy = _EchoPolicy()
    (group,) = hinted_groups(policy, [PARTIAL], _SizeToo(), samples=2, turns=3, plain_questions=True)
    assert policy.calls == [["Question: What", "Question: What"]]  # only the size, which has no kind
    assert [t.question for t in group.best.turns] == [PLAIN_QUESTIONS["budget"], PLAIN_QUESTIONS["timeline"]]


def test_variants_reask_the_kept_questions_in_other_orders_and_after_a_miss():
    kept = Dialogue(PARTIAL, [Turn("What is your budget?", "8,000 euros.", ("money",), REVEALED),
                              Turn("What colour?", NO_PREFERENCE),
                              Turn("What is the deadline?", "March.", ("when",), REVEALED)])
    miss = Turn("What is the goal?", NO_PREFERENCE, kind=NO_MATCH)
    found = variants(kept, _ByWordMatcher(), turns=3, missed=[miss])
    orders = [[t.question for t in d.turns] for d in found]
    # Only what drew out a fact is reordered; prefixes of a longer order add nothing and are dropped.
    assert orders == [["What is your budget?", "What is the deadline?"],
                      ["What is the deadline?", "What is your budget?"],
                      ["What is the goal?", "What is your budget?", "What is the deadline?"],
                      ["What is the goal?", "What is the deadline?", "What is your budget?"]]
    assert all(d.revealed_ids and set(d.revealed_ids) <= {"money", "when"} for d in found)
    # The turn limit holds with the miss counted; re-asked, not assumed: a question the user would not
    # answer in that order (here: nothing matches "colour") never enters a variant.
    assert all(len(d.turns) <= 2 for d in variants(kept, _ByWordMatcher(), turns=2, missed=[miss]))
    assert len(variants(kept, _ByWordMatcher(), turns=3, missed=[miss], limit=2)) == 2
    rows = sft_examples(found, _Tok(), "Question: What")
    assert len(rows) == len({(r["prompt"], r["completion"]) for r in rows})  # shared openings once
    assert any(r["depth"] == 1 and "What is the goal?" in r["prompt"] for r in rows)  # a miss is history only
    assert not any(r["completion"] == " is the goal?" for r in rows)


def test_without_variants_a_round_trains_on_the_kept_dialogues_alone():
    kept = _dialogue(("What is your budget?", "money"))
    settings = load_profile("cpu-smoke").train.rft
    assert settings.variants == 0
    assert training_dialogues([kept], _ByWordMatcher(), settings.turns, settings.variants, settings.misses) == [kept]
    assert len(training_dialogues([kept], _ByWordMatcher(), 3, max_variants=2)) >= 1


def test_ceiling_is_the_most_important_facts_one_question_each():
    shares = ceiling_shares([PARTIAL], turns=2)
    assert shares[0] == pytest.approx(1.5 / 2.0)
    assert ceiling_shares([PARTIAL], turns=3)[0] == pytest.approx(1.0)


def test_headline_verdict_follows_the_intervals():
    rng = np.random.default_rng(0)
    trained = 0.4 + rng.normal(0, 0.02, 30)
    report = headline({"trained": trained, "template": trained - 0.2, "untrained": trained + rng.normal(0, 0.05, 30),
                       "ceiling": np.full(30, 0.9)})
    assert "more than template" in report["verdict"]
    assert "not significantly different from untrained" in report["verdict"]
    assert "0.900" in report["verdict"]
    worse = headline({"trained": trained - 0.3, "template": trained})
    assert "less than template" in worse["verdict"]


def test_unknown_training_method_is_one_line(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("train:\n  method: dpo\n")
    with pytest.raises(ProactiveError, match="train.method 'dpo' is not a list of training methods \\(rft, grpo, writer\\)"):
        load_profile(str(path))


@pytest.mark.slow
def test_one_rft_round_on_the_bundled_model_trains_resumes_and_logs(tmp_path):
    from dataclasses import replace

    from proactive.training import read_metrics, train

    profile = load_profile("cpu-smoke")
    train_settings = replace(profile.train, train_tasks=3, in3_tasks=0).with_method("rft").with_settings(
        "rft", rounds=1, hinted_rounds=1, samples=2, turns=2, epochs=1)
    profile = replace(profile, train=train_settings)
    result = train(profile, tmp_path / "train")
    assert (result.adapter_dir / "adapter_config.json").is_file()
    # Training moved every LoRA matrix: B starts at zero, so a B still zero was never trained.
    from safetensors.torch import load_file

    weights = load_file(str(result.adapter_dir / "adapter_model.safetensors"))
    b_matrices = [w for name, w in weights.items() if "lora_B" in name]
    assert b_matrices and all(w.abs().max().item() > 0 for w in b_matrices)
    record = [m for m in read_metrics(result.metrics_path) if m.get("method") == "rft"]
    assert len(record) == 1 and record[0]["round"] == 1 and record[0]["tasks"] == 3
    groups = [json.loads(ln) for ln in (tmp_path / "train" / "rft" / "round-1" / "groups.jsonl").read_text().splitlines()]
    assert len(groups) == 3 and all("kept" in g and g["dialogues"] for g in groups)
    # A finished run is not trained again.
    assert train(profile, tmp_path / "train").seconds == 0.0


def test_a_runs_figures_follow_its_method():
    from proactive.plots import training_figures

    rft = [{"method": "rft", "round": r, "tasks": 84, "samples": 3, "kept": 70, "improved": 70, "buffer": 70 + r,
            "examples": 100 + r, "mean_share": 0.2 * r, "kept_share": 0.3 * r, "sft_loss": 1.0, "seconds": 1.0}
           for r in (1, 2)]
    grpo = [{"step": s, "reward": 0.1 * s, "terms/elicitation": 0.05 * s} for s in (1, 2, 3)]
    (rounds,) = training_figures(rft)
    assert rounds.layout.title.text == "RFT rounds" and list(rounds.data[1].y) == [0.3, 0.6]
    both = training_figures(rft + grpo)
    assert [f.layout.title.text for f in both] == ["RFT rounds", "GRPO training"]
    assert list(both[1].data[0].y) == [0.1 * s for s in (1, 2, 3)]
    assert [f.layout.title.text for f in training_figures(grpo)] == ["GRPO training"]


@pytest.mark.parametrize("grouped, sampler", [(True, "group_by_length"), (False, "random")])
def test_fine_tuning_batches_rows_of_about_the_same_length_unless_told_not_to(tmp_path, monkeypatch, grouped, sampler):
    # A batch is padded to its longest row: grouped by length, the round computes on its rows, not on padding.
    import trl

    from proactive.methods.rft import RFTSettings, sft_round

    seen = {}

    class Trainer:
        def __init__(self, model, args, train_dataset, processing_class):
            seen["strategy"] = args.train_sampling_strategy

        def remove_callback(self, callback):
            pass

        def train(self):
            from types import SimpleNamespace
            return SimpleNamespace(training_loss=1.0)

    class Model:
        training = False

        def train(self, mode=True):
            pass

    monkeypatch.setattr(trl, "SFTTrainer", Trainer)
    monkeypatch.setattr("proactive.training.quiet_progress", lambda trainer: None)
    settings = RFTSettings(group_by_length=grouped)
    rows = [{"prompt": "Q" * n, "completion": " What?"} for n in (5, 50)]
    assert sft_round(Model(), None, rows, load_profile("cpu-smoke"), settings, tmp_path, seed=0, progress=False) == 1.0
    assert seen["strategy"] == sampler
    assert RFTSettings().group_by_length  # the default; recipes measured before it pin it off
    assert not load_profile(str(Path(__file__).parents[1] / "benchmarks/recipes/corpus-in3-open.yaml")
                            ).train.rft.group_by_length
