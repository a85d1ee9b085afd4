"""Judges: does an outline cover a fact, and which of two systems did better on a task?

Two judges share one interface:
- :class:`EmbeddingJudge` (default, offline): a fact is covered when some line of the outline is
  close to it in the embedding space; the better of two outlines covers more of the facts
  (importance-weighted), the better set of questions aims closer at the facts that were hidden.
- :class:`LLMJudge`: the same questions put to any chat model, with every prompt in ``PROMPTS``.

Pairwise judgments follow the paper's protocol against position bias: each pair is judged in both
orders (A first, then B first); a system wins only when both orders agree, otherwise it is a tie.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .backends import ChatBackend, SimilarityBackend
from .coverage import (  # noqa: F401 (QUOTE_*, quotes: re-exported, where tests and readers look for them)
    COVERAGE_THRESHOLD,
    QUOTE_MIN_WORDS,
    QUOTE_SHARE,
    OwnWordsCoverage,
    own_lines,
    quotes,
)
from .coverage import sentences as _sentences
from .masking import PartialTask
from .tasks import Fact

log = logging.getLogger(__name__)

FIRST, SECOND, TIE = "first", "second", "tie"
OUTLINE, QUESTIONS = "outline", "questions"

#: Every prompt the LLM judge uses, in one place.
PROMPTS = {
    "system": "You are a careful, impartial judge of an assistant's work. Answer exactly in the format asked.",
    "coverage": (
        "Outline:\n{outline}\n\nDetail: {fact}\n\n"
        "Does the outline include or clearly use this detail? Answer yes or no."
    ),
    OUTLINE: (
        "A user asked: {request}\n\nWhat the user actually needed (they had not said all of it):\n{facts}\n\n"
        "Outline 1:\n{first}\n\nOutline 2:\n{second}\n\n"
        "Which outline fits the user's actual needs better? Answer 1, 2, or tie."
    ),
    QUESTIONS: (
        "A user asked: {request}\n\nDetails only the user knew:\n{facts}\n\n"
        "Questions of assistant 1:\n{first}\n\nQuestions of assistant 2:\n{second}\n\n"
        "Whose questions would find out more of those details? Answer 1, 2, or tie."
    ),
}


class Judge(Protocol):
    name: str

    def covered(self, outline: str, facts: Sequence[Fact]) -> list[bool]: ...

    def prefer(self, kind: str, partial: PartialTask, first: str, second: str) -> str: ...


class EmbeddingJudge:
    """Offline judge on sentence embeddings (MiniLM): cosine between outline lines / questions and facts."""

    name = "embedding"

    def __init__(self, similarity: SimilarityBackend, threshold: float = COVERAGE_THRESHOLD, margin: float = 0.02):
        #: A fact counts as covered when its closest outline line is at least this similar.
        self.threshold = threshold
        #: Pairwise scores closer than this are a tie.
        self.margin = margin
        self.similarity = similarity

    def closeness(self, texts: Sequence[str], facts: Sequence[Fact]) -> np.ndarray:
        """For each fact, the highest cosine between it and any of ``texts`` (0 when there are none)."""
        if not texts or not facts:
            return np.zeros(len(facts))
        return self.similarity.similarity(list(texts), [f.statement for f in facts]).max(axis=0)

    def covered(self, outline: str, facts: Sequence[Fact]) -> list[bool]:
        """Each fact is covered when one of the outline's own lines (not a pasted fact: :func:`own_lines`)
        is close enough to it (:class:`proactive.coverage.OwnWordsCoverage`, which writer RFT selects by)."""
        return OwnWordsCoverage(self.similarity, self.threshold).covered(outline, facts)

    def score(self, kind: str, partial: PartialTask, text: str) -> float:
        """Outline: importance-weighted soft coverage of every fact by its own lines (pasted facts and
        request sentences left out); questions: of the hidden facts."""
        if kind == OUTLINE:
            facts = [*partial.visible_facts, *partial.hidden_facts]
            pieces = own_lines(text, [f.statement for f in facts] + _sentences(partial.request))
        else:
            facts = list(partial.hidden_facts)
            pieces = [q for q in text.splitlines() if q.strip()]
        close = self.closeness(pieces, facts)
        weights = np.array([f.importance for f in facts])
        return float((close * weights).sum() / weights.sum()) if len(facts) else 0.0

    def prefer(self, kind: str, partial: PartialTask, first: str, second: str) -> str:
        diff = self.score(kind, partial, first) - self.score(kind, partial, second)
        return TIE if abs(diff) < self.margin else FIRST if diff > 0 else SECOND


class LLMJudge:
    """Any chat backend as judge, prompted with ``PROMPTS``; an unreadable reply counts as a tie,
    and ``unreadable`` counts them (one summary for a reader, not a warning per reply: a small
    model's judge mostly rambles)."""

    def __init__(self, backend: ChatBackend, name: str | None = None):
        self.backend = backend
        self.name = name or f"llm:{getattr(backend, 'name', type(backend).__name__)}"
        self.unreadable = 0

    def _ask(self, prompt: str, max_new_tokens: int = 8) -> str:
        messages = [{"role": "system", "content": PROMPTS["system"]}, {"role": "user", "content": prompt}]
        return self.backend.chat(messages, max_new_tokens=max_new_tokens, temperature=0.0).strip().lower()

    def covered(self, outline: str, facts: Sequence[Fact]) -> list[bool]:
        """Asked per fact about the outline's own lines (pasted facts left out, as the embedding judge does)."""
        mine = "\n".join(f"- {line}" for line in own_lines(outline, [f.statement for f in facts]))
        return [bool(mine) and self._ask(PROMPTS["coverage"].format(outline=mine, fact=f.statement)).startswith("yes")
                for f in facts]

    def prefer(self, kind: str, partial: PartialTask, first: str, second: str) -> str:
        facts = partial.hidden_facts if kind == QUESTIONS else (*partial.visible_facts, *partial.hidden_facts)
        prompt = PROMPTS[kind].format(request=partial.request, facts="\n".join(f"- {f.statement}" for f in facts),
                                      first=first, second=second)
        reply = self._ask(prompt)
        if not readable_preference(reply):
            self.unreadable += 1
            log.debug("judge reply %r is neither 1, 2 nor tie; counted as a tie", reply[:80])
        return parse_preference(reply)


_PREFERENCE = re.compile(r"\b(1|2|tie|one|two)\b")


def readable_preference(reply: str) -> bool:
    """Does the reply name an outline (1, 2, one, two) or a tie?"""
    return bool(_PREFERENCE.search(reply.lower()))


def parse_preference(reply: str) -> str:
    """'1' / 'outline 1' -> first, '2' -> second, 'tie' or anything unreadable -> tie."""
    match = _PREFERENCE.search(reply.lower())
    if not match:
        return TIE
    return {"1": FIRST, "one": FIRST, "2": SECOND, "two": SECOND}.get(match.group(1), TIE)


@dataclass(frozen=True)
class PairVerdict:
    """One pairwise judgment of A vs B on a task, asked in both orders."""

    winner: str  # "a", "b" or "tie"
    a_first: str  # the judge's answer with A shown first
    b_first: str  # ... and with B shown first

    @property
    def score(self) -> float:
        """A's points: 1 win, 0.5 tie, 0 loss."""
        return {"a": 1.0, "b": 0.0}.get(self.winner, 0.5)


def judge_pair(judge: Judge, kind: str, partial: PartialTask, a: str, b: str) -> PairVerdict:
    """Judge A vs B in both orders; a win needs both orders to agree (position bias becomes a tie)."""
    a_first = judge.prefer(kind, partial, a, b)
    b_first = judge.prefer(kind, partial, b, a)
    a_wins = a_first == FIRST and b_first == SECOND
    b_wins = a_first == SECOND and b_first == FIRST
    return PairVerdict("a" if a_wins else "b" if b_wins else "tie", a_first, b_first)


def agreement_rate(first: Sequence[PairVerdict], second: Sequence[PairVerdict]) -> float:
    """Share of pairs on which two judges gave the same verdict (win, loss or tie)."""
    if len(first) != len(second) or not first:
        raise ValueError("agreement needs two equally long, non-empty lists of verdicts")
    return sum(x.winner == y.winner for x, y in zip(first, second)) / len(first)
