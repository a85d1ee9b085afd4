"""Does the simulated user answer the questions real people ask? Both sides of the judge in one place.

The simulated user is the judge every reward and every table rests on, so it must do two things at
once: answer a fair question as a person would, and never pay for fishing. The reward-hacking suite
(:mod:`proactive.reward_hacking`) checks the second; this module checks the first with questions
nobody here wrote. IN3's annotators wrote an inquiry for each missing detail of each task ("What type
of pizza are you interested in making?"). Put to the simulated user holding those details:

- **asked alone**, each inquiry should draw out its own detail (how each was answered is counted:
  :data:`ANSWER_KINDS`);
- **asked most important first** in a dialogue of a few turns, they should draw out nearly all that
  those turns can (the *ceiling*: the share of the hidden facts the most important ones carry).

IN3's tasks are split by a hash of their text (:func:`proactive.data.in3.in3_split`): the matcher and
every rule were tuned on the ``train`` part; the ``test`` part is the check, never tuned on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from tqdm.auto import tqdm

from .masking import PartialTask
from .matching import FactMatcher
from .simulator import (
    ALREADY_KNOWN,
    NO_MATCH,
    OFF_TOPIC,
    REFUSED,
    REVEALED,
    SEVERAL,
    Dialogue,
    SimulatedUser,
    Turn,
)

#: How an inquiry asked alone was answered, in the order tables show them.
ANSWER_KINDS: tuple[str, ...] = (
    "revealed its detail", "revealed another detail", "several: answered its detail", "several: answered another",
    "several: refused", "no preference", "off topic", "already known", "refused",
)
#: The kinds that count as refusing a fair question.
REFUSING: tuple[str, ...] = ("several: refused", "off topic", "refused")


def answer_kind(turn: Turn, own: str) -> str:
    """How ``turn`` answered an inquiry about the fact ``own`` (one of :data:`ANSWER_KINDS`)."""
    if turn.kind == SEVERAL:
        if not turn.revealed:
            return "several: refused"
        return "several: answered its detail" if own in turn.revealed else "several: answered another"
    if turn.kind == REVEALED:
        return "revealed its detail" if own in turn.revealed else "revealed another detail"
    return {NO_MATCH: "no preference", OFF_TOPIC: "off topic", ALREADY_KNOWN: "already known",
            REFUSED: "refused"}.get(turn.kind, "refused")


@dataclass(frozen=True)
class InquiryCheck:
    """The simulated user against a task file's own inquiries (see the module docstring)."""

    tasks: int
    counts: dict[str, int]
    #: Mean share of the hidden facts the dialogues drew out, and the most those turns could.
    drawn: float
    ceiling: float
    turns: int
    #: A few inquiries of each answer kind: (inquiry, its detail, the answer).
    examples: dict[str, list[list[str]]] = field(default_factory=dict)

    @property
    def inquiries(self) -> int:
        return sum(self.counts.values())

    def share(self, *kinds: str) -> float:
        return sum(self.counts.get(k, 0) for k in kinds) / (self.inquiries or 1)

    def summary(self) -> dict[str, float]:
        """The figures the done-when of a fidelity check reads: own detail drawn out alone, refused,
        and the dialogues' share of the ceiling."""
        return {"tasks": self.tasks, "inquiries": self.inquiries,
                "own_detail_alone": round(self.share("revealed its detail", "several: answered its detail"), 4),
                "own_detail_alone_as_one_question": round(self.share("revealed its detail"), 4),
                "refused": round(self.share(*REFUSING), 4),
                "no_preference": round(self.share("no preference"), 4),
                "dialogue_drawn": round(self.drawn, 4), "dialogue_ceiling": round(self.ceiling, 4),
                "share_of_ceiling": round(self.drawn / self.ceiling, 4) if self.ceiling else 0.0}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InquiryCheck:
        return cls(**{k: data[k] for k in ("tasks", "counts", "drawn", "ceiling", "turns")},
                   examples=data.get("examples", {}))


