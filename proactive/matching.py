"""Is this question asking about that fact? A calibrated probability from sentence embeddings.

The simulated user reveals a hidden fact only when the question is actually about it. Plain
cosine similarity between question and fact is a weak judge (ROC-AUC about 0.68 on Qulac's real
answers): a question that merely repeats the request is similar to every fact about that request.
So the matcher looks at what the question adds *beyond the request*: it also compares the
question and the fact after removing the request's direction from both embeddings, and after
deleting the request's words and the question's boilerplate ("are you looking for ..."). A
logistic regression over these similarities, fitted on real people's yes/no answers in Qulac
(``proactive calibrate``), turns them into a probability.

Facts written as a label and a value ("Duration of the trip: 1 week.", IN3's missing details) are
matched by a second regression over the same features, fitted on which detail each of IN3's
annotator-written inquiries asks about: Qulac's fit, made for sentence facts and keyword topics,
reached only half of those inquiries' own details (its ranking was right for 94 in 100). That fit
also reads the features of the question against the label alone ("Duration of the trip"): a question
asks about what a detail is, not about its value. Its probabilities are put on the first fit's scale,
so one threshold decides for both.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from .backends import SimilarityBackend
from .errors import ProactiveError
from .files import atomic_write_json
from .questions import content_words, keywords

FEATURES: tuple[str, ...] = (
    "cos_q_f",  # question vs fact
    "resid_q_f",  # both with the request's direction removed: what each adds beyond the request
    "core_q_f",  # content words only: request words and question boilerplate deleted
    "core_q_fact",  # core question vs the whole fact
    "cos_q_r",  # question vs request: a question that restates the request is no gap-finder
    "cos_f_r",  # fact vs request
    "core_q_r",
    "n_words",  # long, sprawling questions
    "has_or",  # "X or Y?" alternatives
    # Words: what the question adds beyond the request, found in the fact? Embeddings of short
    # keyword requests blur; a shared word (or, for misspellings, shared letter trigrams) does not.
    "word_share",  # share of the question's new content words that the fact uses
    "word_any",  # it shares at least one
    "new_words",  # how many new content words the question has
    "word_cover",  # share of the fact's new content words the question uses
    "fact_words",  # how many new content words the fact has
    "trigram_q",  # share of the question's letter trigrams (new words) found in the fact's
    "trigram_f",  # share of the fact's letter trigrams found in the question's
    # Synonyms: each new question word's closest new fact word ("people" ~ "guests"), by embedding.
    "synonym_mean",
    "synonym_max",
)
#: The labelled fit's features: :data:`FEATURES` against the whole fact, then against its label.
LABELLED_FEATURES: tuple[str, ...] = FEATURES + tuple(f"label_{name}" for name in FEATURES)

_QUESTION_BOILERPLATE = re.compile(
    r"^\s*(?:(?:are|do|would|is|did|will|can|could|should|have)\s+you\s+(?:be\s+)?"
    r"(?:interested\s+in|looking\s+for|want(?:ing)?(?:\s+to\s+(?:know|learn|find|see|get))?|"
    r"like\s+to\s+(?:know|learn|find|see)|need|searching\s+for|referring\s+to|seeking|"
    r"trying\s+to\s+(?:find|learn)|asking\s+about|mean|tell\s+me)?|"
    r"(?:can|could|would)\s+you\s+(?:tell|share\s+with|let)\s+me(?:\s+know)?|"
    r"(?:what|which|who|when|where|how)(?:\s+(?:is|are|was|were|will|would|do|does|did|many|much|long))?)\b"
    # Whole words only: "What theme ..." keeps its "theme" (without the \b, "the" was cut from it).
    r"(?:\s+(?:about|more|information|info|on|for|in|of|the|a|an|some|any|to|your|you)\b)*\s*",
    re.IGNORECASE,
)
_FACT_BOILERPLATE = re.compile(
    r"^\s*(?:find|what|how|where|i\s+want\s+to\s+find|i\s+am\s+looking\s+for)\s+"
    r"(?:(?:information|info|pages?|sites?|websites?|a\s+list)\b)?\s*(?:(?:about|on|for|of|that|which)\b\s*)*",
    re.IGNORECASE,
)
_WORD = re.compile(r"[A-Za-z0-9$£€%'.,-]*[A-Za-z0-9]")
#: A fact written as a label, then its value: "Duration of the trip: More than a week." (a capitalised
#: label of at most 12 words with no sentence mark, a colon, a value).
_LABELLED = re.compile(r"^\s*[A-Z][^:.!?\n]{0,100}:\s+\S")


#: A label names a detail; one opening like a question or an instruction is a sentence with a colon
#: ("Who are Ron Howard's family members: parents, wife ...?", "Find facts about Idaho: ...").
_NOT_A_LABEL = re.compile(r"^\s*(?:who|what|when|where|which|why|how|is|are|do|does|can|find|get|show|tell|"
                          r"list(?!\s+of\b)|give|search|look|i|we|my|our|about|around|over|under|\d)\b", re.IGNORECASE)


def is_labelled_fact(statement: str) -> bool:
    """Is ``statement`` a label and a value ("Type of pizza: New York-style.") rather than a sentence?"""
    label = statement.split(":", 1)[0]
    return (bool(_LABELLED.match(statement)) and len(label.split()) <= 12 and not _NOT_A_LABEL.match(label)
            and not statement.rstrip().endswith("?"))


def fact_label(statement: str) -> str:
    """What a labelled fact is about: its label ("Type of pizza"); a sentence fact as it is."""
    return statement.split(":", 1)[0].strip() if is_labelled_fact(statement) else statement


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def core_text(text: str, request: str, boilerplate: re.Pattern) -> str:
    """``text`` without its boilerplate opening and without any word the request already uses."""
    stripped = boilerplate.sub("", text, count=1) or text
    seen = {w.lower() for w in _words(request)}
    kept = [w for w in _words(stripped) if w.lower() not in seen]
    return " ".join(kept) if kept else (stripped.strip() or text)


def _trigrams(words: set[str]) -> set[str]:
    return {f"#{w}#"[i : i + 3] for w in words for i in range(len(w))}


def new_words(text: str, request: str, boilerplate: re.Pattern) -> set[str]:
    """The content words ``text`` adds to the request, its boilerplate opening left out."""
    return content_words(core_text(text, request, boilerplate)) - content_words(request)


def word_features(q: set[str], f: set[str]) -> list[float]:
    """The lexical features (``word_share`` to ``trigram_f``) of a question with new words ``q`` and a
    fact with new words ``f``.

    The question's form is deliberately not a feature: in Qulac, open questions ("what would you like
    to know about X?") are labelled only when the answer opens with "no", so a fitted weight on
    "open question" learns that labelling, and would make the simulated user refuse every "What ...?"."""
    shared, gq, gf = q & f, _trigrams(q), _trigrams(f)
    return [len(shared) / max(len(q), 1), float(bool(shared)), float(len(q)), len(shared) / max(len(f), 1),
            float(len(f)), len(gq & gf) / max(len(gq), 1), len(gq & gf) / max(len(gf), 1)]


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-8)


def _residual(x: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """``x`` with its component along the (unit) ``direction`` removed, renormalised."""
    return _unit(x - (x @ direction)[..., None] * direction)


@dataclass(frozen=True)
class Calibration:
    """A fitted logistic regression over :data:`FEATURES`, and the thresholds chosen on data."""

    weights: tuple[float, ...]
    bias: float
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    #: Reveal a fact at or above this: where the decision agrees with people most often.
    threshold: float
    features: tuple[str, ...] = FEATURES
    #: Where the numbers came from and how well they did on held-out topics.
    provenance: dict[str, Any] = field(default_factory=dict)
    #: Say "I already mentioned that" at or above this (the lower, kappa-best threshold): recognising
    #: a repeat gives nothing away, and a missed one lets a re-ask go unpenalised. Defaults to ``threshold``.
    known_threshold: float | None = None
    #: The fit for facts written as label and value (:func:`is_labelled_fact`), on this one's scale;
    #: None: this fit decides for every fact.
    labelled: Calibration | None = None

    def probability(self, x: np.ndarray) -> np.ndarray:
        z = ((x - np.asarray(self.mean)) / np.asarray(self.scale)) @ np.asarray(self.weights) + self.bias
        return 1.0 / (1.0 + np.exp(-np.clip(z, -500, 500)))

    def save(self, path: str | Path) -> Path:
        return atomic_write_json(path, asdict(self))

    @classmethod
    def load(cls, path: str | Path | None = None) -> Calibration:
        """The calibration shipped with the package (made by ``proactive calibrate``), or a file."""
        source = Path(path) if path else Path(str(resources.files("proactive.data") / "matcher_calibration.json"))
        try:
            calibration = cls.from_dict(json.loads(source.read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError, TypeError, AttributeError) as exc:
            raise ProactiveError(
                f"cannot read matcher calibration {source} ({exc}); re-create it with `proactive calibrate`"
            ) from None
        labelled = calibration.labelled
        if tuple(calibration.features) != FEATURES or (labelled and tuple(labelled.features) != LABELLED_FEATURES):
            raise ProactiveError(f"{source} was fitted for other features; re-create it with `proactive calibrate`")
        return calibration

    @classmethod
    def from_dict(cls, data: dict) -> Calibration:
        """A calibration as :meth:`save` wrote it (lists back to tuples, the labelled fit nested)."""
        fields = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        if isinstance(fields.get("labelled"), dict):
            fields["labelled"] = cls.from_dict(fields["labelled"])
        return cls(**fields)


class FactMatcher:
    """Probability that a question asks about each of a list of facts, given the visible request."""

    def __init__(self, similarity: SimilarityBackend, calibration: Calibration | None = None):
        self.similarity = similarity
        self.calibration = calibration or Calibration.load()

    @property
    def threshold(self) -> float:
        return self.calibration.threshold

    @property
    def known_threshold(self) -> float:
        known = self.calibration.known_threshold
        return self.calibration.threshold if known is None else known

    @staticmethod
    def texts(questions: Sequence[str], request: str, facts: Sequence[str]) -> list[str]:
        """Every text the features need: request, questions, their cores, facts, their cores."""
        request = keywords(request)
        q_core = [core_text(q, request, _QUESTION_BOILERPLATE) for q in questions]
        f_core = [core_text(f, request, _FACT_BOILERPLATE) for f in facts]
        return [request, *questions, *q_core, *facts, *f_core]

    @staticmethod
    def words(questions: Sequence[str], request: str, facts: Sequence[str]) -> set[str]:
        """The single words the synonym features embed."""
        request = keywords(request)
        return set().union(*(new_words(q, request, _QUESTION_BOILERPLATE) for q in questions),
                           *(new_words(f, request, _FACT_BOILERPLATE) for f in facts))

    def prefetch(self, jobs: Sequence[tuple[Sequence[str], str, Sequence[str]]], extra: Sequence[str] = ()) -> None:
        """Encode the texts of many ``(questions, request, facts)`` jobs (and any ``extra`` texts) in
        one batched call, so a caching backend (the default) answers the per-job calls from memory."""
        if self.calibration.labelled is not None:  # the labelled facts' labels are read too
            jobs = [*jobs, *((q, r, [fact_label(f) for f in facts if is_labelled_fact(f)]) for q, r, facts in jobs)]
        texts = list(dict.fromkeys([*(t for job in jobs for t in self.texts(*job)), *extra,
                                    *sorted(set().union(*(self.words(*job) for job in jobs)))]))
        if texts:
            self.similarity.encode(texts)

    def features(self, questions: Sequence[str], request: str, facts: Sequence[str]) -> np.ndarray:
        """Feature array of shape ``(len(questions), len(facts), len(FEATURES))``."""
        if not questions or not facts:
            return np.zeros((len(questions), len(facts), len(FEATURES)))
        # One encode call: the backend batches and caches (facts and request recur across questions).
        vectors = self.similarity.encode(self.texts(questions, request, facts))
        request = keywords(request)
        nq, nf = len(questions), len(facts)
        r = vectors[0]
        q, qc = vectors[1 : 1 + nq], vectors[1 + nq : 1 + 2 * nq]
        f, fc = vectors[1 + 2 * nq : 1 + 2 * nq + nf], vectors[1 + 2 * nq + nf :]
        out = np.empty((nq, nf, len(FEATURES)))
        out[..., 0] = q @ f.T
        out[..., 1] = _residual(q, r) @ _residual(f, r).T
        out[..., 2] = qc @ fc.T
        out[..., 3] = qc @ f.T
        out[..., 4] = (q @ r)[:, None]
        out[..., 5] = (f @ r)[None, :]
        out[..., 6] = (qc @ r)[:, None]
        out[..., 7] = np.array([len(_words(x)) for x in questions], dtype=float)[:, None]
        out[..., 8] = np.array([" or " in f" {x.lower()} " for x in questions], dtype=float)[:, None]
        q_words = [new_words(x, request, _QUESTION_BOILERPLATE) for x in questions]
        f_words = [new_words(x, request, _FACT_BOILERPLATE) for x in facts]
        out[..., 9:16] = [[word_features(qw, fw) for fw in f_words] for qw in q_words]
        vocab = sorted(set().union(*q_words, *f_words))
        index = {w: i for i, w in enumerate(vocab)}
        words = self.similarity.encode(vocab) if vocab else None
        for i, qw in enumerate(q_words):
            for j, fw in enumerate(f_words):
                if qw and fw:
                    closest = (words[[index[w] for w in qw]] @ words[[index[w] for w in fw]].T).max(axis=1)
                    out[i, j, 16:18] = closest.mean(), closest.max()
                else:
                    out[i, j, 16:18] = 0.0
        return out

    def probabilities(self, questions: Sequence[str], request: str, facts: Sequence[str]) -> np.ndarray:
        """``(len(questions), len(facts))`` probabilities that each question asks about each fact; a
        fact written as label and value is scored by the labelled fit, where there is one."""
        x = self.features(questions, request, facts)
        if not x.size:
            return np.zeros((len(questions), len(facts)))
        p = self.calibration.probability(x)
        labelled = self.calibration.labelled
        if labelled is not None:
            columns = [j for j, fact in enumerate(facts) if is_labelled_fact(fact)]
            if columns:
                x_label = self.features(questions, request, [fact_label(facts[j]) for j in columns])
                p[:, columns] = labelled.probability(np.concatenate([x[:, columns], x_label], axis=-1))
        return p

    def labelled_features(self, questions: Sequence[str], request: str, facts: Sequence[str]) -> np.ndarray:
        """:data:`LABELLED_FEATURES` of each question and (labelled) fact: shape ``(questions, facts, 36)``."""
        return np.concatenate([self.features(questions, request, facts),
                               self.features(questions, request, [fact_label(f) for f in facts])], axis=-1)

    def match(self, question: str, request: str, facts: Sequence[str]) -> np.ndarray:
        return self.probabilities([question], request, facts)[0]
