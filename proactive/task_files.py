"""Bring your own tasks: one JSONL file read as either full tasks or already-masked tasks.

A full task (the corpus schema, :func:`proactive.tasks.parse_task`) still has to be masked; an
already-masked task (what ``proactive mask --out`` writes, or one written by hand) says directly what
the assistant sees (``request``) and what only the user knows (``hidden_facts``). The format is
decided per file from its first record: ``hidden_facts`` (or ``request``) means masked tasks,
anything else full ones.

A masked task needs only ``task_id`` (or ``id``), ``request`` and 1-8 hidden facts, each a
``statement``; ``domain``, fact ids, categories, importance and ``visible_facts`` are optional. A fact
without a category gets ``DEFAULT_CATEGORY`` ("context"), a kind the simulated user never hands out
for a mere "who/when/why" question: it must be asked about by its content.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .data.in3 import is_in3_record, load_in3
from .errors import ProactiveError, TaskFormatError
from .files import iter_jsonl
from .masking import SPLITS, PartialTask, mask_many, split_tasks
from .tasks import (
    DEFAULT_CATEGORY,
    MAX_FACTS,
    Fact,
    Task,
    checked_kind_and_importance,
    field_error,
    load_tasks,
    parse_task,
    required_text,
)

if TYPE_CHECKING:
    from .config import Profile

#: Hidden facts a masked task may hold: at least one to ask about, at most the corpus's largest task.
MIN_HIDDEN, MAX_HIDDEN = 1, MAX_FACTS
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")


@dataclass(frozen=True)
class TaskSet:
    """Tasks read from files: full ``tasks`` (to be masked) or ``partials`` (already masked), never
    both; ``label`` names the files, so results can say which task set they were measured on."""

    label: str
    tasks: tuple[Task, ...] = ()
    partials: tuple[PartialTask, ...] = ()

    @property
    def masked(self) -> bool:
        return bool(self.partials)

    def __len__(self) -> int:
        return len(self.partials) or len(self.tasks)


def _facts(raw: Any, key: str, source: str, line: int, low: int, high: int, taken: set[str]) -> tuple[Fact, ...]:
    if raw is None and low == 0:
        return ()
    if not isinstance(raw, list) or not low <= len(raw) <= high:
        size = f"{len(raw)} given" if isinstance(raw, list) else f"got {type(raw).__name__}"
        raise field_error(source, line, key, f"must be a list of {low}-{high} facts ({size})")
    facts = []
    for index, item in enumerate(raw):
        where = f"{key}[{index}]"
        if isinstance(item, str):  # a bare statement is a fact with every optional field defaulted
            item = {"statement": item}
        if not isinstance(item, dict):
            raise field_error(source, line, where, f"must be a statement or an object (got {type(item).__name__})")
        statement = required_text(item, "statement", source, line, where + ".")
        fact_id = item.get("id", f"{key.split('_')[0][0]}{index}")
        if not isinstance(fact_id, str) or not _ID.match(fact_id):
            raise field_error(source, line, where + ".id", f"use letters, digits, '-', '_', '.' or ':' (got {fact_id!r})")
        if fact_id in taken:
            raise field_error(source, line, where + ".id", f"duplicate fact id {fact_id!r}")
        taken.add(fact_id)
        category, importance = checked_kind_and_importance(
            item.get("category", DEFAULT_CATEGORY), item.get("importance", 1.0), source, line, where + ".")
        try:
            facts.append(Fact(fact_id, statement, category, importance))
        except TaskFormatError as exc:  # a statement with no words, or too long
            raise field_error(source, line, where, str(exc)) from None
    return tuple(facts)


def parse_partial_task(record: Any, source: str = "<memory>", line: int = 0) -> PartialTask:
    """Validate one already-masked task record and build a :class:`PartialTask`.

    Raises :class:`TaskFormatError` naming ``source``, ``line`` and the offending field."""
    if not isinstance(record, dict):
        raise TaskFormatError(f"{source}:{line}: a task must be a JSON object, got {type(record).__name__}")
    key = "task_id" if "task_id" in record or "id" not in record else "id"
    task_id = required_text(record, key, source, line)
    if not _ID.match(task_id):
        raise field_error(source, line, key, f"use letters, digits, '-', '_', '.' or ':' (got {task_id!r})")
    domain = record.get("domain", "custom")
    if not isinstance(domain, str) or not domain.strip():
        raise field_error(source, line, "domain", f"must be a non-empty string when given (got {domain!r})")
    taken: set[str] = set()
    hidden = _facts(record.get("hidden_facts"), "hidden_facts", source, line, MIN_HIDDEN, MAX_HIDDEN, taken)
    visible = _facts(record.get("visible_facts"), "visible_facts", source, line, 0, 3 * MAX_FACTS, taken)
    meta = record.get("meta", {})
    if not isinstance(meta, dict):
        raise field_error(source, line, "meta", f"must be an object when given (got {type(meta).__name__})")
    seed = record.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise field_error(source, line, "seed", f"must be an integer when given (got {seed!r})")
    strategy = record.get("strategy", "given")
    if not isinstance(strategy, str):
        raise field_error(source, line, "strategy", f"must be a string when given (got {strategy!r})")
    try:
        return PartialTask(task_id=task_id, domain=domain.strip(), request=required_text(record, "request", source, line),
                           hidden_facts=hidden, visible_facts=visible, strategy=strategy, seed=seed,
                           meta=meta).check_hidden()
    except TaskFormatError as exc:
        if str(exc).startswith(f"{source}:"):
            raise
        raise TaskFormatError(f"{source}:{line}: {exc}") from None


def load_task_set(paths: str | Path | Iterable[str | Path]) -> TaskSet:
    """Read task files, full or masked (decided by the first record; every record must agree).

    Ids must be unique across the files. Raises :class:`TaskFormatError` (file:line: field) on any
    schema problem and when a file mixes the two formats."""
    files = [Path(paths)] if isinstance(paths, (str, Path)) else [Path(p) for p in paths]
    if not files:
        raise TaskFormatError("no task file given")
    masked: bool | None = None
    tasks: list[Task] = []
    partials: list[PartialTask] = []
    seen: dict[str, str] = {}
    for path in files:
        first = next(iter_jsonl(path), (0, None))[1]
        if is_in3_record(first):  # IN3's own format (proactive.data.in3): read as masked tasks
            for partial in load_in3(path):
                if partial.task_id in seen:
                    raise TaskFormatError(f"{path}: IN3 task {partial.task_id} is also in {seen[partial.task_id]}")
                if masked is False:
                    raise TaskFormatError(f"{path}: IN3 tasks among full ones; keep one format per task set")
                masked = True
                seen[partial.task_id] = str(path)
                partials.append(partial)
            continue
        for line, record in iter_jsonl(path):
            # A masked task says what the assistant sees ('request') and what the user holds; anything
            # else is read as a full task, whose schema errors name the missing field.
            is_masked = isinstance(record, dict) and ("hidden_facts" in record or "request" in record)
            if masked is None:
                masked = is_masked
            elif is_masked != masked:
                raise TaskFormatError(
                    f"{path}:{line}: a {'masked' if is_masked else 'full'} task among "
                    f"{'masked' if masked else 'full'} ones; keep one format per task set")
            item = parse_partial_task(record, str(path), line) if is_masked else parse_task(record, str(path), line)
            item_id = item.task_id if is_masked else item.id
            if item_id in seen:
                field = "task_id" if is_masked else "id"
                raise field_error(str(path), line, field, f"duplicate task id {item_id!r} (first in {seen[item_id]})")
            seen[item_id] = f"{path}:{line}"
            (partials if is_masked else tasks).append(item)
    if not seen:
        raise TaskFormatError(f"no tasks found in {', '.join(map(str, files))}")
    label = ", ".join(p.name for p in files)
    return TaskSet(label, tasks=tuple(tasks), partials=tuple(partials))


def profile_partials(profile: Profile, split: str, task_set: TaskSet | None = None,
                     with_in3: bool = True) -> list[PartialTask]:
    """The masked tasks a profile uses for ``split``: the bundled corpus split by task, then masked
    with the profile's strategy and seed, as many as the profile asks for (``n_tasks`` for held-out
    splits, ``train.train_tasks`` for training), and for training ``train.in3_tasks`` of IN3's train side
    after them (:func:`in3_partials`).

    With a ``task_set`` of one's own, every task in it is used whatever the split and the profile's
    size (the user chose them for this purpose), masked with the profile's strategy unless it is
    already masked. IN3 is a public corpus like the bundled one: split by task, and cut to the
    profile's size."""
    if split not in SPLITS:
        raise ProactiveError(f"unknown split {split!r}; use one of {', '.join(SPLITS)}")
    limit = profile.train.train_tasks if split == "train" else profile.n_tasks
    if task_set is not None and task_set.masked:
        partials = list(task_set.partials)
        if any(p.meta.get("source") == "IN3" for p in partials):
            side = "train" if split == "train" else "test"
            partials = [p for p in partials if p.meta.get("split", side) == side]
            return partials[:limit] if limit else partials
        return partials
    if task_set is not None:
        return mask_many(list(task_set.tasks), profile.mask_strategy, seed=profile.seed)
    tasks = split_tasks(load_tasks(), seed=profile.seed)[split]
    partials = mask_many(tasks[:limit] if limit else tasks, profile.mask_strategy, seed=profile.seed)
    if split == "train" and profile.train.in3_tasks and with_in3:
        partials += in3_partials("train", profile.train.in3_tasks)
    return partials


def in3_fixed_list_tasks(profile: Profile, held_out: int) -> list[PartialTask]:
    """The IN3 tasks the best fixed list compared on IN3's ``held_out`` held-out tasks is chosen on: IN3's
    training side, as many as the profile trains on (``train.in3_tasks``), or as many as are held out when
    it trains on none. A
    list chosen on the corpus's tasks is a weak control on IN3 (0.18 of the hidden facts of the demo's 48
    held-out tasks, where one chosen on 48 of IN3's training tasks draws out 0.32; benchmarks/README.md)."""
    return in3_partials("train", profile.train.in3_tasks or held_out)


def in3_partials(side: str, limit: int | None = None) -> list[PartialTask]:
    """The first ``limit`` tasks of one side of the bundled IN3 split (``"train"``, or ``"test"``: the
    held-out fifth, never trained on), in file order."""
    from .data.in3 import bundled_in3_path

    if side not in ("train", "test"):
        raise ProactiveError(f"unknown IN3 side {side!r}; use train or test")
    partials = [p for p in load_in3(bundled_in3_path()) if p.meta.get("split") == side]
    return partials[:limit] if limit else partials
