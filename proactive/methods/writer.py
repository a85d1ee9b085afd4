"""Writer RFT as a stage: after the asker is trained, train the outline's note writer the same way.

Every outline ends with a note per detail the user gave (:mod:`proactive.outline_notes`). For the sentences
users give on the training tasks (their hidden facts), the base model samples several notes each; the one
that covers the sentence closest in its own words is kept (:mod:`proactive.outline_rft`); a LoRA note writer
of its own is fine-tuned on the kept notes and saved to ``train/writer/adapter``. The evaluation writes
every system's notes with it (one writer for all, so systems still differ only in their questions). The
policy itself is handed on unchanged.
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
    from ..outline_rft import KeptNote

#: Where in a run's ``train/`` folder the writer's adapter is saved.
WRITER_DIR = "writer"


def writer_adapter(train_dir: str | Path) -> Path | None:
    """The trained writer's adapter folder in a run's ``train/`` folder, or None (no writer stage ran)."""
    path = Path(train_dir) / WRITER_DIR / "adapter"
    return path if (path / "adapter_config.json").is_file() else None


@dataclass
class WriterSettings:
    """Writer RFT's recipe (the CPU defaults): how many training tasks give their hidden facts as the
    sentences to write notes for, notes sampled for each and how warm, and the fine-tuning (epochs over
    the kept notes, learning rate, batch size)."""

    #: Every training task of the demo's profiles (the corpus's 84, IN3's 48): on 48 the trained outline used
    #: 0.601 of what its dialogue drew out, on all 0.686 (benchmarks/README).
    tasks: int = 132
    samples: int = 6
    temperature: float = 0.8
    #: 4 epochs at 1e-3: at 2 at 4e-4 the fine-tuned writer still pasted most answers (benchmarks/README).
    epochs: int = 4
    learning_rate: float = 1e-3
    batch_size: int = 8
    #: Batches of notes of about the same length (as ``RFTSettings.group_by_length``).
    group_by_length: bool = True

    RANGES: ClassVar[dict[str, tuple[float | None, float | None, bool]]] = {
        "tasks": (1, None, True), "samples": (1, None, True),
        "temperature": (0.01, 10, True), "epochs": (1, None, True), "learning_rate": (0, 1, False),
        "batch_size": (1, None, True),
    }


@dataclass(frozen=True)
class WriterRecord:
    """What the writer stage did, as it goes into ``metrics.jsonl``."""

    details: int  # the users' sentences notes were sampled for
    samples: int
    kept: int  # details with a sampled note that covers them in its own words
    kept_closeness: float  # mean cosine of the kept notes to their details
    examples: int
    sft_loss: float | None
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {"method": WriterRFT.name, **asdict(self)}


def fit_writer(details: Sequence[str], profile: Profile, settings: WriterSettings, folder: Path,
               similarity: Any = None, progress: bool = True) -> tuple[list[KeptNote], int, float | None]:
    """Writer RFT on the users' sentences ``details``: the base model samples ``settings.samples`` notes for
    each, the closest in its own words is kept (every sample, its closeness and the kept one in
    ``folder/samples.jsonl``), and a LoRA note writer fine-tuned on them is saved whole (or not at all) to
    ``folder/adapter``. Returns what was kept, how many rows were fine-tuned on, and the loss."""
    from peft import get_peft_model

    from ..backends import EmbeddingSimilarity
    from ..files import atomic_write_jsonl
    from ..models import load_model_and_tokenizer, lora_config, torch_dtype
    from ..outline_rft import keep_best_notes, note_rows, sample_closeness, sample_notes
    from ..policy import LocalPolicy
    from .rft import sft_round

    # The writer is the base model with a LoRA of its own, never the asker's: loaded apart, with plain PEFT.
    model, tokenizer = load_model_and_tokenizer(profile.model, dtype=torch_dtype(profile.train.dtype))
    base = LocalPolicy(model, tokenizer, name="writer", outline_tokens=profile.outline_tokens,
                       batch_size=profile.eval_batch_size)
    samples = sample_notes(base, details, settings.samples, settings.temperature, seed=profile.train_seed)
    # The coverage rule the report's judge applies (proactive.coverage), on the reward's embedding model.
    similarity = similarity or EmbeddingSimilarity()
    closeness = sample_closeness(similarity, details, samples)
    kept = keep_best_notes(similarity, details, samples, closeness)
    # Every sample with its closeness, and which was kept: a reader sees what the writer learned from.
    chosen = {k.detail: k.note for k in kept}
    atomic_write_jsonl(folder / "samples.jsonl", [
        {"detail": detail, "samples": [{"note": group[i], "closeness": close[i]} for group, close in zip(samples, closeness)],
         "kept": chosen.get(detail)} for i, detail in enumerate(details)])
    model = get_peft_model(model, lora_config(profile.train))
    rows = note_rows(tokenizer, kept)
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
    """Writer RFT on ``run``'s training tasks (``settings.tasks`` of them, their hidden facts the sentences
    to write notes for): :func:`fit_writer` into ``train/writer/``. The policy is not used: what a user
    answers is the fact's own sentence, whichever question drew it out."""
    from tqdm.auto import tqdm

    from ..files import append_jsonl
    from ..outline_rft import training_details

    settings, profile = run.settings, run.profile
    started = time.time()
    tasks = list(run.partials)
    tasks = random.Random(profile.train_seed).sample(tasks, min(settings.tasks, len(tasks)))
    details = training_details(tasks)
    kept, examples, loss = fit_writer(details, profile, settings, run.out / WRITER_DIR,
                                      getattr(run.reward.matcher, "similarity", None), progress)
    record = WriterRecord(details=len(details), samples=settings.samples, kept=len(kept),
                          kept_closeness=round(sum(k.closeness for k in kept) / max(1, len(kept)), 4),
                          examples=examples, sft_loss=loss, seconds=round(time.time() - started, 1))
    append_jsonl(run.metrics_path, record.to_dict())
    tqdm.write(f"writer RFT: {record.kept} of {record.details} users' sentences kept a note in the writer's own "
               f"words (closeness {record.kept_closeness:.3f}), {record.examples} notes fine-tuned on, loss "
               f"{record.sft_loss}, {record.seconds:.0f} s")
    return record


class WriterRFT(Method):
    """Rejection-sampling fine-tuning of the outline's note writer (:func:`train_writer`); trains no policy."""

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
