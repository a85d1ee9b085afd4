"""``proactive <stage>``: the same functions the notebooks call, from the shell."""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import logging
import os
import sys
from pathlib import Path

from .errors import ProactiveError, shown
from .files import atomic_write_jsonl
from .masking import STRATEGIES, mask_many, split_tasks
from .task_files import TaskSet, load_task_set
from .tasks import CATEGORIES, Task, corpus_stats, load_tasks


def _tasks_arg(parser: argparse.ArgumentParser, masked_too: bool = False) -> None:
    kinds = "full or already-masked tasks (what `proactive mask --out` writes)" if masked_too else "full tasks"
    parser.add_argument(
        "--tasks", nargs="+", metavar="FILE.jsonl", help=f"task files ({kinds}) to use instead of the bundled corpus"
    )


def _task_set(args: argparse.Namespace) -> TaskSet | None:
    return load_task_set(args.tasks) if getattr(args, "tasks", None) else None


def _full_tasks(args: argparse.Namespace) -> list[Task]:
    """Full tasks for commands that need every fact (masking, corpus statistics)."""
    if not args.tasks:
        return load_tasks()
    task_set = load_task_set(args.tasks)
    if task_set.masked:
        raise ProactiveError(f"{task_set.label} holds already-masked tasks (hidden_facts); this command needs full "
                             "tasks (with 'facts'); masked tasks go to `evaluate`, `train` or `demo` --tasks")
    return list(task_set.tasks)


def cmd_corpus_stats(args: argparse.Namespace) -> int:
    stats = corpus_stats(_full_tasks(args))
    if args.json:
        print(json.dumps(stats, indent=2))
        return 0
    print(f"{stats['tasks']} tasks in {stats['domains']} domains, {stats['facts']} facts")
    fpt = stats["facts_per_task"]
    print(f"facts per task: min {fpt['min']}, mean {fpt['mean']}, max {fpt['max']}")
    for domain, count in stats["tasks_per_domain"].items():
        print(f"  {domain:<28} {count:>4}")
    print("fact categories: " + ", ".join(f"{k} {v}" for k, v in stats["fact_categories"].items()))
    return 0


def cmd_corpus_generate(args: argparse.Namespace) -> int:
    from .backends import make_chat_backend
    from .data.generate import draft_tasks

    examples = _full_tasks(args)
    same_domain = [t for t in examples if t.domain == args.domain] or examples
    backend = make_chat_backend(args.backend)
    tasks, rejected = draft_tasks(backend, args.domain, args.n, same_domain, seed=args.seed)
    if tasks:
        atomic_write_jsonl(args.out, [t.to_dict() for t in tasks])
    print(f"{len(tasks)} valid task(s) written to {args.out if tasks else '(nothing written)'}; "
          f"{len(rejected)} draft(s) rejected")
    for reason in rejected[:5]:
        print(f"  rejected: {reason}")
    return 0 if tasks else 1


def cmd_mask(args: argparse.Namespace) -> int:
    tasks = _full_tasks(args)
    if args.split != "all":
        tasks = split_tasks(tasks, seed=args.split_seed)[args.split]
    if args.n < 1:
        raise ProactiveError(f"--n must be at least 1 (got {args.n})")
    if args.k is not None and args.k < 1:
        raise ProactiveError(f"--k must be at least 1 (got {args.k})")
    categories = [c.strip() for c in args.categories.split(",") if c.strip()] if args.categories else None
    if categories is not None:
        unknown = [c for c in categories if c not in CATEGORIES]
        if unknown or not categories:
            raise ProactiveError(f"--categories: {', '.join(map(repr, unknown)) or 'none given'} not among the "
                                 f"categories {', '.join(CATEGORIES)} (lower case, comma-separated)")
        if args.strategy != "category":
            raise ProactiveError("--categories only applies to --strategy category")
    partials = mask_many(tasks, args.strategy, args.k, args.seed, categories)[: args.n]
    if not partials:
        raise ProactiveError(f"no task has facts of the categories {', '.join(categories or [])} and others to "
                             "keep visible; choose other categories")
    if args.out:
        atomic_write_jsonl(args.out, [p.to_dict() for p in partials])
        print(f"wrote {len(partials)} masked task(s) to {args.out}")
        return 0
    for partial in partials:
        print(f"[{partial.task_id}] {partial.request}")
        for fact in partial.hidden_facts:
            print(f"    hidden ({fact.category}, {fact.importance:g}): {fact.statement}")
        print()
    return 0


