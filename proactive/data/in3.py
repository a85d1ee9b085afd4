"""IN3: public vague tasks with the details their writers left out, read as masked tasks.

IN3 (Qian et al., ACL 2024, "Tell Me More!", OpenBMB/Tell_Me_More, Apache-2.0) pairs tasks people
type ("I would like to plan a trip to Paris next month.") with ``missing_details``: each a
description, an importance 1-3, an example inquiry and a few options. Read as the paper's setting:
the task is the visible request, each missing detail a hidden fact the simulated user holds. A
detail has no single true value, so the user holds one of its options, picked by a hash of the task
and the detail (the same on every machine). Importance 1-3 becomes a fact weight of 1/3, 2/3 or 1.

IN3's train split ships with the package (``proactive/data/datasets/in3/``, Apache-2.0, attribution in
its README): :func:`bundled_in3_path`. A user's own IN3-format file is read from the path given. Its
example inquiries travel in each task's ``meta`` (by fact id); nothing in training reads them unless a
recipe says so.
"""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import TaskFormatError
from ..files import iter_jsonl
from ..intents import asked_categories
from ..masking import PartialTask
from ..tasks import MAX_FACTS, Fact, field_error

#: IN3's importance levels as fact weights.
IMPORTANCE = {"1": 1 / 3, "2": 2 / 3, "3": 1.0}
#: The kind a detail gets when its description and inquiry cue none (proactive.intents): the
#: simulated user then gives it only to a question about its content, never to a bare "what/when".
UNCUED = "specifics"
#: Kinds tried in this order when a detail cues several ("Budget for the trip's duration").
KIND_ORDER = ("budget", "timeline", "audience", "preference", "constraint", "goal")
#: Share of IN3 tasks held out (by a hash of the task text): never trained on, evaluated on.
HELD_OUT_SHARE = 0.2


def bundled_in3_path() -> Path:
    """The copy of IN3's train split that ships with the package (1,215 rows, 972 vague tasks)."""
    return Path(str(resources.files("proactive.data") / "datasets" / "in3" / "train.jsonl"))


def is_in3_record(record: Any) -> bool:
    """An IN3 row: ``task`` and ``vague`` (or ``missing_details``), no corpus or masked-task fields."""
    return isinstance(record, dict) and "task" in record and ("vague" in record or "missing_details" in record)


def _digest(*parts: str) -> int:
    return int(hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:12], 16)


def in3_split(task: str) -> str:
    """``"test"`` for the held-out share of IN3's tasks, ``"train"`` for the rest (by the task's text,
    so a task and its copies always land on the same side)."""
    return "test" if _digest(" ".join(task.lower().split())) % 1000 < HELD_OUT_SHARE * 1000 else "train"


def detail_kind(description: str, inquiry: str) -> str:
    """The fact category of a missing detail, from what its description (or inquiry) asks for."""
    for text in (description, inquiry):
        kinds = asked_categories(text)
        for kind in KIND_ORDER:
            if kind in kinds:
                return kind
    return UNCUED


def parse_in3(record: Any, source: str = "<memory>", line: int = 0) -> PartialTask | None:
    """One IN3 row as a masked task (None for a task that is not vague: nothing to ask about).

    Raises :class:`TaskFormatError` naming the file, line and field of anything malformed."""
    if not isinstance(record, dict):
        raise TaskFormatError(f"{source}:{line}: an IN3 row must be a JSON object, got {type(record).__name__}")
    task = record.get("task")
    if not isinstance(task, str) or not task.strip():
        raise field_error(source, line, "task", f"must be a non-empty string (got {task!r})")
    vague = record.get("vague", True)
    if not isinstance(vague, bool):
        raise field_error(source, line, "vague", f"must be true or false (got {vague!r})")
    details = record.get("missing_details") or []
    if not vague:
        return None
    if not isinstance(details, list) or not details:
        raise field_error(source, line, "missing_details", "a vague task needs a non-empty list of details")
    facts: list[Fact] = []
    inquiries: dict[str, str] = {}
    for index, detail in enumerate(details):
        where = f"missing_details[{index}]"
        if not isinstance(detail, dict):
            raise field_error(source, line, where, f"must be an object (got {type(detail).__name__})")
        description = detail.get("description")
        if not isinstance(description, str) or not description.strip():
            raise field_error(source, line, where + ".description", f"must be a non-empty string (got {description!r})")
        level = str(detail.get("importance", "2")).strip()
        if level not in IMPORTANCE:
            raise field_error(source, line, where + ".importance", f"must be 1, 2 or 3 (got {detail.get('importance')!r})")
        options = detail.get("options") or []
        if not isinstance(options, list) or not all(isinstance(o, str) and o.strip() for o in options):
            raise field_error(source, line, where + ".options", "must be a list of non-empty strings")
        inquiry = detail.get("inquiry", "")
        if not isinstance(inquiry, str):
            raise field_error(source, line, where + ".inquiry", f"must be a string (got {inquiry!r})")
        description = description.strip().rstrip(".")
        value = options[_digest(task, description) % len(options)].strip().rstrip(".") if options else "yes"
        fact_id = f"d{index}"
        facts.append(Fact(fact_id, f"{description}: {value}.", detail_kind(description, inquiry), IMPORTANCE[level]))
        inquiries[fact_id] = inquiry.strip()
    # The corpus's largest task has 8 facts; keep the most important details (stable order among equals).
    facts = sorted(facts, key=lambda f: -f.importance)[:MAX_FACTS]
    category = record.get("category", "IN3")
    domain = category.strip() if isinstance(category, str) and category.strip() else "IN3"
    return PartialTask(task_id=f"in3-{_digest(task) % 10**10:010d}", domain=domain, request=task.strip(),
                       hidden_facts=tuple(facts), strategy="in3", seed=0,
                       meta={"source": "IN3", "split": in3_split(task),
                             "inquiries": {f.id: inquiries[f.id] for f in facts}})


def load_in3(path: str | Path) -> list[PartialTask]:
    """Every vague task of an IN3 JSONL file, masked (see :func:`parse_in3`); repeated tasks once."""
    partials: dict[str, PartialTask] = {}
    for line, record in iter_jsonl(path):
        partial = parse_in3(record, str(path), line)
        if partial is not None:
            partials.setdefault(partial.task_id, partial)
    if not partials:
        raise TaskFormatError(f"{path}: no vague IN3 task in it (rows need 'task', 'vague': true and 'missing_details')")
    return list(partials.values())
