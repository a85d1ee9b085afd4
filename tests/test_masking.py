import dataclasses

import pytest

from proactive.errors import ProactiveError
from proactive.masking import (
    STRATEGIES,
    PartialTask,
    choose_hidden,
    default_k,
    mask,
    mask_many,
    split_tasks,
)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_masking_is_deterministic_per_seed(tasks, strategy):
    for task in tasks[:20]:
        assert mask(task, strategy, seed=3) == mask(task, strategy, seed=3)


def test_random_masking_depends_on_the_seed(tasks):
    hidden_sets = {
        seed: [tuple(f.id for f in mask(t, "random_k", seed=seed).hidden_facts) for t in tasks[:30]]
        for seed in (0, 1)
    }
    assert hidden_sets[0] != hidden_sets[1]


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_never_hides_everything_or_nothing(tasks, strategy):
    for partial in mask_many(tasks, strategy, seed=1):
        task = next(t for t in tasks if t.id == partial.task_id)
        assert 0 < len(partial.hidden_facts) < len(task.facts)
        assert len(partial.hidden_facts) + len(partial.visible_facts) == len(task.facts)


def test_extremes_only_when_asked(tasks):
    task = tasks[0]
    with pytest.raises(ProactiveError, match="would hide every fact"):
        mask(task, "top_k", k=len(task.facts))
    with pytest.raises(ProactiveError, match="would hide no fact"):
        mask(task, "random_k", k=0)
    assert len(mask(task, "top_k", k=len(task.facts), allow_extremes=True).hidden_facts) == len(task.facts)


def test_top_k_hides_the_most_important(tasks):
    for task in tasks[:40]:
        partial = mask(task, "top_k", k=2)
        cutoff = min(f.importance for f in partial.hidden_facts)
        assert all(f.importance <= cutoff for f in partial.visible_facts)


def test_category_strategy_hides_whole_categories(tasks):
    task = next(t for t in tasks if any(f.category == "budget" for f in t.facts))
    partial = mask(task, "category", categories=["budget"])
    assert {f.category for f in partial.hidden_facts} == {"budget"}
    assert all(f.category != "budget" for f in partial.visible_facts)
    with pytest.raises(ProactiveError, match="unknown fact categories"):
        choose_hidden(task, "category", categories=["mood"])


def test_category_masking_skips_tasks_without_the_category(tasks):
    partials = mask_many(tasks, "category", categories=["budget"])
    with_budget = [t for t in tasks if any(f.category == "budget" for f in t.facts)]
    assert 0 < len(partials) <= len(with_budget)


def test_visible_request_is_natural_and_leaks_nothing(tasks):
    for task in tasks:
        partial = mask(task, "top_k")
        assert "[MASK" not in partial.request.upper() and "___" not in partial.request
        assert partial.request.startswith(task.objective)
        for fact in partial.hidden_facts:
            assert fact.statement not in partial.request
        for fact in partial.visible_facts:
            assert fact.statement in partial.request


def test_unknown_strategy_and_bad_k(tasks):
    with pytest.raises(ProactiveError, match="unknown masking strategy 'sometimes'"):
        mask(tasks[0], "sometimes")
    with pytest.raises(ProactiveError, match="out of range"):
        mask(tasks[0], "top_k", k=99)


def test_default_k_leaves_something_each_side():
    assert [default_k(n) for n in (2, 4, 5, 6, 8)] == [1, 2, 3, 3, 4]


def test_partial_task_round_trips(tasks):
    partial = mask(tasks[5], "random_k", seed=9)
    assert PartialTask.from_dict(partial.to_dict()) == partial
    with pytest.raises(ProactiveError, match="not a masked task record"):
        PartialTask.from_dict({"request": "x"})


def test_splits_are_disjoint_and_cover_every_task(tasks):
    splits = split_tasks(tasks, seed=0)
    ids = [t.id for members in splits.values() for t in members]
    assert sorted(ids) == sorted(t.id for t in tasks)
    assert len(ids) == len(set(ids))
    # Stratified: every domain appears in train and in test.
    domains = {t.domain for t in tasks}
    assert {t.domain for t in splits["train"]} == domains == {t.domain for t in splits["test"]}
    assert 0.6 < len(splits["train"]) / len(tasks) < 0.8


def test_splits_are_stable_when_the_corpus_grows(tasks):
    before = split_tasks(tasks[::2] + tasks[1::2][:-12], seed=0)  # then 12 tasks are added
    after = split_tasks(tasks, seed=0)
    where_after = {t.id: name for name, members in after.items() for t in members}
    moved = [t.id for name, members in before.items() for t in members if where_after[t.id] != name]
    grown = {t.domain for t in tasks[1::2][-12:]}
    # Only tasks next to the cut points of the domains that grew may change split.
    assert len(moved) <= 2 * len(grown)


def test_split_seed_changes_membership_and_bad_ratios(tasks):
    assert split_tasks(tasks, seed=0)["test"] != split_tasks(tasks, seed=1)["test"]
    with pytest.raises(ProactiveError, match="split ratios"):
        split_tasks(tasks, ratios=(0.5, 0.5, 0.5))


def test_partial_task_is_frozen(tasks):
    with pytest.raises(dataclasses.FrozenInstanceError):
        mask(tasks[0]).request = "changed"
