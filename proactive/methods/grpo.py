"""GRPO training of the question-asking policy with TRL (Unsloth on a GPU, the same code on CPU).

GRPO (group relative policy optimisation) samples a *group* of questions for each prompt, scores
each with the elicitation reward, and pushes the policy toward the questions that scored above
their group's mean: the advantage of a question is its reward minus the group mean (divided by
the group's spread). No value network, no learned reward model: the simulated user is the judge.

Prompts come from masked training tasks at several points of a dialogue (``training_rows.py``;
histories replayed from the policy itself: ``own_history.py``). ``train.grpo:`` in a profile holds
:class:`GRPOSettings`; checkpoints go to the run's ``checkpoints/`` and a rerun resumes from the last.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from ..files import append_jsonl, atomic_write_jsonl, is_main_process
from ..training import finite_record, last_complete_checkpoint, quiet_progress, read_metrics
from . import Method, StageRun

if TYPE_CHECKING:
    from ..config import Profile

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GRPOSettings:
    """GRPO's settings (``train.grpo:``). Defaults are the CPU recipe."""

    max_steps: int = 60
    learning_rate: float = 2e-4
    #: Completions sampled per prompt: GRPO's group, whose rewards are compared with each other.
    num_generations: int = 8
    #: Prompts per optimiser step; each gets ``num_generations`` completions.
    prompts_per_step: int = 1
    gradient_accumulation_steps: int = 1
    temperature: float = 1.0
    #: How GRPO scales a question's advantage (reward minus its group's mean): ``"group"`` divides by
    #: the group's spread (TRL's default), ``"none"`` does not (Dr. GRPO, Liu et al. 2025). Dividing
    #: blows up groups whose rewards differ by crumbs of shaping into full-size updates; without it,
    #: groups in which a question drew out a fact dominate (measured on CPU: see configs/cpu.yaml).
    scale_rewards: str = "none"
    #: KL weight against the starting model (0: no reference model is kept, as in recent GRPO work).
    beta: float = 0.0
    #: Dialogue points a prompt is taken at: questions already asked and answered (0 = first question).
    history_depths: tuple[int, ...] = (0, 1, 2)
    #: Share of the deeper prompts whose earlier turns are the starting model's OWN sampled questions,
    #: answered by the simulated user (the rest use template questions that each drew out a fact).
    #: In evaluation the policy reads its own questions back; this is where it learns not to repeat them.
    own_history: float = 0.0
    #: Every this many steps, replay the CURRENT policy's own sampled dialogues instead of the
    #: starting model's (0: never). A trained policy asks other questions than the one it started
    #: as; on-policy histories are where it meets, and stops repeating, its own questions.
    own_history_refresh: int = 0
    save_steps: int = 20
    #: Multi-GPU: generate through a TRL vLLM server (`trl vllm-serve`) instead of the trainer.
    use_vllm: bool = False

    RANGES: ClassVar[dict[str, tuple[float | None, float | None, bool]]] = {
        "max_steps": (1, None, True), "learning_rate": (0, 1, False),
        # GRPO compares a group's questions with each other: one question has nothing to be compared with.
        "num_generations": (2, None, True), "prompts_per_step": (1, None, True),
        "gradient_accumulation_steps": (1, None, True), "temperature": (0.01, 10, True), "beta": (0, None, True),
        "own_history": (0, 1, True), "own_history_refresh": (0, None, True), "save_steps": (1, None, True),
    }
    #: How TRL may scale advantages (its ``scale_rewards``).
    CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {"scale_rewards": ("group", "batch", "none")}

    @staticmethod
    def problem(values: Mapping[str, Any]) -> str | None:
        depths = values.get("history_depths", (0,))
        if not depths or any(not isinstance(d, int) or isinstance(d, bool) or not 0 <= d <= 50 for d in depths):
            from ..errors import shown

            return (f"history_depths must be a non-empty list of whole numbers of turns, 0 to 50 "
                    f"(got {shown(list(depths))})")
        return None


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


def _metrics_callback(path: Path, reward, resumed_step: int, listener: Callable[[list[dict]], None] | None = None,
                      track: Callable[[int, dict], None] | None = None):
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
            if track is not None:  # the run's experiment trackers (train.report_to)
                track(state.global_step, record)
            if listener is not None:  # e.g. a notebook redrawing its live reward curve
                listener(read_metrics(path))

    return MetricsLog()


