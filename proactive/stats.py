"""Small, dependency-free statistics: ROC-AUC, agreement, bootstrap confidence intervals (one run's
and pooled over training runs)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np


def roc_auc(labels: Sequence[int], scores: Sequence[float]) -> float:
    """Probability that a random positive scores above a random negative (ties count half)."""
    y = np.asarray(labels, dtype=bool)
    s = np.asarray(scores, dtype=float)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError("ROC-AUC needs at least one positive and one negative label")
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s))
    sorted_s = s[order]
    # Average ranks over ties.
    _, first, counts = np.unique(sorted_s, return_index=True, return_counts=True)
    for start, count in zip(first, counts):
        ranks[order[start : start + count]] = start + (count + 1) / 2
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def roc_curve(labels: Sequence[int], scores: Sequence[float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """False-positive rates, true-positive rates and the thresholds they come from."""
    y = np.asarray(labels, dtype=bool)
    s = np.asarray(scores, dtype=float)
    thresholds = np.r_[np.inf, np.unique(s)[::-1]]
    tpr = np.array([(s[y] >= t).mean() for t in thresholds])
    fpr = np.array([(s[~y] >= t).mean() for t in thresholds])
    return fpr, tpr, thresholds


def agreement(labels: Sequence[int], decisions: Sequence[int]) -> dict[str, float]:
    """How often decisions match labels: raw accuracy, balanced accuracy and Cohen's kappa."""
    y = np.asarray(labels, dtype=bool)
    d = np.asarray(decisions, dtype=bool)
    accuracy = float((y == d).mean())
    tpr = float(d[y].mean()) if y.any() else 0.0
    tnr = float((~d[~y]).mean()) if (~y).any() else 0.0
    chance = y.mean() * d.mean() + (1 - y.mean()) * (1 - d.mean())
    kappa = float((accuracy - chance) / (1 - chance)) if chance < 1 else 0.0
    return {"accuracy": accuracy, "balanced_accuracy": (tpr + tnr) / 2, "kappa": kappa,
            "true_positive_rate": tpr, "true_negative_rate": tnr}


def bootstrap_ci(
    values: Sequence[float] | np.ndarray,
    statistic: Callable[[np.ndarray], float] = np.mean,
    n_resamples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float, float]:
    """(statistic, low, high): a percentile bootstrap interval over the first axis of ``values``."""
    data = np.asarray(values)
    if len(data) == 0:
        raise ValueError("bootstrap_ci needs at least one value")
    rng = np.random.default_rng(seed)
    stats = np.array([statistic(data[rng.integers(0, len(data), len(data))]) for _ in range(n_resamples)])
    alpha = (1 - confidence) / 2
    return float(statistic(data)), float(np.quantile(stats, alpha)), float(np.quantile(stats, 1 - alpha))


def two_level_bootstrap(matrix: np.ndarray, draws: int = 4000, seed: int = 0) -> tuple[float, float]:
    """95% interval of the mean of a runs x tasks matrix, resampling runs, then tasks."""
    rng = np.random.default_rng(seed)
    runs, tasks = matrix.shape
    run_idx = rng.integers(0, runs, size=(draws, runs))
    task_idx = rng.integers(0, tasks, size=(draws, tasks))
    means = np.array([matrix[np.ix_(r, t)].mean() for r, t in zip(run_idx, task_idx)])
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


def pooled_difference(matrix: np.ndarray, names: Sequence[str]) -> dict:
    """A recipe's effect over several training runs (``matrix``: runs x tasks of paired differences,
    e.g. trained - template per held-out task): each run's mean with its own bootstrap interval over
    tasks, the spread over runs, and the recipe's mean with a two-level interval (runs resampled,
    then tasks), which carries the run-to-run variation one run's interval leaves out."""
    matrix = np.asarray(matrix, dtype=float)
    per_run = [dict(zip(("run", "difference", "ci_low", "ci_high"), (name, *(round(v, 4) for v in bootstrap_ci(row)))))
               for name, row in zip(names, matrix)]
    low, high = two_level_bootstrap(matrix)
    means = matrix.mean(axis=1)
    return {"per_run": per_run, "runs_mean": round(float(means.mean()), 4),
            "runs_sd": round(float(means.std(ddof=1)), 4) if len(means) > 1 else 0.0,
            "runs_above_zero": int(sum(r["ci_low"] > 0 for r in per_run)), "runs_positive": int((means > 0).sum()),
            "ci_low": round(low, 4), "ci_high": round(high, 4)}
