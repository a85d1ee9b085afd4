"""Rejection-sampling fine-tuning (RFT, expert iteration) over whole dialogues.

The paper's "reinforcement finetuning" implies a step GRPO on single questions lacks: credit for a
*dialogue*. Each round samples a group of complete dialogues per training task from the current
policy against the simulated user, keeps the best of each group by what the whole dialogue drew out,
and fine-tunes the LoRA adapter on the kept dialogue's questions (TRL's ``SFTTrainer``, loss on the
questions only). A second question that builds on the first answer is kept because the dialogue as a
whole did well. STaR (Zelikman et al. 2022) and STaR-GATE (Andukuri et al. 2024) are the precedents.

:func:`train_rft` is the loop, top to bottom; the pieces it calls are the sampling side
(``rft_sampling``: groups, hints, which dialogue to keep), the training targets (``rft_targets``:
reorderings, prompt-completion rows), :func:`sft_round` (TRL) and the round store (``rft_store``:
resume and save). ``train.rft:`` in a profile holds :class:`RFTSettings`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from . import Method, StageRun

if TYPE_CHECKING:
    from ..config import Profile
    from ..masking import PartialTask
    from ..rft_sampling import DialogueGroup
    from ..rft_store import RoundStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RFTSettings:
    """RFT's settings (``train.rft:``): rounds of sample-keep-finetune, the dialogues sampled per task per
    round (their number, temperature and length in questions) and each round's SFT (epochs over the
    kept questions, rate, batch)."""

    rounds: int = 3
    #: The first this many rounds sample hinted questions (``rft_sampling.hinted_groups``: the hidden
    #: fact is shown while sampling, never while training), the rest the policy's own dialogues.
    hinted_rounds: int = 0
    #: Hinted rounds open a question about a kind of detail the simulated user recognises (budget,
    #: timeline, audience, goal, constraint, preference) with its kind ("What is your budget"), taken
    #: from the training fact's label; off: only the hint (``canned_questions.KIND_OPENINGS``).
    kind_openings: bool = True
    #: Hinted rounds ask a task's example inquiries instead, where its file has them (IN3's
    #: ``missing_details[].inquiry``, training data written by the dataset's annotators): each is put to
    #: the simulated user and kept only if it draws out a new fact (``rft_sampling.inquiry_groups``).
    #: With ``plain_questions`` the round stays hinted: a fact's inquiry is tried after its kind's plain
    #: question, before the policy's own samples.
    inquiries: bool = False
    #: With ``inquiries`` and ``plain_questions``: a fact's inquiry is tried before its kind's plain
    #: question, not after. A plain question ("What style do you prefer?") draws out most IN3 details of a
    #: named kind, so tried first it is what the policy learns for them, and it learns kinds, not the
    #: request; the inquiry names the request's own content ("What type of accommodation do you prefer
    #: in Paris?").
    inquiries_first: bool = False
    #: With ``inquiries`` and ``plain_questions``: a task whose file gives inquiries is asked with them
    #: alone (``rft_sampling.inquiry_groups``: no plain kind question, nothing generated), the other tasks
    #: (the corpus's) hinted with plain questions. Plain questions are one string per kind, learned fast
    #: and asked everywhere after; a policy trained on IN3's inquiries alone named the request in 87% of
    #: its questions on IN3's held-out tasks, with plain questions tried too in 15-28% (benchmarks/README.md).
    inquiries_alone: bool = False
    #: Train on each kept dialogue's fact-drawing questions in up to this many orders, the kept one counted
    #: first (so 1 adds nothing, 2 one more order), each re-asked of the simulated user
    #: (``rft_targets.variants``); 0: the kept order only. A small policy
    #: copies the questions in its history; seeing what else was worth asking after each one is how it
    #: learns to ask something new.
    variants: int = 0
    #: Open that many of each task's variants with a plain question about a kind of detail the user
    #: already gave or does not have ("I already mentioned that", ``rft_targets.misses``): histories only,
    #: never trained on.
    misses: int = 0
    #: In hinted rounds, try the plainest question of the target's kind first
    #: (``canned_questions.PLAIN_QUESTIONS``, "What is your budget?"), before the policy's own samples.
    #: Which kind to ask is still the policy's to learn from the request.
    plain_questions: bool = False
    samples: int = 4
    temperature: float = 1.0
    turns: int = 3
    epochs: int = 2
    learning_rate: float = 2e-4
    batch_size: int = 8
    #: Fine-tune on batches of rows of about the same length (transformers' length-grouped sampler, in
    #: shuffled groups of 50 batches): a batch is padded to its longest row, and with rows drawn at random
    #: the padding was 38% of what `make demo`'s round computed on (1% grouped; benchmarks/README.md).
    #: Off: batches drawn at random, as every run before 2026-12-07 trained (the recipes measured then pin it).
    group_by_length: bool = True

    #: Each number's range: (lowest, highest, whether the lowest itself is allowed); None is unbounded.
    RANGES: ClassVar[dict[str, tuple[float | None, float | None, bool]]] = {
        "rounds": (1, None, True), "hinted_rounds": (0, None, True), "samples": (1, None, True),
        "temperature": (0.01, 10, True), "turns": (1, None, True), "epochs": (1, None, True),
        "learning_rate": (0, 1, False), "batch_size": (1, None, True), "variants": (0, None, True),
        "misses": (0, None, True),
    }

    @staticmethod
    def problem(values: Mapping[str, Any]) -> str | None:
        """What is wrong across settings (None: nothing)."""
        rounds = values.get("rounds", RFTSettings.rounds)
        if values.get("hinted_rounds", 0) > rounds:
            return f"hinted_rounds ({values['hinted_rounds']}) is more than rounds ({rounds})"
        return None


@dataclass(frozen=True)
class RoundRecord:
    """What one RFT round did, as it goes into ``metrics.jsonl``."""

    round: int
    tasks: int
    samples: int
    kept: int  # tasks whose group had a dialogue that drew out anything
    improved: int  # tasks whose best-so-far dialogue got better
    buffer: int  # tasks with a kept dialogue so far
    examples: int  # questions fine-tuned on
    mean_share: float  # mean elicited share of every sampled dialogue (the policy as it was)
    kept_share: float  # mean elicited share of the kept dialogues (best of each group)
    sft_loss: float | None
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {"method": RFT.name, **asdict(self)}


def train_rft(model: Any, tokenizer: Any, partials: Sequence[PartialTask], matcher: Any, profile: Profile,
              settings: RFTSettings, store: RoundStore, metrics_path: str | Path, progress: bool = True,
              on_round: Callable[[dict[str, Any]], None] | None = None) -> Any:
    """``settings.rounds`` rounds of expert iteration on ``model`` (a PEFT model, trained in place):
    sample dialogues, keep each task's best so far, fine-tune on the kept questions, next round.

    Each round is stored whole (``store``: the adapter after it, the kept dialogues, every group) and
    appended to ``metrics_path`` (and handed to ``on_round``: the run's trackers); a rerun resumes after
    the last complete round, with its adapter and kept dialogues, so it ends where an uninterrupted run
    would."""
    from tqdm.auto import tqdm

    from ..dialogues import elicited_share
    from ..policy import LocalPolicy
    from ..rft_sampling import keep_best
    from ..rft_targets import sft_examples, training_dialogues

    start, buffer = store.resume(model, partials)
    policy = LocalPolicy(model, tokenizer, profile.question_prefix, profile.train.max_completion_length,
                         name="policy", batch_size=profile.eval_batch_size)
    bar = tqdm(range(start, settings.rounds), desc="RFT rounds", disable=not progress, initial=start,
               total=settings.rounds)
    for index in bar:
        started = time.time()
        # 1. Sample: a group of dialogues per training task (hinted in the first rounds).
        model.eval()
        groups = sample_round(policy, partials, matcher, settings, index, seed=profile.train_seed + 7919 * index)
        # 2. Keep: each task's best dialogue so far (earlier rounds' finds are not forgotten).
        improved = keep_best(buffer, groups)
        # 3. Fine-tune on the kept dialogues' fact-drawing questions (and their reorderings).
        kept_dialogues = training_dialogues(buffer.values(), matcher, settings.turns, settings.variants,
                                            settings.misses)
        rows = sft_examples(kept_dialogues, tokenizer, profile.question_prefix)
        model.train()
        loss = sft_round(model, tokenizer, rows, profile, settings, store.root / "sft", seed=profile.train_seed + index,
                         progress=progress)
        model.eval()
        # 4. Record and store the round, then the next round samples from the fine-tuned policy.
        kept = [g.best for g in groups if g.best is not None]
        record = RoundRecord(
            round=index + 1, tasks=len(groups), samples=settings.samples, kept=len(kept), improved=improved,
            buffer=len(buffer), examples=len(rows),
            mean_share=round(sum(elicited_share(d) for g in groups for d in g.dialogues)
                             / max(1, sum(len(g.dialogues) for g in groups)), 4),
            kept_share=round(sum(elicited_share(d) for d in kept) / max(1, len(groups)), 4),
            sft_loss=loss, seconds=round(time.time() - started, 1))
        store.save(index + 1, model, groups, buffer, record.to_dict(), metrics_path)
        if on_round is not None:
            on_round(record.to_dict())
        tqdm.write(f"RFT round {record.round}/{settings.rounds}: kept {record.kept}/{record.tasks} groups "
                   f"(best share {record.kept_share:.3f}, all samples {record.mean_share:.3f}), "
                   f"{record.examples} questions fine-tuned on, loss {record.sft_loss}, {record.seconds:.0f} s")
    import shutil

    shutil.rmtree(store.root / "sft", ignore_errors=True)
    return model


def sample_round(policy: Any, partials: Sequence[PartialTask], matcher: Any, settings: RFTSettings, index: int,
                 seed: int) -> list[DialogueGroup]:
    """Round ``index``'s groups: hinted dialogues in the first ``hinted_rounds`` (a task's example
    inquiries where the settings say so), the policy's own sampled dialogues after."""
    from ..rft_sampling import hinted_groups, inquiry_groups, sample_groups

    options = {"turns": settings.turns, "temperature": settings.temperature, "seed": seed}
    if index >= settings.hinted_rounds:
        return sample_groups(policy, partials, matcher, settings.samples, **options)
    # Tasks whose file gives example inquiries use them (when the settings say so); the rest are hinted.
    # With plain questions every task is hinted, its inquiries tried beside the plain question, unless
    # ``inquiries_alone``.
    alone = settings.inquiries and (settings.inquiries_alone or not settings.plain_questions)
    asked = [p for p in partials if alone and p.inquiries()]
    rest = [p for p in partials if not (alone and p.inquiries())]
    groups = inquiry_groups(asked, matcher, settings.turns) if asked else []
    if rest:
        groups += hinted_groups(policy, rest, matcher, settings.samples, kind_openings=settings.kind_openings,
                                plain_questions=settings.plain_questions, inquiries=settings.inquiries,
                                inquiries_first=settings.inquiries_first, **options)
    return groups


