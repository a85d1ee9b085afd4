"""Proof that GRPO teaches the bundled 135M model to ask better questions, on CPU.

    .venv/bin/python benchmarks/learning_cpu.py [--profile cpu] [--out runs/learning-cpu]

Trains with the profile (default `cpu`, about 12 minutes on 2 cores), then compares the trained
adapter with the untrained model on held-out test tasks:
- mean elicitation reward per first question (8 sampled questions per task), and
- share of hidden facts elicited in a 3-question dialogue with the simulated user (greedy),
each with a bootstrap 95% confidence interval of the paired (per-task) difference. Also prints
seconds per GRPO step and generation tokens/s. Writes learning.json into the run folder.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from proactive.backends import EmbeddingSimilarity
from proactive.config import load_profile
from proactive.evaluation import (
    LocalPolicy,
    elicited_share,
    paired_difference,
    run_dialogues,
    score_questions,
)
from proactive.files import atomic_write_json
from proactive.masking import mask_many, split_tasks
from proactive.matching import FactMatcher
from proactive.models import load_adapter, load_model_and_tokenizer
from proactive.reward import ElicitationReward
from proactive.tasks import load_tasks
from proactive.training import train


def evaluate(policy, partials, reward, matcher, samples, seed):
    scores = score_questions(policy, partials, reward, samples=samples, temperature=0.7, seed=seed)
    dialogues = run_dialogues(policy, partials, matcher, turns=3)
    return scores, [elicited_share(d) for d in dialogues], dialogues


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--out", default="runs/learning-cpu")
    parser.add_argument("--max-steps", type=int, default=None)
    parser.add_argument("--samples", type=int, default=8, help="sampled questions per held-out task")
    parser.add_argument("--skip-training", action="store_true", help="evaluate the adapter already in --out")
    args = parser.parse_args()
    profile = load_profile(args.profile)
    out = Path(args.out)
    started = time.time()

    if not args.skip_training:
        result = train(profile, out, max_steps=args.max_steps)
        print(f"trained {result.steps} steps in {result.seconds:.0f} s")
    metrics = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines() if line.strip()]
    step_seconds = sorted(m["step_time"] for m in metrics if "step_time" in m)

    test = mask_many(split_tasks(load_tasks(), seed=profile.seed)["test"], profile.mask_strategy, seed=profile.seed)
    matcher = FactMatcher(EmbeddingSimilarity())
    reward = ElicitationReward(matcher)
    tokens = profile.train.max_completion_length
    base_model, tokenizer = load_model_and_tokenizer(profile.model)
    base = LocalPolicy(base_model, tokenizer, profile.question_prefix, tokens, name="untrained")
    t0 = time.time()
    base_scores, base_share, base_dialogues = evaluate(base, test, reward, matcher, args.samples, profile.seed)
    eval_seconds = time.time() - t0
    trained_model, trained_tokenizer = load_adapter(out / "adapter", profile.model)
    trained = LocalPolicy(trained_model, trained_tokenizer, profile.question_prefix, tokens, name="trained")
    after_scores, after_share, after_dialogues = evaluate(trained, test, reward, matcher, args.samples, profile.seed)

    report = {
        "profile": profile.name,
        "model": profile.model,
        "train_steps": len(metrics),
        "held_out_tasks": len(test),
        "reward_per_question": paired_difference(after_scores.per_task, base_scores.per_task),
        "elicited_share_3_turns": paired_difference(after_share, base_share),
        "seconds_per_step_median": round(step_seconds[len(step_seconds) // 2], 2) if step_seconds else None,
        "eval_seconds_per_model": round(eval_seconds, 1),
        "examples": [
            {"task_id": b.partial.task_id, "untrained": [t.question for t in b.turns],
             "trained": [t.question for t in a.turns]}
            for b, a in list(zip(base_dialogues, after_dialogues))[:4]
        ],
        "wall_seconds": round(time.time() - started, 1),
    }
    atomic_write_json(out / "learning.json", report)
    for key in ("reward_per_question", "elicited_share_3_turns"):
        r = report[key]
        print(f"{key}: untrained {r['before']:.3f} -> trained {r['after']:.3f}; difference {r['difference']:+.3f} "
              f"(95% CI {r['ci_low']:+.3f} to {r['ci_high']:+.3f}, {r['tasks']} held-out tasks)")
    print(f"median seconds per GRPO step: {report['seconds_per_step_median']}; total {report['wall_seconds']:.0f} s")
    for example in report["examples"]:
        print(f"  {example['task_id']}\n    untrained: {example['untrained']}\n    trained:   {example['trained']}")


if __name__ == "__main__":
    main()
