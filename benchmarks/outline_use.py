"""Does the outline use what the questions drew out? A run folder's outlines, judged again with today's judge.

    .venv/bin/python benchmarks/outline_use.py runs/demo [OTHER_RUN ...] [--llm]

For each run (``proactive demo``'s folder, its ``eval/*.json``) and system: the share of the hidden facts
its own dialogue drew out that its outline covers, its coverage of all hidden facts, how many outlines
were cut, and the trained system's coverage against each baseline's, paired by task with a bootstrap 95%
interval (on all tasks, a cut outline read as written, and on the tasks where both finished). The judge
is today's embedding judge, so runs written before a judge change compare on equal terms. ``--llm`` adds each
pairwise win rate by the LLM judge too (the bundled model reading both outlines, in both orders, as the demo's
judge agreement does; a few seconds a pair on 2 cores).
"""

from __future__ import annotations

import sys
from pathlib import Path

from proactive.backends import EmbeddingSimilarity
from proactive.evaluation import SystemResult, paired_difference, pairwise, system_metrics
from proactive.files import read_json
from proactive.judges import EmbeddingJudge
from proactive.outlines import is_cut, without_mark
from proactive.tasks import weighted_share


def _cell(value) -> str:
    return f"{value['mean']:.3f} [{value['ci_low']:.3f}, {value['ci_high']:.3f}]" if value else "-"


def llm_judge():
    """The demo's LLM judge: the cpu profile's (bundled) model, untrained."""
    from proactive.config import load_profile
    from proactive.models import load_model_and_tokenizer
    from proactive.pipeline import llm_judge as demo_llm_judge
    from proactive.policy import LocalPolicy

    profile = load_profile("cpu")
    model, tokenizer = load_model_and_tokenizer(profile.model, dtype=profile.eval_dtype)
    return demo_llm_judge(profile, LocalPolicy(model, tokenizer))


def main(runs: list[str], llm: bool = False) -> None:
    judge = EmbeddingJudge(EmbeddingSimilarity())
    second = llm_judge() if llm else None
    for run in map(Path, runs):
        results = {}
        for path in sorted((run / "eval").glob("*.json")):
            result = SystemResult.from_dict(read_json(path))
            result.covered_hidden = [judge.covered(without_mark(d.outline), d.partial.hidden_facts) for d in result.dialogues]
            result.covered_visible = [judge.covered(without_mark(d.outline), d.partial.visible_facts) for d in result.dialogues]
            results[result.name] = result
        print(f"\n{run}\n| system | elicited | outline uses what its dialogue drew out | covers hidden | cut |\n|---|---|---|---|---|")
        for name, result in results.items():
            m = system_metrics(result)
            print(f"| {name} | {_cell(m['elicited_share'])} | {_cell(m['coverage_drawn'])} | {_cell(m['coverage_hidden'])} "
                  f"| {m['outlines_cut']['count']} of {m['outlines_cut']['of']} |")
        trained = results.get("trained")
        if trained is None:
            continue
        mine = [weighted_share(c, d.partial.hidden_facts) for c, d in zip(trained.covered_hidden, trained.dialogues)]
        for name, other in results.items():
            if other is trained:
                continue
            theirs = [weighted_share(c, d.partial.hidden_facts) for c, d in zip(other.covered_hidden, other.dialogues)]
            both = [i for i, (a, b) in enumerate(zip(trained.dialogues, other.dialogues))
                    if not is_cut(a.outline) and not is_cut(b.outline)]
            every = paired_difference(mine, theirs)
            done = paired_difference([mine[i] for i in both], [theirs[i] for i in both]) if both else None
            line = (f"trained - {name}, covers hidden: {every['difference']:+.3f} [{every['ci_low']:+.3f}, "
                    f"{every['ci_high']:+.3f}] on {every['tasks']} tasks")
            if done:
                line += (f"; {done['difference']:+.3f} [{done['ci_low']:+.3f}, {done['ci_high']:+.3f}] on the "
                         f"{done['tasks']} both finished")
            wins = pairwise(trained, other, judge)["win_rate"]
            line += (f"; trained's outline wins {wins['mean']:.3f} [{wins['ci_low']:.3f}, {wins['ci_high']:.3f}] "
                     "(embedding judge, both orders, a tie half)")
            if second is not None:
                wins = pairwise(trained, other, second, progress=True)["win_rate"]
                line += f", {wins['mean']:.3f} [{wins['ci_low']:.3f}, {wins['ci_high']:.3f}] ({second.name})"
            print(line, flush=True)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    main([a for a in sys.argv[1:] if a != "--llm"], llm="--llm" in sys.argv[1:])
