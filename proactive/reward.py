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

The simulated user refuses off-topic questions before it looks at any fact, and answers two
questions at once with one fact at half confidence, a list of three or more with nothing (see
:mod:`proactive.simulator`); the penalties here make them cost something too, so asking two things at
once always earns less than asking one well. Facts revealed in earlier turns travel as fact ids
(``history[i]["revealed"]``); a history given without ids is settled by asking its questions again,
never by looking for a fact's exact wording in an answer.

clipped to [-1, 1]. Every call returns a :class:`RewardBreakdown`, so a reader can see why a
question scored what it did. Garbage (None, empty, wrong type, huge strings) scores exactly 0 with
a logged warning: a broken completion must never crash training.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .backends import ChatBackend
from .columns import partial_from_columns
from .config import RewardConfig
from .errors import ProactiveError
from .masking import PartialTask
from .matching import FactMatcher
from .policy import question_from_completion
from .questions import (
    ask_text,
    foreign_words,
    is_question,
    is_vacuous,
    normalize,
    repeats_earlier,
    restates_request,
    without_examples,
)
from .simulator import (
    ALREADY_KNOWN,
    GIVEN,
    INVALID,
    MAX_QUESTION_CHARS,
    NO_MATCH,
    OFF_TOPIC,
    REFUSED,
    REVEALED,
    SEVERAL,
    SimulatedUser,
    Turn,
)

log = logging.getLogger(__name__)


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
        question = normalize(question)
        user = SimulatedUser(partial, self.matcher, self.chat, self.max_facts_per_answer)
        history = self.settle_history(user, history)
        turn = user.answer(question, history)
        notes: list[str] = []
        penalties: dict[str, float] = {}

        known_before = {fid for t in history for fid in t.revealed}
        new = [(fid, c) for fid, c in zip(turn.revealed, turn.confidence) if fid not in known_before]
        elicitation = partial.share_of([fid for fid, _ in new], dict(new))
        if new:
            notes.append("revealed " + ", ".join(f"{fid} (confidence {c:.2f})" for fid, c in new))

        vacuous = is_vacuous(question)
        shaping = 0.0
        if not vacuous and turn.kind not in (REFUSED, INVALID, OFF_TOPIC, SEVERAL) and cfg.shaping:
            open_facts = [f.statement for f in partial.hidden_facts if f.id not in known_before]
            if open_facts:
                best = turn.closest if turn.closest is not None else float(
                    self.matcher.match(question, user.topic, open_facts).max())
                shaping = cfg.shaping * best
                notes.append(f"closest still-hidden fact: match {best:.2f}")

        if not is_question(question):
            penalties["no_question"] = cfg.no_question_penalty
        elif vacuous:
            penalties["vacuous"] = cfg.vacuous_penalty
        # "Several questions" means what the user decided; a user who answers several facts at once
        # (max_facts_per_answer > 1) does not decide it, so the same rule is asked here.
        if turn.kind == SEVERAL or (user.max_facts_per_answer > 1 and user.asks_several(ask_text(question))):
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
        if cfg.off_topic_penalty and turn.kind == OFF_TOPIC:
            penalties["off_topic"] = cfg.off_topic_penalty
            notes.append("off topic: the question brings in words unrelated to the task")
        words = len(question.split())
        if words > cfg.length_budget_words:
            penalties["too_long"] = min(cfg.length_penalty_max, cfg.length_penalty_per_word * (words - cfg.length_budget_words))

        total = float(np.clip(cfg.elicitation_weight * elicitation + shaping - sum(penalties.values()), -1.0, 1.0))
        return RewardBreakdown(round(total, 6), round(elicitation, 6), round(shaping, 6), penalties,
                               tuple(fid for fid, _ in new), turn.answer, turn.kind, tuple(notes))

    def settle_history(self, user: SimulatedUser, history: Sequence[Turn]) -> list[Turn]:
        """Earlier turns with the facts they revealed as ids. A turn given as text only (``GIVEN``:
        a ``history`` column without ``revealed``) counts as having revealed what its answer states
        and what this simulated user reveals when its question is asked again, so a re-ask earns
        nothing however the earlier answer was worded."""
        settled: list[Turn] = []
        for turn in history:
            if turn.kind == GIVEN:
                again = user.answer(turn.question, settled)
                revealed = tuple(dict.fromkeys((*turn.revealed, *again.revealed)))
                turn = Turn(turn.question, turn.answer, revealed, REVEALED if revealed else NO_MATCH,
                            (1.0,) * len(revealed))
            settled.append(turn)
        return settled

    # -- many questions (batched) -----------------------------------------------------------
    def score_many(
        self, items: Sequence[tuple[PartialTask, object, Sequence[Turn]]]
    ) -> list[RewardBreakdown]:
        """Score many ``(partial, question, history)`` items; embeds all their texts in one batch first."""
        jobs, texts = [], []
        for partial, question, history in items:
            if _garbage(question):
                continue
            user = SimulatedUser(partial, self.matcher)
            asked = ask_text(normalize(question))
            jobs.append((user.texts_to_match(asked), user.topic, [f.statement for f in user.facts]))
            texts += [*user.task_sentences, " ".join(foreign_words(without_examples(asked), user.task_texts))]
        # The off-topic check's texts too, so that the per-question calls below hit the cache.
        self.matcher.prefetch(jobs, extra=[t for t in texts if t])
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
