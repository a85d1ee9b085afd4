"""The demo's IN3 section for a headline.py run: what a trained policy draws out on IN3's held-out tasks, per kind.

    .venv-unsloth/bin/python benchmarks/in3_section.py RECIPE.yaml runs/headline/NAME [--tasks 48]

Runs ``pipeline.in3_section`` (what `make demo`'s report shows) on the run's adapter (``NAME/train``) and the best
fixed list chosen on IN3's training side as the demo chooses it (``NAME/best_fixed_list_in3.json``, the recipe's
IN3 training tasks, or ``--tasks`` of them when it trains on none): on the first ``--tasks`` of
IN3's held-out side, the share of hidden facts drawn out by the trained policy, the untrained model, the template,
the fixed list, IN3's own inquiries and the ceiling (sampled 3-question dialogues, the demo's seeds), each paired
with a 95% interval; the share per kind of detail (``specifics``: details only a question about the request's own
content draws out); the share of each system's questions that name the request; five tasks' questions. Writes
``NAME/in3_section.json``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from proactive.backends import EmbeddingSimilarity
from proactive.config import load_profile
from proactive.files import atomic_write_json
from proactive.matching import FactMatcher
from proactive.pipeline import in3_section, kind_table_text
from proactive.run_folder import RunDir
from proactive.system_specs import local_policy
from proactive.task_files import in3_fixed_list_tasks, in3_partials


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("recipe")
    parser.add_argument("run")
    parser.add_argument("--tasks", type=int, default=48)
    args = parser.parse_args()
    profile, run = load_profile(args.recipe), Path(args.run)
    started = time.time()
    matcher = FactMatcher(EmbeddingSimilarity())
    # The list chosen on IN3's training side, as the demo chooses it (the run folder's own reader keeps it).
    fixed = RunDir(run, profile).best_fixed_list(matcher, in3_fixed_list_tasks(profile, args.tasks),
                                                 name="best_fixed_list_in3")
    print("best fixed list for IN3 (chosen on IN3's training tasks): " + " / ".join(fixed.questions))
    base = local_policy(profile, name="untrained")
    trained = local_policy(profile, run / "train", name="trained")
    report = in3_section(trained, base, in3_partials("test", args.tasks), matcher, fixed,
                         profile.eval_samples, seed=profile.seed + 1000)
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
