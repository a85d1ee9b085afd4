"""Proof that GRPO teaches the bundled 135M model to ask better questions, on CPU.

    .venv/bin/python benchmarks/learning_cpu.py [--profile cpu] [--out runs/learning-cpu]

Trains with the profile (default `cpu`, about 28 minutes on 2 cores; 41 in all), then compares the trained
adapter with the untrained model on held-out test tasks:
- mean elicitation reward per first question (8 sampled questions per task), and
- share of hidden facts elicited in a 3-question dialogue with the simulated user (greedy, and
  averaged over --dialogue-samples sampled dialogues at T=0.7, and greedy with repeated questions
  redrawn; with --maskings K, the greedy figures also averaged over K maskings of each task),
each with a bootstrap 95% confidence interval of the paired (per-task) difference. Also prints
seconds per GRPO step and generation tokens/s. Writes learning.json into the run folder.
With --pool, adapters trained under other training seeds (train.seed) are evaluated in the same run,
and the report adds each run's figures and the per-task mean over the runs: one run's interval
says nothing about how much runs of the same recipe differ.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from proactive.backends import EmbeddingSimilarity
from proactive.config import load_profile
from proactive.dialogues import elicited_share, run_dialogues
from proactive.evaluation import paired_difference, score_questions
from proactive.files import atomic_write_json, atomic_write_text
from proactive.masking import mask_many, split_tasks
from proactive.matching import FactMatcher
from proactive.models import load_adapter, load_model_and_tokenizer
from proactive.policy import LocalPolicy
from proactive.reward import ElicitationReward
from proactive.simulator import OFF_TOPIC, REVEALED, SEVERAL
from proactive.tasks import load_tasks
from proactive.training import train


def greedy_share(policy, maskings, matcher, redraws: int) -> np.ndarray:
    """Per task: the share elicited in greedy 3-question dialogues, averaged over its maskings."""
    before, policy.redraws = policy.redraws, redraws
    try:
        return np.mean([[elicited_share(d) for d in run_dialogues(policy, partials, matcher, turns=3, progress=False)]
                        for partials in maskings], axis=0)
    finally:
        policy.redraws = before


MEASURES = ("reward_per_question", "elicitation_per_question", "elicited_share_dialogue",
            "elicited_share_sampled_dialogues", "elicited_share_dialogue_no_repeat", "elicited_share_dialogue_maskings")


def measure(policy, test, masked, reward, args, seed: int) -> dict:
    """Everything measured of one model on the held-out tasks: per-task arrays (one value per task,
    in ``test``'s order) for each of MEASURES, plus its scored first questions and greedy dialogues."""
    scores = score_questions(policy, test, reward, samples=args.samples, temperature=0.7, seed=seed)
    dialogues = run_dialogues(policy, test, reward.matcher, turns=3)
    sampled = np.mean([[elicited_share(d) for d in run_dialogues(policy, test, reward.matcher, turns=3, progress=False,
                                                                  temperature=0.7, seed=1000 * k)]
                       for k in range(args.dialogue_samples)], axis=0)
    per_task = {
        "reward_per_question": scores.per_task,
        "elicitation_per_question": scores.elicitation.mean(axis=1),
        "elicited_share_dialogue": [elicited_share(d) for d in dialogues],
        "elicited_share_sampled_dialogues": sampled,
        # The 135M model's greedy dialogue often asks its first question three times; redrawing a repeat
        # (sampled, up to 3 times; both models alike) shows whether what it asks NEXT got better.
        "elicited_share_dialogue_no_repeat": greedy_share(policy, masked, reward.matcher, 3),
    }
    if len(masked) > 1:
        per_task["elicited_share_dialogue_maskings"] = greedy_share(policy, masked, reward.matcher, 0)
    return {"name": policy.name, "scores": scores, "dialogues": dialogues,
            "per_task": {k: [round(float(v), 5) for v in values] for k, values in per_task.items()}}


def judged_first_questions(result, by_id, reward, out: Path) -> dict:
    """What the judge made of a model's sampled first questions: off topic, several at once, paid."""
    scores = result["scores"]
    items = [(by_id[t], q, ()) for t, qs in zip(scores.task_ids, scores.questions) for q in qs]
    kinds = [b.kind for b in reward.score_many(items)]
    atomic_write_text(out / f"questions_{result['name']}.jsonl", "".join(
        json.dumps({"task_id": p.task_id, "question": q, "kind": k}) + "\n" for (p, q, _), k in zip(items, kinds)))
    return {"questions": len(items), **{f"{k}_share": round(kinds.count(k) / len(items), 4)
                                        for k in (OFF_TOPIC, SEVERAL, REVEALED)}}


def differences(after: dict, before: dict) -> dict:
    """Each measure's paired per-task difference (after - before) with its bootstrap 95% interval."""
    return {k: paired_difference(after[k], before[k]) for k in MEASURES if k in after}


def paired_report(before: dict, after: dict, maskings: int) -> dict:
    """Paired per-task differences (trained - untrained) with bootstrap 95% intervals, and examples."""
    report = {"before": before["name"], "after": after["name"], "held_out_tasks": len(before["dialogues"]),
              **differences(after["per_task"], before["per_task"])}
    report["elicited_share_dialogue_no_repeat"]["maskings"] = maskings
    if "elicited_share_dialogue_maskings" in report:
        report["elicited_share_dialogue_maskings"]["maskings"] = maskings
    report["examples"] = [{"task_id": b.partial.task_id, "request": b.partial.request,
                           before["name"]: [(t.question, t.answer) for t in b.turns],
                           after["name"]: [(t.question, t.answer) for t in a.turns]}
                          for b, a in zip(before["dialogues"], after["dialogues"])]
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--out", default="runs/learning-cpu")
    parser.add_argument("--max-steps", type=int, default=None)
    parser.add_argument("--train-seed", type=int, default=None,
                        help="train under this training seed (train.seed) instead of the profile's; the split, "
                             "maskings and evaluation stay the profile's, so runs of one recipe can be pooled")
    parser.add_argument("--samples", type=int, default=8, help="sampled questions per held-out task")
    parser.add_argument("--dialogue-samples", type=int, default=4, help="sampled dialogues per held-out task")
    parser.add_argument("--maskings", type=int, default=1,
                        help="maskings of each held-out task the greedy dialogue figures average over (the first is "
                             "the profile's, the others hide random facts; each one adds about 5 minutes)")
    parser.add_argument("--skip-training", action="store_true", help="evaluate the adapter already in --out")
    parser.add_argument("--pool", nargs="+", default=[], metavar="TRAIN_DIR",
                        help="train folders of the same recipe under other training seeds (train.seed): each is "
                             "evaluated the same way, and 'pooled' gives the per-task difference averaged over "
                             "all the runs, i.e. the recipe's gain rather than one run's")
    args = parser.parse_args()
    profile = load_profile(args.profile)
    if args.train_seed is not None:
        profile = replace(profile, train=replace(profile.train, seed=args.train_seed))
    out = Path(args.out)
    started = time.time()
    for other in args.pool:
        if not (Path(other) / "adapter").is_dir():
            raise SystemExit(f"--pool {other}: no adapter/ there; train it first (proactive train --out ...)")

    if not args.skip_training:
        result = train(profile, out, max_steps=args.max_steps)
        print(f"trained {result.steps} steps in {result.seconds:.0f} s")
    metrics = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines() if line.strip()]
    step_seconds = [m["step_time"] for m in metrics if "step_time" in m]

    tasks = split_tasks(load_tasks(), seed=profile.seed)["test"]
    test = mask_many(tasks, profile.mask_strategy, seed=profile.seed)
    # One masking per task leaves each paired difference at the mercy of which facts were hidden;
    # several maskings of the same task, averaged per task, measure the policy rather than the mask.
    masked = [test] + [mask_many(tasks, "random_k", seed=profile.seed + k) for k in range(1, args.maskings)]
    reward = ElicitationReward(FactMatcher(EmbeddingSimilarity()), profile.reward_config())
    tokens = profile.train.max_completion_length
    # Both models in the profile's dtype, so a GPU run evaluates with the arithmetic it trained in.
    base_model, tokenizer = load_model_and_tokenizer(profile.model, dtype=profile.train.dtype)
    base = LocalPolicy(base_model, tokenizer, profile.question_prefix, tokens, name="untrained")
    t0 = time.time()
    before = measure(base, test, masked, reward, args, profile.seed)
    eval_seconds = time.time() - t0
    runs = {}
    for run_dir in [out, *map(Path, args.pool)]:
        model, run_tokenizer = load_adapter(run_dir / "adapter", profile.model, dtype=profile.train.dtype)
        runs[str(run_dir)] = measure(LocalPolicy(model, run_tokenizer, profile.question_prefix, tokens, name="trained"),
                                     test, masked, reward, args, profile.seed)
        del model
    after = runs[str(out)]

    by_id = {p.task_id: p for p in test}
    judged = {name: judged_first_questions(result, by_id, reward, out)
              for name, result in (("untrained", before), ("trained", after))}
    completion_tokens = [profile.train.grpo.num_generations * m["completions/mean_length"] for m in metrics]
    report = {
        "profile": profile.name,
        "model": profile.model,
        "train_steps": len(metrics),
        "train_seed": profile.train_seed,
        **paired_report(before, after, args.maskings),
        "seconds_per_step_median": round(statistics.median(step_seconds), 2) if step_seconds else None,
        "completion_tokens_per_second": round(sum(completion_tokens) / sum(step_seconds), 1) if step_seconds else None,
        "first_questions_judged": judged,
        "eval_seconds_per_model": round(eval_seconds, 1),
        # Per task, in the held-out order, so other analyses (pooling runs, other statistics) need no rerun.
        "per_task": {"task_ids": [p.task_id for p in test], "untrained": before["per_task"],
                     **{f"trained:{name}": r["per_task"] for name, r in runs.items()}},
    }
    if args.pool:
        # Each run's own difference, then the recipe's: per task, the trained runs' mean minus the
        # untrained model (tasks resampled by the bootstrap; with a few runs, seed spread shows only
        # in the runs' own figures).
        report["runs"] = {name: differences(r["per_task"], before["per_task"]) for name, r in runs.items()}
        mean_over_runs = {k: np.mean([r["per_task"][k] for r in runs.values()], axis=0) for k in before["per_task"]}
        report["pooled"] = {**differences(mean_over_runs, before["per_task"]), "runs": list(runs)}
    report["wall_seconds"] = round(time.time() - started, 1)
    atomic_write_json(out / "learning.json", report)
    sections = [("", report)] + [(f"[{name}] ", r) for name, r in report.get("runs", {}).items()]
    sections += [("[pooled over the runs] ", report["pooled"])] if args.pool else []
    for prefix, figures in sections:
        for key in MEASURES:
            if key not in figures:
                continue
            r = figures[key]
            print(f"{prefix}{key}: untrained {r['before']:.3f} -> trained {r['after']:.3f}; difference "
                  f"{r['difference']:+.3f} (95% CI {r['ci_low']:+.3f} to {r['ci_high']:+.3f}, {r['tasks']} held-out tasks)")
    print(f"first questions judged: {judged}")
    print(f"median seconds per GRPO step: {report['seconds_per_step_median']}; "
          f"{report['completion_tokens_per_second']} completion tokens/s; total {report['wall_seconds']:.0f} s")
    for example in report["examples"][:4]:
        print(f"  {example['task_id']}")
        for name in ("untrained", "trained"):
            print(f"    {name:>9}: {[q for q, _ in example[name]]}")


if __name__ == "__main__":
    main()
