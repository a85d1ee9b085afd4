"""The simulated user and the reward against real people (Qulac), on held-out topics.

    .venv/bin/python benchmarks/qulac_agreement.py [--qulac PATH]

Each Qulac row is a real clarifying question put to a real person who held a hidden facet. We
report (a) how often the simulated user's reveal / no-reveal decision agrees with the person's
yes / no, and (b) the ROC-AUC of the elicitation reward at separating affirmed from rejected
questions, next to the plain question-facet cosine baseline. Topics are those the shipped
calibration (`proactive calibrate`) never saw. Then (c) the matcher's topic-grouped 5-fold
cross-validation, recorded by `proactive calibrate`: for Qulac as written and rephrased the way the
project's tasks and policies write (sentence requests, capitalised questions with a "?"), ROC-AUC
(mean and min over folds) against cosine, and agreement above "always no".
"""

from __future__ import annotations

import argparse
import json
import time

from proactive.backends import EmbeddingSimilarity
from proactive.calibration import qulac_check
from proactive.data.qulac import load_qulac
from proactive.matching import FactMatcher
from proactive.reward import ElicitationReward


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--qulac", default=None, help="path to qulac.json (default: ../shared/data/qulac)")
    args = parser.parse_args()
    start = time.perf_counter()
    scorer = ElicitationReward(FactMatcher(EmbeddingSimilarity()))
    check = qulac_check(load_qulac(args.qulac), scorer)
    summary = check.summary()
    print(json.dumps(summary, indent=2))
    print(f"held-out topics only; calibration: {scorer.matcher.calibration.provenance.get('calibration')}; "
          f"{time.perf_counter() - start:.0f} s")
    cv = scorer.matcher.calibration.provenance.get("grouped_cv", {})
    print(f"\nmatcher, topic-grouped {cv.get('folds')}-fold cross-validation (`proactive calibrate`):")
    print(f"{'phrasing':<17} {'AUC mean':>8} {'AUC min':>8} {'cosine':>7} {'gain mean':>9} {'gain min':>8} "
          f"{'agree-no mean':>13} {'agree-no min':>12}")
    for variant, r in cv.get("per_variant", {}).items():
        print(f"{variant:<17} {r['auc_matcher_mean']:>8.3f} {r['auc_matcher_min']:>8.3f} {r['auc_cosine_mean']:>7.3f} "
              f"{r['auc_gain_mean']:>+9.3f} {r['auc_gain_min']:>+8.3f} {r['agreement_above_always_no_mean']:>+13.3f} "
              f"{r['agreement_above_always_no_min']:>+12.3f}")


if __name__ == "__main__":
    main()
