"""The elicitation reward: credit for genuinely NEW hidden information a question draws out.

The paper rewards a clarifying question by what its answer reveals of the user's implicit
knowledge. Here a question's reward is

    elicitation  the importance-weighted share of the task's hidden facts that the simulated
                 user newly reveals, each weighted by how clearly the question asked for it
                 (the matcher's probability); facts already known earn nothing. Times
                 ``elicitation_weight`` (1 by default; the training profiles use 3)
  + shaping      credit for how closely the question targets a fact still hidden (the best
                 match probability), revealed or not, so a policy that is getting warmer sees
                 a gradient (GRPO needs reward variance, and reveals are rare at first)
  - penalties    no question at all, a question with no content ("What?"), several questions
                 at once, restating the request, repeating an earlier question, going over
                 the length budget, and (training profiles) asking about something else entirely

clipped to [-1, 1]. Every call returns a :class:`RewardBreakdown`, so a reader can see why a
question scored what it did. Garbage (None, empty, wrong type, huge strings) scores exactly 0 with
a logged warning: a broken completion must never crash training.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .backends import ChatBackend
from .errors import ProactiveError
from .intents import asked_categories
from .masking import PartialTask
from .matching import FactMatcher
from .policy import question_from_completion
from .simulator import ALREADY_KNOWN, MAX_QUESTION_CHARS, REVEALED, SimulatedUser, Turn
from .tasks import CATEGORIES, Fact

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RewardConfig:
    """Every weight of the reward in one place. Defaults are the project's recipe."""

    #: Multiplies the elicitation term (importance-weighted share of facts newly drawn out). Training
    #: profiles raise it so that facts drawn out, not penalties avoided, decide GRPO's group comparisons.
    elicitation_weight: float = 1.0
    #: Dense credit: this times the best match probability among facts still hidden, revealed or not.
    #: It tells a policy that is getting warmer so (GRPO learns nothing from equal rewards).
    shaping: float = 0.5
    #: The completion contains no question at all (an answer, a plan, a refusal ...).
    no_question_penalty: float = 0.5
    #: More than one question, or a list of things to tell ("budget, dates, audience and goals?").
    multi_question_penalty: float = 0.3
    #: Asks for something the request already says.
    restate_penalty: float = 0.3
    #: Asks again what an earlier turn asked or already got an answer to.
    repeat_penalty: float = 0.3
    #: Words allowed before the length penalty starts, and its slope and cap.
    length_budget_words: int = 30
    length_penalty_per_word: float = 0.02
    length_penalty_max: float = 0.5
    #: A question with no content at all ("What?", "What's your question?").
    vacuous_penalty: float = 0.5
    #: A question about something else than the task: it asks for no kind of detail (budget,
    #: timeline ...) and its embedding is within ``off_topic_below`` cosine of neither the request nor
    #: any of the task's facts ("What's the best way to prepare for a job interview?" on a referral
    #: letter). Off (0) by default, so the Qulac figures stay as measured; training profiles turn it on,
    #: because without it GRPO finds that an unrelated question is the safest way never to restate or
    #: repeat anything, and a 135M policy collapses onto one.
    off_topic_penalty: float = 0.0
    off_topic_below: float = 0.2

    def __post_init__(self):
        for name, value in asdict(self).items():
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise ProactiveError(f"RewardConfig.{name} must be a non-negative number (got {value!r})")


@dataclass(frozen=True)
class RewardBreakdown:
    """A question's reward and every term that made it:
    ``reward = elicitation_weight * elicitation + shaping - sum(penalties)``, clipped to [-1, 1]."""

    reward: float
    #: Importance-weighted share of the hidden facts this question newly drew out (before weighting).
    elicitation: float = 0.0
    shaping: float = 0.0
    penalties: dict[str, float] = field(default_factory=dict)
    revealed: tuple[str, ...] = ()
    answer: str = ""
    kind: str = ""
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_QUESTION_START = re.compile(
    r"^\s*(?:what|when|where|who|whom|whose|which|why|how|is|are|was|were|do|does|did|can|could|would|will|"
    r"should|shall|have|has|had|may|might|must)\b",
    re.IGNORECASE,
)
_JOINED_QUESTION = re.compile(
    r"\b(?:and|also|plus|or)\s+(?:what|when|where|who|which|why|how|do|does|is|are|will|would|can|could|should)\b",
    re.IGNORECASE,
)
_LIST = re.compile(r"(?:\b[\w$£€'-]+\b[^,?.;]{0,25},\s*){2,}[^,?]*\b(?:and|or)\b", re.IGNORECASE)


