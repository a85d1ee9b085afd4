"""HTML views of the library's results: what the notebooks display and the report page `make demo` writes.

Every static HTML the project shows is built here, from the typed results (PartialTask, RewardBreakdown,
SystemResult, the results table), with every piece of text escaped. The live widgets (widgets.py) use
these views for what they display.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

from .fixed_list import NAME as FIXED_LIST
from .masking import PartialTask
from .outlines import CUT_MARK
from .results_table import cut_note, table_cells, table_header

esc = html.escape
PRE = "<pre style='white-space:pre-wrap;font-family:inherit'>{}</pre>"

#: The report page's look: a readable sans-serif column, tables that keep an interval on one line.
REPORT_CSS = ("body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;max-width:1100px;margin:2em auto;"
              "padding:0 1em;line-height:1.5;color:#222}table{border-collapse:collapse;margin:1em 0}"
              "td,th{border:1px solid #ccc;padding:4px 8px;white-space:nowrap;text-align:left}"
              # Wide tables scroll inside the page; the dialogues' columns share its width and wrap.
              "table{display:block;max-width:100%;overflow-x:auto}"
              "table.dialogues{display:table;table-layout:fixed;width:100%}"
              "table.dialogues td{white-space:normal;overflow-wrap:anywhere}"
              "blockquote{border-left:4px solid #ddd;margin:0;padding:0 1em;color:#555}"
              "details{margin:.4em 0}.outline{background:#f7f7f7;padding:.5em 1em;border-radius:4px}")


def outline_html(text: str) -> str:
    """A written outline's light Markdown (bullets, numbered items, **bold**, # headings) as HTML."""
    import re

    def inline(line: str) -> str:
        return re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", html.escape(line))

    parts, items = [], []
    for raw in text.splitlines():
        line = raw.strip()
        bullet = re.match(r"^(?:[-*+]|\d+[.)])\s+(.*)$", line)
        if bullet:
            items.append(f"<li>{inline(bullet.group(1))}</li>")
            continue
        if items:
            parts.append("<ul>" + "".join(items) + "</ul>")
            items = []
        if line == CUT_MARK:
            parts.append("<p class='cut'><i>... cut here: the writer ran out of tokens (left out of coverage)</i></p>")
        elif line.startswith("#"):
            parts.append(f"<p><b>{inline(line.lstrip('#').strip())}</b></p>")
        elif line:
            parts.append(f"<p>{inline(line)}</p>")
    if items:
        parts.append("<ul>" + "".join(items) + "</ul>")
    return "<div class='outline'>" + "".join(parts) + "</div>"


def html_table(header: Sequence[str], rows: Iterable[Sequence[str]], attrs: str = "") -> str:
    """A table: ``header`` is plain text (escaped here), each row's cells are HTML already."""
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table{' ' + attrs if attrs else ''}><tr>{head}</tr>{body}</table>"


def listed(items: Iterable[str]) -> str:
    """Comma-separated, escaped; a dash for none."""
    return esc(", ".join(items)) or "—"


def turns_html(turns: Iterable[tuple[str, str]]) -> str:
    """A dialogue as a numbered list: each question, its answer in italics beneath."""
    return "".join(f"<li>{esc(q)}<br><i>{esc(a)}</i></li>" for q, a in turns)


def partial_task_html(partial: PartialTask) -> str:
    """The visible request above the facts only the user knows (the paper's masked task)."""
    hidden = "".join(f"<li><b>{esc(f.category)}</b> ({f.importance:g}): {esc(f.statement)}</li>"
                     for f in partial.hidden_facts)
    return (f"<div><p><b>What the assistant sees</b> <code>{esc(partial.task_id)}</code></p>"
            f"<blockquote>{esc(partial.request)}</blockquote>"
            f"<p><b>What only the user knows</b> ({len(partial.hidden_facts)} hidden, "
            f"{partial.strategy}, seed {partial.seed})</p><ul>{hidden}</ul></div>")


