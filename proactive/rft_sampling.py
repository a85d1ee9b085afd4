"""RFT's sampling side: a group of dialogues per training task, scored, and the one to keep.

Rejection-sampling fine-tuning (:mod:`proactive.methods.rft`) keeps, for every training task, the
dialogue that drew out the most hidden facts with well-formed questions. The dialogues come from the
policy itself (:func:`sample_groups`), from the policy hinted with the fact to ask about
(:func:`hinted_groups`: STaR's "rationalization"), or from a task file's example inquiries
(:func:`inquiry_groups`); :func:`choose` and :func:`keep_best` decide which is kept.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .canned_questions import KIND_OPENINGS, PLAIN_QUESTIONS
from .dialogues import run_dialogues
from .masking import PartialTask
from .policy import SYSTEM_PROMPT, prefix_seed
from .simulator import REVEALED, Dialogue, SimulatedUser, mentions
from .tasks import Fact

log = logging.getLogger(__name__)

#: Kinds of answer the simulated user gives a question that breaks a rule (several at once, off topic,
#: an extraction attempt, not a question): a kept dialogue should have as few as possible.
BAD_KINDS = ("several", "off_topic", "refused", "invalid", "already_known")
#: How much each rule-breaking turn lowers a dialogue's score: small, so it only breaks ties between
#: dialogues that drew out as much.
BAD_TURN_COST = 0.05


def asked_well_share(dialogue: Dialogue) -> float:
    """The importance-weighted share of hidden facts a dialogue drew out with questions that broke no
    rule: a fact the user gave to two questions asked at once does not teach the policy to ask."""
    return dialogue.partial.share_of([fid for t in dialogue.turns if t.kind not in BAD_KINDS for fid in t.revealed])


def dialogue_score(dialogue: Dialogue) -> float:
    """What a whole dialogue is worth when choosing the one to keep: the importance-weighted share of
    hidden facts it drew out with well-formed questions, less a little for every turn that broke a
    rule or asked again."""
    bad = sum(t.kind in BAD_KINDS for t in dialogue.turns)
    asked = [t.question.strip().lower() for t in dialogue.turns]
    repeats = len(asked) - len(set(asked))
    return asked_well_share(dialogue) - BAD_TURN_COST * (bad + repeats)


@dataclass
class DialogueGroup:
    """One training task's sampled dialogues, their scores and which one was kept (None: none drew out
    anything, so the task teaches nothing this round)."""

    partial: PartialTask
    dialogues: list[Dialogue]
    scores: list[float]
    kept: int | None

    @property
    def best(self) -> Dialogue | None:
        return None if self.kept is None else self.dialogues[self.kept]


def choose(dialogues: Sequence[Dialogue]) -> tuple[list[float], int | None]:
    """Scores of a group and the index of the dialogue to keep: the best-scoring one that drew out at
    least one fact (the first of equals, so the choice is reproducible)."""
    scores = [round(dialogue_score(d), 6) for d in dialogues]
    useful = [i for i, d in enumerate(dialogues) if asked_well_share(d) > 0]
    return scores, max(useful, key=lambda i: (scores[i], -i)) if useful else None


def sample_groups(policy: Any, partials: Sequence[PartialTask], matcher: Any, samples: int, turns: int = 3,
                  temperature: float = 1.0, seed: int = 0, progress: bool = False) -> list[DialogueGroup]:
    """``samples`` sampled dialogues of ``turns`` questions for every task, all generated in one batch
    per turn, grouped by task, with the one to keep chosen (:func:`choose`)."""
    repeated = [p for p in partials for _ in range(samples)]
    dialogues = run_dialogues(policy, repeated, matcher, turns=turns, temperature=temperature, seed=seed,
                              progress=progress)
    groups = []
    for i, partial in enumerate(partials):
        group = dialogues[i * samples:(i + 1) * samples]
        scores, kept = choose(group)
        groups.append(DialogueGroup(partial, group, scores, kept))
    return groups


def hint_prompt(fact: Fact) -> str:
    """The policy's rules plus the detail to ask about: STaR's "rationalization", where the answer is
    given as a hint and the output is then trained on WITHOUT it. Training tasks' hidden facts are
    training data; the policy never sees a hint outside this round."""
    return f"{SYSTEM_PROMPT} The detail to ask about: {fact.statement} Ask for it without saying it."


def hint_for(fact: Fact, question_prefix: str, kind_openings: bool = True) -> tuple[str, str]:
    """The rules and the assistant-turn opening a hinted question about ``fact`` is sampled with: its
    kind's opening where there is one and the policy's prefix allows it (``canned_questions.KIND_OPENINGS``; the prefix's seed word
    starts the opening), else the fact as a hint (:func:`hint_prompt`) and the policy's own prefix."""
    opening = KIND_OPENINGS.get(fact.category) if kind_openings else None
    seed = prefix_seed(question_prefix)
    if opening and opening.lower().startswith(seed.lower()):
        label = question_prefix[: len(question_prefix) - len(seed)] if seed else question_prefix
        if label and not label[-1].isspace():  # "Question:" alone: "Question: What is your budget"
            label += " "
        return SYSTEM_PROMPT, label + opening
    return hint_prompt(fact), question_prefix


def leaks(question: str, facts: Sequence[Fact]) -> bool:
    """Whether a question states a hidden fact itself (its numbers, or most of its words): a hinted
    question that guesses the answer teaches guessing, not asking."""
    return any(mentions(question, f) for f in facts)


