"""Human preference judgments, as in the paper's human study: blind, randomized A/B comparisons.

A rater sees one task's request and two systems' questions (or outlines) side by side, as
"Response 1" and "Response 2", in an order drawn per item, and picks the better one or a tie.
Each judgment is saved to a JSONL file the moment it is made (the file is rewritten atomically),
so a dead kernel loses nothing, and a session resumes where the file ends. Win rates come with
bootstrap 95% intervals. The widget itself is ``proactive.widgets.human_eval_widget``.
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from .errors import ProactiveError
from .evaluation import SystemResult, paired_texts
from .files import atomic_write_jsonl, iter_jsonl, jsonl_lines, parse_json, read_text
from .judges import OUTLINE, QUESTIONS
from .stats import bootstrap_ci

log = logging.getLogger(__name__)

CHOICES = ("1", "2", "tie")


@dataclass(frozen=True)
class PairItem:
    """One thing to judge: a task, and two systems' questions or outlines on it."""

    item_id: str
    task_id: str
    kind: str  # "questions" or "outline"
    request: str
    system_a: str
    system_b: str
    text_a: str
    text_b: str
    #: The masked task (``PartialTask.to_dict``), so an automatic judge sees what the user kept back.
    partial: dict[str, Any] | None = None


def pair_items(a: SystemResult, b: SystemResult, kinds: Sequence[str] = (QUESTIONS, OUTLINE)) -> list[PairItem]:
    """Items for every task both systems ran: their questions (when both asked some) and their outlines."""
    by_task: dict[str, list[PairItem]] = {d.partial.task_id: [] for d in a.dialogues}
    for kind in kinds:  # items in task order, in ``kinds`` order within a task
        for partial, mine, theirs in paired_texts(a, b, kind):
            by_task.setdefault(partial.task_id, []).append(
                PairItem(f"{partial.task_id}/{kind}/{b.name}", partial.task_id, kind, partial.request,
                         a.name, b.name, mine, theirs, partial.to_dict()))
    return [item for items in by_task.values() for item in items]


def human_eval_pairs(by_name: dict[str, SystemResult]) -> list[PairItem]:
    """What a person judges after a run: the trained system's questions and outlines against the untrained
    model's (what training changed), and its outlines against no clarification's (does asking make the
    deliverable better? the paper's outline preference), where the run has those systems."""
    trained = by_name["trained"]
    items = pair_items(trained, by_name["untrained"]) if "untrained" in by_name else []
    if "no clarification" in by_name:
        items += pair_items(trained, by_name["no clarification"], kinds=(OUTLINE,))
    return items


def save_items(path: str | Path, items: Sequence[PairItem]) -> None:
    atomic_write_jsonl(Path(path), [asdict(i) for i in items])


def load_items(path: str | Path) -> list[PairItem]:
    """Items from a JSONL file written by ``save_items``; a bad line is a file:line error."""
    items = []
    for number, record in iter_jsonl(path):
        problem = item_problem(record)
        if problem:
            raise ProactiveError(f"{path}:{number}: not a comparison item ({problem}); write items with save_items")
        items.append(PairItem(**record))
    return items


def item_problem(record: Any) -> str | None:
    """What is wrong with one saved comparison item (None: nothing): an object with exactly
    :class:`PairItem`'s fields, its texts text and its masked task an object or absent."""
    if not isinstance(record, dict):
        return f"a JSON {type(record).__name__}, not an object"
    names = [f.name for f in fields(PairItem)]
    missing = [n for n in names if n not in record and n != "partial"]
    unknown = sorted(set(record) - set(names))
    if missing or unknown:
        return f"missing {missing}" if missing else f"unknown fields {unknown}"
    bad = [n for n in names if n != "partial" and not isinstance(record[n], str)]
    if bad:
        return f"{bad[0]!r} must be text"
    if record.get("partial") is not None and not isinstance(record["partial"], dict):
        return "'partial' must be an object (PartialTask.to_dict) or absent"
    return None


def load_judgments(path: str | Path) -> list[dict[str, Any]]:
    """Every judgment saved so far (none when the file does not exist yet); a line that is not one is a
    file:line error, except a last line cut short by a crash while saving, which is dropped."""
    path = Path(path)
    if not path.exists():
        return []
    text = read_text(path)
    lines = jsonl_lines(text)
    records = []
    for number, line in enumerate(lines, 1):
        if line.strip():
            try:
                record = parse_json(line, f"{path}:{number}")
            except ProactiveError:
                if number == len(lines) and not text.endswith("\n") and records:
                    # The last judgment was cut by a crash while it was appended: keep the earlier ones,
                    # drop the fragment (and take it out of the file, so the next judgment starts clean).
                    log.warning("%s:%d: the last judgment was cut short (a crash while saving?); dropped it, "
                                "kept the %d before it", path, number, len(records))
                    atomic_write_jsonl(path, records)
                    break
                raise ProactiveError(f"{path}:{number}: not a JSON judgment; fix or delete that line") from None
            problem = judgment_problem(record)
            if problem:
                raise ProactiveError(f"{path}:{number}: not a judgment as the widget saves it ({problem}); "
                                     "fix or delete that line")
            records.append(record)
    return records


#: The fields every saved judgment has, all text.
JUDGMENT_FIELDS = ("item_id", "kind", "system_a", "system_b", "winner")


