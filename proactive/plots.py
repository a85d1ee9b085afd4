"""Plotly figures the notebooks show (one place, so no plotting code is copied between notebooks)."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from html import escape

import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

from .masking import PartialTask
from .tasks import CATEGORIES, Task, weighted_share

#: Set (to 1) by the book's build: figures then also carry self-contained HTML (plotly.js inlined,
#: no CDN) for the static pages. Unset, as in JupyterLab, a figure is plotly's JSON alone, which Lab
#: draws with plotly's own extension, so a saved notebook stays small (no 4.7 MB of plotly.js).
INLINE_ENV = "PROACTIVE_INLINE_PLOTLY"


def inline_figures() -> bool:
    return os.environ.get(INLINE_ENV) == "1"


class OfflineHTMLRenderer(pio.base_renderers.MimetypeRenderer):
    """A figure as self-contained HTML (plotly.js inlined) for the book's static pages. Plotly's own
    ``notebook`` renderer also loads MathJax from a CDN, which an offline page must not request."""

    def to_mimebundle(self, fig_dict):
        html = pio.to_html(fig_dict, include_plotlyjs=True, include_mathjax=False, full_html=False,
                           default_width="100%", default_height=525, validate=False)
        return {"text/html": html}


pio.renderers["offline_html"] = OfflineHTMLRenderer()


def setup_notebook_plots() -> None:
    """Show figures as live plotly output (JupyterLab draws plotly's JSON), and in the book's build
    also as self-contained HTML so they survive on the offline pages (:data:`INLINE_ENV`)."""
    pio.renderers.default = "plotly_mimetype+offline_html" if inline_figures() else "plotly_mimetype"


class LiveFigure:
    """One figure output that redraws in place, e.g. the training curve after every step.

    Each update replaces one display id's output with plain HTML: a small inline SVG of every line
    trace and the latest values. Plain HTML, because JupyterLab's plotly renderer draws a plotly
    output once and ignores later updates to it (the curve stayed on step 1), while every frontend
    (Lab, classic Notebook, VS Code) redraws HTML in place. ``finish`` swaps in the full interactive
    figure: plotly's JSON, which a new renderer draws, plus (in the book's build) self-contained HTML.
    """

    def __init__(self, placeholder: str = "waiting for the first step..."):
        from IPython.display import HTML, display

        self.handle = display(HTML(f"<i>{placeholder}</i>"), display_id=True)
        self.figure: go.Figure | None = None

    def update(self, fig: go.Figure, final: bool = False) -> None:
        self.figure = fig
        if final:
            bundle = {"application/vnd.plotly.v1+json": fig.to_plotly_json(),
                      "text/plain": f"<figure: {fig.layout.title.text or 'plotly'}>"}
            if inline_figures():
                bundle["text/html"] = fig.to_html(full_html=False, include_plotlyjs=True)
        else:
            bundle = {"text/html": sparkline_html(fig), "text/plain": sparkline_text(fig)}
        if self.handle is not None:  # None outside a notebook: nothing to redraw
            self.handle.update(bundle, raw=True)

    def finish(self, fig: go.Figure | None = None) -> None:
        fig = fig if fig is not None else self.figure
        if fig is not None:
            self.update(fig, final=True)


def _line_traces(fig: go.Figure) -> list[tuple[str, list[float]]]:
    traces = []
    for trace in fig.data:
        ys = [float(y) for y in (getattr(trace, "y", None) or ()) if isinstance(y, (int, float))]
        if ys and getattr(trace, "type", "") == "scatter":
            traces.append((trace.name or "", ys))
    return traces


def sparkline_text(fig: go.Figure) -> str:
    """The latest value of every line in ``fig``, one line of text (what a terminal shows)."""
    parts = [f"{name} {ys[-1]:+.3f}" for name, ys in _line_traces(fig)]
    steps = max((len(ys) for _, ys in _line_traces(fig)), default=0)
    return f"{fig.layout.title.text or 'figure'}: {steps} points; " + ", ".join(parts)


def sparkline_html(fig: go.Figure, width: int = 520, height: int = 120) -> str:
    """Every line trace of ``fig`` as one small inline SVG with its latest value: no JavaScript, so
    any notebook frontend redraws it when the output is updated."""
    palette = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")
    traces = _line_traces(fig)
    lines, legend = [], []
    for k, (name, ys) in enumerate(traces):
        low, high = min(ys), max(ys)
        span = (high - low) or 1.0
        step = (width - 20) / max(len(ys) - 1, 1)
        points = " ".join(f"{10 + i * step:.1f},{height - 10 - (y - low) / span * (height - 20):.1f}"
                          for i, y in enumerate(ys))
        color = palette[k % len(palette)]
        lines.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{points}"/>')
        legend.append(f'<span style="color:{color}">&#9632; {escape(name)} {ys[-1]:+.3f}</span>')
    steps = max((len(ys) for _, ys in traces), default=0)
    title = escape(fig.layout.title.text or "")
    return (f'<div class="proactive-live"><b>{title}</b> <small>({steps} points; each line scaled to its own '
            f'range; the full figure follows when done)</small><br><svg width="{width}" height="{height}" '
            f'style="border:1px solid #ddd">{"".join(lines)}</svg><br><small>{" &nbsp; ".join(legend)}</small></div>')


def corpus_figure(tasks: Sequence[Task]) -> go.Figure:
    """The corpus at a glance: tasks per domain, facts per category, and how important facts are."""
    domains = Counter(t.domain for t in tasks)
    categories = Counter(f.category for t in tasks for f in t.facts)
    fig = make_subplots(
        rows=1, cols=3, subplot_titles=("Tasks per domain", "Facts per category", "Fact importance"),
        column_widths=[0.42, 0.33, 0.25],
    )
    names = sorted(domains, key=lambda d: (-domains[d], d))
    fig.add_trace(go.Bar(x=[domains[d] for d in names], y=names, orientation="h", name="tasks"), 1, 1)
    cats = [c for c in CATEGORIES if categories[c]]
    fig.add_trace(go.Bar(x=cats, y=[categories[c] for c in cats], name="facts"), 1, 2)
    fig.add_trace(
        go.Histogram(x=[f.importance for t in tasks for f in t.facts], xbins={"size": 0.1}, name="importance"), 1, 3
    )
    fig.update_yaxes(autorange="reversed", row=1, col=1)
    fig.update_layout(height=420, showlegend=False, title_text=f"{len(tasks)} tasks, {len(domains)} domains")
    return fig


def hidden_categories_figure(partials_by_strategy: dict[str, Sequence[PartialTask]]) -> go.Figure:
    """Which kinds of fact each masking strategy hides (share of hidden facts per category)."""
    fig = go.Figure()
    for strategy, partials in partials_by_strategy.items():
        counts = Counter(f.category for p in partials for f in p.hidden_facts)
        total = sum(counts.values()) or 1
        fig.add_trace(go.Bar(name=strategy, x=list(CATEGORIES), y=[counts[c] / total for c in CATEGORIES]))
    fig.update_layout(
        barmode="group", height=380, yaxis_tickformat=".0%",
        title_text="What each masking strategy hides", yaxis_title="share of hidden facts",
    )
    return fig


def reward_terms_figure(labels: Sequence[str], breakdowns: Sequence) -> go.Figure:
    """Each question's reward split into its terms: credit up, penalties down, total as a marker."""
    fig = go.Figure()
    fig.add_trace(go.Bar(name="elicitation", x=list(labels), y=[b.elicitation for b in breakdowns]))
    fig.add_trace(go.Bar(name="shaping", x=list(labels), y=[b.shaping for b in breakdowns]))
    names = sorted({k for b in breakdowns for k in b.penalties})
    for name in names:
        fig.add_trace(go.Bar(name=f"-{name}", x=list(labels), y=[-b.penalties.get(name, 0.0) for b in breakdowns]))
    fig.add_trace(go.Scatter(name="reward", x=list(labels), y=[b.reward for b in breakdowns], mode="markers",
                             marker={"size": 12, "symbol": "diamond", "color": "black"}))
    fig.update_layout(barmode="relative", height=420, title_text="Reward by question type, term by term",
                      yaxis_title="reward")
    return fig


