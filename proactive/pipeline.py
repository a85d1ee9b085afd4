"""The main job, end to end: mask, simulate, train (RFT and/or GRPO), evaluate against baselines, report.

``make demo`` runs this with the ``cpu-unsloth`` profile (offline, bundled model, RFT through Unsloth's
CPU backend; its measured wall time is in the README and benchmarks/README.md); the ``cpu-smoke``
profile runs the same stages in a few minutes.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import methods
from .backends import EmbeddingSimilarity, TransformersChat
from .config import Profile
from .evaluation import (
    INQUIRIES,
    SystemResult,
    elicited_by_kind,
    evaluate_system,
    headline,
    headline_shares,
    kind_shares,
    naming_shares,
    naming_the_request,
    paired_difference,
    pairwise,
)
from .files import atomic_write_json, atomic_write_text
from .fixed_list import FixedList
from .html_views import report_html
from .human_eval import human_eval_pairs, save_items
from .judges import OUTLINE, EmbeddingJudge, Judge, LLMJudge, agreement_rate
from .masking import PartialTask
from .matching import FactMatcher
from .plots import elicitation_by_domain_figure, elicitation_by_turn_figure, training_figures
from .policy import LocalPolicy, System
from .results_table import outline_verdict, results_table, table_text
from .run_folder import RunDir
from .system_specs import attach_writer, local_policy, make_system
from .task_files import TaskSet, in3_fixed_list_tasks, in3_partials, profile_partials
from .tasks import corpus_stats, load_tasks
from .training import read_metrics

#: Set to MODEL@URL to add an OpenAI-compatible model (e.g. a larger served model) to the demo's table.
ENDPOINT_ENV = "PROACTIVE_ENDPOINT"


def baseline_systems(profile: Profile, base: LocalPolicy, trained: LocalPolicy | None,
                     endpoint: str | None = None, fixed_list: Sequence[str] | None = None) -> list[System]:
    """The paper's comparison: no clarification, template questions, the best fixed list (``fixed_list``,
    chosen on the training tasks: :func:`RunDir.best_fixed_list`), the untrained model, the trained
    adapter, an oracle that sees all facts, and (optionally) an endpoint model. Every local system
    writes its outline with the untrained model (the trained one switches its adapter off to write:
    ``LocalPolicy.writes_with_adapter``), so only their dialogues differ."""
    from .fixed_list import fixed_list_system

    systems: list[System] = [make_system("none", profile, base), make_system("template", profile, base)]
    if fixed_list is not None:
        systems.append(fixed_list_system(base, fixed_list))
    systems.append(base)
    if trained is not None:
        systems.append(trained)
    systems.append(make_system("oracle", profile, base))
    if endpoint:
        systems.append(make_system(f"endpoint:{endpoint}", profile))
    return systems


def evaluate_all(systems: Sequence[System], partials: Sequence[PartialTask], matcher: FactMatcher, judge: Judge,
                 turns: int = 3, seed: int = 0, run: RunDir | None = None, log=print) -> list[SystemResult]:
    """Each system's dialogues, outlines and coverage; with a ``run``, saved as its ``eval/NAME.json``."""
    results = []
    for system in systems:
        started = time.time()
        result = evaluate_system(system, partials, matcher, judge, turns=turns, seed=seed)
        results.append(result)
        if run is not None:
            atomic_write_json(run.eval_file(system.name), result.to_dict())
        log(f"      {system.name}: {time.time() - started:.0f} s")
    return results


def kind_table_text(by_kind: dict[str, dict[str, Any]], naming: dict[str, float] | None = None) -> str:
    """``elicited_by_kind`` as a plain-text table: a row per kind of detail, a column per system; with
    ``naming`` (``naming_the_request``), a last row: the share of each system's questions that name the
    request's own subject."""
    systems = list(dict.fromkeys(name for row in by_kind.values() for name in row if name != "facts"))
    # Columns as wide as the longest name ("dataset's inquiries", "template questions"), 16 to 19 characters.
    width = max(16, min(19, max((len(name) for name in systems), default=16)))
    lines = ["share of each kind of hidden detail drawn out (dialogues, held-out tasks)",
             f"  {'kind':12s} {'facts':>5s}  " + "  ".join(f"{name[:width]:>{width}s}" for name in systems)]
    for kind, row in by_kind.items():
        cells = "  ".join(f"{row[name]:{width}.3f}" if name in row else " " * width for name in systems)
        lines.append(f"  {kind[:12]:12s} {row['facts']:5d}  {cells}")
    if naming:
        cells = "  ".join(f"{naming[name]:{width}.3f}" if name in naming else " " * width for name in systems)
        lines.append(f"  {'names the request':18s}  {cells}")  # share of questions, same columns
    return "\n".join(lines)


