"""Writer RFT on a finished run: does fine-tuning the outline writer on its own best samples make the
outline use what the questions drew out?

    .venv/bin/python benchmarks/writer_rft.py runs/demo OUT [--profile cpu-unsloth] [--dialogues 48] [--samples 4]
        [--epochs 2] [--learning-rate 4e-4]

Trains a LoRA writer (``proactive.outline_rft``) on the run's RFT-kept training dialogues (its
``train/rft/round-*/buffer.json``: tasks of the training split only), then rewrites every system's
held-out outlines (``eval/*.json``) with it, greedy, and prints per system: the share of what its own
dialogue drew out that its outline uses, its coverage of all hidden facts and of the visible ones, and cut
outlines; beside the same figures for the run's own outlines (today's judge). Writes OUT/writer/adapter
(and its samples.jsonl) and OUT/eval/*.json (the rewritten results, for benchmarks/outline_use.py). The
training is the `writer` stage's own (``proactive.methods.writer.fit_writer``), on other dialogues.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

from proactive.backends import EmbeddingSimilarity
from proactive.config import load_profile
from proactive.evaluation import SystemResult, system_metrics
from proactive.files import atomic_write_json, read_json
from proactive.judges import EmbeddingJudge
from proactive.methods.writer import WRITER_DIR, fit_writer, writer_adapter
from proactive.outlines import oracle_request, without_mark
from proactive.rft_store import rounds_done
from proactive.simulator import Dialogue, turn_from_dict
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
    parser.add_argument("--dialogues", type=int)
    parser.add_argument("--samples", type=int)
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--learning-rate", type=float)
    args = parser.parse_args()
    run, out = Path(args.run), Path(args.out)
    profile = load_profile(args.profile)
    given = {"dialogues": args.dialogues, "samples": args.samples, "epochs": args.epochs,
             "learning_rate": args.learning_rate}
    settings = replace(profile.train.settings("writer"), **{k: v for k, v in given.items() if v is not None})
    judge = EmbeddingJudge(EmbeddingSimilarity())

    store = run / "train" / "rft"
    buffer = read_json(store / f"round-{rounds_done(store)}" / "buffer.json")
    by_id = {p.task_id: p for p in profile_partials(profile, "train")}
    dialogues = [Dialogue(by_id[tid], [turn_from_dict(t) for t in turns]) for tid, turns in buffer.items() if tid in by_id]
    dialogues = dialogues[: settings.dialogues]
    partials, histories = [d.partial for d in dialogues], [d.history() for d in dialogues]

    started = time.time()
    # The stage's own fitting (sampling, selection, fine-tuning), into OUT/writer/.
    kept, examples, loss = fit_writer(partials, histories, profile, settings, out / WRITER_DIR, judge.similarity)
    print(f"writer RFT on {len(dialogues)} training dialogues, {settings.samples} outlines each: kept {len(kept)} "
          f"(mean share of what was said {sum(k.score for k in kept) / max(1, len(kept)):.3f}), fine-tuned on "
          f"{examples}, loss {loss}, {time.time() - started:.0f} s")
    writer = load_writer(profile, writer_adapter(out))  # as the demo writes with it
    print("\n| system | uses what its dialogue drew out | covers hidden | covers visible | cut |\n|---|---|---|---|---|")
    for path in sorted((run / "eval").glob("*.json")):
        result = rejudge(SystemResult.from_dict(read_json(path)), judge)
        print(line(f"{result.name} (run's writer)", result))
        # As the systems do: the oracle's writer reads every fact in the request, and no dialogue.
        if result.sees_all_facts:
            outlines = writer.write_outlines([oracle_request(d.partial) for d in result.dialogues], [()] * len(result.dialogues))
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
