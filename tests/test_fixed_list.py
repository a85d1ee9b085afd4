"""The best fixed list: the strongest baseline that reads nothing, chosen greedily on training tasks
under the same simulated user, asked unchanged on held-out ones; and the per-kind table that shows
what a kind prior reaches and what it does not."""

from __future__ import annotations

import json

import numpy as np
import pytest

from proactive.canned_questions import FIXED_LIST_BANK, KIND_QUESTIONS
from proactive.errors import ProactiveError
from proactive.evaluation import SystemResult, elicited_by_kind, headline, sampled_shares
from proactive.fixed_list import NAME, FixedList, choose_fixed_list, fixed_list_system
from proactive.masking import mask_many, split_tasks
from proactive.simulator import Dialogue, SimulatedUser, Turn


@pytest.fixture(scope="module")
def train_partials(tasks):
    return mask_many(split_tasks(tasks, seed=0)["train"][:12], "top_k", seed=0)


def mean_share(partials, matcher, questions) -> float:
    """The mean share a list draws out when each task's user answers it as a dialogue."""
    total = 0.0
    for p in partials:
        user, turns = SimulatedUser(p, matcher), []
        for q in questions:
            turns.append(user.answer(q, turns))
        total += p.share_of({f for t in turns for f in t.revealed})
    return total / len(partials)


def test_the_list_is_chosen_greedily_on_the_training_tasks(train_partials, matcher):
    bank = FIXED_LIST_BANK[:9]
    fixed = choose_fixed_list(train_partials, matcher, turns=3, bank=bank, progress=False)
    assert len(set(fixed.questions)) == 3 and set(fixed.questions) <= set(bank)
    assert fixed.task_ids == tuple(p.task_id for p in train_partials) and fixed.bank == bank
    # Each question is the bank's best addition to those before it (a tie goes to the earlier one) ...
    for k, question in enumerate(fixed.questions):
        before = list(fixed.questions[:k])
        gains = {q: mean_share(train_partials, matcher, [*before, q]) for q in bank if q not in before}
        best = max(gains.values())
        assert gains[question] == pytest.approx(best)
        assert question == next(q for q in bank if q in gains and gains[q] >= best - 1e-12)
        # ... and its recorded share is what the list so far draws out.
        assert fixed.train_shares[k] == pytest.approx(mean_share(train_partials, matcher, fixed.questions[: k + 1]), abs=1e-5)
    assert list(fixed.train_shares) == sorted(fixed.train_shares) and fixed.train_shares[-1] > 0


def test_the_list_is_asked_unchanged_on_every_task_and_reads_nothing(train_partials, matcher):
    fixed = FixedList(("Who is this for?", "What is your budget?"), (0.1, 0.2), ("t",), FIXED_LIST_BANK)
    system = fixed_list_system(None, fixed)
    assert system.name == NAME
    assert system.ask_many(train_partials[:2]) == ["Who is this for?"] * 2
    assert system.ask_many(train_partials[:1], [[("q", "a")]]) == ["What is your budget?"]
    assert system.ask_many(train_partials[:1], [[("q", "a")] * 2]) == [""]  # the list is over: it stops asking
    shares = sampled_shares(system, train_partials[:4], matcher, turns=2, samples=1)
    assert np.allclose(shares.mean(), mean_share(train_partials[:4], matcher, fixed.questions))


def test_a_bank_too_small_or_no_tasks_is_one_line(train_partials, matcher):
    with pytest.raises(ProactiveError, match="a list of 3 needs at least that many"):
        choose_fixed_list(train_partials, matcher, turns=3, bank=("Who is this for?", "Who is this for?", " "))
    with pytest.raises(ProactiveError, match="chosen on training tasks; none were given"):
        choose_fixed_list([], matcher)