def in3_section(trained: LocalPolicy, base: LocalPolicy, partials: Sequence[PartialTask], matcher: FactMatcher,
                fixed_list: FixedList, samples: int, seed: int, examples: int = 5) -> dict[str, Any]:
    """The headline again on IN3's held-out side (public tasks nobody here wrote, never trained on), with
    IN3's own inquiries as the reference and the best fixed list chosen on IN3's training side
    (:func:`proactive.task_files.in3_fixed_list_tasks`): per system the share drawn out, per kind of
    detail, the share of questions that name the request, and ``examples`` tasks' questions before
    (untrained) and after (trained) training beside the inquiries, the first tasks in order (not chosen)."""
    found: dict[str, Any] = {}
    shares = headline_shares(trained, base, partials, matcher, samples=samples, seed=seed,
                             fixed_list=fixed_list.questions, dialogues=found)
    lead = headline(shares)

    def questions(name: str, index: int) -> list[str]:
        per_task = len(found[name]) // len(partials)  # each task's samples sit together
        return [t.question for t in found[name][index * per_task].turns]

    shown = [{"task_id": p.task_id, "request": p.request,
              "hidden": [f.statement for f in p.hidden_facts],
              **{name: questions(name, i) for name in ("untrained", "trained", INQUIRIES) if name in found}}
             for i, p in enumerate(partials[:examples])]
    return {"tasks": len(partials), "source": "IN3 (bundled train split), held-out side",
            "best_fixed_list": {"questions": list(fixed_list.questions), "train_shares": list(fixed_list.train_shares),
                                "train_tasks": len(fixed_list.task_ids)},
            "headline": {**lead, "samples": samples,
                         "shares": {k: [round(float(x), 5) for x in v] for k, v in shares.items()}},
            "elicited_by_kind": kind_shares(found),
            "questions_naming_the_request": naming_shares(found), "examples": shown}


def llm_judge(profile: Profile, policy: LocalPolicy) -> LLMJudge:
    """The LLM judge the demo and chapter 5 compare with the embedding judge: the profile's own
    (untrained) model reading the outlines, named after it."""
    return LLMJudge(TransformersChat(policy.model, policy.tokenizer, name=profile.model), name=f"llm:{profile.model}")


def judge_agreement(a: SystemResult, b: SystemResult, judges: Sequence[Judge], n: int) -> dict[str, Any]:
    """Outline verdicts of A vs B on the first ``n`` tasks by each judge (both orders), and how often they agree."""
    from dataclasses import replace

    sample_a = replace(a, dialogues=a.dialogues[:n])
    unreadable_before = {j.name: getattr(j, "unreadable", 0) for j in judges}
    runs = [pairwise(sample_a, b, judge, OUTLINE, progress=True) for judge in judges]
    first, second = ([_verdict(v) for v in run["verdicts"]] for run in runs[:2])
    return {"pair": [a.name, b.name], "tasks": len(first), "judges": [j.name for j in judges],
            "agreement": round(agreement_rate(first, second), 4),
            "win_rates": {run["judge"]: run["win_rate"] for run in runs},
            "verdicts": {run["judge"]: [v["winner"] for v in run["verdicts"]] for run in runs},
            # an LLM judge's replies that named no outline (each counted as a tie), asked in both orders
            "unreadable_replies": {j.name: j.unreadable - unreadable_before[j.name] for j in judges
                                   if hasattr(j, "unreadable")}}


def _verdict(record: dict[str, Any]):
    from .judges import PairVerdict

    return PairVerdict(record["winner"], record["a_first"], record["b_first"])


