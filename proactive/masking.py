"""Masking: turn a fully specified task into an under-specified one.

The paper builds its training data by taking complete, real-world requests and hiding key
facts. The visible request still reads naturally (no "[MASKED]" placeholders: the hidden facts
are simply not said), and the hidden facts become the simulated user's *implicit knowledge*.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from .errors import ProactiveError, TaskFormatError, shown
from .tasks import CATEGORIES, MAX_REQUEST_CHARS, Fact, Task, compose_request, contains_words, words_of

STRATEGIES: tuple[str, ...] = ("top_k", "random_k", "category")
SPLITS: tuple[str, ...] = ("train", "validation", "test")
DEFAULT_SPLIT_RATIOS: tuple[float, float, float] = (0.7, 0.1, 0.2)


@dataclass(frozen=True)
class PartialTask:
    """What the assistant sees (``request``) and what only the user knows (``hidden_facts``)."""

    task_id: str
    domain: str
    request: str
    hidden_facts: tuple[Fact, ...]
    visible_facts: tuple[Fact, ...] = ()
    strategy: str = "top_k"
    seed: int = 0
    # Extra material an adapter attaches (e.g. Qulac's human question/answer pairs).
    meta: dict[str, Any] = field(default_factory=dict, compare=False)

    def check_hidden(self) -> PartialTask:
        """This task, if what the user knows and the assistant does not is that; else a one-line error. A
        request longer than a small model reads is refused; a hidden fact the request already says word
        for word is not hidden (restating the request would "draw it out"), and a fact hidden twice
        would be paid twice. Checked where a masked task comes from outside (a task file, a reward line);
        inside, the outline writer's prompt puts told facts into the request on purpose."""
        if len(self.request) > MAX_REQUEST_CHARS:
            raise TaskFormatError(f"task {shown(self.task_id)}: its request is {len(self.request):,} characters (at "
                                  f"most {MAX_REQUEST_CHARS:,} are read; a small model's context holds little "
                                  "more): shorten it")
        request = words_of(self.request)
        seen: dict[tuple[str, ...], str] = {}
        for fact in self.hidden_facts:
            words = words_of(fact.statement)
            if contains_words(request, words):
                raise TaskFormatError(f"task {shown(self.task_id)}: hidden fact {shown(fact.id)} is in the request "
                                      f"word for word ({shown(fact.statement)}); it is not hidden: take it out of "
                                      "the request or make it visible")
            if words in seen:
                raise TaskFormatError(f"task {shown(self.task_id)}: hidden facts {shown(seen[words])} and "
                                      f"{shown(fact.id)} say the same ({shown(fact.statement)}); keep one")
            seen[words] = fact.id
        return self

    @property
    def hidden_weight(self) -> float:
        """Total importance of the hidden facts: the most a perfect interviewer can elicit."""
        return sum(f.importance for f in self.hidden_facts)

    def inquiries(self) -> dict[str, str]:
        """The example inquiry the task's file gives for each hidden fact (IN3's annotator-written
        ``inquiry``, kept in ``meta``), by fact id; blank or non-text ones left out."""
        given = self.meta.get("inquiries") if isinstance(self.meta, dict) else None
        if not isinstance(given, dict):
            return {}
        return {f.id: given[f.id].strip() for f in self.hidden_facts
                if isinstance(given.get(f.id), str) and given[f.id].strip()}

    def share_of(self, fact_ids, confidence=None) -> float:
        """The importance-weighted share of the hidden facts among ``fact_ids`` (the paper's
        elicitation): each counted once, ids that are not hidden facts ignored, each weighted by its
        ``confidence`` (a mapping id -> factor) where given. The one place this share is computed."""
        weights = {f.id: f.importance for f in self.hidden_facts}
        got = {i for i in fact_ids if i in weights}
        factor = confidence or {}
        return sum(weights[i] * factor.get(i, 1.0) for i in got) / (sum(weights.values()) or 1.0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "domain": self.domain,
            "request": self.request,
            "hidden_facts": [asdict(f) for f in self.hidden_facts],
            "visible_facts": [asdict(f) for f in self.visible_facts],
            "strategy": self.strategy,
            "seed": self.seed,
            "meta": self.meta,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PartialTask:
        try:
            return cls(
                task_id=data["task_id"],
                domain=data["domain"],
                request=data["request"],
                hidden_facts=tuple(Fact(**f) for f in data["hidden_facts"]),
                visible_facts=tuple(Fact(**f) for f in data.get("visible_facts", [])),
                strategy=data.get("strategy", "top_k"),
                seed=int(data.get("seed", 0)),
                meta=dict(data.get("meta", {})),
            )
        except TaskFormatError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ProactiveError(
                f"not a masked task record ({shown(exc, 120)}); write it with PartialTask.to_dict or `proactive mask`"
            ) from None


def default_k(n_facts: int) -> int:
    """Hide about half the facts (rounded up), leaving at least one visible."""
    return min(max(1, math.ceil(n_facts / 2)), max(n_facts - 1, 0))


def _rng(task: Task, strategy: str, seed: int) -> random.Random:
    # A string seed is hashed with SHA-512 by `random`, so this is stable across processes
    # and Python hash randomisation.
    return random.Random(f"{task.id}|{strategy}|{seed}")


def choose_hidden(
    task: Task,
    strategy: str = "top_k",
    k: int | None = None,
    seed: int = 0,
    categories: Sequence[str] | None = None,
) -> list[Fact]:
    """Pick the facts to hide, deterministically for a given task, strategy and seed.

    - ``top_k``: the ``k`` most important facts (ties broken by the seed).
    - ``random_k``: ``k`` facts drawn at random.
    - ``category``: every fact of the given categories; without ``categories``, whole
      categories drawn at random until at least ``k`` facts are hidden.
    """
    if strategy not in STRATEGIES:
        raise ProactiveError(f"unknown masking strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")
    n = len(task.facts)
    k = default_k(n) if k is None else k
    if not 0 <= k <= n:
        raise ProactiveError(f"k={k} is out of range for task {task.id} with {n} facts; use 0..{n}")
    rng = _rng(task, strategy, seed)
    if strategy == "top_k":
        tiebreak = {f.id: rng.random() for f in task.facts}
        return sorted(task.facts, key=lambda f: (-f.importance, tiebreak[f.id]))[:k]
    if strategy == "random_k":
        return rng.sample(list(task.facts), k)
    if categories:
        unknown = sorted(set(categories) - set(CATEGORIES))
        if unknown:
            raise ProactiveError(f"unknown fact categories {unknown}; choose from {', '.join(CATEGORIES)}")
        return [f for f in task.facts if f.category in set(categories)]
    present = sorted({f.category for f in task.facts})
    rng.shuffle(present)
    chosen: set[str] = set()
    hidden: list[Fact] = []
    for category in present:
        if len(hidden) >= k:
            break
        extra = [f for f in task.facts if f.category == category]
        if len(hidden) + len(extra) >= n and hidden:
            continue  # hiding this whole category would leave nothing visible
        chosen.add(category)
        hidden = [f for f in task.facts if f.category in chosen]
    return hidden


def mask(
    task: Task,
    strategy: str = "top_k",
    k: int | None = None,
    seed: int = 0,
    categories: Sequence[str] | None = None,
    allow_extremes: bool = False,
) -> PartialTask:
    """Hide some of ``task``'s facts and write the visible request without them.

    Hiding every fact or none is refused unless ``allow_extremes`` is set: neither gives the
    assistant anything to ask about *and* something to go on.
    """
    hidden = choose_hidden(task, strategy, k, seed, categories)
    hidden_ids = {f.id for f in hidden}
    if not allow_extremes and len(hidden_ids) in (0, len(task.facts)):
        what = "no fact" if not hidden_ids else "every fact"
        raise ProactiveError(
            f"masking task {task.id} with {strategy!r} would hide {what}; "
            "choose another k or categories, or pass allow_extremes=True"
        )
    visible = tuple(f for f in task.facts if f.id not in hidden_ids)
    return PartialTask(
        task_id=task.id,
        domain=task.domain,
        request=compose_request(task.objective, [f.statement for f in visible], task.deliverable),
        # Keep the task's own fact order so outputs read the same whatever the strategy.
        hidden_facts=tuple(f for f in task.facts if f.id in hidden_ids),
        visible_facts=visible,
        strategy=strategy,
        seed=seed,
    )


def mask_many(
    tasks: Iterable[Task],
    strategy: str = "top_k",
    k: int | None = None,
    seed: int = 0,
    categories: Sequence[str] | None = None,
) -> list[PartialTask]:
    """Mask each task; with explicit ``categories``, tasks that lack them (or have only them) are skipped."""
    out = []
    for task in tasks:
        try:
            out.append(mask(task, strategy, k, seed, categories))
        except ProactiveError:
            if strategy == "category" and categories:
                continue
            raise
    return out


def _split_key(task_id: str, seed: int) -> str:
    return hashlib.sha256(f"{seed}|{task_id}".encode()).hexdigest()


def split_tasks(
    tasks: Sequence[Task],
    ratios: Sequence[float] = DEFAULT_SPLIT_RATIOS,
    seed: int = 0,
) -> dict[str, list[Task]]:
    """Split by task (never by masked variant), stratified by domain.

    Within a domain, tasks are ordered by a hash of their id and the seed and cut by the ratios,
    so no task can land in two splits, the order never depends on file order, and a task added
    later moves at most the few tasks next to its domain's cut points.
    """
    if len(ratios) != 3 or any(r < 0 for r in ratios) or not math.isclose(sum(ratios), 1.0):
        raise ProactiveError(f"split ratios must be three non-negative numbers summing to 1 (got {list(ratios)})")
    by_domain: dict[str, list[Task]] = {}
    for task in tasks:
        by_domain.setdefault(task.domain, []).append(task)
    splits: dict[str, list[Task]] = {name: [] for name in SPLITS}
    cut1, cut2 = ratios[0], ratios[0] + ratios[1]
    for domain in sorted(by_domain):
        ordered = sorted(by_domain[domain], key=lambda t: _split_key(t.id, seed))
        n = len(ordered)
        a, b = int(n * cut1 + 0.5), int(n * cut2 + 0.5)
        splits["train"].extend(ordered[:a])
        splits["validation"].extend(ordered[a:b])
        splits["test"].extend(ordered[b:])
    return splits
