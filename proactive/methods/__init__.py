"""Training methods as units: each is one module with its settings class and its entry point.

A profile's ``train.method`` is a list of stages run in order (``[rft]``, ``[grpo]``, ``[rft, grpo]``;
the older ``"rft+grpo"`` spelling is read as the list). Each stage is a :class:`Method`: it says what
its settings are (``train.rft:`` / ``train.grpo:`` in the YAML), how a run of it is labelled and counted
("RFT, 1 round"; "steps"), which of ``metrics.jsonl``'s records it wrote and how to draw them, and it
takes the policy and returns the trained policy (:meth:`Method.train`).

This module is the registry and nothing else: the built-in methods are named in
:data:`BUILTIN_METHODS` (module paths, imported on first use, so that reading a profile does not
import the trainers), and :func:`register` adds one more at run time (a plug-in, or a test's toy
method). Adding a method is one module, one settings class and one line in :data:`BUILTIN_METHODS`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:  # types only: the registry imports nothing of the package at run time
    from ..config import Profile
    from ..masking import PartialTask

#: The methods that ship with the package: name -> the module that defines it (its ``METHOD``).
BUILTIN_METHODS: dict[str, str] = {
    "rft": "proactive.methods.rft",
    "grpo": "proactive.methods.grpo",
    "writer": "proactive.methods.writer",
}

_registered: dict[str, Method] = {}


@dataclass
class StageRun:
    """What a stage is handed: the profile, its own settings, the tasks, the reward, and the run folder.

    ``out`` is the run's ``train/`` folder (each method keeps its own files there: RFT's ``rft/``,
    GRPO's ``checkpoints/``); ``metrics_path`` the run's ``metrics.jsonl``, which every stage appends
    to; ``peft_config`` the LoRA to wrap the model with, None once a stage has wrapped it."""

    profile: Profile
    settings: Any
    partials: Sequence[PartialTask]
    reward: Any
    tokenizer: Any
    out: Path
    metrics_path: Path
    peft_config: Any = None
    resume: bool = True
    #: GRPO's ``--max-steps`` override and a notebook's per-step listener.
    max_steps: int | None = None
    on_log: Callable[[list[dict]], None] | None = None
    #: Stages of this run before this one (their policy is this stage's starting model).
    earlier: tuple[str, ...] = ()
    #: Set by the stage: how far it got (rounds, steps), and whether it saved the adapter itself.
    done: int = 0
    saved: bool = False
    #: The run's experiment trackers (``train.report_to``; :mod:`proactive.tracking`), or None.
    tracker: Any = None

    @property
    def adapter_dir(self) -> Path:
        return self.out / "adapter"

    def wrapped(self, model: Any) -> Any:
        """``model`` with the run's LoRA attached, the first time a stage asks (``peft_config`` is then
        spent: later stages continue on the same adapter); as it is when already wrapped."""
        if self.peft_config is None:
            return model
        from peft import get_peft_model

        model, self.peft_config = get_peft_model(model, self.peft_config), None
        return model

    def track(self, method: str, step: int, record: Mapping[str, Any]) -> None:
        """Send one ``metrics.jsonl`` record (an RFT round, a GRPO step) to the run's trackers, if any."""
        if self.tracker is not None:
            self.tracker.log(method, step, record)

    def note(self, **items: Any) -> None:
        """Add ``items`` to the run's ``config.json`` (the resolved profile and what training found)."""
        from ..files import atomic_write_json, is_main_process, read_json

        if not is_main_process():
            return
        path = self.out / "config.json"
        atomic_write_json(path, {**(read_json(path) if path.is_file() else {}), **items})


