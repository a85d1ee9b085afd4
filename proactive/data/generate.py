"""Drafting new fully specified tasks with any chat model.

The bundled corpus was written by hand. Users with a larger model (a served 7B, an API) can grow
it: the model is shown one real task as an example and asked for a new one in another setting;
every draft is validated against the same schema as the corpus, and drafts that fail are dropped.
A 135M model rarely writes valid JSON; use at least a 7B instruct model.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Sequence

from tqdm.auto import tqdm

from ..backends import ChatBackend
from ..errors import ProactiveError, TaskFormatError
from ..tasks import CATEGORIES, MAX_FACTS, MIN_FACTS, Task, parse_task

_PROMPT = """Write one new, realistic, fully specified request for the domain "{domain}".
It must follow exactly the JSON layout of this example (a different situation, not a copy):

{example}

Rules:
- "objective": one first-person sentence saying what the requester wants, with none of the facts.
- "deliverable": what to produce, e.g. an outline with named sections.
- "facts": {min_facts}-{max_facts} facts only the requester would know (audience, budget, dates,
  constraints, preferences, domain details), each one sentence that makes sense on its own.
- "category" is one of: {categories}. "importance" is a number in (0, 1].
Reply with the JSON object only."""

_JSON_OBJECT = re.compile(r"\{.*\}", re.DOTALL)


def parse_draft(reply: str, task_id: str, domain: str) -> Task:
    """Pull the JSON object out of a model reply and validate it as a task."""
    match = _JSON_OBJECT.search(reply or "")
    if not match:
        raise TaskFormatError(f"draft {task_id}: the reply holds no JSON object")
    try:
        record = json.loads(match.group(0))
    except json.JSONDecodeError as exc:
        raise TaskFormatError(f"draft {task_id}: invalid JSON ({exc.msg})") from None
    if not isinstance(record, dict):
        raise TaskFormatError(f"draft {task_id}: the reply is not a JSON object")
    record["id"], record["domain"] = task_id, domain
    return parse_task(record, source=f"draft {task_id}", line=1)


def draft_tasks(
    backend: ChatBackend,
    domain: str,
    n: int,
    examples: Sequence[Task],
    seed: int = 0,
    attempts_per_task: int = 3,
    max_new_tokens: int = 700,
) -> tuple[list[Task], list[str]]:
    """Ask ``backend`` for ``n`` new tasks in ``domain``; returns (valid tasks, rejection reasons)."""
    if not examples:
        raise ProactiveError("draft_tasks needs at least one example task to show the model")
    rng = random.Random(seed)
    slug = re.sub(r"[^a-z0-9]+", "-", domain.lower()).strip("-") or "task"
    tasks: list[Task] = []
    rejected: list[str] = []
    for index in tqdm(range(n), desc=f"drafting {domain} tasks", unit="task"):
        task_id = f"{slug}-draft-{seed}-{index}"
        for _ in range(attempts_per_task):
            example = rng.choice(list(examples)).to_dict()
            example.pop("id", None)
            prompt = _PROMPT.format(
                domain=domain,
                example=json.dumps(example, indent=1, ensure_ascii=False),
                min_facts=MIN_FACTS,
                max_facts=MAX_FACTS,
                categories=", ".join(CATEGORIES),
            )
            reply = backend.chat([{"role": "user", "content": prompt}], max_new_tokens=max_new_tokens, temperature=0.8)
            try:
                tasks.append(parse_draft(reply, task_id, domain))
                break
            except TaskFormatError as exc:
                rejected.append(str(exc))
    return tasks, rejected