def suite_table_html(results) -> str:
    """The reward-hacking suite (``proactive.reward_hacking``): each trick, its reward, and whether it
    stayed below the plain targeted question."""
    return html_table(
        ("kind", "question", "reward", "revealed", "penalties", "below targeted"),
        ((esc(r.kind), esc(r.question[:100]), f"{r.breakdown.reward:+.3f}", listed(r.breakdown.revealed),
          listed(r.breakdown.penalties), "yes" if r.holds else "<b>NO</b>") for r in results))


def fidelity_table_html(rows: Iterable[Sequence[str]]) -> str:
    """Both sides of the judge (``proactive.fidelity.fidelity_rows``): people's questions answered, tricks
    not paid."""
    return html_table(("side", "measure", "value"), ([esc(cell) for cell in row] for row in rows))


def group_html(partial: PartialTask, questions, breakdowns, advantages) -> str:
    """One GRPO group: the sampled questions, their rewards, and the advantage each gets."""
    ranked = sorted(zip(questions, breakdowns, advantages), key=lambda x: -x[2])
    return f"<blockquote>{esc(partial.request)}</blockquote>" + html_table(
        ("sampled question", "reward", "advantage", "revealed", "penalties"),
        ((esc(q), f"{b.reward:+.3f}", f"{adv:+.2f}", listed(b.revealed), listed(b.penalties)) for q, b, adv in ranked))


def rft_group_html(group) -> str:
    """One RFT group (``proactive.rft.DialogueGroup``): every sampled dialogue's questions and what each
    drew out, its score, and which dialogue is kept for fine-tuning (the best that drew out anything)."""
    facts = {f.id: f for f in group.partial.hidden_facts}

    def turns(dialogue) -> str:
        return "<br>".join(f"{esc(t.question)} <i>({esc(t.kind)}"
                           + "".join(f": {esc(facts[fid].category)}" for fid in t.revealed if fid in facts) + ")</i>"
                           for t in dialogue.turns) or "—"

    rows = (("<b>kept</b>" if i == group.kept else "", turns(d), f"{score:+.3f}")
            for i, (d, score) in enumerate(zip(group.dialogues, group.scores)))
    return f"<blockquote>{esc(group.partial.request)}</blockquote>" + html_table(("", "dialogue", "score"), rows)


def stage_line(metrics: dict[str, Any]) -> str:
    """One training stage's line from a run's ``metrics.jsonl``: an RFT round (what it kept and fine-tuned on)
    or writer RFT's (the outline notes it kept); any other stage by its name and time."""
    m, seconds = metrics, float(metrics.get("seconds") or 0)
    if "round" in m:
        return (f"<li>RFT round {m['round']}: kept {m['kept']} of {m['tasks']} training tasks' dialogues, "
                f"fine-tuned on {m.get('examples', '?')} questions (loss {m.get('sft_loss')}), {seconds:.0f} s</li>")
    if m.get("method") == "writer":
        return (f"<li>writer RFT: kept the best of {m.get('samples', '?')} notes for {m['kept']} of "
                f"{m.get('details', '?')} training details, fine-tuned on them (loss {m.get('sft_loss')}), "
                f"{seconds:.0f} s</li>")
    return f"<li>{esc(str(m.get('method', 'training stage')))}: {seconds:.0f} s</li>"


