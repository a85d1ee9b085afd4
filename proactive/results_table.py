"""The results table, laid out like the paper's main table: one row per system, one column per metric.

Pairwise columns give the reference system's (the trained policy's) win rate over the row's system,
judged in both orders. The paper's headline figures are quoted beside it for orientation only: they
are the paper's, measured with its 7B model, its tasks and its judges, not ours.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .evaluation import SystemResult, pairwise, system_metrics
from .judges import OUTLINE, QUESTIONS, Judge

#: Quoted from Huang et al. (2025), arXiv 2507.21389, abstract. Not reproduced here.
PAPER_HEADLINES = (
    "Paper (Huang et al. 2025, arXiv 2507.21389; their figures, not ours): the GRPO-trained "
    "Qwen-2.5-7B outperforms o3-mini by 18% on automatic evaluation metrics; human raters preferred "
    "its clarification questions 42% and its final outlines 28% more often."
)

COLUMNS = (
    ("elicited_share", "elicited (share of hidden facts)"),
    ("redundant_share", "questions revealing nothing new"),
    ("questions_asked", "questions asked"),
    ("coverage_drawn", "outline uses what its dialogue drew out"),
    ("coverage_hidden", "outline covers hidden facts"),
    ("coverage_visible", "outline covers visible facts"),
)


def results_table(results: Sequence[SystemResult], judge: Judge, reference: str | None = None) -> dict[str, Any]:
    """Rows of metrics with intervals; with ``reference``, its outline and question win rates over every other row."""
    names = [r.name for r in results]
    if reference is not None and reference not in names:
        raise ValueError(f"reference {reference!r} is not one of the systems {names}")
    ref = next((r for r in results if r.name == reference), None)
    rows = []
    for result in results:
        row: dict[str, Any] = {"system": result.name, "tasks": len(result.dialogues), **system_metrics(result)}
        if ref is not None and result is not ref:
            row["outline_win_rate_of_reference"] = pairwise(ref, result, judge, OUTLINE)["win_rate"]
            row["question_win_rate_of_reference"] = pairwise(ref, result, judge, QUESTIONS)["win_rate"]
        rows.append(row)
    return {"reference": reference, "judge": judge.name, "rows": rows, "paper": PAPER_HEADLINES}


def outline_verdict(table: dict[str, Any], against: Sequence[str] = ("no clarification", "template questions")) -> str:
    """One sentence on the deliverable: the reference system's outline coverage of the hidden facts beside
    ``against``'s, how much of what its own dialogue drew out it uses, and its outline win rate over each
    ("" when the table has no reference row)."""
    rows = {row["system"]: row for row in table["rows"]}
    mine = rows.get(table.get("reference") or "")
    if mine is None:
        return ""
    if not mine.get("coverage_hidden"):  # coverage is over finished outlines, and none finished
        return (f"Outlines: every outline of the {mine['system']} system ran out of tokens before it ended, so "
                "their coverage is not measured (raise outline_tokens).")
    others = [(name, rows[name]) for name in against if name in rows]
    sentence = f"Outlines: the {mine['system']} system's covers {mine['coverage_hidden']['mean']:.3f} of the hidden facts"
    covers = [f"{name} {row['coverage_hidden']['mean']:.3f}" for name, row in others if row.get("coverage_hidden")]
    if covers:
        sentence += f" ({', '.join(covers)})"
    if mine.get("coverage_drawn"):
        sentence += f" and uses {mine['coverage_drawn']['mean']:.3f} of what its dialogue drew out"
    wins = [f"{row['outline_win_rate_of_reference']['mean']:.2f} against {name}" for name, row in others
            if row.get("outline_win_rate_of_reference")]
    if wins:
        sentence += f"; its outline wins {' and '.join(wins)} (a tie is half a win, judged in both orders)"
    return sentence + "."


def _cell(value: dict[str, float] | None) -> str:
    if not value:
        return "-"
    return f"{value['mean']:.3f} [{value['ci_low']:.3f}, {value['ci_high']:.3f}]"


def table_header(table: dict[str, Any]) -> list[str]:
    head = ["system", *(label for _, label in COLUMNS)]
    if table["reference"]:
        head += [f"{table['reference']} wins: outline", f"{table['reference']} wins: questions"]
    return head


def table_cells(table: dict[str, Any], row: dict[str, Any]) -> list[str]:
    cells = [row["system"], *(_cell(row.get(key)) for key, _ in COLUMNS)]
    if table["reference"]:
        cells += [_cell(row.get("outline_win_rate_of_reference")), _cell(row.get("question_win_rate_of_reference"))]
    return cells


def cut_note(table: dict[str, Any]) -> str:
    """Which systems' outlines the writer did not finish, left out of coverage ("" when none were)."""
    cut = [(row["system"], row.get("outlines_cut") or {}) for row in table["rows"]]
    parts = [f"{name} {c['count']} of {c['of']}" for name, c in cut if c.get("count")]
    return ("outlines cut at the writer's token limit, left out of coverage: " + ", ".join(parts)) if parts else ""


#: Short column names for the terminal, in ``table_header``'s order.
SHORT = ("system", "elicited", "nothing new", "asked", "uses drawn", "covers hidden", "covers visible", "wins: outline",
         "wins: questions")


def table_text(table: dict[str, Any], width: int | None = None) -> str:
    """The table for a terminal of ``width`` columns (default: this terminal's): aligned columns where
    they fit, else one block per system, a metric per line. Intervals as in :func:`table_markdown`."""
    import shutil
    import textwrap

    width = width or shutil.get_terminal_size((100, 24)).columns
    head = list(SHORT[: len(table_header(table))])
    rows = [table_cells(table, row) for row in table["rows"]]
    sizes = [max(len(str(c)) for c in column) for column in zip(head, *rows)]
    if sum(sizes) + 2 * (len(sizes) - 1) <= width:
        lines = ["  ".join(str(c).ljust(n) for c, n in zip(cells, sizes)).rstrip() for cells in (head, *rows)]
        lines.insert(1, "-" * min(width, sum(sizes) + 2 * (len(sizes) - 1)))
    else:
        label = max(len(h) for h in head[1:])
        lines = []
        for cells in rows:
            lines.append(cells[0])
            lines += [f"  {h.ljust(label)}  {c}" for h, c in zip(head[1:], cells[1:]) if c != "-"]
    note = f"mean [95% CI] over held-out tasks; wins: the {table['reference']} policy's win rate" if table["reference"] \
        else "mean [95% CI] over held-out tasks"
    cut = cut_note(table)
    note = f"{note}; judge: {table['judge']}" + (f"; {cut}" if cut else "")
    return "\n".join(lines) + "\n" + textwrap.fill(f"({note})", width) + "\n"


def table_markdown(table: dict[str, Any]) -> str:
    """The table as Markdown (mean [95% CI]); win rates count a tie as half a win."""
    head = table_header(table)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(table_cells(table, row)) + " |" for row in table["rows"]]
    cut = cut_note(table)
    cut = f"{cut[0].upper()}{cut[1:]}. " if cut else ""
    return "\n".join(lines) + f"\n\nJudge: {table['judge']}. {cut}{table['paper']}\n"
