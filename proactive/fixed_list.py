"""The strongest baseline that reads nothing: the best fixed list of questions.

A trained policy that beats generic questions may only have learned *which kinds of detail are
usually missing*. The control for that is a list of questions chosen greedily on the training tasks
(the tasks the policy trains on, under the same simulated user), then asked unchanged, in order, on
every held-out task: question 1 is the one that draws out the most on its own, question 2 the one that
adds the most after it, and so on. A policy that reads the request must beat this list; one that learned
a kind prior will not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from .canned_questions import FIXED_LIST_BANK
from .errors import ProactiveError
from .masking import PartialTask

#: The system's name in reports, tables and ``headline.json``.
NAME = "best fixed list"


@dataclass(frozen=True)
class FixedList:
    """A chosen list: its questions in order, the mean share of hidden facts drawn out on the training
    tasks after each (cumulative), on how many tasks, and the bank it was chosen from."""

    questions: tuple[str, ...]
    train_shares: tuple[float, ...]
    task_ids: tuple[str, ...]
    bank: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FixedList:
        try:
            return cls(**{k: tuple(data[k]) for k in ("questions", "train_shares", "task_ids", "bank")})
        except (KeyError, TypeError) as exc:
            raise ProactiveError(f"a best fixed list record is missing {exc}; delete the file to choose it again") from None


def choose_fixed_list(partials: Sequence[PartialTask], matcher: Any, turns: int = 3,
                      bank: Sequence[str] = FIXED_LIST_BANK, progress: bool = True) -> FixedList:
    """Greedy choice on ``partials`` (training tasks): ``turns`` times, the bank question that adds the
    most to the mean importance-weighted share drawn out, asked after those already chosen (each task's
    simulated user answers the list as a dialogue, so a question whose fact an earlier one drew out adds
    nothing). Ties go to the earlier question in ``bank``."""
    from tqdm.auto import tqdm

    from .simulator import SimulatedUser

    if not partials:
        raise ProactiveError("the best fixed list is chosen on training tasks; none were given")
    bank = tuple(dict.fromkeys(q for q in bank if q.strip()))
    if len(bank) < turns:
        raise ProactiveError(f"the bank holds {len(bank)} questions; a list of {turns} needs at least that many")
    users = [SimulatedUser(p, matcher) for p in partials]
    histories: list[list[Any]] = [[] for _ in partials]
    revealed: list[set[str]] = [set() for _ in partials]
    chosen: list[str] = []
    shares: list[float] = []
    bar = tqdm(total=turns * len(bank), desc="best fixed list: questions tried on the training tasks",
               disable=not progress, leave=False)
    for _ in range(turns):
        best: tuple[float, str, list[Any]] | None = None
        for question in bank:
            bar.update()
            if question in chosen:
                continue
            turns_now = [user.answer(question, history) for user, history in zip(users, histories)]
            share = sum(p.share_of(got | set(t.revealed)) for p, got, t in zip(partials, revealed, turns_now)) / len(partials)
            if best is None or share > best[0] + 1e-12:
                best = (share, question, turns_now)
        share, question, turns_now = best
        chosen.append(question)
        shares.append(round(share, 5))
        for history, got, turn in zip(histories, revealed, turns_now):
            history.append(turn)
            got.update(turn.revealed)
    bar.close()
    return FixedList(tuple(chosen), tuple(shares), tuple(p.task_id for p in partials), bank)


def fixed_list_system(writer: Any, fixed: FixedList | Sequence[str]):
    """The list as a system: its questions asked in order on every task (outlines by ``writer``)."""
    from .systems import TemplateQuestions

    questions = fixed.questions if isinstance(fixed, FixedList) else tuple(fixed)
    return TemplateQuestions(writer, name=NAME, questions=questions)