def inquiry_dialogue(partial: PartialTask, matcher: FactMatcher, turns: int = 3,
                     user: SimulatedUser | None = None) -> Dialogue:
    """The task's own inquiries asked most important detail first, up to ``turns`` of them; one whose
    detail an earlier answer already gave is skipped, as a person asking would. What the dataset's
    people would draw out: the reference a trained policy is measured against on IN3."""
    user = user or SimulatedUser(partial, matcher)
    inquiries = partial.inquiries()
    dialogue = Dialogue(partial)
    for fact in sorted(partial.hidden_facts, key=lambda f: -f.importance):
        if len(dialogue.turns) == turns:
            break
        if fact.id in inquiries and fact.id not in dialogue.revealed_ids:
            dialogue.turns.append(user.answer(inquiries[fact.id], dialogue.turns))
    return dialogue


def inquiry_check(partials: Sequence[PartialTask], matcher: FactMatcher, turns: int = 3, examples: int = 3,
                  progress: bool = True) -> InquiryCheck:
    """Ask every task's own inquiries: each alone, then most important first in ``turns``-turn dialogues
    (an inquiry whose detail an earlier answer already gave is skipped, as a person asking would).
    Tasks without inquiries are left out."""
    counts: Counter[str] = Counter()
    found: dict[str, list[list[str]]] = {}
    drawn, ceiling, used = 0.0, 0.0, 0
    for partial in tqdm(partials, desc="inquiries", unit="task", disable=not progress):
        inquiries = partial.inquiries()
        if not inquiries:
            continue
        used += 1
        user = SimulatedUser(partial, matcher)
        for fact in partial.hidden_facts:
            if fact.id in inquiries:
                turn = user.answer(inquiries[fact.id])
                kind = answer_kind(turn, fact.id)
                counts[kind] += 1
                if len(found.setdefault(kind, [])) < examples:
                    found[kind].append([inquiries[fact.id], fact.statement, turn.answer])
        order = sorted(partial.hidden_facts, key=lambda f: -f.importance)
        dialogue = inquiry_dialogue(partial, matcher, turns, user)
        drawn += partial.share_of(dialogue.revealed_ids)
        ceiling += partial.share_of([f.id for f in order[:turns]])
    n = used or 1
    return InquiryCheck(used, {k: counts[k] for k in ANSWER_KINDS if counts[k]}, drawn / n, ceiling / n, turns, found)


def fidelity_rows(check: InquiryCheck, suite: Sequence[Any] = ()) -> list[tuple[str, str, str]]:
    """Both sides of the judge as one table's rows (side, measure, value): people's questions answered
    (:func:`inquiry_check`) and tricks not paid (``suite``: :func:`proactive.reward_hacking.run_suite`)."""
    s = check.summary()
    asked_alone = f"IN3 inquiries asked alone ({s['inquiries']}, {s['tasks']} tasks): drew out their own detail"
    rows = [("people's questions", asked_alone, f"{s['own_detail_alone']:.3f}"),
            ("people's questions", "... of which as one question (not marked several)",
             f"{s['own_detail_alone_as_one_question']:.3f}"),
            ("people's questions", "refused (as several questions, off topic)", f"{s['refused']:.3f}"),
            ("people's questions", "\"no preference\" although the detail is hidden", f"{s['no_preference']:.3f}"),
            ("people's questions", f"asked most important first, {check.turns} turns: share of the ceiling",
             f"{s['share_of_ceiling']:.3f} ({s['dialogue_drawn']:.3f} of {s['dialogue_ceiling']:.3f})")]
    tricks = [r for r in suite if r.kind != "targeted"]
    if tricks:
        held = sum(r.holds for r in tricks)
        drew = [r for r in tricks if r.breakdown.revealed]
        below = f"phrasings of {len({r.kind for r in tricks})} tricks scoring below the plain targeted question"
        rows += [("tricks", below, f"{held} of {len(tricks)}"),
                 ("tricks", "phrasings that drew out a fact at all (at most one each)", f"{len(drew)} of {len(tricks)}")]
    return rows