def is_question(text: str) -> bool:
    """Ends in (or contains) a question mark, or opens like a question ("are you looking for ...")."""
    return "?" in text or bool(_QUESTION_START.match(text))


def is_multi_question(text: str) -> bool:
    """Several questions at once: two question marks, "... and when ...", or a list of three or more."""
    return text.count("?") > 1 or bool(_JOINED_QUESTION.search(text)) or bool(_LIST.search(text))


_FILLER = frozenset(
    [
        "a", "an", "the", "and", "or", "of", "to", "in", "on", "at", "for", "with", "by", "from",
        "as", "is", "are", "was", "were", "be", "been", "being", "do", "does", "did", "can",
        "could", "would", "will", "should", "shall", "may", "might", "must", "have", "has", "had",
        "i", "me", "my", "we", "our", "you", "your", "it", "its", "this", "that", "these", "those",
        "there", "here", "any", "some", "more", "please", "tell", "know", "like", "want", "need",
        "looking", "interested", "just", "also", "about", "into", "information", "info", "details",
        "detail", "kind", "sort"
    ]
)


def _content_words(text: str) -> set[str]:
    # A crude stem (trailing "s") so "guests" matches "guest".
    words = (w.rstrip("s") for w in re.findall(r"[a-z0-9$£€]+", text.lower()) if w not in _FILLER)
    return {w for w in words if len(w) > 1 or w.isdigit()}  # drops the "s" of "what's"


# Words that ask without saying about what: a question made only of these has no content.
_QUESTION_WORDS = frozenset([
    "what", "whats", "when", "where", "who", "whom", "whose", "which", "why", "how", "much", "many", "long",
    "often", "else", "question", "questions", "thing", "things", "something", "anything", "detail",
    "specific", "specifics", "important", "point", "answer", "help",
])


def is_vacuous(question: str) -> bool:
    """A question with no content: "What?", "What's your question?", "Anything else?"."""
    return not (_content_words(question) - {w.rstrip("s") for w in _QUESTION_WORDS})


def repeats_earlier(question: str, earlier: Sequence[object]) -> bool:
    """Asks again what an earlier question asked: its content words are a subset of that question's
    ("What is the budget?" after "What's your budget?"). A reworded repeat of a question that got a
    fact is caught by the simulated user instead ("I already mentioned that")."""
    words = _content_words(question)
    return bool(words) and any(
        isinstance(q, str) and words <= _content_words(q) for q in earlier
    )


def restates_request(question: str, request: str) -> bool:
    """The question asks nothing the request does not already contain: every content word of it is
    in the request ("Do you need help planning a wedding reception?"). Question words such as
    "when" or "how many" count as content, so "When is the wedding?" is not a restatement."""
    words = _content_words(question)
    return bool(words) and words <= _content_words(request)


def _garbage(question: object) -> str | None:
    if not isinstance(question, str):
        return f"completion of type {type(question).__name__}, not text"
    if not question.strip():
        return "empty completion"
    if len(question) > MAX_QUESTION_CHARS:
        return f"completion of {len(question)} characters (limit {MAX_QUESTION_CHARS})"
    return None


def completion_text(completion: object) -> object:
    """TRL hands completions as text or as chat messages (``[{"role": "assistant", "content": ...}]``)."""
    if isinstance(completion, list) and completion and isinstance(completion[-1], dict):
        return completion[-1].get("content")
    return completion


