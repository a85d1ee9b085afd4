"""Fitting the fact matcher to real people: Qulac's yes/no answers.

In Qulac, a crowd worker was shown a hidden facet and answered a real clarifying question. An
answer that opens with "yes" means the question was about their intent (a simulated user
should reveal the fact); "no" means it was not. We fit the matcher's logistic regression on some
topics, choose the reveal threshold there, and report on topics it never saw.

Qulac's requests are keyword topics ("kenmore gas water heater") and its questions are typed in
lowercase without a "?"; the project's tasks are sentences and its policies write "What ...?".
So the fit also sees every pair rephrased (:data:`VARIANTS`: the request as a sentence, the
question capitalised with a "?", both), and the report gives topic-grouped cross-validation:
every fold's topics are unseen by its fit, for each phrasing, against plain cosine.

    proactive data fetch qulac && proactive calibrate
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from tqdm.auto import tqdm

from .backends import SimilarityBackend
from .data.qulac import QulacFacet
from .errors import ProactiveError
from .masking import PartialTask
from .matching import FEATURES, LABELLED_FEATURES, Calibration, FactMatcher
from .questions import ask_text
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


#: How a request may be written as a sentence; one is chosen per topic, deterministically.
REQUEST_SENTENCES = (
    "I'm looking for information about {topic}.",
    "Can you help me find out about {topic}?",
    "I need some help with {topic}.",
    "Tell me about {topic}, please.",
    "I want to learn more about {topic} for something I'm working on.",
)
#: The phrasings every pair is also fitted and checked under.
VARIANTS: tuple[str, ...] = ("as_written", "sentence_request", "typed_question", "both")


def _pick(key: object, n: int) -> int:
    return int.from_bytes(hashlib.sha256(str(key).encode()).digest()[:4], "big") % n


def rephrase(pair: LabelledPair, variant: str) -> LabelledPair:
    """``pair`` with its request written as a sentence and/or its question capitalised with a "?"."""
    request, question = pair.request, pair.question
    if variant in ("sentence_request", "both"):
        request = REQUEST_SENTENCES[_pick(pair.topic_id, len(REQUEST_SENTENCES))].format(topic=request)
    if variant in ("typed_question", "both"):
        question = question.strip().rstrip("?.! ")
        question = question[:1].upper() + question[1:] + "?"
    return LabelledPair(pair.topic_id, request, pair.facet, question, pair.label)


def topic_folds(topic_ids: Sequence[object], folds: int = 5, seed: int = 0) -> np.ndarray:
    """Each pair's cross-validation fold, by topic: a topic's questions are all in one fold."""
    return np.array([_pick(f"{seed}|{t}", folds) for t in topic_ids])


def _fit(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
    mean, scale = x.mean(0), x.std(0) + 1e-8
    weights, bias = fit_logistic((x - mean) / scale, y)
    return weights, bias, mean, scale


def _probability(x: np.ndarray, fit: tuple) -> np.ndarray:
    weights, bias, mean, scale = fit
    return 1.0 / (1.0 + np.exp(-(((x - mean) / scale) @ weights + bias)))


def grouped_cv(features: dict[str, np.ndarray], labels: np.ndarray, topic_ids: Sequence[object], folds: int = 5,
               seed: int = 0) -> dict:
    """Topic-grouped cross-validation: fit on every phrasing of the other folds' topics, choose the
    threshold there, and report each phrasing of the held-out fold's pairs: the matcher's ROC-AUC,
    plain question-facet cosine's, and the reveal decision's agreement with people against "always no"."""
    fold = topic_folds(topic_ids, folds, seed)
    report: dict = {"folds": folds, "seed": seed, "per_variant": {}}
    rows = {v: [] for v in features}
    for k in range(folds):
        train, test = fold != k, fold == k
        fit = _fit(np.concatenate([x[train] for x in features.values()]), np.tile(labels[train], len(features)))
        threshold = best_threshold(np.tile(labels[train], len(features)),
                                   np.concatenate([_probability(x[train], fit) for x in features.values()]))
        for variant, x in features.items():
            p, y = _probability(x[test], fit), labels[test]
            rows[variant].append({
                "fold": k, "pairs": int(test.sum()),
                "auc_matcher": roc_auc(y, p), "auc_cosine": roc_auc(y, x[test, FEATURES.index("cos_q_f")]),
                "agreement": agreement(y, p >= threshold)["accuracy"], "always_no": float(1 - y.mean()),
            })
    for variant, per_fold in rows.items():
        gain = [r["auc_matcher"] - r["auc_cosine"] for r in per_fold]
        above = [r["agreement"] - r["always_no"] for r in per_fold]
        report["per_variant"][variant] = {
            "auc_matcher_mean": round(float(np.mean([r["auc_matcher"] for r in per_fold])), 4),
            "auc_matcher_min": round(float(np.min([r["auc_matcher"] for r in per_fold])), 4),
            "auc_cosine_mean": round(float(np.mean([r["auc_cosine"] for r in per_fold])), 4),
            "auc_gain_mean": round(float(np.mean(gain)), 4), "auc_gain_min": round(float(np.min(gain)), 4),
            "auc_gain_sd": round(float(np.std(gain)), 4),
            "agreement_above_always_no_mean": round(float(np.mean(above)), 4),
            "agreement_above_always_no_min": round(float(np.min(above)), 4),
            "folds": [{k: round(v, 4) if isinstance(v, float) else v for k, v in r.items()} for r in per_fold],
        }
    return report


def pair_features(matcher: FactMatcher, pairs: Sequence[LabelledPair], progress: bool = True) -> np.ndarray:
    """Matcher features for each pair, grouped by facet so the facet is encoded once."""
    groups: dict[tuple[str, str], list[int]] = {}
    for i, pair in enumerate(pairs):
        groups.setdefault((pair.request, pair.facet), []).append(i)
    x = np.zeros((len(pairs), len(FEATURES)))
    matcher.prefetch([([pairs[i].question for i in index], request, [facet]) for (request, facet), index in groups.items()])
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


def best_threshold(labels: np.ndarray, probabilities: np.ndarray, rule: str = "accuracy") -> float:
    """The reveal threshold at which the simulated user agrees with people most often (``rule``
    "accuracy", the shipped one), or agrees most beyond chance ("kappa", Cohen's kappa: more
    reveals, less agreement; measured by topic-grouped cross-validation on Qulac, 0.036 above
    "always no" against 0.054)."""
    candidates = np.unique(np.round(probabilities, 3))
    if rule not in ("accuracy", "kappa"):
        raise ProactiveError(f"unknown threshold rule {rule!r}; use 'accuracy' or 'kappa'")
    return float(max(candidates, key=lambda t: agreement(labels, probabilities >= t)[rule]))


def calibrate(
    facets: Sequence[QulacFacet],
    similarity: SimilarityBackend,
    seed: int = 0,
    held_out_share: float = 0.4,
    progress: bool = True,
    folds: int = 5,
) -> tuple[Calibration, dict]:
    """Fit on calibration topics (every phrasing of them), choose the threshold there, report on
    held-out topics as written; and report topic-grouped cross-validation over all topics."""
    pairs = labelled_pairs(facets)
    if len(pairs) < 50:
        raise ProactiveError(f"only {len(pairs)} clearly labelled Qulac pairs; is this the full qulac.json?")
    placeholder = Calibration(weights=(0.0,) * len(FEATURES), bias=0.0, mean=(0.0,) * len(FEATURES),
                              scale=(1.0,) * len(FEATURES), threshold=0.5)
    matcher = FactMatcher(similarity, placeholder)
    features = {v: pair_features(matcher, [rephrase(p, v) for p in pairs], progress) for v in VARIANTS}
    x = features["as_written"]
    y = np.array([p.label for p in pairs], dtype=float)
    held = np.array([is_held_out(p.topic_id, seed, held_out_share) for p in pairs])
    fit = ~held
    weights, bias, mean, scale = _fit(np.concatenate([f[fit] for f in features.values()]), np.tile(y[fit], len(VARIANTS)))
    calibration = Calibration(tuple(weights.tolist()), bias, tuple(mean.tolist()), tuple(scale.tolist()), 0.5)
    every_y = np.tile(y[fit], len(VARIANTS))
    every_p = np.concatenate([calibration.probability(f[fit]) for f in features.values()])
    threshold, known_threshold = best_threshold(every_y, every_p), best_threshold(every_y, every_p, "kappa")
    p = calibration.probability(x)
    cosine = x[:, FEATURES.index("cos_q_f")]
    report = {
        "labelled_pairs": len(pairs),
        "affirmed_share": round(float(y.mean()), 3),
        "calibration": {"pairs": int(fit.sum()), "topics": len({p.topic_id for p, h in zip(pairs, held) if not h}),
                        "phrasings": list(VARIANTS)},
        "held_out": {
            "pairs": int(held.sum()),
            "topics": len({p.topic_id for p, h in zip(pairs, held) if h}),
            "auc_matcher": round(roc_auc(y[held], p[held]), 4),
            "auc_cosine_baseline": round(roc_auc(y[held], cosine[held]), 4),
            **{k: round(v, 4) for k, v in agreement(y[held], p[held] >= threshold).items()},
            "always_no_accuracy": round(float(1 - y[held].mean()), 4),
        },
        "grouped_cv": grouped_cv(features, y, [p.topic_id for p in pairs], folds, seed),
        "seed": seed,
        "held_out_share": held_out_share,
    }
    calibration = Calibration(tuple(weights.tolist()), bias, tuple(mean.tolist()), tuple(scale.tolist()),
                              round(threshold, 4), FEATURES, {"source": "Qulac (Aliannejadi et al., 2019)", **report},
                              round(known_threshold, 4))
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

    def to_dict(self, questions: bool = True) -> dict:
        """Every question's label, decision and scores (what the chapters' figures draw), the summary,
        and with ``questions`` the questions' text."""
        data = {"labels": self.labels.astype(int).tolist(), "revealed": self.revealed.astype(int).tolist(),
                "rewards": [round(float(r), 4) for r in self.rewards],
                "cosines": [round(float(c), 4) for c in self.cosines], "summary": self.summary()}
        return {**data, "questions": list(self.questions)} if questions else data

    @classmethod
    def from_dict(cls, data: dict) -> QulacCheck:
        try:
            arrays = [np.asarray(data[key], dtype=float) for key in ("labels", "revealed", "rewards", "cosines")]
            questions = tuple(str(q) for q in data.get("questions") or [""] * len(arrays[0]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ProactiveError(f"not a Qulac check as QulacCheck.to_dict writes it: {exc}") from None
        if len({len(a) for a in arrays} | {len(questions)}) != 1:
            raise ProactiveError("not a Qulac check: its columns have different lengths")
        labels, revealed, rewards, cosines = arrays
        return cls(labels.astype(int), revealed.astype(bool), rewards, cosines, questions)


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


# -- facts written as label and value: IN3's details ------------------------------------------
#: IN3's split that tunes the labelled fit (and the rest of the simulated user); "test" is the check part.
TUNE_SPLIT, CHECK_SPLIT = "train", "test"


def inquiry_jobs(partials: Sequence[PartialTask]) -> list[tuple[list[str], str, list[str]]]:
    """Per task whose file gives an example inquiry for every hidden fact (IN3): its inquiries as the
    simulated user reads them (:func:`proactive.questions.ask_text`), its topic, its facts; the j-th
    inquiry asks about the j-th fact and about none of the others."""
    jobs = []
    for partial in partials:
        inquiries = partial.meta.get("inquiries") if isinstance(partial.meta, dict) else None
        facts = partial.hidden_facts
        if not isinstance(inquiries, dict) or not all(isinstance(inquiries.get(f.id), str) for f in facts):
            continue
        topic = partial.request
        for fact in partial.visible_facts:
            topic = topic.replace(fact.statement, " ")
        jobs.append(([ask_text(inquiries[f.id]) for f in facts], " ".join(topic.split()), [f.statement for f in facts]))
    return jobs


def _inquiry_features(matcher: FactMatcher, jobs, progress: bool) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Features and labels of every (inquiry, fact) pair of every job, and each pair's job index."""
    matcher.prefetch(jobs)
    x, y, group = [], [], []
    for index, (questions, topic, facts) in enumerate(tqdm(jobs, desc="inquiries", unit="task", disable=not progress)):
        features = matcher.labelled_features(questions, topic, facts)
        for j in range(len(questions)):
            x.extend(features[j])
            y.extend(float(j == k) for k in range(len(facts)))
            group.extend([index * 100 + j] * len(facts))
    return np.array(x), np.array(y), group


def _own_detail_report(y: np.ndarray, p: np.ndarray, group: Sequence[int], threshold: float) -> dict:
    """Per inquiry: is its own detail the best match and over the threshold; is another over it."""
    rows: dict[int, list[tuple[float, float]]] = {}
    for g, label, prob in zip(group, y, p):
        rows.setdefault(g, []).append((prob, label))
    best = [max(r) for r in rows.values()]
    return {"inquiries": len(rows), "auc": round(roc_auc(y, p), 4),
            "own_is_best": round(float(np.mean([b[1] == 1 for b in best])), 4),
            "own_revealed": round(float(np.mean([b[1] == 1 and b[0] >= threshold for b in best])), 4),
            "other_over_threshold": round(float(np.mean([any(pr >= threshold and lab == 0 for pr, lab in r)
                                                         for r in rows.values()])), 4)}


def calibrate_labelled(partials: Sequence[PartialTask], similarity: SimilarityBackend, shared: Calibration,
                       progress: bool = True) -> tuple[Calibration, dict]:
    """Fit the matcher for facts written as label and value on IN3's tune part (which detail each of its
    annotators' inquiries asks about), choose its threshold there (agreement), and put it on ``shared``'s
    scale (the bias moved so that ``shared.threshold`` decides where this fit's threshold did); report
    on the check part, which the fit never sees. Returns ``shared`` with the fit nested, and the report."""
    tune = [p for p in partials if p.meta.get("split") == TUNE_SPLIT]
    check = [p for p in partials if p.meta.get("split") == CHECK_SPLIT]
    if len(tune) < 20 or not check:
        raise ProactiveError(f"only {len(tune)} IN3 tasks to fit on and {len(check)} to check; is this IN3's train split?")
    matcher = FactMatcher(similarity, shared)
    x, y, _ = _inquiry_features(matcher, inquiry_jobs(tune), progress)
    x_check, y_check, group = _inquiry_features(matcher, inquiry_jobs(check), progress)
    weights, bias, mean, scale = _fit(x, y)
    own = _probability(x, (weights, bias, mean, scale))
    threshold = best_threshold(y, own)
    logit = lambda t: float(np.log(t / (1 - t)))
    bias += logit(shared.threshold) - logit(threshold)
    fitted = Calibration(tuple(weights.tolist()), float(bias), tuple(mean.tolist()), tuple(scale.tolist()),
                         shared.threshold, LABELLED_FEATURES, {}, shared.known_threshold)
    report = {"source": "IN3 train split (Qian et al., 2024), annotators' inquiries",
              "tune": {"tasks": len(tune), "pairs": len(y), "threshold_before_rescaling": round(threshold, 4)},
              "check": {"tasks": len(check), **_own_detail_report(y_check, fitted.probability(x_check), group,
                                                                  shared.threshold)},
              "check_with_sentence_fit": _own_detail_report(y_check, shared.probability(x_check[..., :len(FEATURES)]), group,
                                                            shared.threshold)}
    fitted = replace(fitted, provenance=report)
    return replace(shared, labelled=fitted), report
