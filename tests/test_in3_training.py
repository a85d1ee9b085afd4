"""IN3 in training and in the report: the demo trains on the corpus and IN3's train side together and
measures on IN3's held-out side too, with IN3's own inquiries (people's questions) as the reference."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from proactive.config import load_profile
from proactive.errors import ProactiveError
from proactive.evaluation import INQUIRIES, headline, headline_dialogues, kind_shares, naming_shares, share_of
from proactive.fidelity import inquiry_check, inquiry_dialogue
from proactive.fixed_list import NAME
from proactive.simulator import Dialogue, Turn
from proactive.systems import TemplateQuestions
from proactive.task_files import in3_partials, profile_partials


@pytest.fixture(scope="module")
def held_out():
    return in3_partials("test", 6)


def test_training_adds_in3_s_train_side_after_the_corpus_and_never_its_held_out_side():
    profile = load_profile("cpu-smoke")
    profile = replace(profile, train=replace(profile.train, in3_tasks=0))
    alone = profile_partials(profile, "train")
    mixed = profile_partials(replace(profile, train=replace(profile.train, in3_tasks=7)), "train")
    assert [p.task_id for p in mixed[: len(alone)]] == [p.task_id for p in alone]
    added = mixed[len(alone):]
    assert len(added) == 7 and all(p.meta["source"] == "IN3" and p.meta["split"] == "train" for p in added)
    test_ids = {p.task_id for p in in3_partials("test")}
    assert test_ids and not test_ids & {p.task_id for p in mixed}
    # the held-out split is the corpus's alone, whatever the training mix
    assert profile_partials(replace(profile, train=replace(profile.train, in3_tasks=7)), "test") == \
        profile_partials(profile, "test")


def test_in3_sides_are_disjoint_and_an_unknown_side_is_one_line():
    train, test = in3_partials("train"), in3_partials("test")
    assert len(train) > 3 * len(test) > 0 and not {p.task_id for p in train} & {p.task_id for p in test}
    assert [p.task_id for p in in3_partials("test", 3)] == [p.task_id for p in test[:3]]
    with pytest.raises(ProactiveError, match="unknown IN3 side 'dev'; use train or test"):
        in3_partials("dev")


@pytest.mark.parametrize("key, value", [("train.in3_tasks", -1), ("in3_held_out", -2)])
def test_a_negative_in3_count_is_refused_when_the_profile_loads(tmp_path, key, value):
    path = tmp_path / "bad.yaml"
    section, _, name = key.rpartition(".")
    path.write_text("base: cpu-smoke\n" + (f"{section}:\n  {name}: {value}\n" if section else f"{name}: {value}\n"))
    with pytest.raises(ProactiveError, match=f"{key} must be at least 0"):
        load_profile(str(path))


def test_the_inquiry_dialogue_asks_people_s_questions_most_important_first(held_out, matcher):
    partial = held_out[0]
    dialogue = inquiry_dialogue(partial, matcher, turns=3)
    inquiries = partial.inquiries()
    assert 0 < len(dialogue.turns) <= 3
    order = [f.id for f in sorted(partial.hidden_facts, key=lambda f: -f.importance) if f.id in inquiries]
    assert dialogue.turns[0].question == inquiries[order[0]]
    assert all(t.question in inquiries.values() for t in dialogue.turns)
    # what the fidelity check reports is the same dialogue's share
    check = inquiry_check([partial], matcher, turns=3, progress=False)
    assert check.drawn == pytest.approx(partial.share_of(dialogue.revealed_ids))


def test_the_headline_has_the_dataset_s_inquiries_only_where_every_task_has_them(held_out, matcher, tasks):
    from proactive.masking import mask_many

    template = TemplateQuestions(None)
    found = headline_dialogues(template, template, held_out[:3], matcher, turns=2, samples=2,
                               fixed_list=["Who is this for?"])
    assert set(found) == {"trained", "untrained", "template", NAME, INQUIRIES}
    assert len(found["trained"]) == 6 and len(found[INQUIRIES]) == 3  # samples per task; one inquiry dialogue
    corpus = mask_many(tasks[:2], "top_k", seed=0)  # the corpus has no inquiries
    assert INQUIRIES not in headline_dialogues(template, template, [held_out[0], *corpus], matcher, turns=1, samples=1)


def test_the_kind_table_counts_each_fact_once_however_many_samples(held_out):
    p = held_out[0]
    fact = p.hidden_facts[0]
    sampled = [Dialogue(p, [Turn("q?", "a", revealed=(fact.id,))]), Dialogue(p, [])]  # two samples of one task
    table = kind_shares({"trained": sampled, "untrained": [Dialogue(p, []), Dialogue(p, [])]})
    same_kind = [f for f in p.hidden_facts if f.category == fact.category]
    row = table[fact.category]
    assert row["facts"] == len(same_kind)  # not doubled by the two samples
    assert row["trained"] == round(1 / (2 * len(same_kind)), 4) and row["untrained"] == 0.0


def test_naming_shares_reads_questions_against_their_own_request(held_out):
    pizza = replace(held_out[0], request="Order pizza for my team's Friday lunch.")
    review = replace(held_out[0], request="Find the latest review of the phone I bought.")
    asked = Turn("What type of pizza should I order?", "a")
    shares = naming_shares({"reads": [Dialogue(pizza, [asked])], "elsewhere": [Dialogue(review, [asked])],
                            "fixed": [Dialogue(pizza, [Turn("Who is this for?", "a")])], "silent": [Dialogue(pizza, [])]})
    assert shares == {"reads": 1.0, "elsewhere": 0.0, "fixed": 0.0}  # the same question names another request's nothing


def test_share_of_the_inquiries_is_a_ratio_of_means_with_an_interval():
    rng = np.random.default_rng(0)
    reference = rng.uniform(0.4, 0.8, 40)
    mine = 0.5 * reference
    reached = share_of(mine, reference)
    assert reached["share"] == pytest.approx(0.5) and reached["ci_low"] <= 0.5 <= reached["ci_high"]
    assert reached["ci_high"] - reached["ci_low"] < 0.01  # exactly half on every task
    noisy = share_of(mine + rng.normal(0, 0.1, 40), reference)
    assert noisy["ci_low"] < noisy["share"] < noisy["ci_high"]
    assert share_of(mine, np.zeros(40)) is None  # a reference that draws nothing out has no share


def test_the_verdict_says_what_share_of_people_s_questions_the_policy_reaches():
    rng = np.random.default_rng(1)
    trained = rng.uniform(0.2, 0.4, 30)
    report = headline({"trained": trained, "untrained": trained - 0.2, "template": trained - 0.1,
                       NAME: trained - 0.1, INQUIRIES: trained * 2, "ceiling": np.ones(30)})
    assert list(report["differences"]) == [NAME, "template", "untrained"]  # the reference is not a rival
    assert report["share_of_inquiries"]["share"] == pytest.approx(0.5)
    assert f"The {INQUIRIES} (people's questions for these very details) draw out" in report["verdict"]
    assert "reaches 0.50 of that" in report["verdict"]
    assert "share_of_inquiries" not in headline({"trained": trained, "template": trained})
