"""The judge from both sides: people's questions answered, tricks not paid, and real people's answers.

    .venv/bin/python benchmarks/judge_fidelity.py [--qulac PATH] [--json OUT]

1. IN3's annotator-written inquiries put to the simulated user (bundled IN3; its check part, never
   tuned on, and its tune part): how each inquiry asked alone was answered, and the share of the
   ceiling most-important-first 3-turn dialogues reach (``proactive.fidelity``).
2. The reward-hacking suite under the default and the training weights: phrasings that score below
   the plain targeted question, and those that drew out a fact at all.
3. Qulac's held-out topics: the simulated user's agreement with people, kappa, the reward's ROC-AUC
   (skipped with a note where no Qulac file is found).
"""

from __future__ import annotations

import argparse
import json
import time

from proactive.backends import EmbeddingSimilarity
from proactive.calibration import CHECK_SPLIT, TUNE_SPLIT, qulac_check
from proactive.config import load_profile
from proactive.data.in3 import bundled_in3_path, load_in3
from proactive.data.qulac import load_qulac
from proactive.errors import ProactiveError
from proactive.fidelity import ANSWER_KINDS, inquiry_check
from proactive.matching import FactMatcher
from proactive.reward import ElicitationReward
from proactive.reward_hacking import run_suite
from proactive.tasks import load_tasks_by_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--qulac", default=None, help="path to qulac.json (default: ../shared/data/qulac)")
    parser.add_argument("--json", default=None, help="also write every figure to this JSON file")
    args = parser.parse_args()
    matcher = FactMatcher(EmbeddingSimilarity())
    out: dict = {"in3": {}, "suite": {}}
    partials = load_in3(bundled_in3_path())
    print("IN3 inquiries, each asked alone (answer kinds), and most important first for 3 turns:")
    print(f"{'part':<6} {'tasks':>5} {'asked':>6} " + " ".join(f"{k[:14]:>14}" for k in ANSWER_KINDS)
          + f" {'own':>6} {'refused':>7} {'of ceiling':>10} {'s':>4}")
    for part in (CHECK_SPLIT, TUNE_SPLIT):
        start = time.perf_counter()
        check = inquiry_check([p for p in partials if p.meta["split"] == part], matcher, progress=False)
        s = check.summary()
        seconds = time.perf_counter() - start
        print(f"{part:<6} {s['tasks']:>5} {s['inquiries']:>6} "
              + " ".join(f"{check.counts.get(k, 0):>14}" for k in ANSWER_KINDS)
              + f" {s['own_detail_alone']:>6.3f} {s['refused']:>7.3f} {s['share_of_ceiling']:>10.3f} {seconds:>4.0f}")
        out["in3"][part] = {"summary": s, "counts": check.counts, "seconds": round(seconds, 1)}
    print("\nreward-hacking suite (phrasings below the plain targeted question; phrasings that drew out a fact):")
    for name, config in (("default weights", None), ("training weights", load_profile("cpu").reward_config())):
        results = [r for r in run_suite(ElicitationReward(matcher, config), load_tasks_by_id()) if r.kind != "targeted"]
        held, drew = sum(r.holds for r in results), sum(bool(r.breakdown.revealed) for r in results)
        print(f"  {name:<17} {held} of {len(results)} below; {drew} drew out a fact; "
              f"{len({r.kind for r in results})} tricks")
        out["suite"][name] = {"below": held, "phrasings": len(results), "drew_a_fact": drew}
    try:
        summary = qulac_check(load_qulac(args.qulac), ElicitationReward(matcher)).summary()
        print("\nQulac, held-out topics: " + ", ".join(f"{k} {v}" for k, v in summary.items()))
        out["qulac"] = summary
    except ProactiveError as exc:
        print(f"\nQulac check skipped: {exc}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(out, handle, indent=2)


if __name__ == "__main__":
    main()
