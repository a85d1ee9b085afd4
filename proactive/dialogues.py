"""Dialogues with the simulated user, the one loop training and evaluation share.

A policy asks, the simulated user (holding the task's hidden facts) answers, turn after turn, all
tasks batched per turn. Training replays such dialogues as histories in its prompts (the policy's
own questions, read back); evaluation measures what they drew out, and its episodes end with the
system's outline (:func:`run_episodes`).
"""

from __future__ import annotations

from collections.abc import Sequence

from tqdm.auto import tqdm

from .masking import PartialTask
from .matching import FactMatcher
from .questions import repeats_earlier
from .simulator import Dialogue, SimulatedUser
from .systems import LocalPolicy, System


def elicited_share(dialogue: Dialogue) -> float:
    """Importance-weighted share of the hidden facts the dialogue drew out."""
    return dialogue.partial.share_of(dialogue.revealed_ids)


def run_dialogues(
    policy: LocalPolicy, partials: Sequence[PartialTask], matcher: FactMatcher, turns: int = 3,
    progress: bool = True, temperature: float = 0.0, seed: int = 0, resample_repeats: int = 0,
) -> list[Dialogue]:
    """Every task's dialogue advances one turn at a time, all tasks batched per turn (greedy at
    temperature 0, else sampled).

    With ``resample_repeats`` > 0, a question that repeats one the dialogue already asked is
    re-drawn (sampled at T=0.7) up to that many times: a decoding rule, like a no-repeat penalty,
    that keeps a small model's greedy dialogue from asking the same thing three times."""
    users = [SimulatedUser(p, matcher) for p in partials]
    dialogues = [Dialogue(p) for p in partials]
    for turn in tqdm(range(turns), desc=f"{policy.name}: dialogue turns", disable=not progress):
        histories = [d.history() for d in dialogues]
        questions = policy.ask_many(partials, histories, temperature=temperature, seed=seed + turn)
        for attempt in range(resample_repeats):
            again = [i for i, (q, d) in enumerate(zip(questions, dialogues))
                     if repeats_earlier(q, [t.question for t in d.turns])]
            if not again:
                break
            redrawn = policy.ask_many([partials[i] for i in again], [histories[i] for i in again],
                                      temperature=0.7, seed=seed + 1000 * (attempt + 1) + turn)
            for i, q in zip(again, redrawn):
                questions[i] = q
        for dialogue, user, question in zip(dialogues, users, questions):
            dialogue.turns.append(user.answer(question, dialogue.turns))
    return dialogues


def run_episodes(
    system: System, partials: Sequence[PartialTask], matcher: FactMatcher, turns: int = 3,
    temperature: float = 0.0, seed: int = 0, progress: bool = True,
) -> list[Dialogue]:
    """Each task: up to ``turns`` questions answered by the simulated user (a task stops when the
    system returns an empty question), then the system's outline. Tasks are batched per turn."""
    users = [SimulatedUser(p, matcher) for p in partials]
    dialogues = [Dialogue(p) for p in partials]
    active = [] if system.sees_all_facts else list(range(len(partials)))
    for turn in tqdm(range(turns), desc=f"{system.name}: questions", disable=not progress or not active):
        if not active:
            break
        questions = system.ask_many([partials[i] for i in active], [dialogues[i].history() for i in active],
                                    temperature=temperature, seed=seed + turn)
        still = []
        for i, question in zip(active, questions):
            if question.strip():
                dialogues[i].turns.append(users[i].answer(question, dialogues[i].turns))
                still.append(i)
        active = still
    outlines = system.write_outlines(partials, [d.history() for d in dialogues])
    for dialogue, outline in zip(dialogues, outlines):
        dialogue.outline = outline
    return dialogues
