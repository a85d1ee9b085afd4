"""Fully specified tasks: what an expert requester knows before asking for help.

A :class:`Task` is a real-world request (an objective and the deliverable it asks for) together
with the key facts a requester would know: audience, constraints, budget, dates, preferences.
Masking (``proactive.masking``) later hides some of those facts; they become the user's
*implicit knowledge* that a good assistant must draw out by asking.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import TaskFormatError, shown
from .files import iter_jsonl

#: The kinds of fact a requester holds. Masking "by category" hides whole kinds at once.
CATEGORIES: tuple[str, ...] = (
    "audience",  # who the deliverable is for
    "goal",  # what success looks like
    "budget",  # money available
    "timeline",  # dates, deadlines, durations
    "constraint",  # hard limits: rules, length, tools, regulations
    "preference",  # taste and style the requester cares about
    "context",  # background only the requester knows
    "specifics",  # domain details: names, numbers, conditions
)

#: The kind of a fact given without one (a task file of one's own, a reward line): "context" is never
#: reached by a mere "who/when/why" question (proactive.intents), only by asking about its content.
DEFAULT_CATEGORY = "context"

MIN_FACTS, MAX_FACTS = 4, 8
#: The longest request and fact statement read. The corpus's longest full request is about 630
#: characters, IN3's about 170; a request of 19,000 tokens took a CPU minutes per question and
#: overflows a small model's context, so text far past these is a file mistake, said in one line.
MAX_REQUEST_CHARS, MAX_FACT_CHARS = 10_000, 2_000
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def words_of(text: str) -> tuple[str, ...]:
    """A text's words as a reader compares them: compatibility forms folded (full-width letters),
    invisible format characters (zero-width spaces) dropped, case ignored."""
    text = "".join(c for c in unicodedata.normalize("NFKC", text) if unicodedata.category(c) != "Cf")
    return tuple(re.findall(r"\w+", text.casefold()))


def contains_words(text: Sequence[str], part: Sequence[str]) -> bool:
    """Whether the word sequence ``part`` appears, in order and unbroken, in ``text``."""
    n = len(part)
    return n > 0 and any(tuple(text[i : i + n]) == tuple(part) for i in range(len(text) - n + 1))


@dataclass(frozen=True)
class Fact:
    """One piece of the requester's knowledge, e.g. "The budget is $5,000".

    ``importance`` (0 < w <= 1) says how much the deliverable depends on it; the elicitation
    reward weights facts by it.
    """

    id: str
    statement: str
    category: str
    importance: float

    def __post_init__(self):
        # Every reader builds facts through here, so a hand-edited file's "importance": "high" or
        # Infinity is refused where it is read, not as a TypeError (or a NaN share) much later.
        for name in ("id", "statement", "category"):
            if not isinstance(getattr(self, name), str):
                raise TaskFormatError(f"fact {self.id!r}: {name} must be text (got {getattr(self, name)!r})")
        w = self.importance
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not 0 < w <= 1:  # also false for nan
            raise TaskFormatError(f"fact {shown(self.id)}: importance must be a number in (0, 1] (got {shown(w)})")
        if len(self.statement) > MAX_FACT_CHARS:
            raise TaskFormatError(f"fact {shown(self.id)}: its statement is {len(self.statement):,} characters (at "
                                  f"most {MAX_FACT_CHARS:,} are read): a fact is a sentence or two")
        if not words_of(self.statement):
            raise TaskFormatError(f"fact {shown(self.id)}: its statement has no words (got {shown(self.statement)})")


@dataclass(frozen=True)
class Task:
    """A fully specified request: objective, the deliverable asked for, and every key fact."""

    id: str
    domain: str
    title: str
    objective: str
    deliverable: str
    facts: tuple[Fact, ...]

    def fact(self, fact_id: str) -> Fact:
        for fact in self.facts:
            if fact.id == fact_id:
                return fact
        raise KeyError(f"task {self.id} has no fact {fact_id!r}")

    def full_request(self) -> str:
        """The request as an expert who volunteers everything would write it."""
        return compose_request(self.objective, [f.statement for f in self.facts], self.deliverable)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["facts"] = [asdict(f) for f in self.facts]
        return data


def compose_request(objective: str, statements: Sequence[str], deliverable: str) -> str:
    """Join an objective, some fact statements and the deliverable into one natural request."""
    return " ".join(part.strip() for part in [objective, *statements, deliverable] if part.strip())


def field_error(source: str, line: int, field: str, problem: str) -> TaskFormatError:
    return TaskFormatError(f"{source}:{line}: field '{field}': {problem}")


def required_text(record: dict, key: str, source: str, line: int, prefix: str = "") -> str:
    """``record[key]`` as a stripped non-empty string, or a file:line: field error."""
    value = record.get(key)
    if not isinstance(value, str) or not value.strip():
        got = "missing" if key not in record else f"got {value!r}"
        raise field_error(source, line, prefix + key, f"must be a non-empty string ({got})")
    return value.strip()


def checked_kind_and_importance(category: Any, importance: Any, source: str, line: int, where: str) -> tuple[str, float]:
    """A fact's category (one of ``CATEGORIES``) and importance (in (0, 1]), or a file:line: field error:
    the one place these rules live, for the corpus schema and for task files of one's own."""
    if category not in CATEGORIES:
        raise field_error(source, line, where + "category", f"{category!r} is not one of {', '.join(CATEGORIES)}")
    if isinstance(importance, bool) or not isinstance(importance, (int, float)) or not 0 < importance <= 1:
        raise field_error(source, line, where + "importance", f"must be a number in (0, 1] (got {importance!r})")
    return category, float(importance)


