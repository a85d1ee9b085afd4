"""The run folder: how notebooks and commands hand results to each other (``runs/<name>/``).

One layout for ``make demo``, the CLI and all six chapters, so any of them can pick up what another
left (a notebook can evaluate the demo's adapter; the demo reuses a notebook's training)::

    run.json                the profile (and task set) the folder belongs to
    masked_test.jsonl       the held-out tasks, masked: what the simulated user knows
    train/                  adapter/, metrics.jsonl, curves.html, config.json; RFT's rft/, GRPO's checkpoints/;
                            tensorboard/ when train.report_to names it
    eval/NAME.json          one system's dialogues, outlines and coverage (``proactive evaluate``)
    human_eval_items.jsonl  pairs for the human-preference widget (human_eval.human_eval_pairs)
    best_fixed_list.json    the strongest baseline that reads nothing, chosen on the corpus's training tasks
    best_fixed_list_in3.json  the same for IN3's held-out side, chosen on IN3's training side
    report.json, .html      the demo's report

Each stage reads what an earlier stage wrote here, never a notebook's memory, and makes it itself
when it is missing, so every chapter also runs on its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ProactiveError
from .files import atomic_write_json, atomic_write_jsonl, is_main_process, iter_jsonl, read_json
from .masking import PartialTask
from .provenance import PACKAGES, provenance, versions_line  # noqa: F401  (run.json's record; the chapters import versions_line here)
from .task_files import TaskSet, profile_partials

if TYPE_CHECKING:
    from .config import Profile
    from .fixed_list import FixedList
    from .training import TrainResult


def eval_file_name(system_name: str) -> str:
    """The evaluation file a system's results go to: its name up to any "(...)", spaces and slashes as
    dashes ("oracle (sees all facts)" -> ``oracle.json``)."""
    stem = system_name.split(" (")[0].strip() or "system"
    return re.sub(r"[\s/\\]+", "-", stem) + ".json"


def find_adapter(path: str | Path) -> Path | None:
    """The trained LoRA adapter ``path`` holds: the adapter folder itself, a training folder holding
    ``adapter/``, or a run folder holding ``train/adapter/``. None when there is none."""
    path = Path(path)
    for candidate in (path, path / "adapter", path / "train" / "adapter"):
        if (candidate / "adapter_config.json").is_file():
            return candidate
    return None


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
                recorded = read_json(info).get("profile")
            except (ProactiveError, AttributeError):  # damaged: record() writes it again
                recorded = None
            if recorded and recorded != profile.name:
                raise ProactiveError(
                    f"{self.root} holds a run of profile {recorded!r}, not {profile.name!r}; "
                    f"use another folder, or --profile {recorded}")

    @classmethod
    def default(cls, profile: Profile, root: str | Path | None = None, task_set: TaskSet | None = None) -> RunDir:
        """``root``, else the profile's own folder ``runs/PROFILE`` (what ``proactive train`` uses)."""
        return cls(root or Path("runs") / profile.name, profile, task_set)

    @classmethod
    def tutorial(cls, profile: Profile, root: str | Path | None = None) -> RunDir:
        """The folder the six chapters share: ``root``, else ``../runs/tutorial-PROFILE`` (the notebooks
        run from ``notebooks/``)."""
        return cls(root or Path("..") / "runs" / f"tutorial-{profile.name}", profile)

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

    def eval_file(self, system_name: str) -> Path:
        """Where a system's evaluation (dialogues, outlines, coverage) is saved: ``eval/NAME.json``."""
        return self.eval_dir / eval_file_name(system_name)

    def find_adapter(self) -> Path | None:
        """The run's trained adapter (``train/adapter/``), or None before training."""
        return find_adapter(self.root)

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
            return [PartialTask.from_dict(record) for _, record in iter_jsonl(self.masked_test)]
        partials = profile_partials(self.profile, "test", self.task_set)
        self.record()
        atomic_write_jsonl(self.masked_test, [p.to_dict() for p in partials])
        return partials

    def has_adapter(self) -> bool:
        return self.find_adapter() is not None

    def train(self, **train_kwargs) -> TrainResult:
        """Train the profile's policy into ``train/`` (resuming any checkpoints; keyword arguments as
        :func:`proactive.training.train`), then draw its figures into ``train/curves.html``."""
        from .files import atomic_write_text
        from .html_views import figures_html
        from .plots import training_figures
        from .training import read_metrics, train

        if is_main_process():
            self.record()
        result = train(self.profile, self.train_dir, **train_kwargs)
        metrics = read_metrics(result.metrics_path) if is_main_process() else []
        if metrics:
            atomic_write_text(self.train_dir / "curves.html",
                              figures_html(training_figures(metrics, f"{self.profile.model} ({self.profile.name})")))
        return result

    def best_fixed_list(self, matcher: Any, partials: Sequence[PartialTask] | None = None, turns: int = 3,
                        name: str = "best_fixed_list") -> FixedList:
        """The best fixed list of questions (:mod:`proactive.fixed_list`), chosen on training tasks of the
        kind it is measured on (``partials``; default: the corpus's train split, without the IN3 tasks a
        profile also trains on, for the corpus's held-out tasks) and kept in ``NAME.json``; chosen again
        when the tasks, the bank or the number of questions differ. Each held-out set gets the list chosen
        on its own training side (``name="best_fixed_list_in3"`` with IN3's), the strongest control for it."""
        from .canned_questions import FIXED_LIST_BANK
        from .fixed_list import FixedList, choose_fixed_list

        partials = (list(partials) if partials is not None
                    else profile_partials(self.profile, "train", with_in3=False))
        path = self.root / f"{name}.json"
        if path.is_file():
            try:
                kept = FixedList.from_dict(read_json(path))
            except (ProactiveError, AttributeError):
                kept = None  # damaged: chosen again below
            if (kept is not None and kept.task_ids == tuple(p.task_id for p in partials)
                    and kept.bank == FIXED_LIST_BANK and len(kept.questions) == turns):
                return kept
        chosen = choose_fixed_list(partials, matcher, turns=turns)
        if is_main_process():
            self.record()
            atomic_write_json(path, chosen.to_dict())
        return chosen

    def adapter_or_train(self, log: Callable[[str], None] = print, **train_kwargs) -> Path:
        """The run's trained adapter, trained first (resuming any checkpoints) when it is missing."""
        if not self.has_adapter():
            log(f"no adapter in {self.adapter_dir}: training {self.profile.name} first")
            self.train(**train_kwargs)
        return self.adapter_dir
