"""What an RFT round fine-tunes on: the kept dialogues, their reorderings, and prompt-completion rows.

A kept dialogue shows one path through a task; its variants (the same fact-drawing questions in other
orders, some after a question that got nothing) show what else was worth asking at each point, and
:func:`sft_examples` turns each fact-drawing turn into a row (the prompt the policy saw, the question
it asked). Only questions that drew out a new hidden fact are trained on; earlier turns that did not
stay in the prompt as history, so the policy learns what to ask next after a miss, not to miss.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from .canned_questions import KIND_QUESTIONS, PLAIN_KINDS
from .masking import PartialTask
from .policy import prefix_seed, question_prompt
from .simulator import ALREADY_KNOWN, NO_MATCH, REVEALED, Dialogue, SimulatedUser, Turn


def misses(partial: PartialTask, matcher: Any, limit: int = 1) -> list[Turn]:
    """Plain questions about kinds of detail this task's user does not hold hidden (``canned_questions.
    KIND_QUESTIONS``), as the simulated user answers them: "I already mentioned that: ..." or "I don't
    have a particular preference". They go only into training prompts' histories, never into what is
    trained on, so the policy sees what follows a miss: a question about something else."""
    user = SimulatedUser(partial, matcher)
    found = []
    for kind in PLAIN_KINDS:
        answer = user.answer(KIND_QUESTIONS[kind], ())
        if answer.kind in (ALREADY_KNOWN, NO_MATCH):
            found.append(answer)
    # Already-known first: reading the request is the lesson a small model misses most.
    found.sort(key=lambda t: t.kind != ALREADY_KNOWN)
    return found[:limit]


def variants(dialogue: Dialogue, matcher: Any, turns: int = 3, missed: Sequence[Turn] = (),
             limit: int | None = None) -> list[Dialogue]:
    """The kept dialogue's fact-drawing questions asked in every other order, up to ``turns`` of them,
    and the same after each of ``missed`` (a question that got nothing), each kept only where the
    simulated user, asked in that order, draws out a new fact with every kept question (re-asked, not
    assumed). A kept dialogue shows one path; its variants show what else was worth asking at each
    point, so the policy learns to read its history: after the goal was asked and answered, or after
    "I already mentioned that", something else comes next. ``limit``: at most this many variants,
    the original order first, then a spread of the rest (seeded by the task id)."""
    from itertools import permutations

    good = [t.question for t in dialogue.turns if t.kind == REVEALED and t.revealed]
    found: list[Dialogue] = []
    for opening in (None, *missed):
        for length in range(1, min(len(good), turns - (opening is not None)) + 1):
            for order in permutations(good, length):
                user = SimulatedUser(dialogue.partial, matcher)
                asked = Dialogue(dialogue.partial, [opening] if opening is not None else [])
                for question in order:
                    answer = user.answer(question, asked.turns)
                    if answer.kind != REVEALED or not answer.revealed:
                        break
                    asked.turns.append(answer)
                else:
                    found.append(asked)
    # A variant that is a prefix of a longer one adds no training row: keep the longest only.
    keys = [tuple(t.question for t in d.turns) for d in found]
    found = [d for d, k in zip(found, keys) if not any(len(o) > len(k) and o[: len(k)] == k for o in keys)]
    if limit is not None and len(found) > limit:
        import random

        first, rest = found[:1], found[1:]
        found = first + random.Random(dialogue.partial.task_id).sample(rest, limit - 1)
    return found


def training_dialogues(kept: Iterable[Dialogue], matcher: Any, turns: int = 3, max_variants: int = 0,
                       max_misses: int = 0) -> list[Dialogue]:
    """What a round fine-tunes on: the kept dialogues, or (``max_variants``, ``train.rft.variants``) each
    with up to that many variants (:func:`variants`), some opened by a miss (``max_misses``,
    ``train.rft.misses``; :func:`misses`)."""
    if not max_variants:
        return list(kept)
    from tqdm.auto import tqdm

    kept = list(kept)
    out = []
    # each variant is re-asked of the simulated user: a minute or more over a hundred kept dialogues
    for dialogue in tqdm(kept, desc="RFT: reorderings of the kept dialogues", unit="dialogue", leave=False,
                         disable=len(kept) < 2):
        missed = misses(dialogue.partial, matcher, max_misses) if max_misses else ()
        out += [dialogue, *variants(dialogue, matcher, turns, missed, max_variants)]
    return out


def sft_examples(dialogues: Sequence[Dialogue], tokenizer: Any, question_prefix: str) -> list[dict[str, str]]:
    """Prompt-completion rows for SFT: for each kept dialogue's turn that drew out a new fact, the prompt
    the policy saw at that point (its own earlier turns as history) and the question it asked, less the
    prefix's seed word, which the prompt already ends with."""
    seed = prefix_seed(question_prefix)
    rows, seen = [], set()
    for dialogue in dialogues:
        for depth, turn in enumerate(dialogue.turns):
            if turn.kind != REVEALED or not turn.revealed:
                continue
            question = turn.question
            if seed and not question.startswith(seed):
                # The policy's prompt ends with the seed ("Question: What"), so a question that does not
                # begin with it ("How long ...?", an example inquiry) cannot be its completion.
                continue
            history = [(t.question, t.answer) for t in dialogue.turns[:depth]]
            completion = question[len(seed):] if seed else " " + question
            prompt = question_prompt(tokenizer, dialogue.partial, history, question_prefix)
            if (prompt, completion) in seen:  # reorderings share their first turns
                continue
            seen.add((prompt, completion))
            rows.append({"prompt": prompt, "completion": completion, "task_id": dialogue.partial.task_id,
                         "depth": depth})
    return rows