def roc_figure(curves: dict[str, tuple[Sequence[int], Sequence[float]]], title: str = "ROC") -> go.Figure:
    """ROC curves of several scores against the same yes/no labels, with their AUC in the legend."""
    from .stats import roc_auc, roc_curve

    fig = go.Figure()
    for name, (labels, scores) in curves.items():
        fpr, tpr, _ = roc_curve(labels, scores)
        fig.add_trace(go.Scatter(x=fpr, y=tpr, mode="lines", name=f"{name} (AUC {roc_auc(labels, scores):.3f})"))
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line={"dash": "dot", "color": "grey"}, name="chance"))
    fig.update_layout(height=420, title_text=title, xaxis_title="false-positive rate",
                      yaxis_title="true-positive rate")
    return fig


def agreement_figure(labels: Sequence[int], decisions: Sequence[int], title: str) -> go.Figure:
    """A 2x2 heatmap: what people answered against what the simulated user did."""
    import numpy as np

    y, d = np.asarray(labels, dtype=bool), np.asarray(decisions, dtype=bool)
    counts = [[int((~y & ~d).sum()), int((~y & d).sum())], [int((y & ~d).sum()), int((y & d).sum())]]
    fig = go.Figure(go.Heatmap(
        z=counts, x=["user kept it hidden", "user revealed it"], y=["person said no", "person said yes"],
        text=counts, texttemplate="%{text}", colorscale="Blues", showscale=False,
    ))
    fig.update_layout(height=320, title_text=title)
    return fig