def test_the_run_folder_keeps_the_list_and_chooses_again_when_the_tasks_change(tmp_path, train_partials, matcher,
                                                                               monkeypatch):
    from proactive import fixed_list as module
    from proactive.config import load_profile
    from proactive.run_folder import RunDir

    run = RunDir(tmp_path, load_profile("cpu-smoke"))
    calls = []
    real = module.choose_fixed_list

    def counted(partials, matcher, turns=3, **kw):
        calls.append(len(partials))
        return real(partials, matcher, turns=turns, bank=FIXED_LIST_BANK, progress=False)

    monkeypatch.setattr(module, "choose_fixed_list", counted)
    first = run.best_fixed_list(matcher, train_partials[:3])
    assert run.best_fixed_list(matcher, train_partials[:3]) == first and calls == [3]  # kept
    run.best_fixed_list(matcher, train_partials[:4])  # other training tasks: chosen again
    assert calls == [3, 4]
    run.best_fixed_list(matcher, train_partials[:4], turns=2)  # another length: chosen again
    assert calls == [3, 4, 4]
    (tmp_path / "best_fixed_list.json").write_text('{"questions": ["x"]}')  # damaged: chosen again
    again = run.best_fixed_list(matcher, train_partials[:3])
    assert again == first and calls[-1] == 3
    assert json.loads((tmp_path / "best_fixed_list.json").read_text())["questions"] == list(first.questions)


def test_each_held_out_set_gets_the_list_chosen_on_its_own_training_side(tmp_path, matcher, monkeypatch):
    # A list chosen on a mix of the corpus's and IN3's training tasks is a weak control on either: each held-out
    # set is compared with the list chosen on its own kind of training task, kept in a file of its own.
    from dataclasses import replace

    from proactive import fixed_list as module
    from proactive.config import load_profile
    from proactive.run_folder import RunDir
    from proactive.task_files import in3_fixed_list_tasks, in3_partials, profile_partials

    profile = load_profile("cpu-smoke")
    assert profile.train.in3_tasks == 2
    corpus_only = profile_partials(profile, "train", with_in3=False)
    assert [p.task_id for p in profile_partials(profile, "train")] == [
        *(p.task_id for p in corpus_only), *(p.task_id for p in in3_partials("train", 2))]
    assert not any(p.meta.get("source") == "IN3" for p in corpus_only)
    # IN3's list: IN3's training side, as many tasks as the profile trains on, or as are held out when none.
    assert [p.meta.get("split") for p in in3_fixed_list_tasks(profile, 5)] == ["train", "train"]
    untrained_on_in3 = replace(profile, train=replace(profile.train, in3_tasks=0))
    chosen_on = in3_fixed_list_tasks(untrained_on_in3, 5)
    assert len(chosen_on) == 5 and all(p.meta.get("split") == "train" for p in chosen_on)
    assert not {p.task_id for p in chosen_on} & {p.task_id for p in in3_partials("test")}

    def chosen(partials, matcher, turns=3, **kw):  # which tasks it was chosen on is what this test is about
        return FixedList(("Who is this for?",) * turns, (0.1,) * turns, tuple(p.task_id for p in partials),
                         FIXED_LIST_BANK)

    monkeypatch.setattr(module, "choose_fixed_list", chosen)
    run = RunDir(tmp_path, profile)
    corpus_list = run.best_fixed_list(matcher)
    in3_list = run.best_fixed_list(matcher, in3_fixed_list_tasks(profile, 2), name="best_fixed_list_in3")
    assert corpus_list.task_ids == tuple(p.task_id for p in corpus_only)
    assert all(t.startswith("in3") for t in in3_list.task_ids)
    # Two files: asking for one never chooses the other again.
    assert json.loads((tmp_path / "best_fixed_list.json").read_text())["task_ids"] == list(corpus_list.task_ids)
    assert json.loads((tmp_path / "best_fixed_list_in3.json").read_text())["task_ids"] == list(in3_list.task_ids)