def sft_round(model: Any, tokenizer: Any, rows: Sequence[dict[str, str]], profile: Profile, settings: RFTSettings,
              out: Path, seed: int, progress: bool = True) -> float | None:
    """Fine-tune the (LoRA) ``model`` in place on ``rows`` with TRL's SFTTrainer, loss on the completion
    (the question) only. Returns the mean training loss."""
    import datasets
    import torch
    from datasets import Dataset
    from transformers.trainer_callback import PrinterCallback
    from trl import SFTConfig, SFTTrainer

    from ..models import torch_dtype
    from ..training import quiet_progress

    if not rows:
        return None
    dtype = torch_dtype(profile.train.dtype)
    config = SFTConfig(
        output_dir=str(out), num_train_epochs=settings.epochs, learning_rate=settings.learning_rate,
        per_device_train_batch_size=settings.batch_size, gradient_accumulation_steps=1,
        # No logging: the round's line (tqdm.write in train_rft) reports the loss; TRL's per-10-steps dicts
        # would only clutter the terminal.
        lr_scheduler_type="constant", warmup_steps=0, logging_strategy="no", save_strategy="no",
        train_sampling_strategy="group_by_length" if settings.group_by_length else "random",
        report_to="none", seed=seed, use_cpu=not torch.cuda.is_available(),
        bf16=dtype == torch.bfloat16, fp16=torch.cuda.is_available() and dtype == torch.float16,
        # Its bar shows the fine-tuning steps (n/N); nothing is logged, so it prints no metrics dicts.
        max_length=profile.train.max_seq_length, completion_only_loss=True, disable_tqdm=not progress,
    )
    dataset = Dataset.from_list([{"prompt": r["prompt"], "completion": r["completion"]} for r in rows])
    was_training = model.training
    bars = datasets.utils.logging.is_progress_bar_enabled()
    datasets.disable_progress_bars()  # SFTTrainer's four dataset passes over a few hundred rows
    try:
        trainer = SFTTrainer(model=model, args=config, train_dataset=dataset, processing_class=tokenizer)
        trainer.remove_callback(PrinterCallback)  # its one dict of run totals at the end
        quiet_progress(trainer)  # the bar stays; the run totals it would print at the end go
        result = trainer.train()
    finally:
        if bars:
            datasets.enable_progress_bars()
    model.train(was_training)
    return round(float(result.training_loss), 5)