def hinted_groups(policy: Any, partials: Sequence[PartialTask], matcher: Any, samples: int, turns: int = 3,
                  temperature: float = 1.0, seed: int = 0, kind_openings: bool = True,
                  plain_questions: bool = False, inquiries: bool = False, inquiries_first: bool = False,
                  ) -> list[DialogueGroup]:
    """One dialogue per task built from hinted questions: the most important fact still hidden is the
    target (:func:`hint_for`: its kind opens the question, or it is given as a hint), ``samples``
    questions are sampled for it (with ``plain_questions``, its kind's ``canned_questions.PLAIN_QUESTIONS`` tried
    first; with ``inquiries``, then the task file's example inquiry for it, ``PartialTask.inquiries``;
    with ``inquiries_first``, the inquiry before the plain question),
    and the first that draws out a new fact without stating one
    (:func:`leaks`) is asked; a task whose candidates all fail moves on to its next fact without
    losing a turn, until it has ``turns`` questions or no fact is left to try. The policy samples only
    for targets the plain question and the inquiry missed, all tasks' in one batch per pass. Returns
    one-dialogue groups, so :func:`keep_best` treats them like sampled ones."""
    users = [SimulatedUser(p, matcher) for p in partials]
    dialogues = [Dialogue(p) for p in partials]
    queues = [sorted(p.hidden_facts, key=lambda f: -f.importance) for p in partials]
    examples = [p.inquiries() if inquiries else {} for p in partials]

    def ask_first_that_draws(i: int, candidates: Sequence[str]) -> bool:
        """Ask task ``i``'s user the first candidate that draws out a new fact without stating one."""
        for question in candidates:
            if leaks(question, partials[i].hidden_facts):
                continue
            answer = users[i].answer(question, dialogues[i].turns)
            if answer.kind == REVEALED and answer.revealed:
                dialogues[i].turns.append(answer)
                return True
        return False

    for attempt in range(max((len(p.hidden_facts) for p in partials), default=0)):
        targets = []
        for i, dialogue in enumerate(dialogues):
            revealed = set(dialogue.revealed_ids)
            queues[i] = [f for f in queues[i] if f.id not in revealed]
            if queues[i] and len(dialogue.turns) < turns:
                targets.append((i, queues[i].pop(0)))
        if not targets:
            break
        # The questions that need no generating go first (the kind's plain question, then the task's own
        # inquiry), so the policy samples only for targets they missed: the same dialogues as sampling for
        # every target and trying those first, at a fraction of the generating.
        given = [[PLAIN_QUESTIONS[fact.category]] if plain_questions and fact.category in PLAIN_QUESTIONS else []
                 for _, fact in targets]
        for k, (i, fact) in enumerate(targets):
            if fact.id in examples[i]:
                given[k].insert(0 if inquiries_first else len(given[k]), examples[i][fact.id])
        pending = [(i, fact) for k, (i, fact) in enumerate(targets) if not ask_first_that_draws(i, given[k])]
        if not pending:
            continue
        asked = [(i, fact) for i, fact in pending for _ in range(samples)]
        hints = [hint_for(fact, policy.question_prefix, kind_openings) for _, fact in asked]
        questions = policy.ask_many([partials[i] for i, _ in asked], [dialogues[i].history() for i, _ in asked],
                                    temperature=temperature, seed=seed + attempt,
                                    system_prompts=[rules for rules, _ in hints],
                                    prefixes=[opening for _, opening in hints])
        for k, (i, _) in enumerate(pending):
            ask_first_that_draws(i, questions[k * samples:(k + 1) * samples])
    groups = []
    for dialogue in dialogues:
        scores, kept = choose([dialogue])
        groups.append(DialogueGroup(dialogue.partial, [dialogue], scores, kept))
    return groups


def inquiry_groups(partials: Sequence[PartialTask], matcher: Any, turns: int = 3) -> list[DialogueGroup]:
    """One dialogue per task from its file's example inquiries (``PartialTask.inquiries``), most important
    fact first: each is put to the simulated user in turn and kept only if its answer draws out a new
    fact, up to ``turns`` questions. Questions written by people for exactly these details are the
    first round's targets, as STaR-GATE seeds its first round with an oracle's; nothing is generated."""
    groups = []
    for partial in partials:
        user = SimulatedUser(partial, matcher)
        dialogue = Dialogue(partial)
        inquiries = partial.inquiries()
        for fact in sorted(partial.hidden_facts, key=lambda f: -f.importance):
            if len(dialogue.turns) >= turns:
                break
            if fact.id not in inquiries or fact.id in dialogue.revealed_ids:
                continue
            answer = user.answer(inquiries[fact.id], dialogue.turns)
            if answer.kind == REVEALED and answer.revealed:
                dialogue.turns.append(answer)
        scores, kept = choose([dialogue])
        groups.append(DialogueGroup(partial, [dialogue], scores, kept))
    return groups


def keep_best(buffer: dict[str, Dialogue], groups: Sequence[DialogueGroup]) -> int:
    """Update the best dialogue seen so far per task with this round's kept ones; returns how many
    tasks got a better dialogue. Earlier rounds' finds are not forgotten when a later policy misses."""
    improved = 0
    for group in groups:
        best = group.best
        if best is None:
            continue
        held = buffer.get(group.partial.task_id)
        if held is None or dialogue_score(best) > dialogue_score(held):
            buffer[group.partial.task_id] = best
            improved += 1
    return improved
