"""The demo's IN3 section for a headline.py run: what a trained policy draws out on IN3's held-out tasks, per kind.

    .venv-unsloth/bin/python benchmarks/in3_section.py RECIPE.yaml runs/headline/NAME [--tasks 48]
    .venv/bin/python benchmarks/in3_section.py --pool runs/headline/NAME-s0 runs/headline/NAME-s1 ...

Runs ``pipeline.in3_section`` (what `make demo`'s report shows) on the run's adapter (``NAME/train``) and the best
fixed list chosen on IN3's training side as the demo chooses it (``NAME/best_fixed_list_in3.json``, the recipe's
IN3 training tasks, or ``--tasks`` of them when it trains on none): on the first ``--tasks`` of
IN3's held-out side, the share of hidden facts drawn out by the trained policy, the untrained model, the template,
the fixed list, IN3's own inquiries and the ceiling (sampled 3-question dialogues, the demo's seeds), each paired
with a 95% interval; the share per kind of detail (``specifics``: details only a question about the request's own
content draws out); the share of each system's questions that name the request; five tasks' questions. Writes
``NAME/in3_section.json``. With ``--pool``, the runs' in3_section.json files (training seeds of one recipe, measured
on the same held-out tasks) are pooled as ``headline.py --pool`` pools the corpus's: each run's differences and the
recipe's with runs and tasks resampled, plus per kind and the share naming the request averaged over runs; written
to the first run's ``in3_section_pooled.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from proactive.backends import EmbeddingSimilarity
from proactive.config import load_profile
from proactive.evaluation import pooled_headline
from proactive.files import atomic_write_json
from proactive.matching import FactMatcher
from proactive.pipeline import in3_section, kind_table_text
from proactive.run_folder import RunDir
from proactive.system_specs import local_policy
from proactive.task_files import in3_fixed_list_tasks, in3_partials


def pooled(paths: list[Path]) -> dict:
    """The runs' IN3 sections pooled: the headline over runs (``evaluation.pooled_headline``), and per kind of
    detail and per system the share drawn out, and the share of questions naming the request, averaged over
    runs."""
    missing = [str(p) for p in paths if not (p / "in3_section.json").is_file()]
    if missing:
        raise SystemExit(f"in3_section --pool: no in3_section.json in {', '.join(missing)}; run this script on "
                         "each run first")
    runs = [json.loads((p / "in3_section.json").read_text()) for p in paths]
    # Sections written before task ids were kept say only how many tasks (the held-out slice is IN3's first
    # ones): then only the counts are compared.
    keep_ids = all("task_ids" in r for r in runs)
    ids = [r["task_ids"] if keep_ids else r["headline"]["tasks"] for r in runs]
    if any(i != ids[0] for i in ids):
        raise SystemExit("in3_section --pool: the runs were measured on different held-out tasks")
    report = pooled_headline([r["headline"]["shares"] for r in runs], [str(p) for p in paths])
    kinds = runs[0]["elicited_by_kind"]
    report["elicited_by_kind"] = {
        kind: {"facts": row["facts"], **{name: round(sum(r["elicited_by_kind"][kind][name] for r in runs) / len(runs), 4)
                                         for name in row if name != "facts"}}
        for kind, row in kinds.items()}
    report["questions_naming_the_request"] = {
        name: round(sum(r["questions_naming_the_request"][name] for r in runs) / len(runs), 4)
        for name in runs[0]["questions_naming_the_request"]}
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("recipe", nargs="?")
    parser.add_argument("run", nargs="?")
    parser.add_argument("--tasks", type=int, default=48)
    parser.add_argument("--pool", nargs="+", default=None, metavar="RUN", help="pool these runs' in3_section.json")
    args = parser.parse_args()
    if args.pool:
        paths = [Path(p) for p in args.pool]
        report = pooled(paths)
        atomic_write_json(paths[0] / "in3_section_pooled.json", report)
        for key in (k for k in report if k.startswith("trained - ")):
            d = report[key]
            print(f"{key}: {d['runs_mean']:+.3f} [{d['ci_low']:+.3f}, {d['ci_high']:+.3f}] over {len(paths)} runs")
        print("means: " + ", ".join(f"{k} {v:.3f}" for k, v in report["means"].items()))
        reached = report.get("trained share of inquiries")
        if reached:
            print(f"trained reaches {reached['share']:.2f} [{reached['ci_low']:.2f}, {reached['ci_high']:.2f}] "
                  "of the dataset's inquiries")
        print(kind_table_text(report["elicited_by_kind"], report["questions_naming_the_request"]))
        print(f"written to {paths[0] / 'in3_section_pooled.json'}")
        return
    if not (args.recipe and args.run):
        parser.error("give RECIPE and RUN, or --pool RUN [RUN ...]")
    profile, run = load_profile(args.recipe), Path(args.run)
    started = time.time()
    matcher = FactMatcher(EmbeddingSimilarity())
    # The list chosen on IN3's training side, as the demo chooses it (the run folder's own reader keeps it).
    fixed = RunDir(run, profile).best_fixed_list(matcher, in3_fixed_list_tasks(profile, args.tasks),
                                                 name="best_fixed_list_in3")
    print("best fixed list for IN3 (chosen on IN3's training tasks): " + " / ".join(fixed.questions))
    base = local_policy(profile, name="untrained")
    trained = local_policy(profile, run / "train", name="trained")
    held_out = in3_partials("test", args.tasks)
    report = in3_section(trained, base, held_out, matcher, fixed, profile.eval_samples, seed=profile.seed + 1000)
    report["task_ids"] = [p.task_id for p in held_out]
    report["seconds"] = round(time.time() - started, 1)
    atomic_write_json(run / "in3_section.json", report)
    print(report["headline"]["verdict"])
    print(kind_table_text(report["elicited_by_kind"], report["questions_naming_the_request"]))
    for example in report["examples"]:
        print(example["request"][:100])
        for name in ("untrained", "trained", "dataset's inquiries"):
            print(f"    {name}: {' / '.join(example.get(name) or [])}")
    print(f"{report['seconds']:.0f} s; written to {run / 'in3_section.json'}")


if __name__ == "__main__":
    main()