def _reward_scorer(backend: str):
    from .backends import EmbeddingSimilarity, make_chat_backend
    from .matching import FactMatcher
    from .reward import ElicitationReward

    chat = None if backend == "embedding" else make_chat_backend(backend)
    return ElicitationReward(FactMatcher(EmbeddingSimilarity()), chat=chat)


def cmd_reward(args: argparse.Namespace) -> int:
    """Score question lines: each gets the simulated user's answer, revealed fact indices and reward."""
    from tqdm.auto import tqdm

    from .columns import partial_from_columns
    from .files import iter_jsonl

    rows, items = [], []
    for line, row in iter_jsonl(args.input):
        if not isinstance(row, dict) or not isinstance(row.get("question"), str):
            raise ProactiveError(f"{args.input}:{line}: field 'question': must be a string")
        try:
            partial, history = partial_from_columns(row)
        except ProactiveError as exc:
            raise ProactiveError(f"{args.input}:{line}: {exc}") from None
        rows.append(row)
        items.append((partial, row["question"], history))
    if not items:
        raise ProactiveError(f"{args.input}: no question lines to score; each line is a JSON object with 'request', "
                             "'hidden_facts' and 'question'")
    scorer = _reward_scorer(args.backend)
    out_rows = []
    with tqdm(total=len(items), desc="scoring", unit="question") as bar:
        for start in range(0, len(items), args.batch_size):
            chunk = items[start : start + args.batch_size]
            for row, (partial, _, _), breakdown in zip(rows[start : start + args.batch_size], chunk,
                                                        scorer.score_many(chunk)):
                index = partial.meta["fact_index"]  # fact id -> its position in the line's hidden_facts
                out_rows.append({**row, "answer": breakdown.answer,
                                 "revealed": [index[fid] for fid in breakdown.revealed],
                                 "reward": breakdown.reward, "breakdown": breakdown.to_dict()})
            bar.update(len(chunk))
    if args.out:
        atomic_write_jsonl(args.out, out_rows)
        mean = sum(r["reward"] for r in out_rows) / max(1, len(out_rows))
        print(f"scored {len(out_rows)} question(s), mean reward {mean:.3f} -> {args.out}")
    else:
        for row in out_rows:
            print(json.dumps(row, ensure_ascii=False))
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Fit the fact matcher on Qulac (sentence facts) and on IN3's tune part (facts written as label and
    value); report agreement and AUC on held-out topics, and own details drawn out on IN3's check part."""
    from .backends import EmbeddingSimilarity
    from .calibration import calibrate, calibrate_labelled
    from .data.in3 import bundled_in3_path, load_in3
    from .data.qulac import load_qulac

    similarity = EmbeddingSimilarity()
    calibration, report = calibrate(load_qulac(args.qulac), similarity, seed=args.seed)
    calibration, report["labelled_facts"] = calibrate_labelled(load_in3(args.in3 or bundled_in3_path()), similarity,
                                                               calibration)
    print(json.dumps(report, indent=2))
    if args.out:
        calibration.save(args.out)
        print(f"calibration written to {args.out}")
    return 0


def _at_least(low: int, high: int | None = None):
    """An argparse type: a whole number of at least ``low`` (and at most ``high``: a count or a seed),
    else argparse's one-line error."""
    from .config import MAX_SEED

    high = MAX_SEED if high is None else high  # every count and seed fits a seed's 31 bits

    def parse(text: str) -> int:
        try:
            value = int(text) if len(text) <= 30 else None
        except ValueError:
            value = None
        if value is None:
            raise argparse.ArgumentTypeError(f"{text[:30]!r} is not a whole number") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low} (got {value})")
        if value > high:
            raise argparse.ArgumentTypeError(f"must be at most {high} (got {value})")
        return value

    parse.__name__ = "number"
    return parse


def _method(text: str) -> tuple[str, ...]:
    """An argparse type: training methods, one or several joined by '+' (``rft+grpo``)."""
    from . import methods

    stages = methods.parse(text) or ()
    unknown = [name for name in stages if name not in methods.names()]
    if not stages or unknown or len(set(stages)) != len(stages):
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a training method: choose from "
                                         f"{', '.join(methods.names())}, or stages joined by '+' (rft+grpo)")
    return stages


