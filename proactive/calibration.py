"""Fitting the fact matcher to real people: Qulac's yes/no answers.

In Qulac, a crowd worker was shown a hidden facet and answered a real clarifying question. An
answer that opens with "yes" means the question was about their intent (a simulated user
should reveal the fact); "no" means it was not. We fit the matcher's logistic regression on some
topics, choose the reveal threshold there, and report on topics it never saw.

    proactive calibrate --qulac ../shared/data/qulac/qulac.json
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

from .backends import SimilarityBackend
from .data.qulac import QulacFacet
from .errors import ProactiveError
from .matching import FEATURES, Calibration, FactMatcher
from .stats import agreement, roc_auc

_YES = {"yes", "yeah", "yep", "yup", "sure", "definitely", "absolutely", "correct", "exactly", "certainly", "indeed"}
_NO = {"no", "nope", "not", "none", "neither", "nothing", "nah"}


def answer_label(answer: str) -> int | None:
    """1 if a person's answer affirms the question, 0 if it rejects it, None if it is unclear."""
    words = re.findall(r"[a-z']+", answer.lower())
    if not words:
        return None
    if words[0] in _YES or words[:2] == ["most", "definitely"]:
        return 1
    if words[0] in _NO:
        return 0
    return None


def is_held_out(topic_id: object, seed: int = 0, held_out_share: float = 0.4) -> bool:
    """Topic-level split: a topic's questions are all for calibration or all for reporting."""
    digest = hashlib.sha256(f"{seed}|{topic_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < held_out_share


@dataclass(frozen=True)
class LabelledPair:
    topic_id: object
    request: str
    facet: str
    question: str
    label: int


def labelled_pairs(facets: Sequence[QulacFacet]) -> list[LabelledPair]:
    """Every Qulac question whose answer is a clear yes or no."""
    pairs = []
    for facet in facets:
        for qa in facet.pairs:
            label = answer_label(qa.answer)
            if label is not None:
                pairs.append(LabelledPair(facet.partial.meta.get("topic_id"), facet.partial.request,
                                          facet.facet.statement, qa.question, label))
    return pairs


def pair_features(matcher: FactMatcher, pairs: Sequence[LabelledPair], progress: bool = True) -> np.ndarray:
    """Matcher features for each pair, grouped by facet so the facet is encoded once."""
    groups: dict[tuple[str, str], list[int]] = {}
    for i, pair in enumerate(pairs):
        groups.setdefault((pair.request, pair.facet), []).append(i)
    x = np.zeros((len(pairs), len(FEATURES)))
    for (request, facet), index in tqdm(groups.items(), desc="features", unit="facet", disable=not progress):
        x[index] = matcher.features([pairs[i].question for i in index], request, [facet])[:, 0, :]
    return x


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, iterations: int = 50) -> tuple[np.ndarray, float]:
    """L2-regularised logistic regression by Newton's method: deterministic, no extra dependency."""
    n, d = x.shape
    design = np.c_[x, np.ones(n)]
    beta = np.zeros(d + 1)
    penalty = np.diag([l2] * d + [0.0])
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-design @ beta))
        gradient = design.T @ (p - y) + penalty @ beta
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + penalty
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-10:
            break
    return beta[:d], float(beta[d])


def best_threshold(labels: np.ndarray, probabilities: np.ndarray) -> float:
    """The reveal threshold with the highest Cohen's kappa: agreement beyond chance."""
    candidates = np.unique(np.round(probabilities, 3))
    return float(max(candidates, key=lambda t: agreement(labels, probabilities >= t)["kappa"]))


