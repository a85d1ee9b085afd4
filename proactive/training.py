"""Training the question-asking policy: load it, run the profile's methods in order, save the adapter.

The methods themselves are units of their own (:mod:`proactive.methods`: RFT over whole dialogues,
GRPO on single questions); this module is what they share: the run folder's ``metrics.jsonl`` and
``config.json``, checkpoint checks, and the loop over a profile's stages (``train.method``). Drawing
the run's figures is the run folder's job (``RunDir.train``), not training's.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import methods
from .config import Profile, profile_record
from .errors import ProactiveError
from .files import is_main_process, parse_json
from .masking import PartialTask
from .policy import stop_ids
from .task_files import profile_partials

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class TrainResult:
    out_dir: Path
    adapter_dir: Path
    metrics_path: Path
    steps: int
    seconds: float


def read_metrics(path: str | Path) -> list[dict[str, Any]]:
    """The per-step records of a run's ``metrics.jsonl`` (none if it has no steps yet)."""
    path = Path(path)
    if not path.is_file():
        return []
    data = path.read_bytes()
    lines = data.split(b"\n")  # the one JSON-lines separator (files.jsonl_line)
    records = []
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            record = parse_json(raw.decode("utf-8"), f"{path}:{number}")
        except (UnicodeDecodeError, ProactiveError) as exc:
            if number == len(lines) and not data.endswith(b"\n"):
                # A run killed while appending its last step: that step is redone on resume.
                log.warning("%s:%d: the last record was cut short (killed while writing?); dropped it", path, number)
                break
            what = "not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else "not a JSON record"
            raise ProactiveError(f"{path}:{number}: {what} (damaged); delete that line or train with --fresh") from None
        if not isinstance(record, dict):
            raise ProactiveError(f"{path}:{number}: not a metrics record; delete that line or train with --fresh")
        records.append(record)
    return records


def finite_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """A metrics record as JSON can hold it: a NaN or infinite value (a diverged loss) becomes null,
    with a warning, instead of the bare ``NaN`` that is not JSON."""
    bad = [k for k, v in record.items() if isinstance(v, float) and not math.isfinite(v)]
    if bad:
        log.warning("step %s: %s not finite (the run may have diverged); recorded as null",
                    record.get("step", "?"), ", ".join(bad))
    return {k: (None if k in bad else v) for k, v in record.items()}


