"""Writer RFT on a finished run: does fine-tuning the note writer on its own best notes make the outline
use what the questions drew out?

    .venv/bin/python benchmarks/writer_rft.py runs/demo OUT [--profile cpu-unsloth] [--tasks 48] [--samples 6]
        [--epochs 4] [--learning-rate 1e-3] [--writer runs/demo/train/writer/adapter]

Trains a LoRA note writer (``proactive.outline_rft``) on the hidden facts of the profile's training tasks
(as the ``writer`` stage does: ``proactive.methods.writer.fit_writer``), then rewrites every system's
held-out outlines (the run's ``eval/*.json``) with it, greedy, and prints per system: the share of what its
own dialogue drew out that its outline uses, its coverage of all hidden facts and of the visible ones, and
cut outlines; beside the same figures for the run's own outlines (today's judge). Writes OUT/writer/adapter
(and its samples.jsonl) and OUT/eval/*.json (the rewritten results, for benchmarks/outline_use.py).
"""

from __future__ import annotations

import argparse
import random
import time
from dataclasses import replace
from pathlib import Path

from proactive.backends import EmbeddingSimilarity
from proactive.config import load_profile
from proactive.evaluation import SystemResult, system_metrics
from proactive.files import atomic_write_json, read_json
from proactive.judges import EmbeddingJudge
from proactive.methods.writer import WRITER_DIR, fit_writer, writer_adapter
from proactive.outline_rft import training_details
from proactive.outlines import oracle_request, without_mark
from proactive.system_specs import load_writer
from proactive.task_files import profile_partials


def _cell(value) -> str:
    return f"{value['mean']:.3f} [{value['ci_low']:.3f}, {value['ci_high']:.3f}]" if value else "-"


def rejudge(result: SystemResult, judge: EmbeddingJudge) -> SystemResult:
    result.covered_hidden = [judge.covered(without_mark(d.outline), d.partial.hidden_facts) for d in result.dialogues]
    result.covered_visible = [judge.covered(without_mark(d.outline), d.partial.visible_facts) for d in result.dialogues]
    return result


def line(name: str, result: SystemResult) -> str:
    m = system_metrics(result)
    return (f"| {name} | {_cell(m['coverage_drawn'])} | {_cell(m['coverage_hidden'])} | {_cell(m['coverage_visible'])} "
            f"| {m['outlines_cut']['count']} of {m['outlines_cut']['of']} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run")
    parser.add_argument("out")
    parser.add_argument("--profile", default="cpu-unsloth")
    # Each left out: the profile's train.writer setting.
    parser.add_argument("--tasks", type=int)
    parser.add_argument("--samples", type=int)
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--learning-rate", type=float)
    parser.add_argument("--writer", help="a trained note writer's adapter (a run's train/writer/adapter): write with "
                                         "it and train none")
    args = parser.parse_args()
    run, out = Path(args.run), Path(args.out)
    profile = load_profile(args.profile)
    given = {"tasks": args.tasks, "samples": args.samples, "epochs": args.epochs,
             "learning_rate": args.learning_rate}
    settings = replace(profile.train.settings("writer"), **{k: v for k, v in given.items() if v is not None})
    judge = EmbeddingJudge(EmbeddingSimilarity())

    started = time.time()
    if args.writer:
        adapter = Path(args.writer)
        print(f"writing with {adapter}; no writer trained")
    else:
        tasks = profile_partials(profile, "train")
        details = training_details(random.Random(profile.train_seed).sample(tasks, min(settings.tasks, len(tasks))))
        # The stage's own fitting (sampling, selection, fine-tuning), into OUT/writer/.
        kept, examples, loss = fit_writer(details, profile, settings, out / WRITER_DIR, judge.similarity)
        print(f"writer RFT on {len(details)} users' sentences, {settings.samples} notes each: kept {len(kept)} "
              f"(closeness {sum(k.closeness for k in kept) / max(1, len(kept)):.3f}), fine-tuned on "
              f"{examples}, loss {loss}, {time.time() - started:.0f} s")
        adapter = writer_adapter(out)
    writer = load_writer(profile, adapter)  # as the demo writes with it
    print("\n| system | uses what its dialogue drew out | covers hidden | covers visible | cut |\n|---|---|---|---|---|")
    for path in sorted((run / "eval").glob("*.json")):
        result = rejudge(SystemResult.from_dict(read_json(path)), judge)
        print(line(f"{result.name} (run's writer)", result))
        # As the systems do: the oracle's writer reads every fact in the request, and no dialogue.
        if result.sees_all_facts:
            outlines = writer.write_outlines([oracle_request(d.partial) for d in result.dialogues], [()] * len(result.dialogues),
                                             details=[[f.statement for f in d.partial.hidden_facts] for d in result.dialogues])
        else:
            outlines = writer.write_outlines([d.partial for d in result.dialogues], [d.history() for d in result.dialogues])
        for d, o in zip(result.dialogues, outlines):
            d.outline = o
        result = rejudge(result, judge)
        print(line(f"{result.name} (RFT writer)", result), flush=True)
        atomic_write_json(out / "eval" / path.name, result.to_dict())
    print(f"\n{time.time() - started:.0f} s in all")


if __name__ == "__main__":
    main()
