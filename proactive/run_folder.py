"""The run folder: how notebooks and commands hand results to each other (``runs/<name>/``).

One layout for ``make demo``, the CLI and all six chapters, so any of them can pick up what another
left (a notebook can evaluate the demo's adapter; the demo reuses a notebook's training)::

    run.json                the profile (and task set) the folder belongs to
    masked_test.jsonl       the held-out tasks, masked: what the simulated user knows
    train/                  GRPO: adapter/, metrics.jsonl, curves.html, config.json, checkpoints/
    eval/NAME.json          one system's dialogues, outlines and coverage (``proactive evaluate``)
    human_eval_items.jsonl  trained vs untrained pairs for the human-preference widget
    report.json, .html      the demo's report

Each stage reads what an earlier stage wrote here, never a notebook's memory, and makes it itself
when it is missing, so every chapter also runs on its own.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import ProactiveError
from .files import atomic_write_json, atomic_write_jsonl, read_text
from .masking import PartialTask
from .task_files import TaskSet, profile_partials

if TYPE_CHECKING:
    from .config import Profile


#: The packages whose versions decide a run's numbers.
PACKAGES = ("proactive", "torch", "transformers", "trl", "peft", "accelerate", "datasets", "unsloth",
            "sentence-transformers")


def provenance() -> dict:
    """What made a run: Python's and the key packages' versions (None: not installed) and the git
    commit of the checkout it ran from (None outside a git checkout)."""
    import platform
    import subprocess
    from importlib import metadata

    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).resolve().parent, capture_output=True,
                              text=True, timeout=10, check=False)
        commit = done.stdout.strip() if done.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        commit = None
    return {"versions": versions, "git_commit": commit}


class RunDir:
    """Every path of one run, and the helpers that read a stage's output or make it when missing.

    A run folder belongs to one profile (recorded in ``run.json`` on first use): opening it with
    another profile is refused, since its adapter and masked tasks were made for that one."""

    MASKED_TEST = "masked_test.jsonl"

    def __init__(self, root: str | Path, profile: Profile, task_set: TaskSet | None = None):
        self.root = Path(root)
        self.profile = profile
        self.task_set = task_set
        info = self.root / "run.json"
        if info.is_file():
            try:
                recorded = json.loads(read_text(info)).get("profile")
            except (json.JSONDecodeError, AttributeError):
                recorded = None
            if recorded and recorded != profile.name:
                raise ProactiveError(
                    f"{self.root} holds a run of profile {recorded!r}, not {profile.name!r}; "
                    f"use another folder, or --profile {recorded}")

    # -- paths ---------------------------------------------------------------------------------
    @property
    def masked_test(self) -> Path:
        return self.root / self.MASKED_TEST

    @property
    def train_dir(self) -> Path:
        return self.root / "train"

    @property
    def adapter_dir(self) -> Path:
        return self.train_dir / "adapter"

    @property
    def eval_dir(self) -> Path:
        return self.root / "eval"

    @property
    def human_eval_items(self) -> Path:
        return self.root / "human_eval_items.jsonl"

    def path(self, name: str) -> Path:
        """A chapter's own file in the run folder (``corpus_stats.json``, ``reward_suite.jsonl`` …)."""
        return self.root / name

    # -- stages --------------------------------------------------------------------------------
    def record(self) -> None:
        """Write ``run.json`` (once): which profile and task set this folder belongs to."""
        info = self.root / "run.json"
        if not info.is_file():
            atomic_write_json(info, {"profile": self.profile.name, "model": self.profile.model,
                                     "tasks": self.task_set.label if self.task_set else "bundled corpus",
                                     **provenance()})

    def held_out(self, refresh: bool = False) -> list[PartialTask]:
        """The run's masked held-out tasks: read from ``masked_test.jsonl`` or (first time, or
        ``refresh``) made from the profile (or the run's task set) and saved."""
        if self.masked_test.is_file() and not refresh:
            return [PartialTask.from_dict(json.loads(line))
                    for line in read_text(self.masked_test).splitlines() if line.strip()]
        partials = profile_partials(self.profile, "test", self.task_set)
        self.record()
        atomic_write_jsonl(self.masked_test, [p.to_dict() for p in partials])
        return partials

    def has_adapter(self) -> bool:
        return (self.adapter_dir / "adapter_config.json").is_file()

    def adapter_or_train(self, log: Callable[[str], None] = print, **train_kwargs) -> Path:
        """The run's trained adapter, trained first (resuming any checkpoints) when it is missing."""
        if not self.has_adapter():
            from .training import train

            self.record()
            log(f"no adapter in {self.adapter_dir}: training {self.profile.name} first")
            train(self.profile, self.train_dir, **train_kwargs)
        return self.adapter_dir
