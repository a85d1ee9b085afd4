"""A recipe's learning gain over several training runs, not one run's.

    python benchmarks/learning_pool.py runs/learning-gpu/group16-s*      # folders or learning.json files

Each argument is a run that `benchmarks/learning_cpu.py` evaluated (the same held-out tasks, maskings
and evaluation seeds; typically one recipe under several training seeds, `learning_gpu.sh` with
SEEDS). Prints, per measure, each run's paired difference (trained - untrained, its own bootstrap 95%
interval over tasks), the spread over runs, and the recipe's gain: the difference averaged over runs
and tasks with a two-level bootstrap interval (runs resampled, then tasks), so the interval carries the
run-to-run variation that a single run's interval leaves out.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from proactive.stats import pooled_difference

MEASURES = (("reward_per_question", "reward per sampled first question"),
            ("elicitation_per_question", "its elicitation term alone"),
            ("elicited_share_sampled_dialogues", "sampled 3-question dialogues"),
            ("elicited_share_dialogue", "greedy dialogue"),
            ("elicited_share_dialogue_no_repeat", "greedy, repeat redrawn"))


def load_runs(path: Path) -> list[tuple[str, list[str], dict[str, np.ndarray]]]:
    """Each trained run's per-task (trained - untrained) differences for each measure in one
    learning.json (several where learning_cpu.py ran with --pool)."""
    file = path / "learning.json" if path.is_dir() else path
    try:
        per_task = json.loads(file.read_text())["per_task"]
        untrained = per_task["untrained"]
        runs = [(key.removeprefix("trained:"), per_task["task_ids"],
                 {k: np.asarray(trained[k], float) - np.asarray(untrained[k], float) for k, _ in MEASURES if k in trained})
                for key, trained in per_task.items() if key.startswith("trained:")]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        runs = []
        problem = f" ({type(exc).__name__}: {exc})"
    else:
        problem = ""
    if not runs:
        raise SystemExit(f"learning_pool: {file}: not a learning.json with per-task figures{problem}; "
                         "evaluate the run with benchmarks/learning_cpu.py first")
    return runs


def pool(paths: list[Path]) -> dict:
    runs = [run for p in paths for run in load_runs(p)]
    task_ids = runs[0][1]
    for name, ids, _ in runs[1:]:
        if ids != task_ids:
            raise SystemExit(f"learning_pool: {name} was evaluated on other held-out tasks than {runs[0][0]}; "
                             "pool only runs of one profile's split")
    report = {"runs": [name for name, _, _ in runs], "tasks": len(task_ids), "measures": {}}
    for key, label in MEASURES:
        if not all(key in diffs for _, _, diffs in runs):
            continue
        matrix = np.stack([diffs[key] for _, _, diffs in runs])
        report["measures"][key] = {"label": label, **pooled_difference(matrix, [name for name, _, _ in runs])}
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path, help="run folders holding learning.json, or the files")
    parser.add_argument("--json", type=Path, help="also write the pooled report here")
    args = parser.parse_args()
    report = pool(args.runs)
    n = len(report["runs"])
    width = max(len(name) for name in report["runs"]) + 2
    print(f"{n} runs, {report['tasks']} held-out tasks; difference trained - untrained")
    for key, m in report["measures"].items():
        print(f"\n{m['label']} ({key})")
        for r in m["per_run"]:
            print(f"  {r['run']:<{width}}{r['difference']:+.3f} [{r['ci_low']:+.3f}, {r['ci_high']:+.3f}]")
        print(f"  over the runs: mean {m['runs_mean']:+.3f}, sd {m['runs_sd']:.3f}; {m['runs_positive']}/{n} positive, "
              f"{m['runs_above_zero']}/{n} with the interval above zero")
        print(f"  recipe (runs and tasks resampled): {m['runs_mean']:+.3f} [{m['ci_low']:+.3f}, {m['ci_high']:+.3f}]")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    try:
        main()
    except BrokenPipeError:
        sys.exit(0)
