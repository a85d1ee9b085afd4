"""The best fixed list: which three questions it is, what it draws out on the tasks it was chosen on, and on
held-out tasks beside the template's (no model is loaded: a fixed list needs only the simulated user).

    .venv/bin/python benchmarks/fixed_list.py [--profile cpu-unsloth] [--tasks proactive/data/datasets/in3/train.jsonl]

Chosen greedily on the profile's training tasks (with --tasks: the file's training part), as the demo does;
measured on the held-out tasks (the corpus's test split, or the file's held-out part).
"""

from __future__ import annotations

import argparse
import time

from proactive.backends import EmbeddingSimilarity
from proactive.config import load_profile
from proactive.evaluation import sampled_shares
from proactive.fixed_list import choose_fixed_list, fixed_list_system
from proactive.matching import FactMatcher
from proactive.systems import TemplateQuestions
from proactive.task_files import load_task_set, profile_partials


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="cpu-unsloth")
    parser.add_argument("--tasks", default=None, help="a task file (IN3's own format too)")
    parser.add_argument("--turns", type=int, default=3)
    args = parser.parse_args()
    profile = load_profile(args.profile)
    task_set = load_task_set(args.tasks) if args.tasks else None
    train = profile_partials(profile, "train", task_set)
    test = profile_partials(profile, "test", task_set)
    matcher = FactMatcher(EmbeddingSimilarity())
    started = time.time()
    fixed = choose_fixed_list(train, matcher, turns=args.turns)
    print(f"chosen on {len(train)} training tasks in {time.time() - started:.0f} s:")
    for question, share in zip(fixed.questions, fixed.train_shares):
        print(f"  {question:55s} draws out {share:.3f} so far")
    for system in (fixed_list_system(None, fixed), TemplateQuestions(None)):
        shares = sampled_shares(system, test, matcher, args.turns, samples=1)
        print(f"{system.name:20s} on {len(test)} held-out tasks: {shares.mean():.3f}")


if __name__ == "__main__":
    main()