def parse_task(record: Any, source: str = "<memory>", line: int = 0) -> Task:
    """Validate one JSON record against the task schema and build a :class:`Task`.

    Raises :class:`TaskFormatError` naming ``source``, ``line`` and the offending field.
    """
    if not isinstance(record, dict):
        raise TaskFormatError(f"{source}:{line}: a task must be a JSON object, got {type(record).__name__}")
    task_id = required_text(record, "id", source, line)
    if not _ID.match(task_id):
        raise field_error(source, line, "id", f"use lowercase letters, digits, '-' or '_' (got {task_id!r})")
    texts = {key: required_text(record, key, source, line) for key in ("domain", "title", "objective", "deliverable")}
    raw_facts = record.get("facts")
    if not isinstance(raw_facts, list) or not MIN_FACTS <= len(raw_facts) <= MAX_FACTS:
        size = len(raw_facts) if isinstance(raw_facts, list) else "not a list"
        raise field_error(
            source, line, "facts", f"must be a list of {MIN_FACTS}-{MAX_FACTS} facts (got {size})"
        )
    facts: list[Fact] = []
    for index, raw in enumerate(raw_facts):
        where = f"facts[{index}]."
        if not isinstance(raw, dict):
            raise field_error(source, line, f"facts[{index}]", "must be an object")
        fact_id = required_text(raw, "id", source, line, where)
        if not _ID.match(fact_id):
            raise field_error(source, line, where + "id", f"use lowercase letters, digits, '-' or '_' (got {fact_id!r})")
        if any(f.id == fact_id for f in facts):
            raise field_error(source, line, where + "id", f"duplicate fact id {fact_id!r} in task {task_id}")
        category, importance = checked_kind_and_importance(
            required_text(raw, "category", source, line, where), raw.get("importance"), source, line, where)
        try:
            facts.append(Fact(fact_id, required_text(raw, "statement", source, line, where), category, importance))
        except TaskFormatError as exc:
            if str(exc).startswith(f"{source}:"):
                raise
            raise field_error(source, line, f"facts[{index}]", str(exc)) from None
    task = Task(id=task_id, facts=tuple(facts), **texts)
    if len(task.full_request()) > MAX_REQUEST_CHARS:
        raise field_error(source, line, "objective", f"the request with every fact is {len(task.full_request()):,} "
                          f"characters (at most {MAX_REQUEST_CHARS:,} are read; a small model's context holds little "
                          "more): shorten it")
    return task


def bundled_task_files() -> list[Path]:
    """The JSONL files of the project's own corpus, one per domain (package data)."""
    folder = resources.files("proactive.data") / "tasks"
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(".jsonl"))


def load_tasks(paths: str | Path | Iterable[str | Path] | None = None) -> list[Task]:
    """Load and validate tasks from JSONL files (default: the bundled corpus).

    Task ids must be unique across all files; any schema problem raises :class:`TaskFormatError`
    with the file, line and field.
    """
    if paths is None:
        files = bundled_task_files()
    elif isinstance(paths, (str, Path)):
        files = [Path(paths)]
    else:
        files = [Path(p) for p in paths]
    tasks: list[Task] = []
    seen: dict[str, str] = {}
    for path in files:
        for line, record in iter_jsonl(path):
            task = parse_task(record, str(path), line)
            if task.id in seen:
                raise field_error(str(path), line, "id", f"duplicate task id {task.id!r} (first in {seen[task.id]})")
            seen[task.id] = f"{path}:{line}"
            tasks.append(task)
    if not tasks:
        raise TaskFormatError(f"no tasks found in {', '.join(map(str, files)) or 'the given paths'}")
    return tasks


def load_tasks_by_id(paths: str | Path | Iterable[str | Path] | None = None) -> dict[str, Task]:
    """:func:`load_tasks`, keyed by task id."""
    return {t.id: t for t in load_tasks(paths)}


def corpus_stats(tasks: Sequence[Task]) -> dict[str, Any]:
    """Counts a reader wants first: tasks, domains, facts per task, fact categories."""
    per_task = [len(t.facts) for t in tasks]
    return {
        "tasks": len(tasks),
        "domains": len({t.domain for t in tasks}),
        "tasks_per_domain": dict(sorted(Counter(t.domain for t in tasks).items())),
        "facts": sum(per_task),
        "facts_per_task": {
            "min": min(per_task),
            "mean": round(sum(per_task) / len(per_task), 2),
            "max": max(per_task),
        },
        "fact_categories": dict(sorted(Counter(f.category for t in tasks for f in t.facts).items())),
    }


def weighted_share(flags: Sequence[bool], facts: Sequence[Fact]) -> float:
    """Importance-weighted share of ``facts`` whose flag is set (0 when there are none)."""
    total = sum(f.importance for f in facts)
    return sum(f.importance for f, flag in zip(facts, flags) if flag) / total if total else 0.0