def _trackers(text: str) -> tuple[str, ...]:
    """An argparse type: ``--report-to tensorboard`` (or several, comma-separated, or none)."""
    from .tracking import parse_report_to

    try:
        return parse_report_to(text)
    except ProactiveError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _with_trackers(profile, report_to: tuple[str, ...] | None):
    """The profile with ``--report-to``'s trackers in place of its ``train.report_to`` (when given)."""
    if report_to is None:
        return profile
    import dataclasses

    return dataclasses.replace(profile, train=dataclasses.replace(profile.train, report_to=report_to))


def _temperature(text: str) -> float:
    """An argparse type: a sampling temperature, 0 (greedy) or from ``MIN_TEMPERATURE`` to 10."""
    from .config import MIN_TEMPERATURE

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (value == 0 or MIN_TEMPERATURE <= value <= 10):  # also false for nan
        raise argparse.ArgumentTypeError(f"must be 0 (greedy) or from {MIN_TEMPERATURE} to 10 (got {text[:30]})")
    return value


def cmd_fidelity(args: argparse.Namespace) -> int:
    """The simulated user against a task file's own inquiries (IN3's; the bundled copy's check part by
    default), beside the reward-hacking suite: both sides of the judge in one table."""
    from .backends import EmbeddingSimilarity
    from .data.in3 import bundled_in3_path
    from .fidelity import fidelity_rows, inquiry_check
    from .matching import FactMatcher
    from .reward import ElicitationReward
    from .reward_hacking import run_suite
    from .task_files import load_task_set
    from .tasks import load_tasks_by_id

    # A file of one's own without IN3's split is checked whole.
    source = args.tasks or bundled_in3_path()
    partials = [p for p in load_task_set(source).partials if p.inquiries()
                and (args.split == "all" or p.meta.get("split", args.split) == args.split)][: args.limit or None]
    if not partials:
        raise ProactiveError(f"{source}: no task with example inquiries in split {args.split!r}; use --split all, "
                             "or a file whose tasks carry them (IN3's format, or meta.inquiries by fact id)")
    matcher = FactMatcher(EmbeddingSimilarity())
    check = inquiry_check(partials, matcher, turns=args.turns)
    rows = fidelity_rows(check, run_suite(ElicitationReward(matcher), load_tasks_by_id()))
    if args.json:
        print(json.dumps({"summary": check.summary(), "counts": check.counts}, indent=2))
        return 0
    width = max(len(r[1]) for r in rows)
    for side, measure, value in rows:
        print(f"{side:<19} {measure:<{width}}  {value}")
    print("\nanswer kinds, each inquiry asked alone: " + ", ".join(f"{k} {v}" for k, v in check.counts.items()))
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    """Train the profile's policy (its methods, in order) into the run folder's ``train/``: adapter, metrics,
    config, curves."""
    from . import methods
    from .config import load_profile
    from .run_folder import RunDir
    from .task_files import profile_partials
    from .training import check_trainable

    profile = load_profile(args.profile)
    if args.method:
        import dataclasses

        profile = dataclasses.replace(profile, train=profile.train.with_method(args.method))
    profile = _with_trackers(profile, args.report_to)
    check_trainable(profile)  # before the run folder is made: a refused run leaves nothing behind
    task_set = _task_set(args)
    run = RunDir.default(profile, args.out, task_set)
    partials = profile_partials(profile, "train", task_set) if task_set else None
    print(f"training {profile.model} ({methods.describe(profile, args.max_steps)}) into {run.train_dir}", flush=True)
    result = run.train(max_steps=args.max_steps, resume=not args.fresh, partials=partials)
    print(f"trained {result.steps} {methods.unit(profile)} in {result.seconds:.0f} s; adapter: {result.adapter_dir}; "
          f"metrics: {result.metrics_path}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """The trained policy out of its run folder: merged 16-bit, GGUF, or the Hub (each with a model card)."""
    from .export import export_gguf, export_merged, push_merged, run_parts

    if not (args.merged or args.gguf or args.hub):
        raise ProactiveError("say what to export: --merged DIR, --gguf FILE.gguf and/or --hub OWNER/NAME")
    run_parts(args.run)  # a missing adapter is one line before any model loads
    if args.gguf:
        from .files import check_writable

        if not args.gguf.endswith(".gguf"):
            raise ProactiveError(f"--gguf {args.gguf}: a GGUF file's name ends in .gguf")
        check_writable(args.gguf)
    if args.merged:
        print(f"merged 16-bit model: {export_merged(args.run, args.merged)}")
    if args.gguf:
        print(f"GGUF ({args.gguf_type}): {export_gguf(args.run, args.gguf, args.gguf_type)}")
    if args.hub:
        print(f"pushed to {push_merged(args.run, args.hub, private=not args.public)}")
    return 0


def cmd_data_fetch(args: argparse.Namespace) -> int:
    """Download a public dataset into the cache folder (or ``--to``), checked against its pinned SHA-256."""
    from .data.fetch import DATASETS, fetch

    path = fetch(args.dataset, args.to, args.base_url)
    print(f"{args.dataset}: {path} ({DATASETS[args.dataset].licence}; its LICENSE beside it)")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """The main job end to end on CPU: corpus, masking, training (the profile's methods), evaluation, report."""
    from .config import load_profile
    from .pipeline import run_demo
    from .training import check_trainable

    profile = _with_trackers(load_profile(args.profile), args.report_to)
    check_trainable(profile)  # before the run folder is made
    run_demo(profile, args.out, samples=args.samples, task_set=_task_set(args))
    return 0


def _judge(spec: str):
    from .backends import EmbeddingSimilarity, make_chat_backend
    from .judges import EmbeddingJudge, LLMJudge

    return EmbeddingJudge(EmbeddingSimilarity()) if spec == "embedding" else LLMJudge(make_chat_backend(spec))


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Dialogues with the simulated user on held-out tasks, then outlines; metrics with 95% intervals."""
    from .backends import EmbeddingSimilarity
    from .config import load_profile
    from .evaluation import evaluate_system
    from .files import atomic_write_json, check_writable
    from .matching import FactMatcher
    from .models import check_runnable
    from .run_folder import eval_file_name
    from .system_specs import make_system
    from .task_files import profile_partials

    profile = load_profile(args.profile)
    check_runnable(profile)  # as train and demo do: never a GPU profile silently on CPU
    if args.turns < 0:
        raise ProactiveError(f"--turns must be 0 or more (got {args.turns})")
    task_set = _task_set(args)
    if task_set is None and args.split not in ("test", "validation"):
        raise ProactiveError(f"evaluate on 'test' or 'validation', not {args.split!r}: the policy trained on 'train'")
    partials = profile_partials(profile, args.split, task_set)
    tasks_label = task_set.label if task_set else f"bundled corpus, {args.split} split"
    judge = _judge(args.judge)
    system = make_system(args.policy, profile, name=args.name)
    out = args.out or Path("runs") / "eval" / eval_file_name(system.name)
    check_writable(out)  # before the work, not after it
    matcher = FactMatcher(judge.similarity if hasattr(judge, "similarity") else EmbeddingSimilarity())
    result = evaluate_system(system, partials, matcher, judge, turns=args.turns, temperature=args.temperature,
                             seed=profile.seed)
    record = {**result.to_dict(), "policy": args.policy, "profile": profile.name, "split": args.split,
              "task_set": tasks_label}
    atomic_write_json(out, record)
    for key, value in record["metrics"].items():
        if value and "mean" in value:
            print(f"{key:>18}: {value['mean']:.3f} [{value['ci_low']:.3f}, {value['ci_high']:.3f}]")
        elif value:
            print(f"{key:>18}: {value['count']} of {value['of']} (left out of coverage)")
    print(f"{system.name}: {len(partials)} tasks ({tasks_label}), up to {args.turns} questions -> {out}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """The results table of several evaluation files, with the reference's pairwise win rates."""
    from .evaluation import SystemResult
    from .files import atomic_write_json, read_json
    from .results_table import results_table, table_markdown, table_text

    results, labels = [], []
    for path in args.files:
        if not Path(path).exists():
            raise ProactiveError(f"{path}: no such evaluation file; write it with `proactive evaluate`")
        data = read_json(path)
        labels.append(data.get("task_set") if isinstance(data, dict) else None)
        try:
            results.append(SystemResult.from_dict(data))
        except ProactiveError as exc:
            raise ProactiveError(f"{path}: {exc}") from None
    first_ids = [d.partial.task_id for d in results[0].dialogues]
    for path, result in zip(args.files[1:], results[1:]):
        ids = [d.partial.task_id for d in result.dialogues]
        if sorted(ids) != sorted(first_ids):
            only = sorted(set(ids) ^ set(first_ids))
            raise ProactiveError(
                f"{path} and {args.files[0]} hold different tasks ({len(ids)} vs {len(first_ids)}"
                f"{'; e.g. ' + only[0] + ' is in one only' if only else ', some repeated'}); evaluate every system "
                "on the same tasks (the same --profile and --split)")
    first_tasks = {d.partial.task_id: d.partial for d in results[0].dialogues}
    for path, result in zip(args.files[1:], results[1:]):
        for d in result.dialogues:
            other = first_tasks[d.partial.task_id]
            if (d.partial.request, d.partial.hidden_facts) != (other.request, other.hidden_facts):
                raise ProactiveError(f"{path} and {args.files[0]} hold different versions of task "
                                     f"{d.partial.task_id!r} (its request or hidden facts differ); evaluate every "
                                     "system on the same masked tasks")
    known = {label for label in labels if label}
    if len(known) > 1:
        raise ProactiveError(f"the files were measured on different task sets ({' vs '.join(sorted(known))}); "
                             "evaluate every system with the same --tasks (or --profile and --split)")
    names = [r.name for r in results]
    if len(set(names)) != len(names):
        raise ProactiveError(f"two files hold systems with the same name {names}; rerun evaluate with --name")
    reference = args.reference or names[0]
    if reference not in names:
        raise ProactiveError(f"--reference {reference!r} is not one of {names}")
    table = results_table(results, _judge(args.judge), reference=reference)
    table["task_set"] = next(iter(known), "not recorded")
    print(f"{len(first_ids)} tasks ({table['task_set']})")
    print(table_markdown(table) if args.markdown else table_text(table) + table["paper"])
    if args.out:
        atomic_write_json(args.out, table)
        print(f"table written to {args.out}")
    return 0


class UsageError(Exception):
    """A command line argparse refused: shown as one line, like every other error."""


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors as one line ("error: --n must be at least 1 (got -1)") instead of the
    usage block and a SystemExit."""

    def error(self, message: str):
        if message.startswith("argument "):
            name, _, why = message[len("argument "):].partition(": ")
            message = f"{name} {why}" if why.startswith("must be") else f"{name}: {why}"
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def build_parser() -> argparse.ArgumentParser:
    from .simulator import MAX_TURNS

    parser = _Parser(prog="proactive", description=__doc__.replace("``", ""))
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details, and dependencies' warnings (hidden otherwise)")
    sub = parser.add_subparsers(dest="command", required=True)

    corpus = sub.add_parser("corpus", help="the task corpus").add_subparsers(dest="corpus_command", required=True)
    stats = corpus.add_parser("stats", help="tasks, domains, facts per task")
    stats.add_argument("--json", action="store_true", help="print JSON")
    _tasks_arg(stats)
    stats.set_defaults(func=cmd_corpus_stats)
    gen = corpus.add_parser("generate", help="draft new tasks with a chat model (a 7B+ model is advised)")
    gen.add_argument("--backend", required=True, help="'local[:MODEL]' or 'openai:MODEL@http://host:port/v1'")
    gen.add_argument("--domain", required=True)
    gen.add_argument("--n", type=_at_least(1), default=5)
    gen.add_argument("--seed", type=_at_least(0), default=0)
    gen.add_argument("--out", required=True, metavar="FILE.jsonl")
    _tasks_arg(gen)
    gen.set_defaults(func=cmd_corpus_generate)

    m = sub.add_parser("mask", help="hide key facts of tasks (the paper's masking step)")
    m.add_argument("--n", type=_at_least(1), default=5, help="how many masked tasks to output")
    m.add_argument("--seed", type=_at_least(0), default=0)
    m.add_argument("--strategy", choices=STRATEGIES, default="top_k")
    m.add_argument("--k", type=_at_least(1), default=None, help="facts to hide per task (default: half, rounded up)")
    m.add_argument("--categories", help=f"comma-separated, for --strategy category: {', '.join(CATEGORIES)}")
    m.add_argument("--split", choices=["all", "train", "validation", "test"], default="all")
    m.add_argument("--split-seed", type=_at_least(0), default=0)
    m.add_argument("--out", metavar="FILE.jsonl", help="write JSONL instead of printing")
    _tasks_arg(m)
    m.set_defaults(func=cmd_mask)

    tr = sub.add_parser("train", help="train the question-asking policy (GRPO, RFT, or RFT then GRPO)")
    tr.add_argument("--profile", required=True, help="cpu-smoke, cpu, colab-t4, paper, multi-gpu or a YAML path")
    tr.add_argument("--out", default=None, help="run folder; training goes to its train/ (default: runs/PROFILE); "
                    "one training run at a time: a second into the same folder is refused")
    tr.add_argument("--max-steps", type=_at_least(1), default=None, help="override the profile's step count")
    tr.add_argument("--fresh", action="store_true", help="ignore checkpoints in the run folder")
    tr.add_argument("--method", type=_method, default=None,
                    help="grpo (single questions), rft (rejection-sampling fine-tuning over whole dialogues), or "
                         "stages joined by '+' (rft+grpo: RFT, then GRPO); default: the profile's train.method")
    _report_to_arg(tr)
    _tasks_arg(tr, masked_too=True)
    tr.set_defaults(func=cmd_train)

    ex = sub.add_parser("export", help="the trained policy as a merged model, a GGUF file, or a Hub repository")
    ex.add_argument("run", help="a run folder (runs/demo) or its train/ folder")
    ex.add_argument("--merged", metavar="DIR", help="a new folder: merged 16-bit model, tokenizer, model card")
    ex.add_argument("--gguf", metavar="FILE.gguf", help="one GGUF file for llama.cpp / Ollama (the bundled model)")
    ex.add_argument("--gguf-type", choices=("f16", "f32"), default="f16", help="GGUF weights (default f16)")
    ex.add_argument("--hub", metavar="OWNER/NAME", help="push the merged model to the Hugging Face Hub (network)")
    ex.add_argument("--public", action="store_true", help="with --hub: a public repository (default private)")
    ex.set_defaults(func=cmd_export)

    rw = sub.add_parser("reward", help="score clarifying questions with the simulated user")
    rw.add_argument("--input", required=True, metavar="FILE.jsonl",
                    help='lines of {"request": str, "hidden_facts": [str], "question": str, '
                         '"known_facts"?: [str], "history"?: [{"question", "answer"}]}')
    rw.add_argument("--out", metavar="FILE.jsonl", help="write JSONL here (default: print); an existing file is "
                    "replaced whole when scoring ends (two runs into one file: the last to finish wins)")
    rw.add_argument("--backend", default="embedding",
                    help="'embedding' (offline, default), 'local[:MODEL]' or 'openai:MODEL@URL' (LLM role-play)")
    rw.add_argument("--batch-size", type=_at_least(1), default=512)
    rw.set_defaults(func=cmd_reward)

    cal = sub.add_parser("calibrate", help="fit the simulated user's fact matcher on Qulac and IN3's tune part")
    cal.add_argument("--qulac", default=None, help="path to qulac.json (default: where `proactive data fetch qulac` "
                     "puts it)")
    cal.add_argument("--in3", default=None, help="IN3 train split in its own format (default: the bundled copy)")
    cal.add_argument("--seed", type=_at_least(0), default=0, help="topic split seed")
    cal.add_argument("--out", default=None, help="write the calibration JSON here")
    cal.set_defaults(func=cmd_calibrate)

    fid = sub.add_parser("fidelity", help="the simulated user against people's own questions (IN3), beside the tricks")
    fid.add_argument("--tasks", default=None, help="a task file whose tasks carry inquiries (default: bundled IN3)")
    fid.add_argument("--split", default="test", choices=["test", "train", "all"],
                     help="IN3's check part (test, default; never tuned on), its tune part (train), or all")
    fid.add_argument("--limit", type=_at_least(0), default=0, help="check only the first N tasks (0: all)")
    fid.add_argument("--turns", type=_at_least(1, MAX_TURNS), default=3, help="turns of the most-important-first dialogues")
    fid.add_argument("--json", action="store_true", help="print the summary as JSON")
    fid.set_defaults(func=cmd_fidelity)

    from .system_specs import SPECS_HELP

    ev = sub.add_parser("evaluate", help="dialogues + outlines on held-out tasks, metrics with 95%% intervals")
    ev.add_argument("--policy", required=True, help=SPECS_HELP)
    ev.add_argument("--profile", default="cpu", help="model, held-out task count and lengths (default cpu)")
    ev.add_argument("--split", default="test", help="test (default) or validation")
    ev.add_argument("--turns", type=_at_least(1, MAX_TURNS), default=3, help="most questions per dialogue (default 3)")
    ev.add_argument("--temperature", type=_temperature, default=0.0, help="0: greedy questions (default)")
    ev.add_argument("--judge", default="embedding", help="'embedding' (offline) or a chat backend spec")
    ev.add_argument("--name", default=None, help="the system's name in tables")
    ev.add_argument("--out", default=None, help="evaluation JSON (default runs/eval/NAME.json)")
    _tasks_arg(ev, masked_too=True)
    ev.set_defaults(func=cmd_evaluate)

    cp = sub.add_parser("compare", help="the results table of evaluation files, with pairwise win rates")
    cp.add_argument("files", nargs="+", metavar="EVAL.json")
    cp.add_argument("--markdown", action="store_true", help="print the table as Markdown (default: fit to the terminal)")
    cp.add_argument("--reference", default=None, help="system whose win rates are shown (default: the first)")
    cp.add_argument("--judge", default="embedding", help="'embedding' (offline) or a chat backend spec")
    cp.add_argument("--out", default=None, help="write the table as JSON too")
    cp.set_defaults(func=cmd_compare)

    data = sub.add_parser("data", help="public datasets").add_subparsers(dest="data_command", required=True)
    fetch = data.add_parser("fetch", help="download a public dataset (Qulac, MIT) from its repository, checked")
    fetch.add_argument("dataset", choices=["qulac"])
    fetch.add_argument("--to", default=None, help="file to write (default: the cache folder, where commands look)")
    fetch.add_argument("--from", dest="base_url", default=None, metavar="URL",
                       help="a mirror holding the file and its LICENSE (default: the dataset's public repository)")
    fetch.set_defaults(func=cmd_data_fetch)

    demo = sub.add_parser("demo", help="run the pipeline end to end: mask, train, evaluate, report")
    demo.add_argument("--profile", default="cpu")
    demo.add_argument("--out", default="runs/demo")
    demo.add_argument("--samples", type=_at_least(1), default=None, help="sampled questions per held-out task")
    demo.add_argument("--tasks", nargs="+", metavar="FILE.jsonl",
                      help="held-out tasks to evaluate on (full or already masked) instead of the corpus's test "
                           "split; training stays on the corpus's train split")
    _report_to_arg(demo)
    demo.set_defaults(func=cmd_demo)
    return parser


def _report_to_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--report-to", type=_trackers, default=None, metavar="TRACKER",
                        help="watch training in tensorboard, trackio or wandb (comma-separated for several, none "
                             "for none); default: the profile's train.report_to. TensorBoard: "
                             "tensorboard --logdir RUN/train/tensorboard")


def _check_output(args: argparse.Namespace) -> None:
    """A file ``--out`` is checked before any work, so a bad path never costs the work; ``train``
    and ``demo`` write folders."""
    from .files import check_path_length, check_writable

    out = getattr(args, "out", None)
    if out is not None and not out.strip():
        raise ProactiveError("--out is empty; name a file (or leave --out out for the default)")
    for name in ("input", "tasks", "files"):
        value = getattr(args, name, None)
        for given in value if isinstance(value, list) else [value] if value else []:
            check_path_length(given)
    if isinstance(getattr(args, "name", None), str):
        from .run_folder import eval_file_name

        if not args.name.strip() or not args.name.isprintable():
            raise ProactiveError(f"--name {shown(args.name)}: give a name of printable characters (tables show it)")
        check_path_length(eval_file_name(args.name))
    if not out:
        return
    if args.command in ("train", "demo"):
        check_path_length(out)  # a folder; a file --out is checked whole by check_writable below
        return
    inputs = []
    for name in ("input", "tasks", "files"):
        value = getattr(args, name, None)
        inputs += value if isinstance(value, list) else [value] if value else []
    if any(Path(i).exists() and Path(i).resolve() == Path(out).resolve() for i in inputs):
        raise ProactiveError(f"--out {out} is also an input; it would be replaced; write to another file")
    check_writable(out)


#: Libraries whose import-time and deprecation warnings ("Detected no triton", "No module named
#: 'kernels'", torch's pytree notices) say nothing a user of this command can act on; -v shows them.
NOISY_LOGGERS = ("torch", "torchao", "bitsandbytes", "transformers", "datasets", "accelerate", "peft", "trl",
                 "unsloth", "unsloth_zoo", "sentence_transformers", "huggingface_hub", "xformers")


def quiet_dependencies() -> None:
    """Dependencies' warnings off (Python warnings, their loggers below ERROR): one display per stage."""
    import warnings

    warnings.filterwarnings("ignore")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("DATASETS_VERBOSITY", "error")
    os.environ.setdefault("TORCH_CPP_LOG_LEVEL", "ERROR")
    # torch's own log setup runs when torch is imported and would undo a logger level set here: its
    # "registered as a pytree node" notices are turned down by the variable it reads.
    os.environ.setdefault("TORCH_LOGS", "-all")
    # transformers' and the Hub's bars for loading, converting and writing weights (a training step's
    # and a stage's own bars stay)
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ["PROACTIVE_QUIET"] = "1"  # dependencies' own prints (Unsloth's banners): models.dependency_prints
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)


def _clear_progress_bars() -> None:
    """Take unfinished progress bars off the screen, so they are not redrawn below the last line."""
    tqdm = sys.modules.get("tqdm")
    for bar in list(getattr(getattr(tqdm, "tqdm", None), "_instances", ()) or ()):
        bar.leave = False
        with contextlib.suppress(Exception):  # a bar whose stream is gone has nothing to clear
            bar.close()


def interrupted_note(args: argparse.Namespace) -> str:
    """What an interrupted command leaves behind, and how to go on. Every writer renames a whole file
    into place, so an interrupted command never leaves half a file; training keeps its checkpoints."""
    command = args.command
    if command == "train":
        folder = args.out or f"runs/{Path(str(args.profile)).stem}"
        return (f"proactive train stopped; {folder}/train keeps its checkpoints and finished RFT rounds: rerun the "
                "same command to resume (--fresh starts over)")
    if command == "demo":
        return (f"proactive demo stopped; {args.out} keeps its training checkpoints and finished RFT rounds: rerun "
                "the same command to resume (evaluation starts again)")
    out = getattr(args, "out", None)
    where = f"{out} was not written (an earlier file there is as it was)" if out else "nothing was written"
    return f"proactive {command} stopped; {where}: rerun the command to start again"


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    if not args.verbose:
        quiet_dependencies()
    try:
        _check_output(args)
        return args.func(args)
    except ProactiveError as exc:
        _clear_progress_bars()  # a stage that stopped half-way: its bar would be redrawn below the line
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # Ctrl-C, at any point (a model loading, a dialogue, a training step): one line, not the
        # stack of every frame it passed through.
        _clear_progress_bars()
        print(f"\ninterrupted: {interrupted_note(args)}", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `proactive ... | head` closed the pipe: not an error of ours
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush does not fail again
        return 0
    except OSError as exc:
        # A full disk, or a file system that refused a write, below our own writers (a library's save):
        # one line, never a traceback. Our own writers already leave the earlier file in place.
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            print(f"error: no space left on the device ({exc.filename or 'while writing'}); free some space and "
                  "rerun", file=sys.stderr)
            return 2
        if exc.errno == errno.EFBIG:
            print(f"error: {exc.filename or 'a file'} grew past this system's file-size limit (ulimit -f, or the file "
                  "system's); raise the limit or write elsewhere, then rerun (training resumes from its last "
                  "checkpoint)", file=sys.stderr)
            return 2
        if exc.errno == errno.ENAMETOOLONG:
            print(f"error: a file name is too long for the file system ({str(exc.filename)[:60]}...); choose a "
                  "shorter --out or --name", file=sys.stderr)
            return 2
        if exc.errno in (errno.EACCES, errno.EROFS, errno.EPERM):
            print(f"error: cannot write {exc.filename or 'a file'} ({exc.strerror}); choose another --out",
                  file=sys.stderr)
            return 2
        raise
    except Exception as exc:
        from .files import storage_failure

        note = storage_failure(exc)  # torch's or safetensors' writer, refused by the file system
        if note is None:
            raise
        _clear_progress_bars()
        print(f"error: {note}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
