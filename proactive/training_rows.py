"""GRPO's prompts: masked training tasks at several points of a dialogue.

At depth d, d questions were already asked and answered, so the policy learns follow-up questions
too. The earlier turns are template questions that each drew out a fact (some opened by a vague
question that got nothing), or the policy's own questions read back (``own_history.py``).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

from .canned_questions import KIND_QUESTIONS, VAGUE_QUESTIONS
from .columns import history_to_column, partial_to_columns
from .config import Profile
from .masking import PartialTask
from .policy import question_prompt
from .simulator import NO_MATCH, NO_PREFERENCE, REVEALED, Turn
from .tasks import Fact

VAGUE_ANSWER = NO_PREFERENCE  # what the simulated user answers them


def template_turns(asked: Sequence[Fact], vague: str | None = None) -> list[Turn]:
    """A training dialogue's earlier turns: optionally a vague question that got nothing, then one
    template question per fact in ``asked`` (``canned_questions.KIND_QUESTIONS``, by its kind), each answered with that fact (its id recorded)."""
    turns = [Turn(vague, VAGUE_ANSWER, kind=NO_MATCH)] if vague else []
    return turns + [Turn(KIND_QUESTIONS[f.category], f.statement, (f.id,), REVEALED) for f in asked]


def training_rows(
    partials: Sequence[PartialTask],
    tokenizer: Any,
    profile: Profile,
    own: Mapping[str, Sequence[Turn]] | None = None,
) -> list[dict[str, Any]]:
    """One row per (task, dialogue depth): the prompt text and the columns the reward needs.

    At depth d, d questions were already asked. With ``own`` (task id -> the starting model's own
    sampled dialogue, see :func:`proactive.own_history.own_dialogues`), a share ``train.grpo.own_history`` of the deeper prompts
    replay its first d turns: the policy then reads its own questions back, as in evaluation, and
    asking one again is penalised. Otherwise the turns are template questions that each drew out a
    hidden fact, the first of them, in half the dialogues, a vague question that got nothing.
    """
    rng = random.Random(profile.train_seed)
    rows = []
    for partial in partials:
        for depth in profile.train.grpo.history_depths:
            if depth >= len(partial.hidden_facts):
                continue
            replay = (own or {}).get(partial.task_id, ())
            own_turns = bool(depth) and len(replay) >= depth and rng.random() < profile.train.grpo.own_history
            if own_turns:
                history = list(replay[:depth])
            else:
                vague = depth > 0 and rng.random() < 0.5
                asked = rng.sample(list(partial.hidden_facts), depth - vague)
                history = template_turns(asked, rng.choice(VAGUE_QUESTIONS) if vague else None)
            rows.append({
                "prompt": question_prompt(tokenizer, partial, history_pairs(history), profile.question_prefix),
                # The task with its fact ids and kinds, and what each earlier answer revealed as ids:
                # the reward reads them back with partial_from_columns, nothing re-detected from text.
                **partial_to_columns(partial),
                "history": history_to_column(history),
                "question_prefix": profile.question_prefix,
                "depth": depth,
                #: Replays the policy's own turns (refreshed during training by OwnHistoryBank).
                "own_turns": own_turns,
            })
    rng.shuffle(rows)
    return rows


def history_pairs(turns: Sequence[Turn]) -> list[tuple[str, str]]:
    return [(t.question, t.answer) for t in turns]