def recorded_demo_html(data: dict[str, Any], table: bool = False) -> str:
    """A recorded ``make demo`` run (``proactive.recorded``, name ``demo``): where it came from, its
    verdict, the headline shares with paired intervals, its RFT rounds; with ``table``, its results table."""
    from .recorded import provenance_line

    payload = data["payload"]
    report, lead = payload["report"], payload["report"]["headline"]
    means = lead["means"]

    def difference(name: str) -> str:
        d = lead["differences"].get(name)
        return f"{d['difference']:+.3f} [{d['ci_low']:+.3f}, {d['ci_high']:+.3f}]" if d else ""

    rows = [(esc(name), f"{means[name]:.3f}", difference(name))
            for name in ("trained", FIXED_LIST, "template", "untrained", "ceiling") if name in means]
    rounds = "".join(stage_line(m) for m in payload.get("train_metrics", []) if "kept" in m)
    minutes = report.get("wall_seconds", 0) / 60
    made = payload.get("run", {}).get("git_commit")
    made = f" The run itself ran at commit {made[:10]}." if made else ""
    html = (f"<p><small>{esc(provenance_line(data))}{esc(made)}</small></p>"
            f"<p>Profile <code>{esc(str(payload.get('profile')))}</code>, {report['held_out_tasks']} held-out tasks, "
            f"{lead['samples']} sampled dialogues per task; the whole run took {minutes:.0f} min on 2 cores.</p>"
            f"<p><b>{esc(lead['verdict'])}</b></p>"
            + html_table(("system", "share of hidden facts drawn out", "trained minus it [95% CI]"), rows,
                         "border='1' cellpadding='4' style='border-collapse:collapse'")
            + (f"<ul>{rounds}</ul>" if rounds else ""))
    # Runs recorded since the demo measured them: what the outlines gained, and the headline on IN3's held-out side.
    if report.get("outline_verdict"):
        html += f"<p>{esc(report['outline_verdict'])}</p>"
    in3 = (report.get("in3") or {}).get("headline") or {}
    if in3.get("verdict"):
        html += (f"<p>On {report['in3'].get('tasks', '')} of IN3's held-out tasks (public, nobody here wrote "
                 f"them): {esc(in3['verdict'])}</p>")
    if table:
        html += results_table_html(report["table"])
    return html


def side_by_side_html(partials, systems: dict) -> str:
    """Each task's request, then every system's question, its reward and the user's answer.

    ``systems`` maps a name to ``(questions, breakdowns)``, one of each per task."""
    return "".join(
        f"<h4>{esc(partial.task_id)}</h4><blockquote>{esc(partial.request)}</blockquote>" + html_table(
            ("system", "question", "reward", "the user answered"),
            ((f"<b>{esc(name)}</b>", esc(questions[i]), f"{breakdowns[i].reward:+.3f}", esc(breakdowns[i].answer))
             for name, (questions, breakdowns) in systems.items()))
        for i, partial in enumerate(partials))


def chat_log_html(partial: PartialTask, turns) -> str:
    """A conversation with the simulated user: each question, the answer, and which hidden facts it revealed."""
    facts = {f.id: f for f in partial.hidden_facts}
    revealed_ids = {i for t in turns for i in t.revealed}
    rows = ((esc(t.question), esc(t.answer),
             ", ".join(f"<b>{esc(fid)}</b> ({esc(facts[fid].category)})" for fid in t.revealed) or "—", esc(t.kind))
            for t in turns)
    still = sum(f.id not in revealed_ids for f in partial.hidden_facts)
    return (f"<blockquote>{esc(partial.request)}</blockquote>"
            + html_table(("you asked", "the user answered", "revealed", "kind"), rows)
            + f"<p>still hidden: {still} of {len(facts)} facts</p>")


def dialogues_side_by_side_html(results, task_id: str) -> str:
    """One task's dialogue and outline for each system (a ``SystemResult`` each), in columns."""
    columns = []
    for result in results:
        dialogue = next(d for d in result.dialogues if d.partial.task_id == task_id)
        turns = turns_html((t.question, t.answer) for t in dialogue.turns)
        columns.append(f"<td style='vertical-align:top;width:{100 // len(results)}%'><h4>{esc(result.name)}</h4>"
                       f"<ol>{turns or '<i>no questions</i>'}</ol><b>Outline</b>{outline_html(dialogue.outline)}</td>")
    partial = next(d.partial for d in results[0].dialogues if d.partial.task_id == task_id)
    hidden = "".join(f"<li>{esc(f.statement)}</li>" for f in partial.hidden_facts)
    return (f"<blockquote>{esc(partial.request)}</blockquote><details><summary>what the user kept to "
            f"themselves</summary><ul>{hidden}</ul></details>"
            f"<table class='dialogues'><tr>{''.join(columns)}</tr></table>")