def run_demo(profile: Profile, out: str | Path, samples: int | None = None, log=print,
             task_set: TaskSet | None = None) -> dict[str, Any]:
    """Every stage in order; writes ``report.json``, ``report.html``, ``eval/`` and the human-evaluation
    items into the run folder ``out`` (see :class:`proactive.run_folder.RunDir`) and returns the report.
    With a ``task_set``, its tasks are the held-out ones; training stays on the corpus's train split."""
    run = RunDir(out, profile, task_set)
    out = run.root
    started = time.time()
    stages: dict[str, float] = {}
    mark = [started]

    def stage(name: str) -> None:
        """Seconds since the previous stage ended, logged and kept for report.json."""
        now = time.time()
        stages[name] = round(now - mark[0], 1)
        mark[0] = now
        log(f"      {name}: {stages[name]:.0f} s")

    stats = corpus_stats(load_tasks())
    log(f"[1/5] corpus: {stats['tasks']} tasks in {stats['domains']} domains, {stats['facts']} facts")
    test = run.held_out(refresh=True)
    if task_set is not None:
        log(f"      held-out tasks from {task_set.label}")
        overlap = {p.task_id for p in test} & {p.task_id for p in profile_partials(profile, "train")}
        if overlap:
            log(f"      warning: {len(overlap)} of them are in the training split (e.g. {min(overlap)}); "
                "their figures are not held-out")
    how = "already masked" if task_set is not None and task_set.masked else f"masked: {profile.mask_strategy}"
    log(f"[2/5] {len(test)} held-out tasks ({how}); the simulated user holds their hidden facts")
    stage("corpus and masking")
    log(f"[3/5] training ({methods.describe(profile)}) on {profile.model} -> {run.train_dir}")
    if profile.train.in3_tasks:
        log(f"      on the corpus's training tasks and {profile.train.in3_tasks} of IN3's (public tasks nobody here "
            "wrote; its held-out side is never trained on)")
    trained_run = run.train()
    log(f"      {trained_run.steps} {methods.unit(profile)} in {trained_run.seconds:.0f} s")
    stage("training (model loading and sampling included)")

    log("[4/5] evaluating: sampled first questions, then dialogues + outlines for every system")
    if profile.redraws:
        log(f"      both models redraw a question they can tell is wasted (a repeat, a restatement) up to "
            f"{profile.redraws} times")
    similarity = EmbeddingSimilarity()
    matcher = FactMatcher(similarity)
    judge = EmbeddingJudge(similarity)
    samples = samples or profile.eval_samples
    base = local_policy(profile, name="untrained")
    trained = local_policy(profile, trained_run.adapter_dir, name="trained")
    writer = attach_writer(profile, trained_run.out_dir, [base, trained])
    if writer is not None:
        log(f"      every system's outline is written by the writer that writer RFT trained ({writer})")
    # The headline: sampled dialogues (a greedy one hides what a sampling policy usually asks), paired
    # by task, against the template's questions and the untrained model, with the ceiling beside them.
    # The strongest baseline that reads nothing: questions chosen on the training tasks of the held-out set's
    # own kind (the corpus's here; IN3's below), asked unchanged.
    fixed = run.best_fixed_list(matcher)
    log(f"      best fixed list, chosen on the corpus's {len(fixed.task_ids)} training tasks: " + " / ".join(fixed.questions))
    shares = headline_shares(trained, base, test, matcher, samples=samples, seed=profile.seed + 1000,
                             fixed_list=fixed.questions)
    lead = headline(shares)
    log(f"      {lead['verdict']}")
    stage("sampled dialogues, both models (the headline)")
    in3 = in3_partials("test", profile.in3_held_out) if profile.in3_held_out and task_set is None else []
    in3_report = None
    if in3:
        log(f"      the same on {len(in3)} of IN3's held-out tasks, with IN3's own inquiries beside them")
        fixed_in3 = run.best_fixed_list(matcher, in3_fixed_list_tasks(profile, len(in3)), name="best_fixed_list_in3")
        log(f"      best fixed list for IN3, chosen on {len(fixed_in3.task_ids)} of IN3's training tasks: "
            + " / ".join(fixed_in3.questions))
        in3_report = in3_section(trained, base, in3, matcher, fixed_in3, samples, seed=profile.seed + 1000)
        log(f"      IN3: {in3_report['headline']['verdict']}")
        stage("sampled dialogues on IN3's held-out tasks")
    systems = baseline_systems(profile, base, trained, os.environ.get(ENDPOINT_ENV), fixed_list=fixed.questions)
    results = evaluate_all(systems, test, matcher, judge, seed=profile.seed, run=run, log=log)
    stage("dialogues and outlines, every system")
    by_name = {r.name: r for r in results}
    table = results_table(results, judge, reference="trained")
    agreement = judge_agreement(by_name["trained"], by_name["untrained"], [judge, llm_judge(profile, base)],
                                n=min(len(test), profile.agreement_tasks))
    save_items(run.human_eval_items, human_eval_pairs(by_name))
    stage("judging and human-evaluation items")

    report = {
        "profile": profile.name, "model": profile.model, "corpus": stats, "held_out_tasks": len(test),
        "task_set": task_set.label if task_set else "bundled corpus, test split",
        "train_steps": trained_run.steps, "train_seconds": round(trained_run.seconds, 1),
        "method": "+".join(profile.train.method), "training": methods.describe(profile),
        "train_unit": methods.unit(profile), "redraws": profile.redraws,
        "outline_writer": "the writer trained by writer RFT" if writer is not None else "the untrained model",
        "before": "untrained", "after": "trained",
        "headline": {**lead, "samples": samples, "shares": {k: [round(float(x), 5) for x in v] for k, v in shares.items()}},
        "best_fixed_list": {"questions": list(fixed.questions), "train_shares": list(fixed.train_shares),
                            "train_tasks": len(fixed.task_ids)},
        "elicited_share_sampled": paired_difference(shares["trained"], shares["untrained"]),
        "elicited_share_dialogue": paired_difference(by_name["trained"].elicited(), by_name["untrained"].elicited()),
        "table": table, "outline_verdict": outline_verdict(table), "judge_agreement": agreement,
        "elicited_by_kind": elicited_by_kind(results),
        "questions_naming_the_request": naming_the_request(results),
        "examples": [{"task_id": d.partial.task_id, "request": d.partial.request,
                      **{r.name: {"turns": d_r.history(), "outline": d_r.outline}
                         for r in results for d_r in r.dialogues if d_r.partial.task_id == d.partial.task_id}}
                     for d in by_name["trained"].dialogues[:5]],
        "in3": in3_report,
        "wall_seconds": round(time.time() - started, 1),
        "stage_seconds": stages,
    }
    atomic_write_json(out / "report.json", report)
    metrics = read_metrics(trained_run.metrics_path)
    figures = (elicitation_by_turn_figure(results), elicitation_by_domain_figure(results),
               *training_figures(metrics))
    atomic_write_text(out / "report.html", report_html(report, figures, [r.name for r in results]))

    log("[5/5] results (mean [95% CI] over held-out tasks)")
    log(table_text(table))
    log(lead["verdict"])
    log(report["outline_verdict"])
    log(kind_table_text(report["elicited_by_kind"], report["questions_naming_the_request"]))
    if in3_report:
        log(f"IN3's held-out side ({in3_report['tasks']} tasks, sampled dialogues): {in3_report['headline']['verdict']}")
        log(kind_table_text(in3_report["elicited_by_kind"], in3_report["questions_naming_the_request"]))
    for key in ("elicited_share_sampled", "elicited_share_dialogue"):
        r = report[key]
        log(f"{key}: untrained {r['before']:.3f} -> trained {r['after']:.3f}, difference "
            f"{r['difference']:+.3f} (95% CI {r['ci_low']:+.3f} to {r['ci_high']:+.3f}, {r['tasks']} tasks)")
    log(f"judges agree on {agreement['agreement']:.0%} of {agreement['tasks']} outline pairs "
        f"({' vs '.join(agreement['judges'])})")
    log(f"Done in {report['wall_seconds']:.0f} s. Report: {out / 'report.html'} (and report.json)")
    return report