class RFT(Method):
    """Rejection-sampling fine-tuning over whole dialogues (:func:`train_rft`)."""

    name = "rft"
    label = "RFT"
    unit = "RFT rounds"
    counted = ("round", "rounds")
    figure_title = "RFT rounds"
    settings_class = RFTSettings

    def amount(self, settings: RFTSettings, max_steps: int | None = None) -> int:
        return settings.rounds

    def _store(self, out: Path) -> RoundStore:
        from ..rft_store import RoundStore

        return RoundStore(out / "rft")

    def finished(self, out: Path, settings: RFTSettings, max_steps: int | None = None) -> int | None:
        return settings.rounds if self._store(out).rounds_done() >= settings.rounds else None

    def started(self, out: Path) -> bool:
        return (out / "rft").is_dir()

    def clear(self, out: Path) -> None:
        self._store(out).clear()

    def remove_unfinished(self, out: Path) -> None:
        self._store(out).remove_unfinished()

    def train(self, model: Any, run: StageRun) -> Any:
        from ..files import is_main_process

        model = run.wrapped(model)  # RFT trains the LoRA adapter itself; a later stage continues on it
        if is_main_process() and not self.started(run.out):
            run.metrics_path.unlink(missing_ok=True)  # a new run's metrics start with its first round
        model = train_rft(model, run.tokenizer, run.partials, run.reward.matcher, run.profile, run.settings,
                          self._store(run.out), run.metrics_path,
                          on_round=lambda record: run.track(self.name, record["round"], record))
        run.done = run.settings.rounds
        return model

    def figures(self, records: Sequence[Mapping[str, Any]], title: str) -> list[Any]:
        """Per round: the share of hidden facts the sampled dialogues drew out (all, and the kept best of
        each task's group), and how many tasks and questions the round fine-tuned on."""
        import plotly.graph_objects as go
        from plotly.subplots import make_subplots

        x = [m["round"] for m in records]
        fig = make_subplots(rows=1, cols=2, subplot_titles=("Share drawn out on training tasks", "What was kept"))
        fig.add_trace(go.Scatter(x=x, y=[m["mean_share"] for m in records], name="every sampled dialogue",
                                 mode="lines+markers"), 1, 1)
        fig.add_trace(go.Scatter(x=x, y=[m["kept_share"] for m in records], name="kept (best of each group)",
                                 mode="lines+markers"), 1, 1)
        fig.add_trace(go.Bar(x=x, y=[m["buffer"] for m in records], name="tasks with a kept dialogue"), 1, 2)
        fig.add_trace(go.Bar(x=x, y=[m["examples"] for m in records], name="questions fine-tuned on"), 1, 2)
        fig.update_xaxes(title_text="round", dtick=1)
        fig.update_layout(title=title, height=360, legend={"orientation": "h", "y": -0.25})
        return [fig]


METHOD = RFT()
