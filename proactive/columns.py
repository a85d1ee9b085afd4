"""The TRL column codec: a masked task and its dialogue history as plain dataset columns, and back.

GRPOTrainer hands a reward function its dataset's columns, not our dataclasses, so a
:class:`~proactive.masking.PartialTask` crosses that boundary as columns and is rebuilt on the
other side with the same fact ids, kinds and importances; facts an earlier answer revealed travel
as fact ids in ``history``, never re-detected from the answer's wording. ``proactive reward``
reads the same format from a JSONL file.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from typing import Any

from .errors import ProactiveError, shown
from .files import parse_json
from .masking import PartialTask
from .questions import normalize
from .simulator import GIVEN, MAX_TURNS, NO_MATCH, REVEALED, Turn, mentions
from .tasks import CATEGORIES, DEFAULT_CATEGORY, Fact

#: The most hidden facts a line may give (the corpus's tasks have 4-8; IN3's up to 8).
MAX_COLUMN_FACTS = 50


def _maybe_json(value: object) -> object:
    # Training datasets carry list columns as JSON text (Arrow cannot type an all-empty list column).
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return parse_json(value, "a list column")
        except ProactiveError as exc:
            if "not valid JSON" in str(exc):
                return value  # plain text that starts with a bracket: the column's own check says what is wrong
            raise
    return value


def _text_list(value: object, name: str) -> list[str]:
    """A list of strings, blanks kept (their positions are the indices callers speak in)."""
    value = _maybe_json(value)
    if value is None:
        return []
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ProactiveError(f"'{name}' must be a list of strings (got {type(value).__name__})")
    return list(value)


def _categories(value: object, n: int, name: str) -> list[str]:
    """Each fact's kind (see proactive.tasks.CATEGORIES); DEFAULT_CATEGORY (reached by content only) if absent."""
    kinds = _text_list(value, name)
    if not kinds:
        return [DEFAULT_CATEGORY] * n
    if len(kinds) != n or any(k not in CATEGORIES for k in kinds):
        raise ProactiveError(f"'{name}' must give one of {', '.join(CATEGORIES)} for each fact")
    return kinds


def _weights(value: object, n: int) -> list[float]:
    """The hidden facts' importances, relative to each other: absent means all equal; otherwise one
    finite positive number per fact, scaled so the largest is 1 (the reward is a share, so only their
    ratios count, and [1e308, 1e308] must not sum to infinity)."""
    value = _maybe_json(value)
    if value is None:
        return [1.0] * n
    if not isinstance(value, (list, tuple)) or len(value) != n or not all(
        isinstance(w, (int, float)) and not isinstance(w, bool) and math.isfinite(w) and w > 0 for w in value
    ):
        raise ProactiveError(f"'importances' must be finite positive numbers, one per hidden fact (got {shown(value)})")
    top = max(value, default=1.0)
    scaled = [w / top for w in value]
    if any(w <= 0 for w in scaled):
        raise ProactiveError("'importances' span too wide a range (one is below 1e-308 times another); give "
                             "weights within a factor of a million or so of each other")
    return scaled


def _fact_ids(value: object, n: int) -> list[str]:
    ids = _text_list(value, "fact_ids")
    if not ids:
        return [f"h{i}" for i in range(n)]
    if len(ids) != n or len(set(ids)) != n or not all(i.strip() for i in ids):
        raise ProactiveError("'fact_ids' must give a distinct, non-empty id for each hidden fact")
    return ids


def _revealed_ids(value: object, ids: Sequence[str], facts: Sequence[Fact]) -> tuple[str, ...]:
    """A history turn's ``revealed``: fact ids, or indices into ``hidden_facts``."""
    value = _maybe_json(value)
    live = {f.id for f in facts}
    if not isinstance(value, (list, tuple)):
        raise ProactiveError("a history item's 'revealed' must be a list of fact ids or indices into 'hidden_facts'")
    out = []
    for v in value:
        if isinstance(v, int) and not isinstance(v, bool) and 0 <= v < len(ids):
            v = ids[v]
        if not isinstance(v, str) or v not in live:
            raise ProactiveError(f"a history item's 'revealed' names no hidden fact: {v!r}")
        out.append(v)
    return tuple(dict.fromkeys(out))


def _stated(answer: str, fact: Fact) -> bool:
    """Does an answer state this fact? Its words in order, ignoring case and punctuation, or most of
    its longer words and all its numbers (:func:`proactive.simulator.mentions`)."""
    flat = lambda text: " ".join(re.findall(r"[a-z0-9$£€%]+", normalize(text).lower()))
    return flat(fact.statement) in flat(answer) or mentions(answer, fact)


