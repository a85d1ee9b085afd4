"""Dialogues with the simulated user: the one loop training and evaluation share.

A system asks, the simulated user (holding the task's hidden facts) answers, turn after turn, all
tasks batched per turn; a task stops early when the system returns an empty question ("I know
enough"). Training replays such dialogues as histories in its prompts (the policy's own questions,
read back) and RFT keeps the best of them; evaluation measures what they drew out and, with
``outlines=True``, ends each with the system's outline.
"""

from __future__ import annotations

from collections.abc import Sequence

from tqdm.auto import tqdm

from .masking import PartialTask
from .matching import FactMatcher
from .policy import System
from .simulator import Dialogue, SimulatedUser


def elicited_share(dialogue: Dialogue) -> float:
    """Importance-weighted share of the hidden facts the dialogue drew out."""
    return dialogue.partial.share_of(dialogue.revealed_ids)


def run_dialogues(
    system: System, partials: Sequence[PartialTask], matcher: FactMatcher, turns: int = 3,
    temperature: float = 0.0, seed: int = 0, progress: bool = True, outlines: bool = False,
) -> list[Dialogue]:
    """Each task: up to ``turns`` questions (greedy at temperature 0, else sampled; turn ``t`` draws
    with seed ``seed + t``) answered by the simulated user, then, with ``outlines``, the system's
    outline. A system that sees every fact (the oracle) asks nothing."""
    users = [SimulatedUser(p, matcher) for p in partials]
    dialogues = [Dialogue(p) for p in partials]
    active = [] if getattr(system, "sees_all_facts", False) else list(range(len(partials)))
    for turn in tqdm(range(turns), desc=f"{system.name}: dialogue turns", disable=not progress or not active):
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
    if outlines:
        for dialogue, outline in zip(dialogues, system.write_outlines(partials, [d.history() for d in dialogues])):
            dialogue.outline = outline
    return dialogues
