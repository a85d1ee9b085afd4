"""How often a hinted question draws out its fact: the hint alone vs the hint's kind opening the question.

    .venv/bin/python benchmarks/hint_openings.py [--tasks 30] [--samples 3] [--temperature 0.7]

For every hidden fact of the first --tasks training tasks (the corpus's train split, the cpu profile's
masking), the untrained policy samples --samples first questions two ways, as RFT's hinted round does
(``proactive.rft_sampling.hint_for``): with the fact given as a hint and the policy's own opening ("Question:
What"), and, for a kind the simulated user recognises, with the question opened by its kind ("What is
your budget"). Prints, per kind, how many facts at least one sample drew out.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

from proactive.backends import EmbeddingSimilarity
from proactive.config import load_profile
from proactive.matching import FactMatcher
from proactive.rft_sampling import hint_for
from proactive.simulator import REVEALED, SimulatedUser
from proactive.system_specs import local_policy
from proactive.task_files import profile_partials


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=30)
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument("--temperature", type=float, default=0.7)
    args = parser.parse_args()
    profile = load_profile("cpu")
    partials = profile_partials(profile, "train")[: args.tasks]
    matcher = FactMatcher(EmbeddingSimilarity())
    policy = local_policy(profile, name="untrained")
    items = [(p, f) for p in partials for f in p.hidden_facts]
    totals = Counter(f.category for _, f in items)
    for openings in (False, True):
        started = time.time()
        hints = [hint_for(f, policy.question_prefix, kind_openings=openings) for _, f in items]
        repeated = [i for i in range(len(items)) for _ in range(args.samples)]
        questions = policy.ask_many([items[i][0] for i in repeated], [()] * len(repeated),
                                    temperature=args.temperature, seed=0,
                                    system_prompts=[hints[i][0] for i in repeated],
                                    prefixes=[hints[i][1] for i in repeated])
        drawn = Counter()
        for k, (partial, fact) in enumerate(items):
            user = SimulatedUser(partial, matcher)
            for question in questions[k * args.samples:(k + 1) * args.samples]:
                turn = user.answer(question)
                if turn.kind == REVEALED and fact.id in turn.revealed:
                    drawn[fact.category] += 1
                    break
        label = "kind openings" if openings else "hint only   "
        per_kind = ", ".join(f"{c} {drawn[c]}/{n}" for c, n in totals.most_common())
        print(f"{label}: {sum(drawn.values())}/{len(items)} facts drawn out ({per_kind}); {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