def grpo_config(profile: Profile, checkpoints: Path, max_steps: int, settings: GRPOSettings | None = None):
    """TRL's GRPOConfig from a profile's GRPO settings (only arguments TRL 1.15 and 1.16 share)."""
    import torch
    from trl import GRPOConfig

    from ..models import torch_dtype

    s = settings or profile.train.grpo
    gpu = torch.cuda.is_available()
    # Mixed precision follows the weights' dtype (the profile's, see TrainSettings.dtype).
    dtype = torch_dtype(profile.train.dtype)
    bf16 = dtype == torch.bfloat16
    kwargs = {
        "output_dir": str(checkpoints),
        "max_steps": max_steps,
        "learning_rate": s.learning_rate,
        "per_device_train_batch_size": s.num_generations * s.prompts_per_step,
        "gradient_accumulation_steps": s.gradient_accumulation_steps,
        "num_generations": s.num_generations,
        "max_completion_length": profile.train.max_completion_length,
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




def training_curves_figure(metrics: Sequence[Mapping[str, Any]], title: str = "GRPO training") -> Any:
    """Reward (with its spread), the reward's terms, KL and completion length per GRPO step (a notebook
    redraws it live as steps arrive)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    metrics = [m for m in metrics if "step" in m]  # GRPO steps; RFT rounds are records of their own
    steps = [m["step"] for m in metrics]

    def series(*keys):
        for key in keys:
            if any(key in m for m in metrics):
                return [m.get(key) for m in metrics]
        return None

    fig = make_subplots(rows=1, cols=3, subplot_titles=("Reward", "Reward terms", "Length and KL"))
    reward = series("reward", "rewards/elicitation_reward/mean")
    if reward:
        fig.add_trace(go.Scatter(x=steps, y=reward, name="reward (mean of group)", mode="lines+markers"), 1, 1)
    spread = series("reward_std")
    if spread:
        fig.add_trace(go.Scatter(x=steps, y=spread, name="reward std within groups", mode="lines",
                                 line={"dash": "dot"}), 1, 1)
    for key in sorted({k for m in metrics for k in m if k.startswith("terms/")}):
        fig.add_trace(go.Scatter(x=steps, y=series(key), name=key.split("/", 1)[1], mode="lines"), 1, 2)
    length = series("completions/mean_length", "completion_length")
    if length:
        fig.add_trace(go.Scatter(x=steps, y=length, name="completion tokens", mode="lines"), 1, 3)
    kl = series("kl")
    if kl:
        fig.add_trace(go.Scatter(x=steps, y=kl, name="KL", mode="lines", yaxis="y4"), 1, 3)
    fig.update_layout(height=400, title_text=title)
    fig.update_xaxes(title_text="step")
    return fig


class GRPO(Method):
    """Group relative policy optimisation on single questions (TRL's ``GRPOTrainer``)."""

    name = "grpo"
    label = "GRPO"
    unit = "steps"
    figure_title = "GRPO training"
    settings_class = GRPOSettings

    def amount(self, settings: GRPOSettings, max_steps: int | None = None) -> int:
        return settings.max_steps if max_steps is None else max_steps

    @staticmethod
    def _last_checkpoint(out: Path) -> tuple[str | None, int]:
        """The last complete checkpoint under ``out/checkpoints`` (damaged ones removed) and its step."""
        checkpoints = out / "checkpoints"
        last = last_complete_checkpoint(checkpoints) if checkpoints.is_dir() else None
        return last, int(Path(last).name.split("-")[-1]) if last else 0

    def finished(self, out: Path, settings: GRPOSettings, max_steps: int | None = None) -> int | None:
        last, step = self._last_checkpoint(out)
        return step if last and step >= self.amount(settings, max_steps) else None

    def started(self, out: Path) -> bool:
        # GRPO's checkpoints hold the weights the stages before it led to
        return self._last_checkpoint(out)[0] is not None

    def remove_unfinished(self, out: Path) -> None:
        self._last_checkpoint(out)  # a checkpoint cut short is removed on the way

    def check(self, profile: Profile) -> None:
        from ..models import check_grpo_runnable

        check_grpo_runnable(profile)

    def owns(self, record: Mapping[str, Any]) -> bool:
        return "step" in record

    def figures(self, records: Sequence[Mapping[str, Any]], title: str) -> list[Any]:
        return [training_curves_figure(records, title=title)]

    def train(self, model: Any, run: StageRun) -> Any:
        from datasets import Dataset
        from trl import GRPOTrainer

        from ..own_history import OwnHistoryBank, own_dialogues, refresh_callback
        from ..policy import stop_ids
        from ..training_rows import training_rows

        settings, profile, tokenizer, out = run.settings, run.profile, run.tokenizer, run.out
        steps = self.amount(settings, run.max_steps)
        checkpoints = out / "checkpoints"
        last, resumed_step = self._last_checkpoint(out) if run.resume else (None, 0)
        # After an earlier stage the starting model is that stage's policy, which no cache key names:
        # sample its history afresh.
        own = own_dialogues(model, tokenizer, run.partials, run.reward.matcher, profile, cache=not run.earlier)
        rows = training_rows(run.partials, tokenizer, profile, own)
        log.info("training on %d prompts from the train split", len(rows))
        run.note(max_steps=steps, train_prompts=len(rows), resumed_from=last)

        callbacks = [_metrics_callback(run.metrics_path, run.reward, resumed_step, run.on_log,
                                       track=lambda step, record: run.track(self.name, step, record))]
        every = settings.own_history_refresh
        bank = OwnHistoryBank(run.partials, run.reward.matcher, profile, tokenizer, own) if own and every > 0 else None
        if bank is not None:
            callbacks.append(refresh_callback(bank, every, steps))
        trainer = GRPOTrainer(
            model=model,
            reward_funcs=[run.reward],
            args=grpo_config(profile, checkpoints, steps, settings),
            train_dataset=Dataset.from_list(rows),
            processing_class=tokenizer,
            peft_config=run.peft_config,
            callbacks=callbacks,
        )
        run.peft_config = None
        if bank is not None:
            bank.wrap(trainer)
        quiet_progress(trainer)
        stops = stop_ids(tokenizer) if profile.train.stop_at_question else []
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
        trainer.save_model(str(run.adapter_dir))  # the Trainer saves from the main process only
        if is_main_process():
            tokenizer.save_pretrained(str(run.adapter_dir))
        run.saved = True
        run.done = trainer.state.global_step
        return trainer.model


METHOD = GRPO()
