"""Does the trained policy ask better than the alternatives? Trained vs the best fixed list, template and untrained, on CPU.

    .venv/bin/python benchmarks/headline.py --profile RECIPE.yaml --out runs/headline/NAME [--train-seed N]
        [--tasks proactive/data/datasets/in3/train.jsonl] [--skip-training] [--pool OTHER_RUN ...]

Trains the recipe (any ``train.method``) unless --skip-training, then on held-out tasks (the corpus's
test split, or with --tasks the file's held-out part: IN3's held-out slice) measures the share of
hidden facts drawn out in sampled 3-question dialogues (4 per task, T=0.7) by the trained policy, the
untrained model, the template questions and the best fixed list (chosen greedily on training tasks of the
held-out set's kind: the corpus's alone, or the --tasks file's training part; kept in --out's
best_fixed_list.json), the task file's own inquiries where it has them (IN3's: people's questions for those
very details, the reference) and the ceiling (one perfect question per hidden fact).
Prints each paired difference with a bootstrap 95% interval and writes headline.json (per-task
shares) into --out. With --pool, the runs' headline.json files (other training seeds of the recipe)
are pooled: each run's difference, and the recipe's with runs and tasks resampled.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from proactive.backends import EmbeddingSimilarity
from proactive.config import load_profile
from proactive.evaluation import INQUIRIES, headline, headline_shares, pooled_headline
from proactive.files import atomic_write_json
from proactive.fixed_list import NAME
from proactive.matching import FactMatcher
from proactive.run_folder import RunDir
from proactive.system_specs import local_policy
from proactive.task_files import load_task_set, profile_partials
from proactive.training import train

SYSTEMS = ("trained", "untrained", "template", NAME, INQUIRIES, "ceiling")


def measure(profile, out: Path, train, test, turns: int) -> dict[str, list[float]]:
    matcher = FactMatcher(EmbeddingSimilarity())
    # The strongest fixed baseline: chosen on the tasks the policy trained on, asked unchanged on the held-out ones.
    fixed = RunDir(out, profile).best_fixed_list(matcher, train, turns)
    print(f"best fixed list (chosen on {len(train)} training tasks): " + " / ".join(fixed.questions))
    base = local_policy(profile, name="untrained")
    trained = local_policy(profile, out / "train", name="trained")
    shares = headline_shares(trained, base, test, matcher, turns, fixed_list=fixed.questions)
    return {k: [round(float(x), 5) for x in v] for k, v in shares.items()}


def pooled(paths: list[Path]) -> dict:
    runs = [json.loads((p / "headline.json").read_text()) for p in paths]
    ids = runs[0]["task_ids"]
    if any(r["task_ids"] != ids for r in runs):
        raise SystemExit("headline --pool: the runs were measured on different held-out tasks")
    return pooled_headline([r["shares"] for r in runs], [str(p) for p in paths])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--out", required=True)
    parser.add_argument("--train-seed", type=int, default=None)
    parser.add_argument("--tasks", default=None, help="a task file (IN3's own format too); held out: its test part")
    parser.add_argument("--train-tasks", default=None, help="train on this task file instead of the corpus's train split")
    parser.add_argument("--held-out", type=int, default=None, help="at most this many held-out tasks")
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--skip-training", action="store_true")
    parser.add_argument("--pool", nargs="*", default=None, metavar="RUN", help="pool these runs' headline.json")
    args = parser.parse_args()
    out = Path(args.out)
    if args.pool is not None:
        report = pooled([out, *map(Path, args.pool)])
        print(json.dumps(report, indent=2))
        atomic_write_json(out / "headline_pooled.json", report)
        return
    profile = load_profile(args.profile)
    if args.train_seed is not None:
        profile = replace(profile, train=replace(profile.train, seed=args.train_seed))
    started = time.time()
    train_set = load_task_set(args.train_tasks) if args.train_tasks else None
    partials = profile_partials(profile, "train", train_set) if train_set else None
    if not args.skip_training:
        result = train(profile, out / "train", partials=partials)
        print(f"trained ({'+'.join(profile.train.method)}) in {result.seconds:.0f} s")
    train_seconds = time.time() - started
    task_set = load_task_set(args.tasks) if args.tasks else None
    test = profile_partials(profile, "test", task_set)[: args.held_out]
    # The fixed list is chosen on training tasks of the held-out set's own kind: the corpus's alone for the
    # corpus's test split (not the IN3 tasks a recipe also trains on), the task file's training part for --tasks.
    chooser = partials or profile_partials(profile, "train", task_set, with_in3=False)
    shares = measure(profile, out, chooser, test, args.turns)
    report = headline(shares)
    print(report["verdict"])
    for name in (n for n in SYSTEMS if n in shares):
        print(f"  {name:20s} {np.mean(shares[name]):.3f}")
    atomic_write_json(out / "headline.json", {
        "profile": str(args.profile), "method": "+".join(profile.train.method), "train_seed": profile.train_seed,
        "tasks": args.tasks or "corpus test split", "task_ids": [p.task_id for p in test], "shares": shares,
        **report, "train_seconds": round(train_seconds, 1), "eval_seconds": round(time.time() - started - train_seconds, 1)})


if __name__ == "__main__":
    main()