class ElicitationReward:
    """Scores clarifying questions against a simulated user; also usable as a TRL reward function.

    ``reward(completions, request=[...], hidden_facts=[...], ...)`` follows TRL's reward-function
    signature: dataset columns arrive as keyword lists, one entry per completion.
    """

    def __init__(
        self,
        matcher: FactMatcher,
        config: RewardConfig | None = None,
        max_facts_per_answer: int = 1,
        chat: ChatBackend | None = None,
    ):
        self.matcher = matcher
        #: With a chat backend the simulated user role-plays (LLM); otherwise the matcher decides.
        self.chat = chat
        self.config = config or RewardConfig()
        self.max_facts_per_answer = max_facts_per_answer
        self.__name__ = "elicitation_reward"  # TRL logs reward functions by name
        #: Mean reward terms of the last TRL batch, for the training log (see ``summarize``).
        self.last_terms: dict[str, float] = {}

    # -- one question -----------------------------------------------------------------------
    def score(self, partial: PartialTask, question: object, history: Sequence[Turn] = ()) -> RewardBreakdown:
        """Reward one question asked on ``partial`` after the turns in ``history``."""
        problem = _garbage(question)
        if problem:
            log.warning("reward: %s; scoring it 0", problem)
            return RewardBreakdown(0.0, kind="invalid", notes=(f"garbage input: {problem}",))
        cfg = self.config
        question = question.strip()
        user = SimulatedUser(partial, self.matcher, self.chat, self.max_facts_per_answer)
        turn = user.answer(question, history)
        notes: list[str] = []
        penalties: dict[str, float] = {}

        known_before = {fid for t in history for fid in t.revealed}
        weights = {f.id: f.importance for f in partial.hidden_facts}
        total_weight = sum(weights.values()) or 1.0
        new = [(fid, c) for fid, c in zip(turn.revealed, turn.confidence) if fid not in known_before]
        elicitation = sum(weights[fid] * c for fid, c in new) / total_weight
        if new:
            notes.append("revealed " + ", ".join(f"{fid} (confidence {c:.2f})" for fid, c in new))

        vacuous = is_vacuous(question)
        shaping = 0.0
        if not vacuous and turn.kind not in ("refused", "invalid") and cfg.shaping:
            open_facts = [f.statement for f in partial.hidden_facts if f.id not in known_before]
            if open_facts:
                best = float(self.matcher.match(question, user.topic, open_facts).max())
                shaping = cfg.shaping * best
                notes.append(f"closest still-hidden fact: match {best:.2f}")

        if not is_question(question):
            penalties["no_question"] = cfg.no_question_penalty
        elif vacuous:
            penalties["vacuous"] = cfg.vacuous_penalty
        if is_multi_question(question):
            penalties["multi_question"] = cfg.multi_question_penalty
        visible = {f.statement for f in partial.visible_facts}
        if turn.kind == ALREADY_KNOWN:
            key = "restated" if turn.known_source in visible else "repeated"
            penalties[key] = cfg.restate_penalty if key == "restated" else cfg.repeat_penalty
            notes.append(f"asked for what was already said: {turn.known_source}")
        if "repeated" not in penalties and repeats_earlier(question, [t.question for t in history]):
            penalties["repeated"] = cfg.repeat_penalty
        if "restated" not in penalties and restates_request(question, partial.request):
            penalties["restated"] = cfg.restate_penalty
        if cfg.off_topic_penalty and not penalties and not asked_categories(question):
            relevance = self._relevance(partial, question)
            if relevance < cfg.off_topic_below:
                penalties["off_topic"] = cfg.off_topic_penalty
                notes.append(f"off topic: closest to the request or a fact at cosine {relevance:.2f}")
        words = len(question.split())
        if words > cfg.length_budget_words:
            penalties["too_long"] = min(cfg.length_penalty_max, cfg.length_penalty_per_word * (words - cfg.length_budget_words))

        total = float(np.clip(cfg.elicitation_weight * elicitation + shaping - sum(penalties.values()), -1.0, 1.0))
        return RewardBreakdown(round(total, 6), round(elicitation, 6), round(shaping, 6), penalties,
                               tuple(fid for fid, _ in new), turn.answer, turn.kind, tuple(notes))

    def _relevance(self, partial: PartialTask, question: str) -> float:
        """How close the question is to the task: its best cosine with the request or any fact."""
        texts = [partial.request, *(f.statement for f in (*partial.hidden_facts, *partial.visible_facts))]
        return float(self.matcher.similarity.similarity([question], texts).max())

    # -- many questions (batched) -----------------------------------------------------------
    def score_many(
        self, items: Sequence[tuple[PartialTask, object, Sequence[Turn]]]
    ) -> list[RewardBreakdown]:
        """Score many ``(partial, question, history)`` items; embeds all their texts in one batch first."""
        jobs = []
        for partial, question, history in items:
            if _garbage(question):
                continue
            topic = SimulatedUser(partial, self.matcher).topic
            facts = [f.statement for f in (*partial.hidden_facts, *partial.visible_facts)]
            jobs.append(([question.strip()], topic, facts))
        self.matcher.prefetch(jobs)
        return [self.score(partial, question, history) for partial, question, history in items]

    # -- TRL reward function ----------------------------------------------------------------
    def __call__(self, completions: Sequence[object], **columns: Any) -> list[float]:
        """TRL signature: ``completions`` plus dataset columns (``request``, ``hidden_facts``, and
        optionally ``importances``, ``known_facts``, ``history``) as lists, one per completion."""
        items = []
        for i, completion in enumerate(completions):
            row = {k: v[i] for k, v in columns.items() if _indexable(v, i)}
            try:
                partial, history = partial_from_columns(row)
            except ProactiveError as exc:
                log.warning("reward: %s; scoring it 0", exc)
                partial, history = None, ()
            text = completion_text(completion)
            if isinstance(text, str) and row.get("question_prefix"):
                # The prompt opened the assistant turn with e.g. "Question: What"; the question
                # the user hears is that seed plus the completion.
                text = question_from_completion(text, row["question_prefix"])
            items.append((partial, text, history))
        valid = [(i, item) for i, item in enumerate(items) if item[0] is not None]
        scores = [0.0] * len(items)
        breakdowns = self.score_many([item for _, item in valid])
        for (i, _), breakdown in zip(valid, breakdowns):
            scores[i] = breakdown.reward
        self.last_terms = summarize(breakdowns, len(items))
        return scores


