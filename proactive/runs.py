"""The run folder: how notebooks and commands hand results to each other (``runs/<name>/``).

Each stage reads what an earlier stage wrote there, never a notebook's memory, and makes it
itself when it is missing, so every chapter also runs on its own.
"""

from __future__ import annotations

import json
from pathlib import Path

from .config import Profile
from .files import atomic_write_jsonl
from .masking import PartialTask, mask_many, split_tasks
from .tasks import load_tasks

MASKED_TEST = "masked_test.jsonl"


def masked_test_tasks(run_dir: str | Path, profile: Profile, refresh: bool = False) -> list[PartialTask]:
    """The run's masked held-out tasks: read from ``run_dir`` or (first time, or ``refresh``) made and saved."""
    path = Path(run_dir) / MASKED_TEST
    if path.is_file() and not refresh:
        return [PartialTask.from_dict(json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    test = split_tasks(load_tasks(), seed=profile.seed)["test"]
    partials = mask_many(test[: profile.n_tasks] if profile.n_tasks else test, profile.mask_strategy, seed=profile.seed)
    atomic_write_jsonl(path, [p.to_dict() for p in partials])
    return partials
