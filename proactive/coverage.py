"""What an outline covers in its own words: the coverage rule the judges and writer RFT share.

A fact is covered when one of the outline's own lines is close to it in the embedding space; a line that
pastes one of the user's sentences (:func:`quotes`) is not the outline's own and covers nothing. The
evaluation's judges (:mod:`proactive.judges`) and the training of the outline writer
(:mod:`proactive.outline_rft`) both read this module, so the writer is selected by the rule it is judged by.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from .backends import SimilarityBackend
from .tasks import Fact


def _lines(outline: str) -> list[str]:
    parts = [re.sub(r"^[\s\-*•#\d.)]+", "", ln).strip() for ln in re.split(r"[\n;]|(?<=[.!?])\s+", outline)]
    return [p for p in parts if len(p) > 2]


_WORD = re.compile(r"[a-z0-9$£€%]+(?:['.,/-][a-z0-9]+)*")

#: How much of a user's sentence a line must repeat, word for word and in order, to be a quotation of
#: it: an outline that pastes the user's answers writes nothing of its own, so it must not score as if
#: it used them. Padding the pasted sentence with words of one's own does not make it less of a paste.
QUOTE_SHARE = 0.6
#: Sentences shorter than this ("Budget is $5,000.") can hardly be said in other words: never quotations.
QUOTE_MIN_WORDS = 6


def _longest_run(a: Sequence[str], b: Sequence[str]) -> int:
    """The longest run of words ``a`` and ``b`` share, in order and unbroken."""
    best, previous = 0, [0] * (len(b) + 1)
    for x in a:
        current = [0] * (len(b) + 1)
        for j, y in enumerate(b, 1):
            if x == y:
                current[j] = previous[j - 1] + 1
                best = max(best, current[j])
        previous = current
    return best


def quotes(line: str, sentence: str, share: float = QUOTE_SHARE) -> bool:
    """Is ``line`` the user's ``sentence`` pasted (whole, nearly whole, or padded) rather than a detail
    written into the outline? It is when it holds one unbroken run of at least ``share`` of the sentence's
    words, in order. Sentences under :data:`QUOTE_MIN_WORDS` words are never quotations."""
    if len(_WORD.findall(sentence.lower())) < QUOTE_MIN_WORDS:
        return False
    return copied_share(line, sentence) >= share


def copied_share(line: str, sentence: str) -> float:
    """The share of ``sentence``'s words that ``line`` repeats in one unbroken run, in order (0 to 1)."""
    said = _WORD.findall(sentence.lower())
    return _longest_run(_WORD.findall(line.lower()), said) / len(said) if said else 0.0


def own_lines(outline: str, said: Sequence[str]) -> list[str]:
    """The outline's lines (and sentences) that do not paste one of the user's sentences ``said`` (the
    request's, the answers', which the simulated user takes from the facts): what coverage reads, so
    the trivial outline that lists the answers covers nothing, while one that writes a detail into a
    section in fewer words ("- History: 62-year-old woman, daily headaches for 5 weeks") does."""
    return [line for line in _lines(outline) if not any(quotes(line, s) for s in said)]


def sentences(text: str) -> list[str]:
    """A text's sentences and lines (a plain split: a request's sentence must not lose a part)."""
    return [part.strip() for part in re.split(r"(?<=[.!?])\s+|\n", text) if part.strip()]


#: How close (cosine) an outline's line must be to a fact to cover it: the report's judge and writer RFT's.
COVERAGE_THRESHOLD = 0.6


class OwnWordsCoverage:
    """Which facts an outline covers: a fact is covered when one of the outline's own lines
    (:func:`own_lines`, pasted facts left out) is at least ``threshold`` similar to it."""

    def __init__(self, similarity: SimilarityBackend, threshold: float = COVERAGE_THRESHOLD):
        self.similarity = similarity
        self.threshold = threshold

    def covered(self, outline: str, facts: Sequence[Fact]) -> list[bool]:
        lines = own_lines(outline, [f.statement for f in facts])
        if not lines or not facts:
            return [False] * len(facts)
        close = np.asarray(self.similarity.similarity(list(lines), [f.statement for f in facts])).max(axis=0)
        return [bool(c >= self.threshold) for c in close]