def _indexable(value: object, i: int) -> bool:
    return isinstance(value, (list, tuple)) and i < len(value)


def summarize(breakdowns: Sequence[RewardBreakdown], n: int | None = None) -> dict[str, float]:
    """Mean of each reward term over a batch, and the share of questions that revealed a fact."""
    n = n or len(breakdowns) or 1
    terms = {"elicitation": sum(b.elicitation for b in breakdowns) / n,
             "shaping": sum(b.shaping for b in breakdowns) / n,
             "revealed_share": sum(1 for b in breakdowns if b.revealed) / n}
    for name in ("no_question", "vacuous", "multi_question", "restated", "repeated", "off_topic", "too_long"):
        terms[f"penalty_{name}"] = sum(b.penalties.get(name, 0.0) for b in breakdowns) / n
    return {k: round(v, 6) for k, v in terms.items()}


def _maybe_json(value: object) -> object:
    # Training datasets carry list columns as JSON text (Arrow cannot type an all-empty list column).
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _text_list(value: object, name: str) -> list[str]:
    value = _maybe_json(value)
    if value is None:
        return []
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ProactiveError(f"'{name}' must be a list of strings (got {type(value).__name__})")
    return [v for v in value if v.strip()]


def _categories(value: object, n: int, name: str) -> list[str]:
    """Each fact's kind (see proactive.tasks.CATEGORIES); "context" (reached by content only) if absent."""
    kinds = _text_list(value, name)
    if not kinds:
        return ["context"] * n
    if len(kinds) != n or any(k not in CATEGORIES for k in kinds):
        raise ProactiveError(f"'{name}' must give one of {', '.join(CATEGORIES)} for each fact")
    return kinds


def partial_from_columns(row: dict[str, Any]) -> tuple[PartialTask, list[Turn]]:
    """Build the PartialTask and history a reward needs from one row of plain columns.

    Columns: ``request`` (str), ``hidden_facts`` (list of str), optional ``importances`` (list of
    float), ``known_facts`` (list of str the user already gave), ``history`` (list of
    ``{"question", "answer"}``, whose answers are checked for facts they already revealed),
    ``categories`` and ``known_categories`` (each fact's kind, so "What is the budget?" reaches the
    budget fact), ``task_id``.
    """
    request = row.get("request")
    if not isinstance(request, str) or not request.strip():
        raise ProactiveError("'request' must be a non-empty string")
    hidden = _text_list(row.get("hidden_facts"), "hidden_facts")
    if not hidden:
        raise ProactiveError("'hidden_facts' must be a non-empty list of strings")
    importances = row.get("importances") or [1.0] * len(hidden)
    if len(importances) != len(hidden) or not all(
        isinstance(w, (int, float)) and not isinstance(w, bool) and w > 0 for w in importances
    ):
        raise ProactiveError("'importances' must be positive numbers, one per hidden fact")
    known = _text_list(row.get("known_facts"), "known_facts")
    categories = _categories(row.get("categories"), len(hidden), "categories")
    known_categories = _categories(row.get("known_categories"), len(known), "known_categories")
    facts = tuple(Fact(f"h{i}", s, c, float(w)) for i, (s, c, w) in enumerate(zip(hidden, categories, importances)))
    visible = tuple(Fact(f"k{i}", s, c, 1.0) for i, (s, c) in enumerate(zip(known, known_categories)))
    partial = PartialTask(str(row.get("task_id", "row")), "", request.strip(), facts, visible, strategy="given")
    history = []
    raw_history = _maybe_json(row.get("history")) or []
    if not isinstance(raw_history, (list, tuple)):
        raise ProactiveError("'history' must be a list of {'question': str, 'answer': str}")
    for turn in raw_history:
        if not isinstance(turn, dict) or not isinstance(turn.get("question"), str) or not isinstance(turn.get("answer"), str):
            raise ProactiveError("each 'history' item must be {'question': str, 'answer': str}")
        answer = turn["answer"]
        revealed = tuple(f.id for f in facts if f.statement.lower() in answer.lower())
        history.append(Turn(turn["question"], answer, revealed, REVEALED if revealed else "given"))
    return partial, history
