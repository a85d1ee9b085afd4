"""Writer RFT as a stage: after the asker is trained, train the outline writer the same way.

The trained policy holds dialogues on training tasks; the base model samples several outlines after
each; the one that uses the most of what the user said, in its own words, is kept
(:mod:`proactive.outline_rft`); a LoRA writer of its own is fine-tuned on the kept outlines and saved to
``train/writer/adapter``. The evaluation writes every system's outline with it (one writer for all, so
systems still differ only in their questions). The policy itself is handed on unchanged.
"""

from __future__ import annotations

import random
import shutil
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from . import Method, StageRun

if TYPE_CHECKING:  # types only
    from ..config import Profile
    from ..masking import PartialTask
    from ..outline_rft import KeptOutline

History = Sequence[tuple[str, str]]

#: Where in a run's ``train/`` folder the writer's adapter is saved.
WRITER_DIR = "writer"


def writer_adapter(train_dir: str | Path) -> Path | None:
    """The trained writer's adapter folder in a run's ``train/`` folder, or None (no writer stage ran)."""
    path = Path(train_dir) / WRITER_DIR / "adapter"
    return path if (path / "adapter_config.json").is_file() else None


@dataclass
class WriterSettings:
    """Writer RFT's recipe (the CPU defaults): how many training dialogues (the trained policy's, of
    ``turns`` questions), outlines sampled after each and how warm, and the fine-tuning (epochs over the
    kept outlines, learning rate, batch size)."""

    dialogues: int = 48
    turns: int = 3
    samples: int = 4
    temperature: float = 0.7
    epochs: int = 2
    learning_rate: float = 4e-4
    batch_size: int = 8
    #: Batches of outlines of about the same length (as ``RFTSettings.group_by_length``).
    group_by_length: bool = True

    RANGES: ClassVar[dict[str, tuple[float | None, float | None, bool]]] = {
        "dialogues": (1, None, True), "turns": (1, None, True), "samples": (1, None, True),
        "temperature": (0.01, 10, True), "epochs": (1, None, True), "learning_rate": (0, 1, False),
        "batch_size": (1, None, True),
    }


@dataclass(frozen=True)
class WriterRecord:
    """What the writer stage did, as it goes into ``metrics.jsonl``."""

    dialogues: int
    samples: int
    kept: int  # dialogues with a finished sample that used anything said
    kept_share: float  # mean share of what was said that the kept outlines use
    examples: int
    sft_loss: float | None
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {"method": WriterRFT.name, **asdict(self)}


def fit_writer(partials: Sequence[PartialTask], histories: Sequence[History], profile: Profile,
               settings: WriterSettings, folder: Path, similarity: Any = None, progress: bool = True,
               ) -> tuple[list[KeptOutline], int, float | None]:
    """Writer RFT on given dialogues: the base model samples ``settings.samples`` outlines after each, the
    best is kept (every sample, its score and the kept one in ``folder/samples.jsonl``), and a LoRA writer
    fine-tuned on them is saved whole (or not at all) to ``folder/adapter``. Returns what was kept, how
    many rows were fine-tuned on, and the loss."""
    from peft import get_peft_model

    from ..backends import EmbeddingSimilarity
    from ..coverage import OwnWordsCoverage
    from ..files import atomic_write_jsonl
    from ..models import load_model_and_tokenizer, lora_config, torch_dtype
    from ..outline_rft import keep_best, sample_outlines, sample_scores, writer_rows
    from ..policy import LocalPolicy
    from .rft import sft_round

    # The writer is the base model with a LoRA of its own, never the asker's: loaded apart, with plain PEFT.
    model, tokenizer = load_model_and_tokenizer(profile.model, dtype=torch_dtype(profile.train.dtype))
    base = LocalPolicy(model, tokenizer, name="writer", outline_tokens=profile.outline_tokens,
                       batch_size=profile.eval_batch_size)
    samples = sample_outlines(base, partials, histories, settings.samples, settings.temperature,
                              seed=profile.train_seed)
    # The coverage rule the report's judge applies (proactive.coverage), on the reward's embedding model.
    judge = OwnWordsCoverage(similarity or EmbeddingSimilarity())
    scores = sample_scores(judge, partials, histories, samples)
    kept = keep_best(judge, partials, histories, samples, scores)
    # Every sample with its score, and which was kept: a reader sees what the writer learned from.
    chosen = {k.index: k for k in kept}
    atomic_write_jsonl(folder / "samples.jsonl", [
        {"task_id": p.task_id, "history": [list(pair) for pair in h],
         "samples": [{"outline": group[i], "score": score[i]} for group, score in zip(samples, scores)],
         "kept": chosen[i].outline if i in chosen else None}
        for i, (p, h) in enumerate(zip(partials, histories))])
    model = get_peft_model(model, lora_config(profile.train))
    rows = writer_rows(tokenizer, partials, histories, kept)
    model.train()
    loss = sft_round(model, tokenizer, rows, profile, settings, folder / "sft", seed=profile.train_seed,
                     progress=progress)
    shutil.rmtree(folder / "sft", ignore_errors=True)
    unfinished = folder / ".adapter.tmp"
    shutil.rmtree(unfinished, ignore_errors=True)
    model.save_pretrained(str(unfinished))
    tokenizer.save_pretrained(str(unfinished))
    shutil.rmtree(folder / "adapter", ignore_errors=True)
    unfinished.rename(folder / "adapter")  # the writer is on disk whole or not at all
    return kept, len(rows), loss