def calibrate(
    facets: Sequence[QulacFacet],
    similarity: SimilarityBackend,
    seed: int = 0,
    held_out_share: float = 0.4,
    progress: bool = True,
) -> tuple[Calibration, dict]:
    """Fit on calibration topics, choose the threshold there, report on held-out topics."""
    pairs = labelled_pairs(facets)
    if len(pairs) < 50:
        raise ProactiveError(f"only {len(pairs)} clearly labelled Qulac pairs; is this the full qulac.json?")
    placeholder = Calibration(weights=(0.0,) * len(FEATURES), bias=0.0, mean=(0.0,) * len(FEATURES),
                              scale=(1.0,) * len(FEATURES), threshold=0.5)
    matcher = FactMatcher(similarity, placeholder)
    x = pair_features(matcher, pairs, progress)
    y = np.array([p.label for p in pairs], dtype=float)
    held = np.array([is_held_out(p.topic_id, seed, held_out_share) for p in pairs])
    fit = ~held
    mean, scale = x[fit].mean(0), x[fit].std(0) + 1e-8
    weights, bias = fit_logistic((x[fit] - mean) / scale, y[fit])
    calibration = Calibration(tuple(weights.tolist()), bias, tuple(mean.tolist()), tuple(scale.tolist()), 0.5)
    p = calibration.probability(x)
    threshold = best_threshold(y[fit], p[fit])
    cosine = x[:, FEATURES.index("cos_q_f")]
    report = {
        "labelled_pairs": len(pairs),
        "affirmed_share": round(float(y.mean()), 3),
        "calibration": {"pairs": int(fit.sum()), "topics": len({p.topic_id for p, h in zip(pairs, held) if not h})},
        "held_out": {
            "pairs": int(held.sum()),
            "topics": len({p.topic_id for p, h in zip(pairs, held) if h}),
            "auc_matcher": round(roc_auc(y[held], p[held]), 4),
            "auc_cosine_baseline": round(roc_auc(y[held], cosine[held]), 4),
            **{k: round(v, 4) for k, v in agreement(y[held], p[held] >= threshold).items()},
            "always_no_accuracy": round(float(1 - y[held].mean()), 4),
        },
        "seed": seed,
        "held_out_share": held_out_share,
    }
    calibration = Calibration(tuple(weights.tolist()), bias, tuple(mean.tolist()), tuple(scale.tolist()),
                              round(threshold, 4), FEATURES, {"source": "Qulac (Aliannejadi et al., 2019)", **report})
    return calibration, report


@dataclass(frozen=True)
class QulacCheck:
    """The simulator and reward against real people, on topics the calibration never saw."""

    labels: np.ndarray  # 1: the person affirmed the question, 0: rejected it
    revealed: np.ndarray  # the simulated user's decision: did it reveal the facet?
    rewards: np.ndarray  # the elicitation reward of each question
    cosines: np.ndarray  # plain question-facet cosine similarity (the baseline)
    questions: tuple[str, ...]

    def summary(self) -> dict[str, float]:
        return {
            "pairs": len(self.labels),
            "affirmed_share": round(float(self.labels.mean()), 4),
            "simulator_agreement": round(agreement(self.labels, self.revealed)["accuracy"], 4),
            "simulator_balanced_agreement": round(agreement(self.labels, self.revealed)["balanced_accuracy"], 4),
            "simulator_kappa": round(agreement(self.labels, self.revealed)["kappa"], 4),
            "always_no_agreement": round(float(1 - self.labels.mean()), 4),
            "reward_auc": round(roc_auc(self.labels, self.rewards), 4),
            "cosine_auc": round(roc_auc(self.labels, self.cosines), 4),
        }


def qulac_check(
    facets: Sequence[QulacFacet], scorer, seed: int | None = None, held_out_share: float | None = None,
    limit: int | None = None,
) -> QulacCheck:
    """Ask every clearly answered Qulac question on a held-out topic to the simulated user and the
    reward (``scorer``: an :class:`~proactive.reward.ElicitationReward`), and compare with people.

    The split defaults to the one the shipped calibration was fitted with.
    """
    provenance = scorer.matcher.calibration.provenance
    seed = provenance.get("seed", 0) if seed is None else seed
    share = provenance.get("held_out_share", 0.4) if held_out_share is None else held_out_share
    held = [f for f in facets if is_held_out(f.partial.meta.get("topic_id"), seed, share)]
    items, labels = [], []
    for facet in held:
        for qa in facet.pairs:
            label = answer_label(qa.answer)
            if label is not None:
                items.append((facet.partial, qa.question, ()))
                labels.append(label)
    if limit:
        items, labels = items[:limit], labels[:limit]
    breakdowns = scorer.score_many(items)
    cosines = [float(scorer.matcher.similarity.similarity([q], [p.hidden_facts[0].statement])[0, 0]) for p, q, _ in items]
    return QulacCheck(np.array(labels), np.array([bool(b.revealed) for b in breakdowns]),
                      np.array([b.reward for b in breakdowns]), np.array(cosines), tuple(q for _, q, _ in items))
