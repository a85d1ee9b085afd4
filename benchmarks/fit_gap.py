"""Where a trained policy falls short of its targets on IN3: fitting them, or carrying them to new requests?

    .venv-unsloth/bin/python benchmarks/fit_gap.py RECIPE.yaml runs/headline/NAME [--tasks 48]

RFT fine-tunes the policy on kept dialogues (IN3's inquiries, where the recipe asks them). This measures, in
sampled 3-question dialogues as the headline does (4 per task, T=0.7, the simulated user), on the first
``--tasks`` IN3 tasks the run TRAINED on and the first ``--tasks`` of IN3's held-out side:

- the targets: the dialogue the recipe keeps from the inquiries alone (``rft_sampling.inquiry_groups``), and a
  reward-greedy mix that asks, each turn, whichever of the remaining inquiries and the plain kind questions
  draws out the most new (importance-weighted) facts, inquiries first on ties: would other targets buy more?
- the trained policy (``NAME/train``) and the untrained model.

Trained well below its targets on the tasks it trained on: it has not fitted them (more steps, rows or a larger
model). Near them there and far below on the held-out side: it has not carried them over (more tasks).
Writes ``NAME/fit_gap.json``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from proactive.backends import EmbeddingSimilarity
from proactive.canned_questions import PLAIN_QUESTIONS
from proactive.config import load_profile
from proactive.evaluation import (
    elicited_share,
    naming_shares,
    paired_difference,
    per_task_shares,
    sampled_dialogues,
)
from proactive.files import atomic_write_json
from proactive.masking import PartialTask
from proactive.matching import FactMatcher
from proactive.rft_sampling import inquiry_groups
from proactive.simulator import REVEALED, Dialogue, SimulatedUser
from proactive.system_specs import local_policy
from proactive.task_files import in3_partials


def greedy_mix(partial: PartialTask, matcher: FactMatcher, turns: int = 3) -> tuple[Dialogue, int]:
    """The dialogue that asks, each turn, the candidate (a remaining inquiry or a plain kind question) whose
    answer draws out the most new importance-weighted share; and how many of its turns are plain questions."""
    user, dialogue, plain_turns = SimulatedUser(partial, matcher), Dialogue(partial), 0
    inquiries, plain = partial.inquiries(), list(dict.fromkeys(PLAIN_QUESTIONS.values()))
    for _ in range(turns):
        revealed = set(dialogue.revealed_ids)
        candidates = [(False, q) for fid, q in inquiries.items() if fid not in revealed] + [(True, q) for q in plain]
        best = None
        for is_plain, question in candidates:
            answer = user.answer(question, dialogue.turns)
            gain = partial.share_of([f for f in answer.revealed if f not in revealed]) if answer.kind == REVEALED else 0
            if gain > 0 and (best is None or gain > best[0] + 1e-9):
                best = (gain, is_plain, answer)
        if best is None:
            break
        dialogue.turns.append(best[2])
        plain_turns += best[1]
    return dialogue, plain_turns


def side(name: str, partials: list[PartialTask], trained, base, matcher: FactMatcher, samples: int, seed: int) -> dict:
    targets = [elicited_share(g.dialogues[0]) for g in inquiry_groups(partials, matcher)]
    mixed = [greedy_mix(p, matcher) for p in partials]
    shares = {"targets: inquiries alone": np.array(targets),
              "targets: greedy mix with plain questions": np.array([elicited_share(d) for d, _ in mixed])}
    sampled = {label: sampled_dialogues(policy, partials, matcher, samples=samples, seed=seed)
               for label, policy in (("trained", trained), ("untrained", base))}
    shares.update({label: per_task_shares(held, len(partials)) for label, held in sampled.items()})
    naming = naming_shares(sampled)
    report = {"tasks": len(partials), "means": {k: round(float(v.mean()), 4) for k, v in shares.items()},
              "trained - targets": paired_difference(shares["trained"], shares["targets: inquiries alone"]),
              "plain turns in the greedy mix": sum(n for _, n in mixed),
              "turns in the greedy mix": sum(len(d.turns) for d, _ in mixed),
              "questions naming the request": naming}
    print(f"{name} ({len(partials)} tasks): " + ", ".join(f"{k} {v:.3f}" for k, v in report["means"].items()))
    print(f"    the greedy mix asks a plain question in {report['plain turns in the greedy mix']} of "
          f"{report['turns in the greedy mix']} turns; questions naming the request: {naming}")
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("recipe")
    parser.add_argument("run")
    parser.add_argument("--tasks", type=int, default=48)
    args = parser.parse_args()
    profile, run = load_profile(args.recipe), Path(args.run)
    if not profile.train.in3_tasks:
        raise SystemExit(f"fit_gap: {args.recipe} trains on no IN3 tasks (train.in3_tasks); nothing to compare")
    started = time.time()
    matcher = FactMatcher(EmbeddingSimilarity())
    base = local_policy(profile, name="untrained")
    trained = local_policy(profile, run / "train", name="trained")
    seed = profile.seed + 1000
    report = {"recipe": args.recipe, "run": str(run),
              "trained on": side("IN3 tasks it trained on", in3_partials("train", min(args.tasks, profile.train.in3_tasks)),
                                 trained, base, matcher, profile.eval_samples, seed),
              "held out": side("IN3's held-out tasks", in3_partials("test", args.tasks), trained, base, matcher,
                               profile.eval_samples, seed)}
    report["seconds"] = round(time.time() - started, 1)
    atomic_write_json(run / "fit_gap.json", report)
    print(f"{report['seconds']:.0f} s; written to {run / 'fit_gap.json'}")


if __name__ == "__main__":
    main()