def train_writer(policy_model: Any, run: StageRun, progress: bool = True) -> WriterRecord:
    """Writer RFT on ``run``'s training tasks: dialogues by the trained policy (``settings.dialogues`` of
    the training tasks, ``settings.turns`` questions each), then :func:`fit_writer` into ``train/writer/``."""
    from tqdm.auto import tqdm

    from ..dialogues import run_dialogues
    from ..files import append_jsonl
    from ..policy import LocalPolicy

    settings, profile = run.settings, run.profile
    started = time.time()
    tasks = list(run.partials)
    tasks = random.Random(profile.train_seed).sample(tasks, min(settings.dialogues, len(tasks)))
    asker = LocalPolicy(policy_model, run.tokenizer, profile.question_prefix, profile.train.max_completion_length,
                        name="policy", batch_size=profile.eval_batch_size, redraws=profile.redraws)
    policy_model.eval()
    dialogues = run_dialogues(asker, tasks, run.reward.matcher, turns=settings.turns, progress=progress)
    kept, examples, loss = fit_writer([d.partial for d in dialogues], [d.history() for d in dialogues], profile,
                                      settings, run.out / WRITER_DIR, getattr(run.reward.matcher, "similarity", None),
                                      progress)
    record = WriterRecord(dialogues=len(dialogues), samples=settings.samples, kept=len(kept),
                          kept_share=round(sum(k.score for k in kept) / max(1, len(kept)), 4), examples=examples,
                          sft_loss=loss, seconds=round(time.time() - started, 1))
    append_jsonl(run.metrics_path, record.to_dict())
    tqdm.write(f"writer RFT: {record.kept} of {record.dialogues} training dialogues kept an outline (uses "
               f"{record.kept_share:.3f} of what was said), {record.examples} outlines fine-tuned on, loss "
               f"{record.sft_loss}, {record.seconds:.0f} s")
    return record


class WriterRFT(Method):
    """Rejection-sampling fine-tuning of the outline writer (:func:`train_writer`); trains no policy."""

    name = "writer"
    label = "writer RFT"
    unit = "writer rounds"
    counted = ("round", "rounds")
    figure_title = "writer RFT"
    settings_class = WriterSettings
    trains_policy = False

    def amount(self, settings: WriterSettings, max_steps: int | None = None) -> int:
        return 1

    def finished(self, out: Path, settings: WriterSettings, max_steps: int | None = None) -> int | None:
        return 1 if writer_adapter(out) is not None else None

    def clear(self, out: Path) -> None:
        shutil.rmtree(out / WRITER_DIR, ignore_errors=True)

    def remove_unfinished(self, out: Path) -> None:
        shutil.rmtree(out / WRITER_DIR / ".adapter.tmp", ignore_errors=True)
        shutil.rmtree(out / WRITER_DIR / "sft", ignore_errors=True)

    # started() stays False: the writer never holds the policy's training, so a resumed run still
    # replays the stages before it (RFT resumes from its stored rounds in seconds).

    def train(self, model: Any, run: StageRun) -> Any:
        from ..files import is_main_process

        model = run.wrapped(model)  # a writer-only run still saves a (blank) policy adapter
        if is_main_process() and not (run.resume and writer_adapter(run.out) is not None):
            record = train_writer(model, run)
            run.track(self.name, 1, record.to_dict())
        return model


METHOD = WriterRFT()