def checkpoint_problem(path: Path) -> str | None:
    """What keeps a ``checkpoint-N`` folder from being resumed (None: nothing): its trainer state is not
    an object with a whole-number step, its optimizer or scheduler file is not a torch archive (empty,
    cut short, overwritten), or its weights are missing or unreadable. Checked before the trainer reads
    any of them, so damage is a warning and an earlier checkpoint, not a traceback mid-load."""
    import zipfile

    try:
        state = json.loads((path / "trainer_state.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "trainer_state.json missing or not JSON"
    step = state.get("global_step") if isinstance(state, dict) else None
    if not isinstance(step, int) or isinstance(step, bool) or step < 0:
        return f"trainer_state.json's global_step is {str(step)[:20]!r}, not a step number"
    for name in ("optimizer.pt", "scheduler.pt"):
        file = path / name
        if name == "optimizer.pt" or file.exists():
            try:
                # torch.save writes a zip archive; its directory sits at the end, so a file cut short
                # has none (reading the directory only: an optimizer's state may be large)
                with zipfile.ZipFile(file) as archive:
                    if not any(n.endswith("data.pkl") for n in archive.namelist()):
                        return f"{name} is not a torch archive"
            except (OSError, zipfile.BadZipFile, EOFError, ValueError):
                return f"{name} missing or not a torch archive"
    weights = [path / n for n in ("adapter_model.safetensors", "model.safetensors")]
    present = [w for w in weights if w.is_file()]
    if not present:
        return "no weights"
    try:
        from safetensors import safe_open

        with safe_open(str(present[0]), framework="pt") as handle:
            handle.keys()
    except Exception:  # noqa: BLE001 (safetensors raises its own error types and OSError for a damaged file)
        return f"{present[0].name} is damaged"
    return None


def last_complete_checkpoint(checkpoints: Path) -> str | None:
    """The newest ``checkpoint-N`` that was written to the end. A run killed while saving (or out of
    disk) leaves one without its trainer state or weights, and resuming from it would fail: such
    folders are removed, with a warning that says where the run really resumes."""
    candidates = sorted((p for p in checkpoints.glob("checkpoint-*") if p.name.split("-")[-1].isdigit()),
                        key=lambda p: int(p.name.split("-")[-1]), reverse=True)
    broken = []
    found = None
    for path in candidates:
        problem = checkpoint_problem(path)
        if problem is None:
            found = str(path)
            break
        broken.append(f"{path.name} ({problem})")
        if is_main_process():
            shutil.rmtree(path, ignore_errors=True)
    if broken:
        where = f"resuming from {Path(found).name}" if found else "no complete checkpoint is left: starting from step 0"
        log.warning("%s: damaged or not written to the end (killed while saving, or the disk filled?); removed; %s",
                    ", ".join(broken), where)
    return found


def quiet_progress(trainer: Any) -> int:
    """Keep transformers' progress bar, drop what it logs at every step: in a terminal the raw dict of
    ~30 metrics, in a notebook the "Training Loss" table. The project's one line per step (and a
    notebook's live curve) already say it. ``trainer`` is a Trainer or its callback handler (anything
    with ``pop_callback``/``add_callback``); returns how many progress callbacks were replaced."""
    from transformers.trainer_callback import ProgressCallback

    bases: list[type] = [ProgressCallback]
    try:  # the notebook's bar, transformers' default where IPython runs the code
        from transformers.utils.notebook import NotebookProgressCallback

        bases.append(NotebookProgressCallback)
    except ImportError:  # no IPython in this environment: only the terminal's bar exists
        pass
    replaced = 0
    for base in bases:
        if trainer.pop_callback(base) is not None:
            trainer.add_callback(type(f"Quiet{base.__name__}", (base,), {"on_log": _no_log}))
            replaced += 1
    return replaced


def _no_log(self, args, state, control, logs=None, **kwargs):
    return None


def check_trainable(profile: Profile) -> None:
    """Refuse, in one line and before any work, a profile this machine cannot train: one that needs a GPU
    or Unsloth it does not have, a tracker that is not installed, or a method that cannot run here (each
    method's own check)."""
    from .models import check_runnable
    from .tracking import check_installed

    check_runnable(profile)
    check_installed(profile.train.report_to)
    for method in methods.stages(profile):
        method.check(profile)


def train(
    profile: Profile,
    out_dir: str | Path,
    max_steps: int | None = None,
    resume: bool = True,
    on_log: Callable[[list[dict]], None] | None = None,
    partials: Sequence[PartialTask] | None = None,
) -> TrainResult:
    """Train the profile's policy with its methods, in order (``train.method``: RFT, GRPO, or RFT then
    GRPO; :mod:`proactive.methods`), and write the run folder:

    ``adapter/`` (the LoRA adapter and tokenizer), ``metrics.jsonl`` (RFT's rounds, GRPO's reward, its
    terms, KL and completion length per step), ``config.json`` (the resolved profile), and each method's
    own progress (``rft/`` rounds, ``checkpoints/``): a rerun continues where the last one stopped.
    ``max_steps`` overrides GRPO's; ``on_log`` receives all metrics so far after every GRPO step.
    ``partials``: the masked tasks to train on (default: the profile's train split of the bundled corpus;
    see :func:`proactive.task_files.profile_partials`).
    """
    from .files import folder_lock

    if max_steps is not None and max_steps < 1:
        raise ProactiveError(f"max_steps must be at least 1 (got {max_steps})")
    check_trainable(profile)
    if not is_main_process():
        return _train(profile, Path(out_dir), max_steps, resume, on_log, partials)
    with folder_lock(out_dir, "training run"):
        try:
            return _train(profile, Path(out_dir), max_steps, resume, on_log, partials)
        except Exception as exc:
            if not _out_of_space(exc):
                raise
            # What the save left half-written goes (each method knows its own: a GRPO checkpoint, an RFT
            # round), so the next run resumes from the last whole one.
            for method in methods.stages(profile):
                method.remove_unfinished(Path(out_dir))
            raise ProactiveError(f"no space left on the device while training into {out_dir}; the half-written "
                                 "checkpoint was removed: free some space and rerun to resume from the last "
                                 "complete one") from None


def _out_of_space(exc: BaseException) -> bool:
    """A full disk, however the library that was writing reports it (OSError, SafetensorError, a
    RuntimeError from torch.save)."""
    import errno

    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    text = str(exc).lower()
    return "no space left" in text or "os error 28" in text or "disk quota" in text


def _trained_policy(model: Any, run: Any, adapter_dir: Path) -> Any:
    """``model`` with the run's saved policy adapter loaded (a PEFT model; wrapped first where the profile
    hands a LoRA config): what the stages after the policy's read, when only they are left to train."""
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    model = run.wrapped(model)
    set_peft_model_state_dict(model, load_file(str(adapter_dir / "adapter_model.safetensors")))
    return model


def _train(profile: Profile, out: Path, max_steps: int | None, resume: bool, on_log, partials) -> TrainResult:
    from .methods import StageRun

    stages = methods.stages(profile)
    adapter_dir = out / "adapter"
    metrics_path = out / "metrics.jsonl"
    final = methods.policy_stages(profile)[-1]
    done = (final.finished(out, profile.train.settings(final.name), max_steps)
            if resume and (adapter_dir / "adapter_config.json").is_file() else None)
    # A stage that trains no policy (the writer) is done when it says so; an older run without it trains it now.
    others = all(m.finished(out, profile.train.settings(m.name), max_steps) is not None
                 for m in stages if not m.trains_policy)
    if done is not None and others:
        # Already trained this far. Resuming a finished GRPO run would make the Trainer take one more step.
        log.info("%s already holds %d %s of %s; not training again", out, done, final.unit, final.label)
        return TrainResult(out, adapter_dir, metrics_path, done, 0.0)
    if profile.use_unsloth:  # before anything below imports transformers (Unsloth patches it)
        from .models import import_unsloth

        import_unsloth()
    from transformers import set_seed

    from .backends import EmbeddingSimilarity
    from .matching import FactMatcher
    from .models import load_policy
    from .reward import ElicitationReward

    out.mkdir(parents=True, exist_ok=True)
    set_seed(profile.train_seed)
    started = time.time()
    model, tokenizer, peft_config = load_policy(profile)
    stops = stop_ids(tokenizer) if profile.train.stop_at_question else []
    if stops:  # TRL stops generating, and masks the loss, after any of these
        model.generation_config.eos_token_id = stops
    reward = ElicitationReward(FactMatcher(EmbeddingSimilarity()), profile.reward_config())
    partials = list(partials) if partials is not None else profile_partials(profile, "train")
    if not partials:
        raise ProactiveError("no tasks to train on; check the task file or the profile's train_tasks")
    if not resume:
        for method in stages:
            method.clear(out)
    run = StageRun(profile, None, partials, reward, tokenizer, out, metrics_path, peft_config, resume,
                   max_steps=max_steps, on_log=on_log)
    run.note(**profile_record(profile))
    if is_main_process():
        from .tracking import open_tracker

        run.tracker = open_tracker(profile.train.report_to, out, profile_record(profile))
    if done is not None:  # the policy is trained; only a stage that trains something else is left
        model = _trained_policy(model, run, adapter_dir)
        run.done = done
    try:
        for index, method in enumerate(stages):
            if done is not None and method.trains_policy:
                continue  # a finished GRPO run resumed would take one more step
            if resume and any(later.started(out) for later in stages[index + 1:]):
                continue  # a later stage's progress holds this one's result
            run.settings = profile.train.settings(method.name)
            run.earlier = tuple(m.name for m in stages[:index])
            run.saved = False
            model = method.train(model, run)
    finally:
        if run.tracker is not None:
            run.tracker.close()
    if is_main_process() and not run.saved and done is None:
        model.save_pretrained(str(adapter_dir))
        tokenizer.save_pretrained(str(adapter_dir))
    return TrainResult(out, adapter_dir, metrics_path, run.done, time.time() - started)
