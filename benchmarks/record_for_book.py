"""Record the results the chapters show where they cannot compute them (proactive.recorded).

    .venv/bin/python benchmarks/record_for_book.py qulac [--qulac PATH]
    .venv/bin/python benchmarks/record_for_book.py demo --run runs/demo

``qulac``: the simulated user and the reward against real people on every held-out Qulac question
(chapters 2 and 3 show it when no Qulac file is found: a fresh clone, the book built there).
``demo``: a ``make demo`` run's report, training metrics and one task's RFT group (chapters 4 and 5
show it beside their own cpu-smoke run). Each is written to proactive/data/recorded/NAME.json (package data) with the
command, date, versions and commit.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from proactive.recorded import record


def record_qulac(path: str | None) -> Path:
    from proactive.backends import EmbeddingSimilarity
    from proactive.calibration import qulac_check
    from proactive.data.qulac import load_qulac
    from proactive.matching import FactMatcher
    from proactive.reward import ElicitationReward

    check = qulac_check(load_qulac(path), ElicitationReward(FactMatcher(EmbeddingSimilarity())))
    print(json.dumps(check.summary(), indent=2))
    return record("qulac_check", check.to_dict(questions=False), "benchmarks/record_for_book.py qulac")


def record_demo(run: Path) -> Path:
    report = json.loads((run / "report.json").read_text(encoding="utf-8"))
    metrics = [json.loads(line) for line in (run / "train" / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
               if line.strip()]
    groups = sorted((run / "train" / "rft").glob("round-*/groups.jsonl"))
    first = json.loads(groups[0].read_text(encoding="utf-8").splitlines()[0]) if groups else None
    made = json.loads((run / "run.json").read_text(encoding="utf-8"))  # the run's own versions and commit
    profile = made.get("profile")
    payload = {"profile": profile, "run": made, "report": report, "train_metrics": metrics, "rft_group": first}
    return record("demo", payload, f"make demo (proactive demo --profile {profile} --out {run}); "
                  f"benchmarks/record_for_book.py demo --run {run}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    qulac = sub.add_parser("qulac")
    qulac.add_argument("--qulac", default=None, help="qulac.json (default: ../shared/data/qulac or $PROACTIVE_QULAC)")
    demo = sub.add_parser("demo")
    demo.add_argument("--run", type=Path, default=Path("runs/demo"))
    args = parser.parse_args(argv)
    path = record_qulac(args.qulac) if args.what == "qulac" else record_demo(args.run)
    print(f"recorded -> {path} ({path.stat().st_size / 1024:.0f} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