class Method:
    """One way of training the policy. Subclasses set the class attributes and implement :meth:`train`."""

    #: The name a profile's ``train.method`` uses, and the YAML section of its settings (``train.rft:``).
    name: ClassVar[str] = ""
    #: How reports, plots and the CLI name it ("RFT", "GRPO").
    label: ClassVar[str] = ""
    #: What :meth:`amount` counts ("RFT rounds", "steps"), and the word for one and for several in a plan.
    unit: ClassVar[str] = "steps"
    counted: ClassVar[tuple[str, str]] = ("step", "steps")
    #: The title of its figures in a run's curves and the report ("RFT rounds", "GRPO training").
    figure_title: ClassVar[str] = "training"
    #: Its settings dataclass (defaults: the CPU recipe). ``RANGES`` on it: key -> (low, high, low allowed).
    settings_class: ClassVar[type] = object
    #: Whether it trains the policy (the asker). A stage that trains something else (writer RFT trains the
    #: outline writer) hands the policy on unchanged, and a run's count is the last policy stage's.
    trains_policy: ClassVar[bool] = True

    def amount(self, settings: Any, max_steps: int | None = None) -> int:
        """How much one run of it does, in :attr:`unit`."""
        raise NotImplementedError

    def plan(self, settings: Any, max_steps: int | None = None) -> str:
        """One phrase for the log: "RFT, 1 round", "GRPO, 40 steps"."""
        n = self.amount(settings, max_steps)
        return f"{self.label}, {n} {self.counted[0] if n == 1 else self.counted[1]}"

    def finished(self, out: Path, settings: Any, max_steps: int | None = None) -> int | None:
        """How much a finished earlier run left in ``out`` (None: not finished, train it)."""
        return None

    def started(self, out: Path) -> bool:
        """Whether ``out`` holds this stage's progress (a later stage's progress means earlier ones ended)."""
        return False

    def clear(self, out: Path) -> None:
        """Remove this stage's progress (``--fresh``)."""

    def remove_unfinished(self, out: Path) -> None:
        """Remove what a stopped run left half-written (the disk filled while saving)."""

    def train(self, model: Any, run: StageRun) -> Any:
        """Train ``model`` (the policy) and return it; set ``run.done``."""
        raise NotImplementedError

    def owns(self, record: Mapping[str, Any]) -> bool:
        """Whether a ``metrics.jsonl`` record was written by this method."""
        return record.get("method") == self.name

    def figures(self, records: Sequence[Mapping[str, Any]], title: str) -> list[Any]:
        """Plotly figures of this method's records (none by default)."""
        return []

    def check(self, profile: Profile) -> None:
        """Refuse, in one line, a profile this machine cannot train with this method (before any work)."""


def register(method: Method, replace: bool = False) -> Method:
    """Add a method to the registry (a plug-in, or a test's toy method); returns it."""
    if not method.name or not method.name.isidentifier():
        raise ValueError(f"a method's name must be an identifier (got {method.name!r})")
    if method.name in _known() and not replace:
        raise ValueError(f"a method named {method.name!r} is already registered")
    _registered[method.name] = method
    return method


def unregister(name: str) -> None:
    """Remove a method added with :func:`register` (the built-ins stay)."""
    _registered.pop(name, None)


def _known() -> set[str]:
    return set(BUILTIN_METHODS) | set(_registered)


def names() -> list[str]:
    """Every method a profile may name, built-ins first."""
    return [*BUILTIN_METHODS, *sorted(set(_registered) - set(BUILTIN_METHODS))]


def get(name: str) -> Method:
    """The method called ``name``; KeyError for an unknown one (profiles check names when they load)."""
    if name in _registered:
        return _registered[name]
    if name in BUILTIN_METHODS:
        method = importlib.import_module(BUILTIN_METHODS[name]).METHOD
        _registered[name] = method
        return method
    raise KeyError(name)


def parse(value: object) -> tuple[str, ...] | None:
    """A ``train.method`` value as a tuple of stage names: a list, a name, or names joined by ``+``
    (``"rft+grpo"``); None when it is neither a string nor a list of strings."""
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split("+"))
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None


def stages(profile: Profile) -> list[Method]:
    """The methods a profile trains with, in order."""
    return [get(name) for name in profile.train.method]


def describe(profile: Profile, max_steps: int | None = None) -> str:
    """The training plan in one phrase: "RFT, 1 round, then GRPO, 40 steps"."""
    return ", then ".join(m.plan(profile.train.settings(m.name), max_steps) for m in stages(profile))


def policy_stages(profile: Profile) -> list[Method]:
    """The stages that train the policy, in order (all of them when none does)."""
    every = stages(profile)
    return [m for m in every if m.trains_policy] or every


def unit(profile: Profile) -> str:
    """What a finished run's count means: the last policy stage's unit."""
    return policy_stages(profile)[-1].unit