def partial_to_columns(partial: PartialTask) -> dict[str, Any]:
    """The columns :func:`partial_from_columns` reads back into the same task, fact ids and kinds
    included (the TRL dataset's row, and the ``proactive reward`` line format). Lists that may be
    empty travel as JSON text: Arrow cannot type an all-empty list column."""
    return {
        "task_id": partial.task_id,
        "request": partial.request,
        "hidden_facts": [f.statement for f in partial.hidden_facts],
        "fact_ids": [f.id for f in partial.hidden_facts],
        "importances": [f.importance for f in partial.hidden_facts],
        "categories": [f.category for f in partial.hidden_facts],
        "known_facts": json.dumps([f.statement for f in partial.visible_facts]),
        "known_categories": json.dumps([f.category for f in partial.visible_facts]),
    }


def history_to_column(turns: Sequence[Turn]) -> str:
    """A ``history`` column: the turns as JSON, each with the ids of the facts its answer revealed."""
    return json.dumps([{"question": t.question, "answer": t.answer, "revealed": list(t.revealed)} for t in turns])


def partial_from_columns(row: dict[str, Any]) -> tuple[PartialTask, list[Turn]]:
    """Build the PartialTask and history a reward needs from one row of plain columns.

    Columns: ``request`` (str), ``hidden_facts`` (list of str; a blank entry is no fact but keeps
    its index), optional ``fact_ids`` (each hidden fact's id; default ``h<index>``), ``importances``
    (list of float), ``known_facts`` (list of str the user already gave), ``history`` (list of
    ``{"question", "answer", "revealed"}``; ``revealed`` lists the fact ids, or indices into
    ``hidden_facts``, that the answer gave; without it the reward settles the turn by asking its
    question again), ``categories`` and ``known_categories`` (each fact's kind, so "What is the
    budget?" reaches the budget fact), ``task_id``. ``partial.meta["fact_index"]`` maps each fact
    id back to its index in ``hidden_facts``.
    """
    request = row.get("request")
    if not isinstance(request, str) or not request.strip():
        raise ProactiveError("'request' must be a non-empty string")
    hidden = _text_list(row.get("hidden_facts"), "hidden_facts")
    if not any(h.strip() for h in hidden):
        raise ProactiveError("'hidden_facts' must be a non-empty list of strings")
    importances = _weights(row.get("importances"), len(hidden))
    known = [k for k in _text_list(row.get("known_facts"), "known_facts")]
    for name, items, most in (("hidden_facts", hidden, MAX_COLUMN_FACTS), ("known_facts", known, 3 * MAX_COLUMN_FACTS)):
        if len(items) > most:  # each is matched against every question: thousands would take hours
            raise ProactiveError(f"'{name}' holds {len(items):,} facts; at most {most} are read (a task has 4-8)")
    categories = _categories(row.get("categories"), len(hidden), "categories")
    known_categories = _categories(row.get("known_categories"), len(known), "known_categories")
    ids = _fact_ids(row.get("fact_ids"), len(hidden))
    facts = tuple(Fact(i, s.strip(), c, float(w)) for i, s, c, w in zip(ids, hidden, categories, importances)
                  if s.strip())
    visible = tuple(Fact(f"k{i}", s.strip(), c, 1.0) for i, (s, c) in enumerate(zip(known, known_categories))
                    if s.strip())
    partial = PartialTask(str(row.get("task_id", "row")), "", request.strip(), facts, visible, strategy="given",
                          meta={"fact_index": {i: n for n, i in enumerate(ids)}}).check_hidden()
    history = []
    raw_history = _maybe_json(row.get("history"))
    raw_history = [] if raw_history is None or raw_history == "" else raw_history  # absent: no turns yet
    if not isinstance(raw_history, (list, tuple)):
        raise ProactiveError("'history' must be a list of {'question': str, 'answer': str}")
    if len(raw_history) > MAX_TURNS:
        raise ProactiveError(f"'history' holds {len(raw_history):,} turns; a dialogue has at most {MAX_TURNS}")
    for turn in raw_history:
        if not isinstance(turn, dict) or not isinstance(turn.get("question"), str) or not isinstance(turn.get("answer"), str):
            raise ProactiveError("each 'history' item must be {'question': str, 'answer': str}")
        answer = turn["answer"]
        if "revealed" in turn:
            revealed = _revealed_ids(turn["revealed"], ids, facts)
            history.append(Turn(turn["question"], answer, revealed, REVEALED if revealed else NO_MATCH,
                                (1.0,) * len(revealed)))
        else:
            revealed = tuple(f.id for f in facts if _stated(answer, f))
            history.append(Turn(turn["question"], answer, revealed, GIVEN))
    return partial, history
