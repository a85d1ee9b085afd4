"""GRPO training of the question-asking policy with TRL (Unsloth on a GPU, the same code on CPU).

GRPO (group relative policy optimisation) samples a *group* of questions for each prompt, scores
each with the elicitation reward, and pushes the policy toward the questions that scored above
their group's mean: the advantage of a question is its reward minus the group mean (divided by
the group's spread). No value network, no learned reward model: the simulated user is the judge.

Prompts come from masked training tasks at several points of a dialogue (``training_rows.py``;
histories replayed from the policy itself: ``own_history.py``). With ``train.method: rft`` the
policy is first fine-tuned on its best whole dialogues (``rft.py``). Drawing the run's figures is
the run folder's job (``RunDir.train``), not training's.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import Profile
from .errors import ProactiveError
from .files import append_jsonl, atomic_write_json, atomic_write_jsonl, is_main_process, parse_json
from .masking import PartialTask
from .own_history import OwnHistoryBank, own_dialogues, refresh_callback
from .policy import stop_ids
from .task_files import profile_partials
from .training_rows import training_rows

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


def step_line(record: Mapping[str, Any], max_steps: int) -> str:
    """One readable line per GRPO step (the full record goes to metrics.jsonl)."""
    parts = [f"step {record['step']}/{max_steps}"]
    for key, label in (("reward", "reward"), ("terms/elicitation", "elicitation"),
                       ("terms/revealed_share", "revealed"), ("completions/mean_length", "tokens")):
        if isinstance(record.get(key), (int, float)):
            parts.append(f"{label} {record[key]:+.3f}" if key != "completions/mean_length" else f"{label} {record[key]:.0f}")
    if isinstance(record.get("step_time"), (int, float)):
        parts.append(f"{record['step_time']:.1f} s")
    return "  ".join(parts)


def _print_step(record: Mapping[str, Any], max_steps: int) -> None:
    from tqdm.auto import tqdm

    tqdm.write(step_line(record, max_steps))  # above the progress bar, not through it


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


def _metrics_callback(path: Path, reward, resumed_step: int, listener: Callable[[list[dict]], None] | None = None):
    from transformers import TrainerCallback

    if path.exists() and is_main_process():  # keep what the resumed checkpoint already covered
        kept = [r for r in read_metrics(path) if r.get("step", 0) <= resumed_step]
        atomic_write_jsonl(path, kept)

    class MetricsLog(TrainerCallback):
        """Appends each logged step (TRL's reward, KL, lengths) plus the reward's terms to metrics.jsonl."""

        def on_log(self, args, state, control, logs=None, **kwargs):
            if not state.is_world_process_zero or not logs or "loss" not in logs and "reward" not in logs:
                return
            record = {"step": state.global_step, **{k: v for k, v in logs.items() if isinstance(v, (int, float))}}
            record.update({f"terms/{k}": v for k, v in reward.last_terms.items()})
            record = finite_record(record)
            append_jsonl(path, record)
            _print_step(record, state.max_steps)
            if listener is not None:  # e.g. a notebook redrawing its live reward curve
                listener(read_metrics(path))

    return MetricsLog()


def grpo_config(profile: Profile, checkpoints: Path, max_steps: int):
    """TRL's GRPOConfig from a profile (only arguments TRL 1.15 and 1.16 share)."""
    import torch
    from trl import GRPOConfig

    from .models import torch_dtype

    s = profile.train
    gpu = torch.cuda.is_available()
    # Mixed precision follows the weights' dtype (the profile's, see TrainSettings.dtype).
    dtype = torch_dtype(s.dtype)
    bf16 = dtype == torch.bfloat16
    kwargs = {
        "output_dir": str(checkpoints),
        "max_steps": max_steps,
        "learning_rate": s.learning_rate,
        "per_device_train_batch_size": s.num_generations * s.prompts_per_step,
        "gradient_accumulation_steps": s.gradient_accumulation_steps,
        "num_generations": s.num_generations,
        "max_completion_length": s.max_completion_length,
        "temperature": s.temperature,
        "beta": s.beta,
        "scale_rewards": s.scale_rewards,
        "logging_steps": 1,
        "save_steps": s.save_steps,
        "save_total_limit": 2,
        "report_to": "none",
        # Explicit: left unset, transformers disables tqdm when its logger is quieter than WARNING (as the
        # CLI makes it) and prints every step's raw metrics dict instead of our one line per step.
        "disable_tqdm": False,
        "seed": profile.train_seed,
        "use_cpu": not gpu,
        "bf16": bf16,
        "fp16": gpu and dtype == torch.float16,
        "remove_unused_columns": False,
        "lr_scheduler_type": "constant_with_warmup",
        "warmup_steps": min(5, max_steps // 10),
        "use_vllm": s.use_vllm,
    }
    if s.use_vllm:
        kwargs["vllm_mode"] = "server"
    return GRPOConfig(**kwargs)


def train(
    profile: Profile,
    out_dir: str | Path,
    max_steps: int | None = None,
    resume: bool = True,
    on_log: Callable[[list[dict]], None] | None = None,
    partials: Sequence[PartialTask] | None = None,
) -> TrainResult:
    """Train the profile's policy with GRPO and write the run folder:

    ``adapter/`` (the LoRA adapter and tokenizer), ``metrics.jsonl`` (reward, its terms, KL and
    completion length per step), ``config.json`` (the resolved profile),
    ``checkpoints/`` (resumable: a rerun continues from the last checkpoint). ``on_log`` receives
    all metrics so far after every step. ``partials``: the masked tasks to train on (default: the
    profile's train split of the bundled corpus; see :func:`proactive.task_files.profile_partials`).
    """
    from .files import folder_lock
    from .models import check_runnable

    steps = profile.train.max_steps if max_steps is None else max_steps
    if steps < 1:
        raise ProactiveError(f"max_steps must be at least 1 (got {steps})")
    check_runnable(profile)
    if not is_main_process():
        return _train(profile, Path(out_dir), steps, resume, on_log, partials)
    with folder_lock(out_dir, "training run"):
        try:
            return _train(profile, Path(out_dir), steps, resume, on_log, partials)
        except Exception as exc:
            if not _out_of_space(exc):
                raise
            # What the save left half-written goes, so the next run resumes from the last whole checkpoint.
            last_complete_checkpoint(Path(out_dir) / "checkpoints")
            for partial_round in (Path(out_dir) / "rft").glob(".round-*.tmp"):
                shutil.rmtree(partial_round, ignore_errors=True)
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


def _train(profile: Profile, out: Path, steps: int, resume: bool, on_log, partials) -> TrainResult:
    from .rft import rounds_done

    if profile.use_unsloth:  # before anything below imports transformers (Unsloth patches it)
        from .models import import_unsloth

        import_unsloth()
    from datasets import Dataset
    from transformers import set_seed

    from .backends import EmbeddingSimilarity
    from .matching import FactMatcher
    from .models import load_policy
    from .reward import ElicitationReward

    out.mkdir(parents=True, exist_ok=True)
    set_seed(profile.train_seed)
    started = time.time()
    checkpoints = out / "checkpoints"
    last = last_complete_checkpoint(checkpoints) if resume and checkpoints.is_dir() else None
    resumed_step = int(Path(last).name.split("-")[-1]) if last else 0
    metrics_path = out / "metrics.jsonl"
    adapter_dir = out / "adapter"
    if last and resumed_step >= steps and (adapter_dir / "adapter_config.json").is_file():
        # Already trained this far. Resuming a finished run would make the Trainer take one more step.
        log.info("%s already holds %d steps (asked for %d); not training again", out, resumed_step, steps)
        return TrainResult(out, adapter_dir, metrics_path, resumed_step, 0.0)
    method = profile.train.method
    if method == "rft" and (adapter_dir / "adapter_config.json").is_file() and rounds_done(out / "rft") >= profile.train.rft_rounds:
        log.info("%s already holds %d RFT rounds; not training again", out, profile.train.rft_rounds)
        return TrainResult(out, adapter_dir, metrics_path, profile.train.rft_rounds, 0.0)
    model, tokenizer, peft_config = load_policy(profile)
    stops = stop_ids(tokenizer) if profile.train.stop_at_question else []
    if stops:  # TRL stops generating, and masks the loss, after any of these
        model.generation_config.eos_token_id = stops
    reward = ElicitationReward(FactMatcher(EmbeddingSimilarity()), profile.reward_config())
    partials = list(partials) if partials is not None else profile_partials(profile, "train")
    if not partials:
        raise ProactiveError("no tasks to train on; check the task file or the profile's train_tasks")
    main = is_main_process()
    if method in ("rft", "rft+grpo"):
        from .rft import run_rft

        if peft_config is not None:  # RFT trains the LoRA adapter itself; GRPO then continues on it
            from peft import get_peft_model

            model, peft_config = get_peft_model(model, peft_config), None
        if not resume:
            shutil.rmtree(out / "rft", ignore_errors=True)
        if last is None:  # GRPO's checkpoints hold the weights RFT led to
            if main and not (out / "rft").is_dir():
                metrics_path.unlink(missing_ok=True)
            model = run_rft(model, tokenizer, partials, reward.matcher, profile, out / "rft", metrics_path)
        if method == "rft":
            if main:
                model.save_pretrained(str(adapter_dir))
                tokenizer.save_pretrained(str(adapter_dir))
                atomic_write_json(out / "config.json", {**dataclasses.asdict(profile), "max_steps": 0})
            return TrainResult(out, adapter_dir, metrics_path, profile.train.rft_rounds, time.time() - started)
    # After RFT the starting model is the RFT policy, which no cache key names: sample its history afresh.
    own = own_dialogues(model, tokenizer, partials, reward.matcher, profile, cache=method == "grpo")
    rows = training_rows(partials, tokenizer, profile, own)
    log.info("training on %d prompts from the train split", len(rows))
    if main:
        atomic_write_json(out / "config.json", {**dataclasses.asdict(profile), "max_steps": steps,
                                                "train_prompts": len(rows), "resumed_from": last})

    from trl import GRPOTrainer

    dataset = Dataset.from_list(rows)
    callbacks = [_metrics_callback(metrics_path, reward, resumed_step, on_log)]
    every = profile.train.own_history_refresh
    if own and every > 0:
        bank = OwnHistoryBank(partials, reward.matcher, profile, tokenizer, own)
        callbacks.append(refresh_callback(bank, every, steps))
    else:
        bank = None
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=[reward],
        args=grpo_config(profile, checkpoints, steps),
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=peft_config,
        callbacks=callbacks,
    )
    if bank is not None:
        bank.wrap(trainer)
    quiet_progress(trainer)
    if stops:
        # TRL 1.15/1.16 read the stop ids from the model's generation config; say so if another does not.
        if set(stops) <= set(getattr(trainer, "eos_token_ids", ())):
            log.info("sampled questions stop at their '?' (%d stop token ids)", len(stops))
        else:
            log.warning("this TRL version ignores the stop ids in the model's generation config: sampled "
                        "questions run on to max_completion_length (set stop_at_question: false to silence)")
    if last:
        log.info("resuming from %s", last)
    trainer.train(resume_from_checkpoint=last)
    trainer.save_model(str(adapter_dir))  # the Trainer saves from the main process only
    if not main:
        return TrainResult(out, adapter_dir, metrics_path, trainer.state.global_step, time.time() - started)
    tokenizer.save_pretrained(str(adapter_dir))
    return TrainResult(out, adapter_dir, metrics_path, trainer.state.global_step, time.time() - started)
