"""Writer RFT: rejection-sampling fine-tuning of the outline writer, the way the asker is trained.

The paper's deliverable is the outline written after the questions. A small writer ignores most of what
the user told it, or loops until it runs out of tokens. Writer RFT samples several outlines for each
training dialogue, keeps the one that uses the most of **what the user said** (the request's sentences
and the answers the dialogue drew out) in the writer's own words, under the judge the report uses
(:class:`proactive.coverage.OwnWordsCoverage`, the rule :meth:`proactive.judges.EmbeddingJudge.covered`
applies, whose paste rule gives a pasted user sentence nothing),
and fine-tunes a LoRA writer on the kept outlines. Selection reads only the dialogue, never the hidden
facts: the writer learns to use what it was told, not to guess.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .coverage import sentences
from .masking import PartialTask
from .outlines import is_cut, told_details
from .tasks import Fact, weighted_share

History = Sequence[tuple[str, str]]

#: How much a sentence of the request counts beside an answer in :func:`said_coverage`: the answers are
#: what asking bought (what a writer most often drops); the request's sentences still belong in it.
REQUEST_WEIGHT = 0.5


def said(partial: PartialTask, history: History) -> list[Fact]:
    """What the user told the writer, as facts a judge can look for: each sentence of the request
    (weight :data:`REQUEST_WEIGHT`) and each answer that gave a detail (weight 1)."""
    told = [Fact(id=f"answer-{i}", statement=s, category="specifics", importance=1.0)
            for i, s in enumerate(told_details(history))]
    asked = [Fact(id=f"request-{i}", statement=s, category="specifics", importance=REQUEST_WEIGHT)
             for i, s in enumerate(sentences(partial.request))]
    return [*told, *asked]


def said_coverage(judge: Any, outline: str, partial: PartialTask, history: History) -> float | None:
    """The importance-weighted share of what the user said (:func:`said`) that the outline's own lines
    cover, by ``judge`` (anything with ``covered(outline, facts)``: :class:`proactive.coverage.OwnWordsCoverage`,
    the report's embedding judge); None for a cut outline (it never finished, so it is never kept)."""
    if is_cut(outline):
        return None
    facts = said(partial, history)
    return weighted_share(judge.covered(outline, facts), facts) if facts else 0.0


@dataclass(frozen=True)
class KeptOutline:
    """One training dialogue's best sampled outline and its score (the share of what was said it uses)."""

    index: int
    outline: str
    score: float


def sample_scores(judge: Any, partials: Sequence[PartialTask], histories: Sequence[History],
                  samples: Sequence[Sequence[str]]) -> list[list[float | None]]:
    """:func:`said_coverage` of every sample, laid out as ``samples`` is (``scores[k][i]``)."""
    return [[said_coverage(judge, group[i], partial, history)
             for i, (partial, history) in enumerate(zip(partials, histories))] for group in samples]


def keep_best(judge: Any, partials: Sequence[PartialTask], histories: Sequence[History],
              samples: Sequence[Sequence[str]], scores: Sequence[Sequence[float | None]] | None = None,
              ) -> list[KeptOutline]:
    """For each dialogue, its sampled outline (``samples[k][i]``: sample k of dialogue i) that covers
    the most of what the user said; dialogues whose samples all were cut or covered nothing keep none.
    ``scores`` (from :func:`sample_scores`) saves scoring them again."""
    scores = scores if scores is not None else sample_scores(judge, partials, histories, samples)
    kept = []
    for i in range(len(partials)):
        scored = [(score[i], group[i]) for score, group in zip(scores, samples)]
        scored = [(s, o) for s, o in scored if s]
        if scored:
            score, outline = max(scored, key=lambda pair: pair[0])
            kept.append(KeptOutline(i, outline, round(score, 4)))
    return kept


def writer_rows(tokenizer: Any, partials: Sequence[PartialTask], histories: Sequence[History],
                kept: Sequence[KeptOutline]) -> list[dict[str, str]]:
    """Prompt-completion rows: the writer's prompt (which ends with the outline's first bullet) and the
    kept outline after it, ended with the end token so the writer learns to stop."""
    from .policy import OUTLINE_OPENING, TRAINED_WRITER_OPENING, outline_prompt

    rows = []
    end = tokenizer.eos_token or ""
    for k in kept:
        # The prompt ends with the opening's bullet; its space starts the completion, where the tokenizer
        # puts it (" History", one token), as the writer generates it.
        completion = " " + k.outline.removeprefix(OUTLINE_OPENING).lstrip()
        rows.append({"prompt": outline_prompt(tokenizer, partials[k.index], histories[k.index], TRAINED_WRITER_OPENING),
                     "completion": completion if completion.endswith(end) else completion + end})
    return rows


def sample_outlines(writer: Any, partials: Sequence[PartialTask], histories: Sequence[History], samples: int,
                    temperature: float, seed: int) -> list[list[str]]:
    """``samples`` outlines per dialogue from ``writer`` (a LocalPolicy), each sample one pass over every
    dialogue: ``result[k][i]`` is sample k of dialogue i."""
    return [writer.write_outlines(partials, histories, temperature=temperature, seed=seed + 104729 * k)
            for k in range(samples)]