def training_figures(metrics: Sequence[dict], name: str = "") -> list[go.Figure]:
    """The figures a run's ``metrics.jsonl`` calls for: each training method draws the records it wrote
    (RFT its rounds, GRPO its steps; both for ``[rft, grpo]``)."""
    from . import methods

    figures = []
    for method in map(methods.get, methods.names()):
        records = [m for m in metrics if method.owns(m)]
        if records:
            figures += method.figures(records, f"{method.figure_title} {name}".strip())
    return figures


def elicitation_by_turn_figure(results: Sequence) -> go.Figure:
    """Share of hidden facts elicited after each question, one line per system (mean over tasks)."""
    fig = go.Figure()
    for result in results:
        curve = result.elicited_by_turn().mean(axis=0)
        fig.add_trace(go.Scatter(x=list(range(len(curve))), y=curve, mode="lines+markers", name=result.name,
                                 line={"dash": "dot"} if result.sees_all_facts else None))
    fig.update_layout(title="Hidden facts elicited, question by question", xaxis_title="questions asked",
                      yaxis_title="share elicited (importance-weighted)", yaxis_range=[0, 1.05], height=400,
                      xaxis={"dtick": 1})
    return fig


def elicitation_by_domain_figure(results: Sequence, metric: str = "elicited") -> go.Figure:
    """Per domain, each system's mean elicited share (``metric='elicited'``) or hidden-fact outline
    coverage (``metric='coverage'``), as grouped bars."""
    fig = go.Figure()
    for result in results:
        by_domain: dict[str, list[float]] = {}
        values = (result.elicited() if metric == "elicited" else
                  [weighted_share(c, d.partial.hidden_facts) for c, d in zip(result.covered_hidden, result.dialogues)])
        for dialogue, value in zip(result.dialogues, values):
            by_domain.setdefault(dialogue.partial.domain, []).append(value)
        domains = sorted(by_domain)
        fig.add_trace(go.Bar(x=domains, y=[sum(by_domain[d]) / len(by_domain[d]) for d in domains], name=result.name))
    label = "share of hidden facts elicited" if metric == "elicited" else "outline coverage of hidden facts"
    fig.update_layout(barmode="group", title=f"{label[0].upper()}{label[1:]}, per domain", yaxis_title=label,
                      height=420, xaxis_tickangle=-30)
    return fig