def judgment_problem(record: Any) -> str | None:
    """What is wrong with one saved judgment (None: nothing): it must be an object whose kind, systems
    and winner are text, the winner one of the two systems or a tie."""
    if not isinstance(record, dict):
        return f"a JSON {type(record).__name__}, not an object"
    for key in JUDGMENT_FIELDS:
        if not isinstance(record.get(key), str):
            return f"{key!r} missing or not text"
    if record["winner"] not in (record["system_a"], record["system_b"], "tie"):
        return f"winner {record['winner']!r} is neither system nor 'tie'"
    return None


def _shown_first(item: PairItem, seed: int) -> str:
    # The side shown as "Response 1" is drawn per item (stable across restarts), so raters stay blind.
    digest = hashlib.sha256(f"{seed}:{item.item_id}".encode()).digest()
    return item.system_a if digest[0] % 2 == 0 else item.system_b


class HumanEvalSession:
    """The rater's queue: items in a seeded random order, minus those already judged in ``judgments_path``."""

    def __init__(self, items: Sequence[PairItem], judgments_path: str | Path, rater: str = "anonymous", seed: int = 0):
        if not items:
            raise ProactiveError("nothing to judge: the item list is empty")
        self.path = Path(judgments_path)
        self.rater = rater
        self.seed = seed
        order = list(items)
        random.Random(seed).shuffle(order)
        done = {(j["item_id"], j.get("rater")) for j in load_judgments(self.path)}
        self.queue = [i for i in order if (i.item_id, rater) not in done]
        self.total = len(order)

    @property
    def current(self) -> PairItem | None:
        return self.queue[0] if self.queue else None

    def shown(self, item: PairItem) -> tuple[tuple[str, str], tuple[str, str]]:
        """((system, text) shown as Response 1, (system, text) shown as Response 2)."""
        a, b = (item.system_a, item.text_a), (item.system_b, item.text_b)
        return (a, b) if _shown_first(item, self.seed) == item.system_a else (b, a)

    def record(self, choice: str) -> dict[str, Any]:
        """Save the rater's choice for the current item ("1", "2" or "tie") and move to the next."""
        item = self.current
        if item is None:
            raise ProactiveError("every item is judged already")
        if choice not in CHOICES:
            raise ProactiveError(f"choice must be one of {CHOICES}, got {choice!r}")
        first, second = self.shown(item)
        winner = {"1": first[0], "2": second[0]}.get(choice, "tie")
        record = {"item_id": item.item_id, "task_id": item.task_id, "kind": item.kind, "system_a": item.system_a,
                  "system_b": item.system_b, "shown_first": first[0], "choice": choice, "winner": winner,
                  "rater": self.rater, "time": round(time.time(), 3)}
        atomic_write_jsonl(self.path, [*load_judgments(self.path), record])
        self.queue.pop(0)
        return record

    def skip(self) -> None:
        """Put the current item at the back of the queue, unjudged."""
        if self.queue:
            self.queue.append(self.queue.pop(0))


def human_win_rates(judgments: Sequence[dict[str, Any]], seed: int = 0) -> list[dict[str, Any]]:
    """Per (kind, system A, system B): A's win rate (tie = half) with a bootstrap 95% interval."""
    groups: dict[tuple[str, str, str], list[float]] = {}
    for number, j in enumerate(judgments):
        problem = judgment_problem(j)
        if problem:
            raise ProactiveError(f"judgment {number}: not a judgment as the widget saves it ({problem})")
        key = (j["kind"], j["system_a"], j["system_b"])
        groups.setdefault(key, []).append(1.0 if j["winner"] == j["system_a"] else 0.0 if j["winner"] == j["system_b"] else 0.5)
    rows = []
    for (kind, a, b), scores in sorted(groups.items()):
        mean, low, high = bootstrap_ci(scores, seed=seed)
        rows.append({"kind": kind, "system_a": a, "system_b": b, "judgments": len(scores),
                     "win_rate_a": round(mean, 4), "ci_low": round(low, 4), "ci_high": round(high, 4)})
    return rows


def win_rates_markdown(rows: Sequence[dict[str, Any]]) -> str:
    lines = ["| compared | system A | system B | judgments | A's win rate [95% CI] |", "|---|---|---|---|---|"]
    lines += [f"| {r['kind']} | {r['system_a']} | {r['system_b']} | {r['judgments']} | "
              f"{r['win_rate_a']:.2f} [{r['ci_low']:.2f}, {r['ci_high']:.2f}] |" for r in rows]
    return "\n".join(lines)


def demo_items_path() -> Path:
    """Comparison items bundled with the package (trained vs untrained on held-out tasks, from a real run)."""
    return Path(__file__).resolve().parent / "data" / "human_eval_demo.jsonl"


def judge_items(session: HumanEvalSession, judge) -> int:
    """Fill a session's queue with an automatic judge's choices (both orders, as in ``judges.judge_pair``),
    through the same ``record`` a person's click uses. Returns how many were recorded."""
    from .judges import judge_pair

    count = 0
    while session.current is not None:
        item = session.current
        partial = _partial_for(item)
        verdict = judge_pair(judge, item.kind, partial, item.text_a, item.text_b)
        (first_system, _), _ = session.shown(item)
        winner = {"a": item.system_a, "b": item.system_b}.get(verdict.winner)
        session.record("tie" if winner is None else "1" if winner == first_system else "2")
        count += 1
    return count


def _partial_for(item: PairItem):
    from .masking import PartialTask, mask
    from .tasks import load_tasks_by_id

    if item.partial:
        return PartialTask.from_dict(item.partial)
    task = load_tasks_by_id().get(item.task_id)
    if task is None:
        raise ProactiveError(f"item {item.item_id}: task {item.task_id!r} is not in the corpus")
    return mask(task)
