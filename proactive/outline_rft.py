"""Writer RFT: rejection-sampling fine-tuning of the note writer, the way the asker is trained.

The paper's deliverable is the outline written after the questions, and it should carry what they drew
out. The outline ends with a note per detail the user gave (:mod:`proactive.outline_notes`). For each
sentence a user says in training (a training task's hidden facts: the simulated user answers with them),
the base model samples several notes; the one that covers the sentence best **in its own words** is kept
(the rule the report's judge applies, :class:`proactive.coverage.OwnWordsCoverage`: a note that pastes the
sentence covers nothing), and a LoRA note writer is fine-tuned on the kept notes. Selection reads only the
user's sentence and the note: the writer learns to write in what it was told, not to guess.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .coverage import COVERAGE_THRESHOLD, own_lines
from .masking import PartialTask
from .outline_notes import keeps


def training_details(partials: Sequence[PartialTask]) -> list[str]:
    """The sentences users give in training, each once, in task order: every hidden fact's statement (what
    the simulated user answers with when a question draws the fact out)."""
    seen: dict[str, None] = {}
    for partial in partials:
        for fact in partial.hidden_facts:
            seen.setdefault(fact.statement.strip(), None)
    return [detail for detail in seen if detail]


def note_closeness(similarity: Any, note: str, detail: str, threshold: float = COVERAGE_THRESHOLD) -> float | None:
    """How close ``note`` comes to the user's ``detail`` (cosine, from ``similarity``) when it covers it in its
    own words as the report's judge counts it (at least ``threshold``, not a paste of it); None otherwise."""
    lines = own_lines(note, [detail])
    if not lines:
        return None
    close = float(max(similarity.similarity(list(lines), [detail])[:, 0]))
    return close if close >= threshold else None


@dataclass(frozen=True)
class KeptNote:
    """One detail's best sampled note and how close it comes to the detail."""

    detail: str
    note: str
    closeness: float


def sample_closeness(similarity: Any, details: Sequence[str], samples: Sequence[Sequence[str]]) -> list[list[float | None]]:
    """:func:`note_closeness` of every sampled note (None for an empty one), laid out as ``samples`` is."""
    return [[note_closeness(similarity, group[i], detail) if group[i] else None for i, detail in enumerate(details)]
            for group in samples]


def keep_best_notes(similarity: Any, details: Sequence[str], samples: Sequence[Sequence[str]],
                    closeness: Sequence[Sequence[float | None]] | None = None) -> list[KeptNote]:
    """For each detail, its sampled note (``samples[k][i]``: sample k of detail i) that covers it closest
    in its own words (:func:`note_closeness`) among those it :func:`proactive.outline_notes.keeps`; details
    whose samples all missed, copied, changed a number or drifted keep none. ``closeness`` (from :func:`sample_closeness`) saves
    scoring them again."""
    closeness = closeness if closeness is not None else sample_closeness(similarity, details, samples)
    kept = []
    for i, detail in enumerate(details):
        scored = [(close[i], group[i]) for close, group in zip(closeness, samples)
                  if close[i] is not None and keeps(group[i], detail)]
        if scored:
            close, note = max(scored, key=lambda pair: pair[0])
            kept.append(KeptNote(detail, note, round(close, 4)))
    return kept


def note_rows(tokenizer: Any, kept: Sequence[KeptNote]) -> list[dict[str, str]]:
    """Prompt-completion rows: the note writer's prompt (which ends with the bullet) and the kept note
    after it, ended with the end token so the writer learns to stop after one line."""
    from .outline_notes import note_prompt

    end = tokenizer.eos_token or ""
    # The prompt ends with the bullet; the note's first word carries its space (" Budget"), as generated.
    return [{"prompt": note_prompt(tokenizer, k.detail), "completion": " " + k.note.lstrip("-").strip() + end}
            for k in kept]


def sample_notes(writer: Any, details: Sequence[str], samples: int, temperature: float, seed: int) -> list[list[str]]:
    """``samples`` notes per detail from ``writer`` (a LocalPolicy), each sample one pass over every detail:
    ``result[k][i]`` is sample k of detail i."""
    return [writer.write_notes(details, temperature=temperature, seed=seed + 104729 * k) for k in range(samples)]
