"""The policy's own questions read back: the histories GRPO's deeper prompts replay.

A policy trained only on template histories never sees its own earlier questions, so in evaluation
it asks them again. ``train.grpo.own_history`` replays the starting model's own sampled dialogues instead,
and ``train.grpo.own_history_refresh`` re-samples them from the policy being trained (on-policy replay).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .columns import history_to_column
from .config import Profile
from .errors import ProactiveError
from .files import atomic_write_json, is_main_process
from .masking import PartialTask
from .policy import question_prompt
from .simulator import Turn, turn_from_dict
from .training_rows import history_pairs

log = logging.getLogger(__name__)

#: The private GRPOTrainer method :meth:`OwnHistoryBank.wrap` hooks, and the TRL versions it is tested with.
PATCHED_METHOD = "_generate_and_score_completions"
TESTED_TRL = ("1.15.", "1.16.")


def own_dialogues(model: Any, tokenizer: Any, partials: Sequence[PartialTask], matcher: Any, profile: Profile,
                  seed: int | None = None, cache: bool = True) -> dict[str, list[Turn]]:
    """The starting model's own sampled dialogues with the simulated user, ``max(history_depths)``
    turns per training task: the histories ``training_rows`` replays.

    They depend only on the starting model, the tasks, the seed and the code that asks and answers,
    so they are kept in the cache (``own_history/`` under :func:`proactive.models.cache_dir`) keyed by
    all of those, and a second run of the same recipe (the demo after the learning benchmark, a
    rerun) skips minutes of sampling. A policy refreshed during training is never cached."""
    from .dialogues import run_dialogues
    from .policy import LocalPolicy

    depth = max(profile.train.grpo.history_depths, default=0)
    if depth == 0 or profile.train.grpo.own_history <= 0:
        return {}
    seed = profile.train_seed if seed is None else seed
    path = _own_history_path(partials, matcher, profile, depth, seed) if cache else None
    if path is not None and path.is_file():
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
            log.info("starting model's own dialogues read from the cache (%s)", path.name)
            return {task_id: [turn_from_dict(t) for t in turns] for task_id, turns in stored.items()}
        except (ValueError, TypeError, KeyError):
            log.warning("ignoring an unreadable own-history cache file %s", path)
    policy = LocalPolicy(model, tokenizer, profile.question_prefix, profile.train.max_completion_length,
                         name="starting model")
    dialogues = run_dialogues(policy, partials, matcher, turns=depth, temperature=profile.train.grpo.temperature,
                              seed=seed)
    own = {d.partial.task_id: list(d.turns) for d in dialogues}
    if path is not None and is_main_process():
        atomic_write_json(path, {task_id: [t.to_dict() for t in turns] for task_id, turns in own.items()})
    return own


# The modules whose code decides what the starting model is asked and what the user answers: a
# change to any of them makes a new own-history cache key.
_OWN_HISTORY_CODE = ("policy.py", "dialogues.py", "own_history.py", "simulator.py", "intents.py", "questions.py",
                     "matching.py")


def _own_history_path(partials: Sequence[PartialTask], matcher: Any, profile: Profile, depth: int, seed: int):
    import hashlib

    import torch

    from .models import CONVERSION_VERSION, cache_dir, is_bundled

    here = Path(__file__).resolve().parent
    key = {
        "model": f"bundled-{CONVERSION_VERSION}" if is_bundled(profile.model) else profile.model, "dtype": profile.train.dtype,
        "unsloth": profile.use_unsloth, "torch": torch.__version__, "seed": seed, "depth": depth,
        "temperature": profile.train.grpo.temperature, "tokens": profile.train.max_completion_length,
        "prefix": profile.question_prefix, "threshold": getattr(matcher, "threshold", None),
        "tasks": [p.to_dict() for p in partials],
        "code": [hashlib.sha256((here / name).read_bytes()).hexdigest() for name in _OWN_HISTORY_CODE],
    }
    digest = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:20]
    return cache_dir() / "own_history" / f"{digest}.json"


class OwnHistoryBank:
    """The policy's own dialogues that training prompts replay, refreshable while training runs.

    GRPO's rows are rebuilt from the bank where they are used, just before their questions are sampled
    (:meth:`apply_rows`, wrapped around the trainer's generation step): so after :meth:`refresh` with
    the current policy the next prompts carry the questions the policy asks NOW. (Rebuilding them
    when the data loader fetches them would not do: it fetches a batch ahead, so a resumed run, which
    refreshes before fetching, would train on other prompts than the uninterrupted one.)
    """

    def __init__(self, partials: Sequence[PartialTask], matcher: Any, profile: Profile, tokenizer: Any,
                 dialogues: Mapping[str, Sequence[Turn]]):
        self.by_id = {p.task_id: p for p in partials}
        self.matcher, self.profile, self.tokenizer = matcher, profile, tokenizer
        self.dialogues = dict(dialogues)
        self.refreshed_at = 0

    def refresh(self, model: Any, step: int) -> None:
        """Sample fresh dialogues from ``model`` (the policy being trained) for every training task.
        The sampling's seed is its own: the global random state training runs on is put back after."""
        import torch

        was_training = model.training
        state = torch.random.get_rng_state()
        cuda_state = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None
        model.eval()
        try:
            self.dialogues = own_dialogues(model, self.tokenizer, list(self.by_id.values()), self.matcher,
                                           self.profile, seed=self.profile.train_seed + step, cache=False)
        finally:
            model.train(was_training)
            torch.random.set_rng_state(state)
            if cuda_state is not None:
                torch.cuda.set_rng_state_all(cuda_state)
        self.refreshed_at = step
        log.info("step %d: training prompts now replay the current policy's own questions", step)

    def apply_rows(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """GRPO's rows with ``prompt`` and ``history`` of own-turn rows rebuilt from the bank."""
        out = []
        for row in rows:
            turns = self.dialogues.get(row["task_id"], ())
            if row.get("own_turns") and len(turns) >= row["depth"]:
                history = list(turns[: row["depth"]])
                row = {**row, "prompt": question_prompt(self.tokenizer, self.by_id[row["task_id"]], history_pairs(history),
                                                        self.profile.question_prefix),
                       "history": history_to_column(history)}
            out.append(row)
        return out

    def wrap(self, trainer: Any) -> None:
        """Rebuild each generation batch's rows from the bank as the trainer is about to sample them.

        TRL has no public hook between "take the batch's rows" and "sample completions for them", so this
        wraps ``GRPOTrainer._generate_and_score_completions``, a private method: tested with the TRL
        versions in :data:`TESTED_TRL` (tests/test_training.py); a TRL without it is refused in one line."""
        from importlib import metadata

        version = metadata.version("trl")
        generate = getattr(trainer, PATCHED_METHOD, None)
        if not callable(generate):
            raise ProactiveError(f"TRL {version}'s GRPOTrainer has no {PATCHED_METHOD}, which train.grpo."
                                 f"own_history_refresh hooks (tested with TRL {', '.join(TESTED_TRL)}): set "
                                 "own_history_refresh: 0 in the profile's train.grpo, or install a tested TRL")
        if not version.startswith(TESTED_TRL):
            log.warning("own_history_refresh hooks TRL's private %s, tested with TRL %s only (this is %s)",
                        PATCHED_METHOD, ", ".join(TESTED_TRL), version)

        def generate_from_bank(inputs, *args, **kwargs):
            return generate(self.apply_rows(list(inputs)), *args, **kwargs)

        setattr(trainer, PATCHED_METHOD, generate_from_bank)


def refresh_callback(bank: OwnHistoryBank, every: int, max_steps: int):
    from transformers import TrainerCallback

    class RefreshOwnHistory(TrainerCallback):
        """Every ``every`` steps (and on resuming past one), re-sample the bank with the current policy."""

        def on_train_begin(self, args, state, control, model=None, **kwargs):
            if state.global_step >= every and model is not None:  # resumed: catch up with the policy
                bank.refresh(model, state.global_step)

        def on_step_end(self, args, state, control, model=None, **kwargs):
            if model is not None and state.global_step % every == 0 and state.global_step < max_steps:
                bank.refresh(model, state.global_step)

    return RefreshOwnHistory()