def test_the_headline_compares_the_trained_policy_with_the_best_fixed_list_first():
    rng = np.random.default_rng(0)
    trained = rng.uniform(0.2, 0.6, 30)
    report = headline({"trained": trained, "untrained": trained - 0.3, "template": trained - 0.2,
                       NAME: trained + 0.001 * rng.normal(size=30), "ceiling": np.ones(30)})
    assert list(report["differences"]) == [NAME, "template", "untrained"]
    assert "not significantly different from best fixed list (" in report["verdict"]
    assert NAME not in headline({"trained": trained, "template": trained - 0.2})["differences"]


def _dialogue(partial, revealed: list[str]) -> Dialogue:
    return Dialogue(partial, [Turn("q?", "a", revealed=(r,)) for r in revealed])


def test_the_kind_table_counts_each_kind_of_hidden_detail_drawn_out(train_partials):
    p = train_partials[0]
    by_kind: dict[str, list[str]] = {}
    for fact in p.hidden_facts:
        by_kind.setdefault(fact.category, []).append(fact.id)
    kind, ids = next(iter(by_kind.items()))
    asked = SystemResult("kind list", [_dialogue(p, ids[:1])], [[]], [[]])
    nothing = SystemResult("untrained", [_dialogue(p, [])], [[]], [[]])
    oracle = SystemResult("oracle", [_dialogue(p, [])], [[]], [[]], sees_all_facts=True)
    table = elicited_by_kind([asked, nothing, oracle])
    assert set(table) == set(by_kind)
    assert table[kind] == {"facts": len(ids), "kind list": round(1 / len(ids), 4), "untrained": 0.0}
    assert all("oracle" not in row for row in table.values())  # handed every fact: not a questioner
    assert KIND_QUESTIONS  # the bank's kind questions are the project's own


@pytest.mark.parametrize("question, asked_of, names", [
    ("What type of pizza should I order?", "Order pizza for my team's Friday lunch.", True),
    ("Which directory should the script clean?", "Write a script that deletes old files from a directory.", True),
    ("What toppings does your team like?", "Order pizza for my team's lunch; list toppings and budget.", True),
    # kind words, even where the request itself uses them, name nothing particular to it
    ("Are there any constraints I should know about?", "Plan a data study. Outline: goals, constraints.", False),
    ("What is your budget?", "Plan a wedding on a budget.", False),
    ("Who is this for?", "Write a lesson plan on fractions.", False),
    ("What is the main goal?", "Help me with my project.", False),
])
def test_a_question_names_the_request_only_by_its_particular_subject(question, asked_of, names):
    from proactive.questions import names_request_subject

    assert names_request_subject(question, asked_of) is names


def test_the_share_of_questions_naming_the_request_is_per_system(train_partials):
    from proactive.evaluation import naming_the_request

    p = train_partials[0]
    subject = next(w for w in p.request.split() if len(w) > 6 and w.isalpha())
    reads = SystemResult("reads", [Dialogue(p, [Turn(f"What kind of {subject} do you mean?", "a"),
                                                Turn("What is your budget?", "b")])], [[]], [[]])
    fixed = SystemResult("fixed", [Dialogue(p, [Turn("Who is this for?", "a")])], [[]], [[]])
    silent = SystemResult("none", [Dialogue(p, [])], [[]], [[]])
    assert naming_the_request([reads, fixed, silent]) == {"reads": 0.5, "fixed": 0.0}


def test_the_kind_table_prints_a_row_per_kind_and_the_naming_row_in_the_same_columns():
    from proactive.pipeline import kind_table_text

    text = kind_table_text({"specifics": {"facts": 40, "trained": 0.1, NAME: 0.0},
                            "audience": {"facts": 10, "trained": 0.5}}, {"trained": 0.25, NAME: 0.0})
    header, specifics, audience, naming = text.splitlines()[1:]
    assert specifics.split() == ["specifics", "40", "0.100", "0.000"] and audience.split() == ["audience", "10", "0.500"]
    assert naming.endswith("0.250             0.000") and len(naming) == len(specifics) == len(header)
    assert "dataset's inquiries" in kind_table_text({"specifics": {"facts": 1, "dataset's inquiries": 1.0}})
