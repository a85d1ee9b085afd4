"""The main job, end to end: mask, simulate, train with GRPO, compare with the untrained model.

``make demo`` runs this with the ``cpu`` profile (offline, bundled model, about 20 minutes on
2 cores); the ``cpu-smoke`` profile runs the same stages in about a minute.
"""

from __future__ import annotations

import html
import json
import time
from pathlib import Path
from typing import Any

from .backends import EmbeddingSimilarity
from .config import Profile
from .evaluation import LocalPolicy, compare, evaluate_policy
from .files import atomic_write_json, atomic_write_text
from .matching import FactMatcher
from .models import load_adapter, load_model_and_tokenizer
from .plots import training_curves_figure
from .reward import ElicitationReward
from .runs import masked_test_tasks
from .tasks import corpus_stats, load_tasks
from .training import train


def run_demo(profile: Profile, out: str | Path, samples: int | None = None, log=print) -> dict[str, Any]:
    """Every stage in order; writes ``report.json`` and ``report.html`` into ``out`` and returns the report."""
    out = Path(out)
    started = time.time()
    stats = corpus_stats(load_tasks())
    log(f"[1/4] corpus: {stats['tasks']} tasks in {stats['domains']} domains, {stats['facts']} facts")
    test = masked_test_tasks(out, profile, refresh=True)
    log(f"[2/4] masked {len(test)} held-out tasks ({profile.mask_strategy}); the simulated user holds their hidden facts")
    log(f"[3/4] GRPO training: {profile.train.max_steps} steps on {profile.model} -> {out / 'train'}")
    trained_run = train(profile, out / "train")
    log(f"      {trained_run.steps} steps in {trained_run.seconds:.0f} s")
    log("[4/4] evaluating the untrained and the trained model on the held-out tasks")
    reward = ElicitationReward(FactMatcher(EmbeddingSimilarity()))
    tokens = profile.train.max_completion_length
    samples = samples or (2 if profile.name == "cpu-smoke" else 8)
    base = LocalPolicy(*load_model_and_tokenizer(profile.model), profile.question_prefix, tokens, name="untrained")
    trained = LocalPolicy(*load_adapter(trained_run.adapter_dir, profile.model), profile.question_prefix, tokens,
                          name="trained")
    before = evaluate_policy(base, test, reward, samples=samples, seed=profile.seed)
    after = evaluate_policy(trained, test, reward, samples=samples, seed=profile.seed)
    report = {"profile": profile.name, "model": profile.model, "corpus": stats, "train_steps": trained_run.steps,
              "train_seconds": round(trained_run.seconds, 1), **compare(before, after),
              "wall_seconds": round(time.time() - started, 1)}
    atomic_write_json(out / "report.json", report)
    metrics = [json.loads(ln) for ln in trained_run.metrics_path.read_text().splitlines() if ln.strip()]
    atomic_write_text(out / "report.html", report_html(report, metrics))
    for key in ("reward_per_question", "elicited_share_dialogue"):
        r = report[key]
        log(f"      {key}: untrained {r['before']:.3f} -> trained {r['after']:.3f}, difference "
            f"{r['difference']:+.3f} (95% CI {r['ci_low']:+.3f} to {r['ci_high']:+.3f}, {r['tasks']} tasks)")
    log(f"Done in {report['wall_seconds']:.0f} s. Report: {out / 'report.html'} (and report.json)")
    return report


def report_html(report: dict[str, Any], metrics: list[dict]) -> str:
    """One self-contained page: the comparison table, the training curves, example dialogues."""
    rows = "".join(
        f"<tr><td>{label}</td><td>{r['before']:.3f}</td><td>{r['after']:.3f}</td>"
        f"<td>{r['difference']:+.3f} [{r['ci_low']:+.3f}, {r['ci_high']:+.3f}]</td></tr>"
        for label, r in (("elicitation reward per first question", report["reward_per_question"]),
                         ("share of hidden facts elicited in the dialogue", report["elicited_share_dialogue"]))
    )
    examples = "".join(
        f"<h3>{html.escape(e['task_id'])}</h3><blockquote>{html.escape(e['request'])}</blockquote>"
        + "".join(
            f"<p><b>{name}</b></p><ol>"
            + "".join(f"<li>{html.escape(q)}<br><i>{html.escape(a)}</i></li>" for q, a in e[name]) + "</ol>"
            for name in (report["before"], report["after"])
        )
        for e in report["examples"][:5]
    )
    curves = training_curves_figure(metrics, title="GRPO training").to_html(full_html=False, include_plotlyjs=True)
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>proactive report</title></head><body>"
        f"<h1>proactive: {html.escape(report['profile'])} run on {html.escape(report['model'])}</h1>"
        f"<p>{report['held_out_tasks']} held-out tasks; {report['train_steps']} GRPO steps; "
        f"{report['wall_seconds']:.0f} s in all. Differences are trained minus untrained, paired by task, "
        "with bootstrap 95% intervals.</p>"
        f"<table border='1' cellpadding='4'><tr><th>metric</th><th>untrained</th><th>trained</th>"
        f"<th>difference [95% CI]</th></tr>{rows}</table>{curves}<h2>Dialogues</h2>{examples}</body></html>"
    )
