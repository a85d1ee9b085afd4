"""The simulated user and the reward against real people (Qulac), on held-out topics.

    .venv/bin/python benchmarks/qulac_agreement.py [--qulac PATH]

Each Qulac row is a real clarifying question put to a real person who held a hidden facet. We
report (a) how often the simulated user's reveal / no-reveal decision agrees with the person's
yes / no, and (b) the ROC-AUC of the elicitation reward at separating affirmed from rejected
questions, next to the plain question-facet cosine baseline. Topics are those the shipped
calibration (`proactive calibrate`) never saw.
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


if __name__ == "__main__":
    main()