def results_table_html(table: dict[str, Any]) -> str:
    """The paper-style results table (``results_table.results_table``), with its note and the paper's figures."""
    return (html_table(table_header(table), ([esc(c) for c in table_cells(table, row)] for row in table["rows"]),
                       "border='1' cellpadding='4' style='border-collapse:collapse'")
            + "<p><small>Mean [bootstrap 95% interval] over held-out tasks; win rates count a tie as half. "
            f"Judge: {esc(table['judge'])}. {esc(cut_note(table).capitalize())}</small></p>"
            f"<p><i>{esc(table['paper'])}</i></p>")


def figures_fragment(figures: Sequence[Any]) -> str:
    """Plotly figures as HTML, plotly.js inlined once (with the first), so the page opens offline."""
    return "".join(fig.to_html(full_html=False, include_plotlyjs=i == 0) for i, fig in enumerate(figures))


def figures_html(figures: Sequence[Any]) -> str:
    """One self-contained HTML page holding the figures (a run's ``curves.html``)."""
    return f"<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>{figures_fragment(figures)}</body></html>"


def kind_table_html(by_kind: dict[str, dict[str, Any]]) -> str:
    """``evaluation.kind_shares`` as a table: a row per kind of hidden detail, a column per system."""
    names = list(dict.fromkeys(n for row in by_kind.values() for n in row if n != "facts"))
    return html_table(("kind", "facts", *map(esc, names)),
                      ((esc(kind), str(row["facts"]), *(f"{row[n]:.3f}" if n in row else "" for n in names))
                       for kind, row in by_kind.items()), "border='1' cellpadding='4'")


def differences_table_html(lead: dict[str, Any]) -> str:
    """A headline's paired differences (``evaluation.headline``): trained minus each other system, with its interval."""
    return html_table(
        ("trained minus", "trained", "other", "difference [95% CI]"),
        ((esc(name), f"{d['after']:.3f}", f"{d['before']:.3f}",
          f"{d['difference']:+.3f} [{d['ci_low']:+.3f}, {d['ci_high']:+.3f}]") for name, d in lead["differences"].items()),
        "border='1' cellpadding='4'")


def naming_html(naming: dict[str, float]) -> str:
    """``evaluation.naming_shares`` as a sentence (nothing where no system asked)."""
    if not naming:
        return ""
    return ("<p>Share of each system's questions that name the request's own subject: "
            + ", ".join(f"{esc(name)} {share:.3f}" for name, share in naming.items()) + ".</p>")


def in3_section_html(section: dict[str, Any]) -> str:
    """The report's IN3 part (``pipeline.in3_section``): the headline on IN3's held-out tasks with IN3's own
    inquiries as the reference, the per-kind table and the first tasks' questions before and after."""
    lead = section["headline"]
    rows = differences_table_html(lead)
    means = ", ".join(f"{esc(k)} {v:.3f}" for k, v in lead["means"].items())
    examples = "".join(
        f"<h4>{esc(e['task_id'])}</h4><blockquote>{esc(e['request'])}</blockquote>"
        + "".join(f"<p><b>{esc(name)}</b>: {' / '.join(esc(q) for q in e[name]) or '(asked nothing)'}</p>"
                  for name in ("untrained", "trained", "dataset's inquiries") if name in e)
        for e in section.get("examples", []))
    fixed = section.get("best_fixed_list")
    fixed_html = (f" The best fixed list here is chosen on {fixed['train_tasks']} of IN3's training tasks: "
                  f"{' / '.join(esc(q) for q in fixed['questions'])}." if fixed else "")
    return (f"<h2>On public tasks nobody here wrote: IN3's held-out side</h2>"
            f"<p>{section['tasks']} tasks never trained on ({esc(section['source'])}).{fixed_html}</p>"
            f"<p><b>{esc(lead['verdict'])}</b></p><p>Share drawn out, paired by task: {means}.</p>{rows}"
            f"<h3>By kind of hidden detail (sampled dialogues)</h3>{kind_table_html(section['elicited_by_kind'])}"
            + naming_html(section.get("questions_naming_the_request") or {})
            + f"<h3>Questions before and after training, beside IN3's own (first sample, first tasks)</h3>{examples}")


