"""Watching a run while it trains: every record a training method writes to ``metrics.jsonl`` (RFT's
rounds, GRPO's steps) also goes to the experiment trackers a profile names in ``train.report_to``, the
setting TRL's trainers call by that name: TensorBoard, Trackio (TRL's recommended tracker, local-first)
or Weights & Biases.

One path for every method, so RFT's rounds are tracked as GRPO's steps are; the trainers' own
``report_to`` stays "none" (it would log GRPO twice and RFT's rounds not at all).
"""

from __future__ import annotations

import importlib.util
import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .errors import ProactiveError

log = logging.getLogger(__name__)

#: The trackers ``train.report_to`` may name, and the package each needs.
TRACKERS: dict[str, str] = {"tensorboard": "tensorboard", "trackio": "trackio", "wandb": "wandb"}
#: The project name a run is filed under in Trackio and W&B (TensorBoard: the run's own folder).
PROJECT = "proactive"
#: Where TensorBoard's event files go inside a run's ``train/`` folder (one sub-folder per method).
TENSORBOARD_DIR = "tensorboard"


def parse_report_to(value: Any) -> tuple[str, ...]:
    """``report_to`` as a profile or ``--report-to`` gives it ("tensorboard", "tensorboard,wandb", a list,
    "none") as a tuple of tracker names; anything else is a one-line error."""
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not all(isinstance(i, str) for i in items):
        raise ProactiveError(f"give a tracker name or a list of them ({', '.join(TRACKERS)}) or none "
                             f"(got {str(value)[:60]!r})")
    names = tuple(dict.fromkeys(i.strip().lower() for i in items if i.strip()))
    if names in ((), ("none",)):
        return ()
    unknown = [n for n in names if n not in TRACKERS]
    if unknown:
        raise ProactiveError(f"{unknown[0][:40]!r} is not a tracker; choose from "
                             f"{', '.join(TRACKERS)}, or none")
    return names


def check_installed(names: Sequence[str]) -> None:
    """Refuse, in one line and before any model loads, a tracker whose package is not installed."""
    for name in names:
        if importlib.util.find_spec(TRACKERS[name]) is None:
            raise ProactiveError(f"report_to names {name}, which is not installed here: pip install {TRACKERS[name]} "
                                 "(or set train.report_to: none)")


def tensorboard_dir(train_dir: str | Path) -> Path:
    """The folder to point ``tensorboard --logdir`` at for a run's ``train/`` folder."""
    return Path(train_dir) / TENSORBOARD_DIR


class Tracker:
    """The run's trackers. :meth:`log` takes one ``metrics.jsonl`` record of a method, at its step (an
    RFT round, a GRPO step); numbers only, under the method's name ("rft/kept_share", "grpo/reward").

    TensorBoard writes one sub-folder per method (each its own curve set) and, on the first record a
    method logs in this process, hides what an earlier, interrupted process logged at that step or
    later (its ``purge_step``): a resumed GRPO run redoes the steps after its checkpoint."""

    def __init__(self, names: Sequence[str], train_dir: str | Path, run_name: str, config: Mapping[str, Any]):
        check_installed(names)
        self.names = tuple(names)
        self.train_dir = Path(train_dir)
        self.run_name = run_name
        self.config = dict(config)
        self._writers: dict[str, Any] = {}
        self._runs: dict[str, Any] = {}
        self._defined: set[str] = set()

    def log(self, method: str, step: int, record: Mapping[str, Any]) -> None:
        values = {f"{method}/{key}": float(value) for key, value in record.items()
                  if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)}
        if not values:
            return
        for name in self.names:
            try:
                getattr(self, f"_log_{name}")(method, step, values)
            except Exception as exc:  # noqa: BLE001 - a tracker's failure (full disk, W&B offline) never stops training
                log.warning("report_to %s stopped at %s step %d (%s); training goes on, and metrics.jsonl has "
                            "every record", name, method, step, str(exc)[:200])
                self.names = tuple(n for n in self.names if n != name)

    def close(self) -> None:
        for writer in self._writers.values():
            writer.close()
        for run in self._runs.values():
            run.finish()
        self._writers.clear()
        self._runs.clear()

    # One method per tracker, named after it.

    def _log_tensorboard(self, method: str, step: int, values: Mapping[str, float]) -> None:
        writer = self._writers.get(method)
        if writer is None:
            from torch.utils.tensorboard import SummaryWriter

            writer = self._writers[method] = SummaryWriter(log_dir=str(tensorboard_dir(self.train_dir) / method),
                                                           purge_step=step)
        for tag, value in values.items():
            writer.add_scalar(tag, value, step)
        writer.flush()  # a user watching the run sees each record as it lands

    def _log_trackio(self, method: str, step: int, values: Mapping[str, float]) -> None:
        run = self._runs.get("trackio")
        if run is None:
            import trackio

            trackio.init(project=PROJECT, name=self.run_name, config=self.config)
            run = self._runs["trackio"] = trackio  # its module-level log() and finish() act on that run
        # Trackio and W&B keep one step counter per run; RFT's rounds and GRPO's steps each restart at 1,
        # so the method's own counter goes in as a value to plot against.
        run.log({**values, f"{method}/step": step})

    def _log_wandb(self, method: str, step: int, values: Mapping[str, float]) -> None:
        run = self._runs.get("wandb")
        if run is None:
            import wandb

            run = self._runs["wandb"] = wandb.init(project=PROJECT, name=self.run_name, config=self.config,
                                                   dir=str(self.train_dir))
        if method not in self._defined:  # W&B plots the method's values against its own counter
            run.define_metric(f"{method}/*", step_metric=f"{method}/step")
            self._defined.add(method)
        run.log({**values, f"{method}/step": step})


def open_tracker(names: Sequence[str], train_dir: str | Path, config: Mapping[str, Any]) -> Tracker | None:
    """The run's tracker, or None where ``report_to`` names none. The run is named after its folder
    (``runs/demo/train`` -> "demo")."""
    if not names:
        return None
    train_dir = Path(train_dir)
    run_name = train_dir.parent.name if train_dir.name == "train" else train_dir.name
    tracker = Tracker(names, train_dir, run_name, config)
    if "tensorboard" in names:
        from tqdm.auto import tqdm

        tqdm.write(f"watch training: tensorboard --logdir {tensorboard_dir(train_dir)}")
    return tracker