def report_html(report: dict[str, Any], figures: Sequence[Any], systems: Sequence[str]) -> str:
    """The demo's one self-contained page: results table, paired differences, figures (plotly, the
    first carrying plotly.js), judge agreement and each example's dialogues and outlines."""
    lead = report["headline"]
    leading = differences_table_html(lead)
    means = ", ".join(f"{esc(k)} {v:.3f}" for k, v in lead["means"].items())
    diffs = html_table(
        ("metric", "untrained", "trained", "difference [95% CI]"),
        ((label, f"{r['before']:.3f}", f"{r['after']:.3f}", f"{r['difference']:+.3f} [{r['ci_low']:+.3f}, {r['ci_high']:+.3f}]")
         for label, r in (("share of hidden facts elicited, sampled dialogues", report["elicited_share_sampled"]),
                          ("share of hidden facts elicited, greedy dialogue", report["elicited_share_dialogue"]))),
        "border='1' cellpadding='4'")
    examples = "".join(
        f"<h3>{esc(e['task_id'])}</h3><blockquote>{esc(e['request'])}</blockquote>"
        + "".join(f"<details><summary><b>{esc(name)}</b>: {len(e[name]['turns'])} question(s)</summary>"
                  f"<ol>{turns_html(e[name]['turns'])}</ol>{outline_html(e[name]['outline'])}</details>"
                  for name in systems if name in e)
        for e in report["examples"])
    agreement = report["judge_agreement"]
    plots = figures_fragment(figures)
    fixed = report.get("best_fixed_list")
    fixed_html = (f"<p>The best fixed list, chosen greedily on the corpus's {fixed['train_tasks']} training tasks and asked unchanged "
                  f"on every held-out task: {' / '.join(esc(q) for q in fixed['questions'])}.</p>" if fixed else "")
    by_kind = report.get("elicited_by_kind") or {}
    kind_html = ("<h2>By kind of hidden detail</h2><p>Share of each kind drawn out in the greedy dialogues.</p>"
                 + kind_table_html(by_kind) if by_kind else "")
    kind_html += naming_html(report.get("questions_naming_the_request") or {})
    in3_html = in3_section_html(report["in3"]) if report.get("in3") else ""
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>proactive report</title><style>{REPORT_CSS}</style>"
        "</head><body>"
        f"<h1>proactive: {esc(report['profile'])} run on {esc(report['model'])}</h1>"
        f"<p>{report['held_out_tasks']} held-out tasks; trained with {esc(report.get('training', report.get('method', '?')))} "
        f"({report['train_steps']} {esc(report.get('train_unit', 'steps or rounds'))}); "
        f"{report['wall_seconds']:.0f} s in all.</p>"
        f"<h2>Verdict</h2><p><b>{esc(lead['verdict'])}</b></p>"
        + (f"<p><b>{esc(report['outline_verdict'])}</b></p>" if report.get("outline_verdict") else "") +
        f"<p>Share of hidden facts drawn out in sampled 3-question dialogues ({lead['samples']} per task), paired by "
        f"task: {means}.</p>{leading}{fixed_html}"
        f"{in3_html}<h2>Results</h2>{results_table_html(report['table'])}{kind_html}"
        f"<h2>Trained minus untrained, paired by task</h2>{diffs}"
        f"<p>Judges ({esc(' vs '.join(agreement['judges']))}) agree on {agreement['agreement']:.0%} of "
        f"{agreement['tasks']} outline comparisons of {esc(' vs '.join(agreement['pair']))}.</p>"
        f"{plots}<h2>Dialogues and outlines</h2>{examples}</body></html>")
